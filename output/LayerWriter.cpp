#include "output/LayerWriter.hpp"

#include <ogrsf_frmts.h>

namespace riskmap {

namespace {

FieldSpec fieldFor(const AttributeSpec& a) {
    switch (a.type) {
        case AttributeType::Int: return {a.name, OFTInteger64};
        case AttributeType::Double: return {a.name, OFTReal};
        case AttributeType::String: return {a.name, OFTString};
        case AttributeType::Bool: return {a.name, OFTInteger, OFSTBoolean};
    }
    return {a.name, OFTString};
}

}  // namespace

LayerWriter::LayerWriter(OutputDataset& out, const std::string& layerName, const std::string& srsWkt,
                         std::vector<AttributeSpec> attributes)
    : out_(out), attributes_(std::move(attributes)) {
    std::vector<FieldSpec> fields{{"id", OFTString},       {"detector", OFTString},   {"class", OFTString},
                                  {"score", OFTReal},       {"area_m2", OFTReal},       {"source", OFTString},
                                  {"sources", OFTStringList}, {"risk", OFTReal},        {"risk_level", OFTString},
                                  {"risk_factors", OFTStringList}};
    for (const auto& a : attributes_) fields.push_back(fieldFor(a));
    layer_ = out_.createLayer(layerName, srsWkt, wkbMultiPolygon, fields);
}

void LayerWriter::write(const FeatureRecord& f) {
    std::vector<std::pair<std::string, FieldValue>> values{
        {"id", f.id},       {"detector", f.detector}, {"class", f.cls},           {"score", f.score},
        {"area_m2", f.areaM2}, {"source", f.source},  {"risk", f.risk},           {"risk_level", f.riskLevel}};
    for (std::size_t i = 0; i < f.attributes.size() && i < attributes_.size(); ++i)
        values.emplace_back(attributes_[i].name, f.attributes[i]);
    out_.writeFeature(layer_, f.parts, values, {{"sources", f.sources}, {"risk_factors", f.riskFactors}});
}

}  // namespace riskmap
