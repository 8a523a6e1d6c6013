// The kiln detector's side of a learned verifier (riskmap train, --set model=): what a verifier
// sees of a candidate, and re-scoring with a loaded model.
#include <algorithm>
#include <cmath>

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

Json KilnDetector::resources() const {
    if (!model_) return Json();
    return Json{{"model", Json{{"path", p_.model}, {"sha256", modelSha256_}, {"format_version", VerifierModel::kFormatVersion},
                               {"trained_by", model_->riskmapVersion}, {"labels_sha256", model_->labelsSha256}}}};
}

}  // namespace riskmap
