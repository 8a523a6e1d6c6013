#pragma once
// `riskmap train`: from images and point labels to a verifier model file. Candidates from the
// detector's own candidate stage, labelled by the points, a class-balanced random forest,
// grouped cross-validation, and the model with everything needed to trust and reuse it.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "detection/VerifierModel.hpp"
#include "raster/InputCatalog.hpp"
#include "training/VerifierTrainer.hpp"

namespace riskmap {

struct TrainRequest {
    std::string detector = "kiln";
    InputRequest images;
    std::string labelsPath;
    std::string outputPath;
    double radiusMetres = 60;
    int folds = 5;
    std::string groupField;  // empty: group by image
    std::string difficultField = "difficult";
    bool difficultFieldGiven = false;  // --difficult-field named: the labels must have it
    std::string imageField;  // label field naming the image a label belongs to, for recall
    std::uint64_t seed = 1;
    int trees = 200;
    std::vector<std::string> sets;  // detector options, KEY=VALUE
};

struct TrainResult {
    VerifierModel model;
    CrossValidation cv;
    std::size_t images = 0, ignored = 0, gated = 0, labels = 0, labelsInside = 0,
                repeatedLabels = 0, labelsUnnamed = 0;
    std::string summary() const;
};

// Throws UsageError naming the file or option at fault.
TrainResult trainVerifier(const TrainRequest& request, const std::atomic<bool>* cancel = nullptr);

}  // namespace riskmap
