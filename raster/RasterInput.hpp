#pragma once
// An input scene as riskmap sees it: a pixel grid, a CRS, and named bands that may come from
// one multi-band file or from one file per band. Immutable once opened; workers read it through
// their own RasterReader.
#include <optional>
#include <string>
#include <vector>

#include "raster/GeoTransform.hpp"
#include "geo/Geodesy.hpp"
#include "raster/SensorProfile.hpp"
#include "raster/VrtSources.hpp"
#include "raster/Window.hpp"

namespace riskmap {

// --band NAME=PATH[:INDEX]
struct BandSpec {
    std::string name;
    std::string path;
    int index = 1;
    std::optional<double> scale;   // per-band reflectance scaling (STAC raster:bands), else profile
    std::optional<double> offset;
};
// Throws UsageError on malformed text.
BandSpec parseBandSpec(const std::string& text);
// Names a band cannot take: the spectral indices, functions and words of rules
// (SpectralExpression), which a band of that name could never be read as (a unit test checks
// that every index is here).
const std::vector<std::string>& reservedBandNames();

struct InputOptions {
    std::string sensor;                 // empty: detect from the file
    std::optional<double> scale;        // override the profile's reflectance scale
    std::optional<double> offset;       // override the profile's reflectance offset
    std::string resampling = "nearest";  // for band files coarser than the stack grid
    std::string zeroPixels = "auto";  // see zeroPixelModes(); empty: "data" (manifests before it)
};

// What a pixel that is 0 in every band read is: "auto" no data where the scene has two integer
// bands or more and none declares nodata, a mask or an alpha (the black collar that warping and
// exporting leave around imagery), "nodata" always, "data" never.
const std::vector<std::string>& zeroPixelModes();

enum class MaskSource {
    None,        // every pixel is valid
    Nodata,      // pixels equal to the band's nodata value are invalid
    PerDataset,  // an alpha band or dataset mask covers all bands of the file
    PerBand,     // each band has its own mask band
};

struct InputFile {
    std::string path;
    int width = 0;
    int height = 0;
    GeoTransform gt;
    bool sameGrid = true;  // pixel grid equals the stack grid: no resampling needed
    int maskBand = 0;      // 1-based band holding validity (EO Browser dataMask, alpha); 0 = none
};

struct InputBand {
    std::string name;  // canonical name (red, nir, ...) or b<k>
    std::string description;
    std::string colorInterp;
    std::string dataType;
    int file = 0;  // index into files()
    int band = 1;  // 1-based band index inside that file
    std::optional<double> nodata;
    std::optional<ReflectanceScale> fileScale;  // the file's own scale and offset (GDAL), when set
    MaskSource mask = MaskSource::None;
    int blockX = 0;
    int blockY = 0;
    ReflectanceScale scale;
    // A display rendering (8-bit, or the rgb profile) scaled to 0..1 of white, rather than
    // surface reflectance.
    bool display = false;
};

class RasterInput {
public:
    static RasterInput open(const std::string& path, const InputOptions& options);
    // `name` labels the scene; empty means the folder its files share.
    static RasterInput fromBandFiles(const std::vector<BandSpec>& specs, const InputOptions& options,
                                     const std::string& name = "");

    // Label used in the `source` property.
    const std::string& name() const { return name_; }
    // What the user passed: a path, or the band specs joined.
    const std::string& origin() const { return origin_; }
    const std::string& driver() const { return driver_; }
    // A VRT's sources (empty for other drivers, and for band files).
    const std::optional<VrtSources>& vrtSources() const { return vrt_; }
    int width() const { return width_; }
    int height() const { return height_; }
    Window extent() const { return Window{0, 0, width_, height_}; }
    const GeoTransform& geoTransform() const { return gt_; }
    const std::string& crsWkt() const { return crsWkt_; }
    const std::string& crsName() const { return crsName_; }
    int epsg() const { return epsg_; }  // 0 when the CRS has no EPSG code
    bool crsIsGeographic() const { return geographic_; }
    const std::vector<InputFile>& files() const { return files_; }
    const std::vector<InputBand>& bands() const { return bands_; }
    const std::string& profileName() const { return profile_; }
    // What naming its bands noticed (two bands described alike), for info and the scan's warnings.
    const std::vector<std::string>& namingNotes() const { return namingNotes_; }
    const std::string& resampling() const { return resampling_; }
    // Whether pixels that are 0 in every band of the scene are no data (--zero-pixels; a
    // property of the scene, so every detector sees the same collar).
    bool zeroIsNodata() const;
    // The bands a reader holds to read `bands`: those, then, where 0 is no data, the scene's
    // other bands, which the zero test needs and no detector sees (a rule over one band must not
    // lose the pixels where that band alone is 0).
    std::vector<int> bandsHeld(const std::vector<int>& bands) const;

    // Index into bands() for a canonical name or b<k>; -1 when absent.
    int bandIndex(const std::string& name) const;
    bool hasBand(const std::string& name) const { return bandIndex(name) >= 0; }
    std::string bandNamesText() const;
    std::vector<std::string> bandNames() const;  // in file order

    // Block layout of the first band, for aligning tiles.
    int blockWidth() const { return bands_.front().blockX; }
    int blockHeight() const { return bands_.front().blockY; }

    // Ground sample distance in metres per pixel at the raster centre (geodesic, so right for
    // geographic and distorted CRSs too).
    double gsdX() const { return gsdX_; }
    double gsdY() const { return gsdY_; }
    // Smallest GSD anywhere on the raster (corners, edges, centre): halos use it so that a
    // distance in metres never covers fewer pixels than it should.
    double minGsd() const { return minGsd_; }

    // Outline in lon/lat with `perEdge` points per edge, closed ring.
    std::vector<LonLat> footprint(int perEdge = 8) const;
    double areaKm2() const;

private:
    void finishGeoreference();
    void setZeroPixels(const std::string& mode);
    void checkScales(const InputOptions& options) const;
    void checkGeographicExtent() const;
    void measureGsd();

    std::string name_;
    std::string origin_;
    std::string driver_;
    std::optional<VrtSources> vrt_;
    int width_ = 0;
    int height_ = 0;
    GeoTransform gt_;
    std::string crsWkt_;
    std::string crsName_;
    int epsg_ = 0;
    bool geographic_ = false;
    std::vector<InputFile> files_;
    std::vector<InputBand> bands_;
    std::string profile_;
    std::vector<std::string> namingNotes_;
    std::string resampling_ = "nearest";
    enum class ZeroPixels { Auto, Nodata, Data } zeroPixels_ = ZeroPixels::Auto;  // --zero-pixels
    double gsdX_ = 0;
    double gsdY_ = 0;
    double minGsd_ = 0;
};

}  // namespace riskmap
