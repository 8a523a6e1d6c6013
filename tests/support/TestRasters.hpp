#pragma once
// Small synthetic rasters for tests, written in code (GeoTIFF in a temp folder or /vsimem/).
#include <cstdint>
#include <string>
#include <vector>

#include "raster/Window.hpp"

namespace riskmap::test {

// A fresh temporary folder, removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Reflectance x 10000 per band (blue, green, red, nir, swir1).
struct Spectrum {
    std::uint16_t blue, green, red, nir, swir1;
};
inline constexpr Spectrum kVegetation{400, 800, 500, 3200, 1600};
inline constexpr Spectrum kBareSoil{1500, 1700, 2100, 2400, 3100};
inline constexpr Spectrum kWater{600, 1000, 500, 250, 120};

struct Blob {
    double cx, cy;  // centre, pixels
    double rx, ry;  // radii, pixels (ellipse)
    Spectrum spectrum;
};

struct SceneSpec {
    int width = 512;
    int height = 512;
    int bands = 4;             // 3 (RGB), 4 (B,G,R,NIR) or 5 (+SWIR1)
    std::string epsg = "EPSG:32645";
    double originX = 500000, originY = 2500000, pixel = 10;  // projected metres, north-up
    int blockX = 256, blockY = 256;                         // tiled GeoTIFF; 0 = strips
    bool describeBands = true;                              // write band descriptions (B02...)
    std::vector<Blob> blobs;
    std::uint32_t seed = 1;     // texture noise
    int noise = 60;             // +- noise amplitude in DN
    // Nodata rectangle (all bands set to nodataValue) when nodata is set.
    bool nodata = false;
    std::uint16_t nodataValue = 0;
    Window nodataRect;
    std::string compress = "DEFLATE";
};

// Writes a UInt16 GeoTIFF; returns the path.
std::string writeScene(const std::string& path, const SceneSpec& spec);

// 200 x 200 px of UTM 60 S (EPSG:32760, origin 818449, 8120006, 10 m) with lon 180 running down
// column ~104 (Fiji).
std::string writeAntimeridianScene(const std::string& path, std::vector<Blob> blobs);

// Deterministic pseudo-random blobs of bare soil, some straddling the given tile seams.
std::vector<Blob> scatterBlobs(int width, int height, int count, std::uint32_t seed,
                               double minRadius, double maxRadius);

// True-colour 8-bit scenes drawn in metres, for the kiln detector.
struct Rgb {
    int r, g, b;
};
struct RgbShape {
    enum Kind { Ellipse, Rectangle, Ring } kind = Ellipse;
    double cx, cy;          // centre, metres from the top-left corner (y down)
    double length, width;   // full sizes, metres
    double angleDeg = 0;    // long axis, degrees from +x towards +y
    Rgb colour;
    double ringWidth = 0;   // Ring: wall thickness, metres
};
struct RgbSceneSpec {
    double widthM = 1280, heightM = 1280;  // extent, metres
    double gsd = 10;                        // metres per pixel
    Rgb background{62, 82, 56};             // green fields
    int noise = 4;                          // +- DN
    std::uint32_t seed = 3;
    std::vector<RgbShape> shapes;           // later shapes paint over earlier ones
    std::string epsg = "EPSG:32646";
    double originX = 300000, originY = 2600000;
};
std::string writeRgbScene(const std::string& path, const RgbSceneSpec& spec);

bool sharedDataAvailable();
std::string sharedData(const std::string& relative);

}  // namespace riskmap::test
