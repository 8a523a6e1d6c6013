#include "risk/ContextScorer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/Error.hpp"
#include "core/JsonReader.hpp"
#include "features/FeatureAssembler.hpp"
#include "risk/ContextLayer.hpp"

namespace riskmap {

namespace {

double number(const std::string& s, const std::string& what) {
    double v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v))
        throw UsageError(what + ": '" + s + "' is not a finite number");
    return v;
}

void parseRule(const std::string& rule, ContextSpec& c, const std::string& what) {
    auto eq = rule.find('=');
    std::string kind = rule.substr(0, eq);
    std::string arg = eq == std::string::npos ? "" : rule.substr(eq + 1);
    if (kind == "inside" && arg.empty()) {
        c.rule = ContextSpec::Rule::Inside;
    } else if (kind == "outside" && arg.empty()) {
        c.rule = ContextSpec::Rule::Outside;
    } else if (kind == "within" && !arg.empty()) {
        c.rule = ContextSpec::Rule::Within;
        c.metres = number(arg, what);
    } else if (kind == "nearest") {
        c.rule = ContextSpec::Rule::Nearest;
        c.metres = arg.empty() ? 5000.0 : number(arg, what);
    } else {
        throw UsageError(what + ": rule '" + rule + "' is not inside, outside, within=METRES or nearest[=METRES]");
    }
    if ((c.rule == ContextSpec::Rule::Within || c.rule == ContextSpec::Rule::Nearest) && !(c.metres > 0))
        throw UsageError(what + ": the distance must be positive");
}

std::string metresText(double m) {
    char b[32];
    if (m >= 10000)
        std::snprintf(b, sizeof b, "%.0f km", m / 1000);
    else if (m >= 1000)
        std::snprintf(b, sizeof b, "%.1f km", m / 1000);
    else
        std::snprintf(b, sizeof b, "%.0f m", m);
    return b;
}

}  // namespace

ContextSpec ContextSpec::parse(const std::string& text) {
    const std::string what = "--context '" + text + "'";
    auto eq = text.find('=');
    auto last = text.rfind(':');
    auto rule = last == std::string::npos || last == 0 ? std::string::npos : text.rfind(':', last - 1);
    if (eq == std::string::npos || eq == 0 || last == std::string::npos || rule == std::string::npos || rule <= eq)
        throw UsageError(what + " is not NAME=PATH:RULE:WEIGHT, e.g. school=schools.gpkg:within=1000:0.3");
    ContextSpec c;
    c.name = text.substr(0, eq);
    c.path = text.substr(eq + 1, rule - eq - 1);
    parseRule(text.substr(rule + 1, last - rule - 1), c, what);
    c.weight = number(text.substr(last + 1), what);
    if (c.weight < -1 || c.weight > 1) throw UsageError(what + ": the weight must be between -1 and 1");
    if (c.path.empty()) throw UsageError(what + ": no path");
    return c;
}

ContextSpec ContextSpec::fromJson(const Json& j, const std::string& origin) {
    const std::string what = origin + ": context";
    ContextSpec c;
    try {
        const JsonReader r(j, origin, "context");
        c.name = r.at("name").str();
        c.path = r.at("path").str();
        parseRule(r.at("rule").str(), c, what);
        c.weight = r.at("weight").number(-1.0, 1.0);  // required: a null is not a weight of 0
    } catch (const DataError& e) {
        throw UsageError(what + " entries need name, path, rule and weight: " + e.what());
    }
    if (c.weight < -1 || c.weight > 1) throw UsageError(what + " '" + c.name + "': the weight must be between -1 and 1");
    return c;
}

std::string ContextSpec::ruleText() const {
    switch (rule) {
        case Rule::Inside: return "inside";
        case Rule::Outside: return "outside";
        case Rule::Within: return "within=" + std::to_string(static_cast<long long>(std::lround(metres)));
        case Rule::Nearest: return "nearest=" + std::to_string(static_cast<long long>(std::lround(metres)));
    }
    return "";
}

Json ContextSpec::toJson() const {
    Json j = Json::object();
    j["name"] = name;
    j["path"] = path;
    j["rule"] = ruleText();
    j["weight"] = weight;
    return j;
}

