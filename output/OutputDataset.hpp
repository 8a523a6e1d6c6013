#pragma once
// One output file: written in the staging folder of a FileCommit, holding one or more layers
// (GeoPackage) or one (GeoJSON, FlatGeobuf); the FileCommit moves it into place. OGR writes GeoPackage and
// FlatGeobuf; GeoJSON is streamed by GeoJsonWriter, many times faster than OGR's driver.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ogr_core.h>

#include "detection/Detection.hpp"
#include "features/FeatureRecord.hpp"
#include "output/FileCommit.hpp"
#include "raster/GeoTransform.hpp"

class GDALDataset;
class OGRLayer;
class OGRMultiPolygon;

namespace riskmap {

struct OutputFormat {
    std::string driver;  // OGR driver name
    bool rfc7946 = false;
    bool multiLayer = false;
    bool listFields = true;  // has string-list fields (else JSON text: FlatGeobuf, GeoPackage)
    std::string extension;   // ".geojson", ".gpkg", ".fgb"
};
// Throws UsageError naming the supported extensions.
OutputFormat outputFormatFor(const std::string& path);

struct FieldSpec {
    std::string name;
    OGRFieldType type = OFTString;
    OGRFieldSubType subType = OFSTNone;
};

using FieldValue = AttributeValue;
class GeoJsonWriter;
// A layer of an OutputDataset, handed back to writeFeature.
struct OutputLayer;

class OutputDataset {
public:
    // Reserves `path` in `files` (see FileCommit::add) and creates the file in its staging folder.
    OutputDataset(FileCommit& files, const std::string& path, bool replace, unsigned fileMode, int coordinatePrecision,
                  bool last = false);
    ~OutputDataset();
    OutputDataset(const OutputDataset&) = delete;
    OutputDataset& operator=(const OutputDataset&) = delete;

    const OutputFormat& format() const { return format_; }
    const std::string& path() const { return path_; }

    // FlatGeobuf builds its spatial index when the file is closed: GDAL 3.6 reads the layer's
    // features back into one buffer of up to 100 MiB and keeps ~240 B a feature for the index
    // (ogrflatgeobuflayer.cpp; 118,806 features took 218 MiB at close beside ~90 MiB before). What a layer of `features` features, at most `bytes` bytes,
    // asks at close; 0 for the other formats. 118,806 features peaked at 268 MiB at --ram 256.
    static std::size_t indexBytes(const OutputFormat& format, std::size_t features, std::size_t bytes);
    // Layers created from now on get no spatial index (FlatGeobuf only; GeoPackage's R-tree
    // costs no more than its page cache): for when building one would pass --ram.
    void skipSpatialIndex() { spatialIndex_ = false; }
    bool spatialIndex() const { return spatialIndex_ || format_.driver != "FlatGeobuf"; }

    // srsWkt "" means EPSG:4326 (GeoJSON is always EPSG:4326, RFC 7946, and has one layer).
    OutputLayer* createLayer(const std::string& name, const std::string& srsWkt, OGRwkbGeometryType type,
                          const std::vector<FieldSpec>& fields);
    // Writes one polygon feature; string lists become JSON text where the format lacks them.
    void writeFeature(OutputLayer* layer, const MapPolygons& parts,
                      const std::vector<std::pair<std::string, FieldValue>>& values,
                      const std::vector<std::pair<std::string, std::vector<std::string>>>& lists = {});
    // True when `layer`'s features are text (GeoJSON): featureText() may then run on several
    // threads at once, and appendFeatureText() adds the texts in order.
    bool writesText(const OutputLayer* layer) const;
    // The layer's table made now: GDAL's GeoPackage driver makes it at the first feature (or at
    // close), so an empty layer would come after every later one. Not before writing features:
    // the spatial index is built once after them, not kept up at every insert.
    void createNow(OutputLayer* layer);
    std::string featureText(const OutputLayer* layer, const MapPolygons& parts,
                            const std::vector<std::pair<std::string, FieldValue>>& values,
                            const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) const;
    void appendFeatureText(OutputLayer* layer, const std::string& text);
    // Stores a QGIS style as the layer's default (GeoPackage's layer_styles table, which QGIS
    // applies on open). No-op for single-layer files: their style goes in a .qml beside them.
    void setDefaultStyle(const std::string& layerName, const std::string& styleName, const std::string& qml);
    // Completes the file in the staging folder (GeoJSON's closing bracket, GeoPackage's
    // transaction); the FileCommit then moves it into place.
    void finish();

private:
    OutputFormat format_;
    std::string path_;
    std::string staged_;
    int precision_;
    GDALDataset* ds_ = nullptr;  // OGR formats
    std::vector<std::unique_ptr<OutputLayer>> layers_;
    OGRLayer* styles_ = nullptr;
    bool spatialIndex_ = true;
};

}  // namespace riskmap
