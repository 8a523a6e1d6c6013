#pragma once
// Context-aware risk. A detection is a lead; context makes it urgent: inside a protected area
// or a banned fishing zone, within 1 km of a school (Lee et al. 2021 found 77 % of Bangladeshi
// kilns were), far from or near a road. Each context layer has a rule and a weight, and
//
//   risk = 1 - (1 - score) * prod_{factors that apply, w > 0} (1 - w * s)
//          then * prod_{factors that apply, w < 0} (1 + w * s)
//
// where s is a factor's strength: 1 for inside/outside/within, and 1 - d/D (not below 0) for
// nearest=D. A positive weight closes that share of the gap to 1; a negative one scales risk down.
// risk_level is high at or above `high`, medium at or above `medium`, else low.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/Json.hpp"
#include "features/FeatureRecord.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

class ContextLayer;

struct ContextSpec {
    enum class Rule { Inside, Outside, Within, Nearest };
    std::string name;
    std::string path;
    Rule rule = Rule::Inside;
    double metres = 0;  // within=M, or nearest=D (default 5000 m)
    double weight = 0;  // -1..1

    // NAME=PATH:RULE:WEIGHT, RULE one of inside, outside, within=METRES, nearest[=METRES].
    static ContextSpec parse(const std::string& text);
    static ContextSpec fromJson(const Json& j, const std::string& origin);
    Json toJson() const;
    std::string ruleText() const;
};

struct RiskOptions {
    std::vector<ContextSpec> context;
    double medium = 0.4;
    double high = 0.7;
    Json toJson() const;

    // What toJson wrote (or a recipe's "context" and "risk_levels"), read back: its context
    // layers, and its levels when it has them. The one reader of that schema, for recipes,
    // manifests replayed and the shards a merge joins.
    struct Recorded {
        std::vector<ContextSpec> context;
        std::optional<std::pair<double, double>> levels;  // medium, high
    };
    static Recorded read(const Json& risk, const std::string& origin);
};

class ContextScorer {
public:
    // Opens every context layer; `centre` of the scanned area sets the metric projection.
    ContextScorer(const RiskOptions& options, const LonLat& centre);
    ~ContextScorer();

    // Sets risk, risk_level and risk_factors on each feature (from its score and centroid).
    void apply(std::vector<FeatureRecord>& features) const;
    // The context layers that hold no feature (they change no risk), by their --context names.
    std::vector<std::string> emptyLayers() const;

    // The formula above; factors are (weight, strength) of the factors that apply.
    static double combine(double score, const std::vector<std::pair<double, double>>& factors);
    static std::string level(double risk, double medium, double high);

private:
    RiskOptions options_;
    std::vector<std::unique_ptr<ContextLayer>> layers_;
};

}  // namespace riskmap
