#pragma once
// Writes detections: the detection layer of an OutputDataset, with the common
// properties (id, detector, class, score, area, sources, risk) and the detector's own.
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "detection/Detector.hpp"
#include "output/OutputDataset.hpp"
#include "raster/Geodesy.hpp"

namespace riskmap {

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
    LonLat centroid;                   // not written: for context and grids
    double risk = 0;                   // 0..1, from score and context
    std::string riskLevel = "low";
    std::vector<std::string> riskFactors;
    std::vector<AttributeValue> attributes;
    // Polygons, each a list of rings (outer first) in the output CRS.
    MapPolygons parts;
};

class LayerWriter {
public:
    // Creates the layer `layerName` in `out` (CRS: srsWkt, "" for EPSG:4326).
    LayerWriter(OutputDataset& out, const std::string& layerName, const std::string& srsWkt,
                std::vector<AttributeSpec> attributes);
    void write(const FeatureRecord& f);

private:
    OutputDataset& out_;
    OutputLayer* layer_;
    std::vector<AttributeSpec> attributes_;
};

}  // namespace riskmap
