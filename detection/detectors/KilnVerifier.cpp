// The kiln detector's side of a learned verifier (riskmap train, --set model=): what a verifier
// sees of a candidate, and re-scoring with a loaded model.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/Error.hpp"
#include "detection/detectors/KilnDetector.hpp"

namespace riskmap {

const std::vector<std::string>& KilnDetector::verifierFeatureNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n = featureNames();
        n.insert(n.end(), {"colour", "found_bright", "found_chroma"});
        return n;
    }();
    return names;
}

std::vector<float> KilnDetector::verifierFeatures(const KilnCandidate& c) {
    std::vector<float> row;
    row.reserve(verifierFeatureNames().size());
    for (double v : c.features) row.push_back(std::isfinite(v) ? static_cast<float>(v) : VerifierModel::kAbsent);
    row.push_back(c.colour ? 1.0f : 0.0f);
    row.push_back(c.source != "chroma" ? 1.0f : 0.0f);
    row.push_back(c.source != "bright" ? 1.0f : 0.0f);
    return row;
}

void KilnDetector::rescore(KilnCandidate& c) const {
    if (!c.gate.empty()) return;  // a hard gate rejects it whatever the score
    const double p = model_->score(verifierFeatures(c));
    // NMS orders by logit: the forest's, and between equal votes the hand-fitted model's.
    const double q = std::clamp(p, 1e-3, 1 - 1e-3);
    c.logit = std::log(q / (1 - q)) + 1e-6 * std::tanh(c.logit);
    c.probability = p;
}

namespace {

// Options that only pick a threshold, thin detections or gate whole inputs: a model's features
// are the same whatever their values. Every other option changes what a candidate measures.
bool measurementFree(const std::string& name) {
    return name == "operating_point" || name == "model" || name == "min_score" || name == "max_gsd_m" || name == "det_nms_m" ||
           name == "complex_nms_m";
}

// The model file (YAML) keeps a boolean as 0 or 1: read it back as the option's type.
Json asTypeOf(const Json& like, const Json& v) {
    if (like.is_boolean() && v.is_number()) return Json(v.get<double>() != 0);
    if (like.is_number() && v.is_number()) return Json(v.get<double>());
    return v;
}

}  // namespace

void KilnDetector::checkTrainedAlike(const OptionValues& options) const {
    const Json now = options.toJson();
    for (const auto& [name, stored] : model_->detectorOptions.items()) {
        if (measurementFree(name) || !now.contains(name)) continue;
        const Json trained = asTypeOf(now.at(name), stored);
        if (asTypeOf(trained, now.at(name)) == trained) continue;
        throw UsageError("model file '" + p_.model + "' was trained with " + name + " = " + dumpJson(trained) + ", this scan sets " +
                         dumpJson(now.at(name)) + ": its features would be measured differently. Scan with --set " + name + "=" +
                         dumpJson(trained) + ", or retrain the model with the options you want");
    }
}

std::string KilnDetector::modelGsdWarning(double gsd) const {
    if (!model_ || model_->gsdMax <= 0) return {};
    // Finer pixels are block-averaged to internal_gsd_m: features see the coarser of the two.
    auto seen = [&](double g) { return std::max(g, p_.internalGsd); };
    const double lo = seen(model_->gsdMin), hi = seen(model_->gsdMax), at = seen(gsd);
    if (at >= lo / 1.5 && at <= hi * 1.5) return {};
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "the verifier '%s' learned from features measured at %.1f-%.1f m; here they are measured at %.1f m, "
                  "where its scores are untested: train one on labels at this resolution (riskmap train)",
                  p_.model.c_str(), lo, hi, at);
    return buf;
}

Json KilnDetector::resources() const {
    if (!model_) return Json();
    return Json{{"model", Json{{"path", p_.model}, {"sha256", modelSha256_}, {"format_version", VerifierModel::kFormatVersion},
                               {"trained_by", model_->riskmapVersion}, {"labels_sha256", model_->labelsSha256}}}};
}

}  // namespace riskmap
