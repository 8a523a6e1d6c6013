#include "detection/DetectorConfig.hpp"

#include "core/Error.hpp"

namespace riskmap {

DetectorConfig DetectorConfig::load(const std::string& path) {
    return fromJson(Json::parseFile(path), path);
}

DetectorConfig DetectorConfig::fromJson(const Json& root, const std::string& origin) {
    const Json* j = &root;
    if (!j->isObject()) throw UsageError(origin + ": a recipe must be a JSON object");
    if (const Json* r = j->find("recipe")) j = r;  // a scan manifest
    DetectorConfig c;
    c.origin_ = origin;
    for (const auto& kv : j->asObject()) {
        if (kv.first == "detector") {
            if (!kv.second.isString()) throw UsageError(origin + ": \"detector\" must be a string");
            c.detector_ = kv.second.asString();
        } else if (kv.first == "options") {
            if (!kv.second.isObject()) throw UsageError(origin + ": \"options\" must be an object");
            c.options_ = kv.second;
        } else if (kv.first == "context" || kv.first == "risk_levels") {
            c.risk_.set(kv.first, kv.second);
        } else if (kv.first != "comment" && kv.first != "riskmap_version") {
            throw UsageError(origin + ": unknown key \"" + kv.first +
                             "\" (a recipe has \"detector\", \"options\", \"context\" and \"risk_levels\")");
        }
    }
    return c;
}

OptionValues DetectorConfig::resolve(const DetectorInfo& info, const DetectorConfig* recipe,
                                     const std::vector<std::string>& sets) {
    OptionValues v(info.options);
    if (recipe) {
        if (!recipe->detector().empty() && recipe->detector() != info.name &&
            !recipe->options().asObject().empty())
            throw UsageError(recipe->origin() + " holds options for detector '" + recipe->detector() +
                             "', not '" + info.name + "': drop --detector or use a matching recipe");
        for (const auto& kv : recipe->options().asObject())
            v.setJson(kv.first, kv.second, recipe->origin());
    }
    for (const auto& s : sets) v.setAssignment(s);
    return v;
}

Json DetectorConfig::recipeJson(const std::string& detector, const OptionValues& values) {
    Json j = Json::object();
    j.set("detector", detector);
    j.set("options", values.toJson());
    return j;
}

}  // namespace riskmap
