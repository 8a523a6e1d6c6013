#pragma once
// Precision-recall over the score, the way detection benchmarks (PASCAL VOC, COCO, SentinelKilnDB)
// measure it, so riskmap's figures compare with published mAP50: within each image (source),
// detections in descending score take the nearest free truth within the radius; ranked over all
// images they give the curve, its average precision (all-point interpolated, VOC 2010+), and the
// best-F1 threshold. Bootstrap resampling of whole images gives 95 % intervals.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eval/PointMatcher.hpp"

namespace riskmap {

// A detection's outcome on the curve.
struct RankedDetection {
    double score = 0;
    int outcome = 0;          // 1 true positive, 0 false positive, -1 on difficult truth (ignored)
    std::size_t unit = 0;     // the image (source) it belongs to, for resampling
};

struct CurvePoint {
    double threshold = 0;  // detections scoring at least this
    std::size_t tp = 0, fp = 0;
    double precision = 0, recall = 0, f1 = 0;
};

struct PrSummary {
    std::size_t positives = 0;  // certain truth objects
    std::vector<CurvePoint> curve;  // one point per distinct score, best first
    double averagePrecision = 0;
    CurvePoint bestF1;       // meaningful only when hasBestF1
    bool hasBestF1 = false;  // some threshold has a true positive (else no threshold is best)
    // Counts at a threshold (the same greedy matching as the curve).
    CurvePoint at(double threshold) const;
};

// VOC matching of one image: detections in descending score (ties: input order) each take the
// nearest unmatched certain truth within `radiusMetres`, else a difficult one (ignored), else none.
std::vector<RankedDetection> rankImage(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                                       double radiusMetres, std::size_t unit);

PrSummary summarize(std::vector<RankedDetection> ranked, std::size_t positives);

// A percentile interval over the resamples where the measure is defined (precision needs a
// detection at the threshold, recall a positive); `defined` false when none was.
struct Interval {
    double low = 0, high = 0;
    bool defined = false;
    std::size_t undefinedResamples = 0;
};
struct BootstrapResult {
    std::size_t resamples = 0;
    std::uint64_t seed = 0;
    Interval precision, recall, f1, averagePrecision;
    // Why there are no intervals although resamples were asked for (one source: every resample
    // is the same sample, so a zero-width interval would claim a certainty there is not).
    std::string withheld;
};
// Resamples whole images (units) with replacement; `positivesPerUnit` counts each image's
// certain truth. P, R and F1 are taken at `threshold`.
BootstrapResult bootstrap(const std::vector<RankedDetection>& ranked, const std::vector<std::size_t>& positivesPerUnit,
                          double threshold, std::size_t resamples, std::uint64_t seed);

}  // namespace riskmap
