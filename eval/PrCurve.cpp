#include "eval/PrCurve.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

namespace riskmap {

namespace {

CurvePoint pointOf(double threshold, std::size_t tp, std::size_t fp, std::size_t positives) {
    CurvePoint c;
    c.threshold = threshold;
    c.tp = tp;
    c.fp = fp;
    c.precision = tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0;
    c.recall = positives ? static_cast<double>(tp) / static_cast<double>(positives) : 0.0;
    c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0.0;
    return c;
}

// All-point interpolated AP: the area under the precision envelope (the best precision at any
// recall at least as high), summed over the recall steps (Everingham et al. 2010).
double averagePrecision(const std::vector<CurvePoint>& curve) {
    double ap = 0, envelope = 0, lastRecall = 0;
    std::vector<double> best(curve.size());
    for (std::size_t i = curve.size(); i-- > 0;) {
        envelope = std::max(envelope, curve[i].precision);
        best[i] = envelope;
    }
    for (std::size_t i = 0; i < curve.size(); ++i) {
        ap += (curve[i].recall - lastRecall) * best[i];
        lastRecall = curve[i].recall;
    }
    return ap;
}

}  // namespace

CurvePoint PrSummary::at(double threshold) const {
    CurvePoint last = pointOf(threshold, 0, 0, positives);
    for (const auto& c : curve)
        if (c.threshold >= threshold) last = c;
    last.threshold = threshold;
    return last;
}

std::vector<RankedDetection> rankImage(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                                       double radiusMetres, std::size_t unit) {
    std::vector<std::size_t> order(detections.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return detections[a].score > detections[b].score; });
    std::vector<char> taken(truth.size(), 0);
    std::vector<RankedDetection> out;
    // The truths in reach of each detection, in truth order (so ties go to the first, as before):
    // comparing every pair took over 10 minutes for 80,000 x 80,000 points.
    const std::vector<MatchPair> near = pairsWithin(detections, truth, radiusMetres);
    std::vector<std::size_t> first(detections.size() + 1, 0);
    for (const MatchPair& p : near) ++first[p.detection + 1];
    for (std::size_t i = 0; i < detections.size(); ++i) first[i + 1] += first[i];
    for (std::size_t d : order) {
        // Nearest free certain truth first; a difficult one only when no certain is in reach.
        std::size_t best = truth.size();
        double bestDistance = std::numeric_limits<double>::infinity();
        for (int pass = 0; pass < 2 && best == truth.size(); ++pass)
            for (std::size_t k = first[d]; k < first[d + 1]; ++k) {
                const std::size_t t = near[k].truth;
                if (taken[t] || truth[t].difficult != (pass == 1)) continue;
                const double dist = near[k].distance;
                if (dist <= radiusMetres && dist < bestDistance) {
                    bestDistance = dist;
                    best = t;
                }
            }
        int outcome = 0;
        if (best < truth.size()) {
            taken[best] = 1;
            outcome = truth[best].difficult ? -1 : 1;
        }
        out.push_back({detections[d].score, outcome, unit});
    }
    return out;
}

PrSummary summarize(std::vector<RankedDetection> ranked, std::size_t positives) {
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    PrSummary s;
    s.positives = positives;
    std::size_t tp = 0, fp = 0;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        tp += ranked[i].outcome == 1;
        fp += ranked[i].outcome == 0;
        // One point per distinct score: ties enter together.
        if (i + 1 < ranked.size() && ranked[i + 1].score == ranked[i].score) continue;
        s.curve.push_back(pointOf(ranked[i].score, tp, fp, positives));
    }
    s.averagePrecision = averagePrecision(s.curve);
    for (const auto& c : s.curve)
        if (c.f1 > s.bestF1.f1) s.bestF1 = c, s.hasBestF1 = true;
    return s;
}

namespace {

// The 2.5 and 97.5 percentiles of the defined values; `undefined` resamples are counted.
Interval percentiles(std::vector<double> v, std::size_t undefined) {
    Interval i;
    i.undefinedResamples = undefined;
    if (v.empty()) return i;
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) {
        return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
    };
    i.low = at(0.025), i.high = at(0.975), i.defined = true;
    return i;
}

}  // namespace

BootstrapResult bootstrap(const std::vector<RankedDetection>& ranked, const std::vector<std::size_t>& positivesPerUnit,
                          double threshold, std::size_t resamples, std::uint64_t seed) {
    BootstrapResult b;
    b.resamples = resamples;
    b.seed = seed;
    const std::size_t units = positivesPerUnit.size();
    if (resamples == 0) return b;
    if (units < 2) {
        b.withheld =
            units ? "one source: resampling sources cannot show its spread" : "no source counted";
        return b;
    }
    std::vector<std::vector<RankedDetection>> byUnit(units);
    for (const auto& r : ranked) byUnit[r.unit].push_back(r);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, units - 1);
    std::vector<double> p, r, f, ap;
    std::size_t noP = 0, noR = 0, noF = 0;
    for (std::size_t k = 0; k < resamples; ++k) {
        std::vector<RankedDetection> sample;
        std::size_t positives = 0;
        for (std::size_t u = 0; u < units; ++u) {
            const std::size_t chosen = pick(rng);
            positives += positivesPerUnit[chosen];
            sample.insert(sample.end(), byUnit[chosen].begin(), byUnit[chosen].end());
        }
        const PrSummary s = summarize(std::move(sample), positives);
        const CurvePoint c = s.at(threshold);
        const bool hasP = c.tp + c.fp > 0, hasR = positives > 0;
        hasP ? p.push_back(c.precision) : void(++noP);
        hasR ? (r.push_back(c.recall), ap.push_back(s.averagePrecision)) : void(++noR);
        hasP&& hasR ? f.push_back(c.f1) : void(++noF);
    }
    b.precision = percentiles(std::move(p), noP);
    b.recall = percentiles(std::move(r), noR);
    b.f1 = percentiles(std::move(f), noF);
    b.averagePrecision = percentiles(std::move(ap), noR);
    return b;
}

}  // namespace riskmap
