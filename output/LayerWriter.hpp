#pragma once
// Writes detections: the detection layer of an OutputDataset, with the common
// properties (id, detector, class, score, area, sources, risk) and the detector's own.
#include <atomic>
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
    // Writes `features` in order; GeoJSON text is formatted on all threads a chunk at a time
    // (same bytes as write() one by one). Throws Cancelled when `cancel` is set.
    void writeAll(const std::vector<FeatureRecord>& features, const std::atomic<bool>* cancel);
    // For a layer left empty: its table is made now, ahead of layers created after it.
    void createNow() { out_.createNow(layer_); }

private:
    using Values = std::vector<std::pair<std::string, FieldValue>>;
    using Lists = std::vector<std::pair<std::string, std::vector<std::string>>>;
    Values valuesOf(const FeatureRecord& f) const;
    static Lists listsOf(const FeatureRecord& f);

    OutputDataset& out_;
    OutputLayer* layer_;
    std::vector<AttributeSpec> attributes_;
};

}  // namespace riskmap
