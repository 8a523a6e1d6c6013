#pragma once
// Where scenes overlap, one object is seen in several of them. Detections from different inputs
// whose outlines overlap by at least a fraction of the smaller one are one object: the
// best-scoring one is kept and lists every scene it was seen in under `sources`.
#include <atomic>
#include <vector>

#include "features/FeatureRecord.hpp"

namespace riskmap {

class OverlapMerger {
public:
    // `cancel` (SIGINT, SIGTERM) is checked while comparing: thousands of overlapping scenes
    // make this the longest step of writing.
    explicit OverlapMerger(double minOverlapFraction, const std::atomic<bool>* cancel = nullptr)
        : fraction_(minOverlapFraction), cancel_(cancel) {}

    // `features` is in output order; returns how many were merged away. Only features of
    // different inputs with the same detector and class are compared.
    std::size_t merge(std::vector<FeatureRecord>& features) const;

    // Intersection area over the smaller area, in the features' (planar) output coordinates.
    static double overlapOfSmaller(const FeatureRecord& a, const FeatureRecord& b);

private:
    double fraction_;
    const std::atomic<bool>* cancel_;
};

}  // namespace riskmap