RiskOptions::Recorded RiskOptions::read(const Json& json, const std::string& origin) {
    Recorded out;
    const Json empty = Json::object();  // JsonReader keeps a pointer: no temporaries
    const JsonReader risk(json.is_object() ? json : empty, origin, "risk");
    if (auto ctx = risk.find("context"))
        for (const auto& c : ctx->items(1000))
            out.context.push_back(ContextSpec::fromJson(c.object(), origin));
    if (auto lv = risk.find("risk_levels")) {
        const auto levels = lv->items(2);
        if (levels.size() != 2) lv->fail("must hold two numbers, [medium, high]");
        out.levels = std::make_pair(levels[0].number(0, 1), levels[1].number(0, 1));
    }
    return out;
}

Json RiskOptions::toJson() const {
    Json j = Json::object();
    Json ctx = Json::array();
    for (const auto& c : context) ctx.push_back(c.toJson());
    j["context"] = ctx;
    Json lv = Json::array();
    lv.push_back(medium);
    lv.push_back(high);
    j["risk_levels"] = lv;
    j["formula"] = "risk = 1 - (1 - score) * prod(1 - w*s, w > 0) * prod(1 + w*s, w < 0)";
    return j;
}

ContextScorer::ContextScorer(const RiskOptions& options, const LonLat& centre) : options_(options) {
    for (const auto& c : options_.context) layers_.push_back(std::make_unique<ContextLayer>(c.path, centre));
}

ContextScorer::~ContextScorer() = default;

std::vector<std::string> ContextScorer::emptyLayers() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i]->size() == 0) out.push_back(options_.context[i].name);
    return out;
}

double ContextScorer::combine(double score, const std::vector<std::pair<double, double>>& factors) {
    double gap = 1 - std::clamp(score, 0.0, 1.0);
    for (const auto& [w, s] : factors)
        if (w > 0) gap *= 1 - w * s;
    double risk = 1 - gap;
    for (const auto& [w, s] : factors)
        if (w < 0) risk *= 1 + w * s;
    return std::clamp(risk, 0.0, 1.0);
}

std::string ContextScorer::level(double risk, double medium, double high) {
    return risk >= high ? "high" : risk >= medium ? "medium" : "low";
}

void ContextScorer::apply(std::vector<FeatureRecord>& features) const {
    for (auto& f : features) {
        std::vector<std::pair<double, double>> applied;
        f.riskFactors.clear();
        for (std::size_t i = 0; i < options_.context.size(); ++i) {
            const ContextSpec& c = options_.context[i];
            const ContextLayer& layer = *layers_[i];
            switch (c.rule) {
                case ContextSpec::Rule::Inside: {
                    long k = layer.containing(f.centroid);
                    if (k >= 0) {
                        applied.emplace_back(c.weight, 1.0);
                        f.riskFactors.push_back("inside " + c.name + " (" + layer.label(k) + ")");
                    }
                    break;
                }
                case ContextSpec::Rule::Outside:
                    if (layer.containing(f.centroid) < 0) {
                        applied.emplace_back(c.weight, 1.0);
                        f.riskFactors.push_back("outside " + c.name);
                    }
                    break;
                case ContextSpec::Rule::Within: {
                    auto near = layer.within(f.centroid, c.metres);
                    if (!near.empty()) {
                        applied.emplace_back(c.weight, 1.0);
                        f.riskFactors.push_back("within " + metresText(c.metres) + " of " + c.name + " (" +
                                                layer.label(near.front().first) + ", " + metresText(near.front().second) + ")");
                    }
                    break;
                }
                case ContextSpec::Rule::Nearest: {
                    auto [d, k] = layer.nearest(f.centroid);
                    if (k >= 0) {
                        const double s = std::max(0.0, 1 - d / c.metres);
                        if (s > 0 && c.weight != 0) applied.emplace_back(c.weight, s);
                        f.riskFactors.push_back("nearest " + c.name + ": " + metresText(d) + " (" + layer.label(k) + ")");
                    }
                    break;
                }
            }
        }
        // Four decimals, as the score: the product's last-bit noise is not information.
        f.risk = FeatureAssembler::roundTo(combine(f.score, applied), 4);
        f.riskLevel = level(f.risk, options_.medium, options_.high);
    }
}

}  // namespace riskmap
