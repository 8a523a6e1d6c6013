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
    j.set("name", name);
    j.set("description", description);
    Json opts = Json::array();
    for (const auto& o : options) opts.push(o.toJson());
    j.set("options", opts);
    Json attrs = Json::array();
    for (const auto& a : attributes) {
        Json x = Json::object();
        x.set("name", a.name);
        x.set("type", attributeTypeName(a.type));
        x.set("unit", a.unit);
        x.set("description", a.description);
        attrs.push(x);
    }
    j.set("attributes", attrs);
    return j;
}

}  // namespace riskmap
