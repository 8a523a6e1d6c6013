#pragma once
// A detector recipe: which detector and which option values, shareable as a JSON file.
//   {"detector": "index", "options": {"rule": "ndvi < 0.2", "min_area_m2": 500}}
// A scan manifest holds the same object under "recipe", so a manifest reproduces its scan.
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "detection/Detector.hpp"

namespace riskmap {

class DetectorConfig {
public:
    // Reads a recipe file; throws DataError/UsageError naming the file and the fault.
    static DetectorConfig load(const std::string& path);
    static DetectorConfig fromJson(const Json& j, const std::string& origin);

    const std::string& detector() const { return detector_; }
    const Json& options() const { return options_; }
    const std::string& origin() const { return origin_; }
    // {"context": [...], "risk_levels": [medium, high]} when the recipe gives them.
    const Json& risk() const { return risk_; }
    // The base of relative file options: the folder a manifest's scan ran in, a recipe file's
    // own folder ("" for a recipe read from a journal).
    const std::string& baseDir() const { return baseDir_; }
    // The files a manifest's scan read through its options, with their hashes
    // (Detector::resources); null for a recipe file.
    const Json& recordedResources() const { return recordedResources_; }

    // Defaults, then the recipe's options (if any), then --set KEY=VALUE in order.
    static OptionValues resolve(const DetectorInfo& info, const DetectorConfig* recipe,
                                const std::vector<std::string>& sets);
    // {"detector": ..., "options": {...}}
    static Json recipeJson(const std::string& detector, const OptionValues& values);

private:
    std::string detector_;
    Json options_ = Json::object();
    Json risk_ = Json::object();
    std::string origin_;
    std::string baseDir_;
    Json recordedResources_;
};

}  // namespace riskmap
