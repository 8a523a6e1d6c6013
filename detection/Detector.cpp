#include "detection/Detector.hpp"

namespace riskmap {

namespace {

const char* attributeTypeName(AttributeType t) {
    switch (t) {
        case AttributeType::Int: return "int";
        case AttributeType::Double: return "number";
        case AttributeType::String: return "string";
        case AttributeType::Bool: return "bool";
    }
    return "?";
}

}  // namespace

Json DetectorInfo::toJson() const {
    Json j = Json::object();
    j["name"] = name;
    j["description"] = description;
    Json opts = Json::array();
    for (const auto& o : options) opts.push_back(o.toJson());
    j["options"] = opts;
    Json attrs = Json::array();
    for (const auto& a : attributes) {
        Json x = Json::object();
        x["name"] = a.name;
        x["type"] = attributeTypeName(a.type);
        x["unit"] = a.unit;
        x["description"] = a.description;
        attrs.push_back(x);
    }
    j["attributes"] = attrs;
    return j;
}

}  // namespace riskmap
