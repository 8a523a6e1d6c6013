#pragma once
// The training set of a verifier: every candidate of the kiln detector's own candidate stage
// (hard gates passed, before the score threshold) in each image, as a feature row labelled by the
// point labels: positive within the radius (geodesic metres) of a certain label, left out when
// only a difficult label is that close, else negative. Each candidate carries its group for
// cross-validation: its image, or the --group-field value of the labels in its image.
#include <atomic>
#include <string>
#include <vector>

#include "detection/detectors/KilnDetector.hpp"
#include "raster/InputCatalog.hpp"
#include "training/TrainingLabels.hpp"

namespace riskmap {

struct TrainingSample {
    std::vector<float> x;  // KilnDetector::verifierFeatures
    int label = 0;         // 1 kiln, 0 not
    int target = -1;       // index of the nearest certain label within the radius (label 1)
    std::string image, group;
    LonLat position;
};

// The certain labels inside an image: what recall counts, found by a candidate or not.
struct ImageLabels {
    std::string image, group;
    std::vector<int> certain;  // indices into the labels
};

struct CandidateSet {
    std::vector<TrainingSample> samples;
    std::vector<ImageLabels> images;
    std::size_t ignored = 0;      // near a difficult label only
    std::size_t gated = 0;        // rejected by a hard gate (never scored)
    std::size_t labelsInside = 0; // labels inside some image
    // With ownLabelsOnly: certain labels inside some image whose image field names none of the
    // images they lie in (left out of recall).
    std::size_t labelsUnnamed = 0, labelsNamed = 0;
    double gsdMin = 0, gsdMax = 0;

    // `groupField` empty: each image is its own group. Throws Cancelled when `cancel` is set.
    // `ownLabelsOnly`: recall counts only the labels whose image field names the image (as eval's
    // --truth-source-field does); else every certain label inside it.
    static CandidateSet collect(const KilnDetector& detector, const InputCatalog& images, const TrainingLabels& labels,
                                double radiusMetres, bool byField, bool ownLabelsOnly, const std::atomic<bool>* cancel);
};

// Ray casting on a lon/lat ring (closed or not).
bool insideRing(const std::vector<LonLat>& ring, const LonLat& p);

}  // namespace riskmap
