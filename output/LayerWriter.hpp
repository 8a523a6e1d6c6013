#pragma once
// Writes detections: the detection layer of an OutputDataset, with the common
// properties (id, detector, class, score, area, sources, risk) and the detector's own.
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "features/FeatureRecord.hpp"
#include "detection/Detector.hpp"
#include "output/OutputDataset.hpp"

namespace riskmap {


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
