#pragma once
// Writes detections through OGR. The format follows the file extension: .geojson as RFC 7946
// (lon/lat, right-hand rings, fixed precision), .gpkg and .fgb in the chosen CRS.
#include <memory>
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "detection/Detector.hpp"
#include "output/AtomicFile.hpp"
#include "raster/GeoTransform.hpp"

class GDALDataset;
class OGRLayer;

namespace riskmap {

struct OutputFormat {
    std::string driver;  // OGR driver name
    bool rfc7946 = false;
};
// Throws UsageError naming the supported extensions.
OutputFormat outputFormatFor(const std::string& path);

// One feature ready to write.
struct FeatureRecord {
    std::string id;
    std::string detector;
    std::string cls;
    double score = 0;
    double areaM2 = 0;
    std::string source;
    std::vector<std::string> sources;  // every scene the object was seen in (overlap merge)
    std::size_t inputIndex = 0;        // not written: which input produced it
    std::vector<AttributeValue> attributes;
    // Polygons, each a list of rings (outer first) in the output CRS.
    std::vector<std::vector<std::vector<MapPoint>>> parts;
};

class LayerWriter {
public:
    struct Options {
        std::string path;
        bool overwrite = false;
        unsigned fileMode = 0600;
        int coordinatePrecision = 7;  // decimals for GeoJSON lon/lat
        std::string crsWkt;           // output CRS (ignored for GeoJSON: always EPSG:4326)
        std::vector<AttributeSpec> attributes;
        std::string layerName;  // empty: the file's stem
    };

    explicit LayerWriter(Options options);
    ~LayerWriter();
    LayerWriter(const LayerWriter&) = delete;
    LayerWriter& operator=(const LayerWriter&) = delete;

    void write(const FeatureRecord& f);
    // Closes the dataset and moves it into place.
    void commit();

private:
    Options options_;
    OutputFormat format_;
    AtomicFile file_;
    GDALDataset* ds_ = nullptr;
    OGRLayer* layer_ = nullptr;
};

}  // namespace riskmap
