#include "detection/DetectorConfig.hpp"

#include "core/Error.hpp"
#include "core/Paths.hpp"

#include <filesystem>

namespace riskmap {

// A recipe file's relative model, card and context paths name files beside it, as a QGIS
// project's do: a shared folder of recipe and model works from any folder (they were resolved
// from the folder riskmap ran in, so `--config recipes/kiln.json` did not find recipes/m.yml).
DetectorConfig DetectorConfig::load(const std::string& path) {
    DetectorConfig c = fromJson(parseJsonFile(path), path);
    if (c.baseDir_.empty()) c.baseDir_ = std::filesystem::absolute(path).parent_path().string();
    return c;
}

DetectorConfig DetectorConfig::fromJson(const Json& root, const std::string& origin) {
    const Json* j = &root;
    if (!j->is_object()) throw UsageError(origin + ": a recipe must be a JSON object");
    const Json* risk = nullptr;
    std::string baseDir;
    Json resources;
    if (j->contains("recipe")) {  // a scan manifest: its recipe, and the risk options it ran with
        if (j->contains("risk") && j->at("risk").is_object()) risk = &j->at("risk");
        if (j->contains("working_dir") && j->at("working_dir").is_string()) baseDir = j->at("working_dir").get<std::string>();
        if (j->contains("detector") && j->at("detector").is_object()) resources = j->at("detector").value("resources", Json());
        j = &j->at("recipe");
    }
    if (!j->is_object()) throw UsageError(origin + ": \"recipe\" must be an object");
    DetectorConfig c;
    c.origin_ = origin;
    c.baseDir_ = baseDir;
    c.recordedResources_ = resources;
    for (const char* key : {"context", "risk_levels"})
        if (risk && risk->contains(key)) c.risk_[key] = risk->at(key);
    for (auto it = j->begin(); it != j->end(); ++it) {
        const std::string& key = it.key();
        if (key == "detector") {
            if (!it->is_string()) throw UsageError(origin + ": \"detector\" must be a string");
            c.detector_ = it->get<std::string>();
        } else if (key == "options") {
            if (!it->is_object()) throw UsageError(origin + ": \"options\" must be an object");
            c.options_ = *it;
        } else if (key == "context" || key == "risk_levels") {
            c.risk_[key] = *it;
        } else if (key != "comment" && key != "riskmap_version") {
            throw UsageError(origin + ": unknown key \"" + key +
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
            !recipe->options().empty())
            throw UsageError(recipe->origin() + " holds options for detector '" + recipe->detector() +
                             "', not '" + info.name + "': drop --detector or use a matching recipe");
        for (auto it = recipe->options().begin(); it != recipe->options().end(); ++it)
            v.setJson(it.key(), *it, recipe->origin());
        // A manifest rerun from another folder found its inputs but not its model or card.
        for (const auto& spec : info.options) {
            if (!spec.filePath || recipe->baseDir().empty() || !recipe->options().contains(spec.name)) continue;
            const std::string path = v.getString(spec.name), resolved = resolveFrom(recipe->baseDir(), path);
            if (resolved != path) v.setJson(spec.name, Json(resolved), recipe->origin());
        }
    }
    for (const auto& s : sets) v.setAssignment(s);
    return v;
}

Json DetectorConfig::recipeJson(const std::string& detector, const OptionValues& values) {
    Json j = Json::object();
    j["detector"] = detector;
    j["options"] = values.toJson();
    return j;
}

}  // namespace riskmap
