#pragma once
#include <atomic>
// One-to-one matching of detections to truth points within a radius in metres, as used to
// measure precision and recall. Truth marked difficult is "don't care" (PASCAL VOC): matching it
// is neither a hit nor a false alarm, and missing it is not a miss.
#include <cstddef>
#include <string>
#include <vector>

#include "geo/Geodesy.hpp"

namespace riskmap {

struct EvalPoint {
    LonLat position;
    double score = 0;        // detections: higher is matched first on ties
    bool difficult = false;  // truth only
    std::size_t id = 0;      // caller's index, for reporting
};

struct MatchCounts {
    std::size_t tp = 0;
    std::size_t fp = 0;
    std::size_t fn = 0;
    std::size_t ignored = 0;  // detections matched to difficult truth
    double sumDistance = 0;   // over true positives, metres
    double maxDistance = 0;

    double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
    double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
    double f1() const {
        double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    MatchCounts& operator+=(const MatchCounts& o);
};

struct MatchPair {
    std::size_t detection;  // index into the detections passed in
    std::size_t truth;      // index into the truth passed in
    double distance;
};

enum class MatchMethod {
    Optimal,  // most matches, then least total distance (Hungarian per connected cluster)
    Greedy,   // closest pair first; ties: higher score, then input order
};
MatchMethod parseMatchMethod(const std::string& name);

// Every (detection, truth) pair within `radiusMetres`, geodesic, found through a lon/lat grid so
// that large sets stay fast; ordered by detection, then truth index.
std::vector<MatchPair> pairsWithin(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                                   double radiusMetres);

class PointMatcher {
public:
    // maxClusterPairs: the largest cluster (detections x truth linked within the radius) the
    // optimal assignment takes; beyond it, UsageError.
    PointMatcher(double radiusMetres, MatchMethod method, const std::atomic<bool>* cancel = nullptr,
                 std::size_t maxClusterPairs = 25'000'000)
        : radius_(radiusMetres), method_(method), cancel_(cancel), maxPairs_(maxClusterPairs) {}

    // Certain truth is matched first, so that a detection between a certain and a difficult
    // object counts as a hit; leftover detections then match difficult truth and are ignored.
    MatchCounts match(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                      std::vector<MatchPair>* pairs = nullptr) const;

    // One-to-one assignment between two point sets (no difficult handling).
    std::vector<MatchPair> assign(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                                  const std::vector<std::size_t>& detIdx, const std::vector<std::size_t>& truthIdx) const;

private:
    double radius_;
    MatchMethod method_;
    const std::atomic<bool>* cancel_;  // polled in the optimal assignment: SIGINT ends a long one
    std::size_t maxPairs_;
};

}  // namespace riskmap
