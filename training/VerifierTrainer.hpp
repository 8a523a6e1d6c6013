#pragma once
// Fits the verifier's random forest (OpenCV ml RTrees, class-balanced by sample weights) and
// measures it by grouped cross-validation: whole groups (images, or districts with
// --group-field) are held out together, never single candidates, so neighbouring candidates of
// one kiln never sit on both sides of a split.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <opencv2/ml.hpp>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "training/CandidateSet.hpp"

namespace riskmap {

struct TrainerOptions {
    int folds = 5;
    std::uint64_t seed = 1;
    int trees = 200;
    int maxDepth = 12;
    int minSampleCount = 3;
    double nmsMetres = 120;  // one detection per kiln: the detector's det_nms_m
    const std::atomic<bool>* cancel = nullptr;  // SIGINT/SIGTERM: looked at before each forest
};

// Detection-level counts at a threshold, as the detector decides: candidates scoring at or above
// it, strongest first, each suppressing weaker ones of its image within the NMS distance; a kept
// candidate near a certain label hits it (tp, each label once), any other kept candidate not near
// a label is a false alarm (fp), and a certain label no kept candidate hits is a miss (fn).
struct ThresholdCounts {
    std::size_t tp = 0, fp = 0, fn = 0;
    double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
    double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
    double f1() const {
        const double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    // Over `rows` of the samples with their `scores`, the certain labels of `images` counting
    // for recall.
    static ThresholdCounts at(const std::vector<TrainingSample>& samples, const std::vector<std::size_t>& rows,
                              const std::vector<double>& scores, const std::vector<ImageLabels>& images, double threshold,
                              double nmsMetres);
    Json toJson() const;
};

struct FoldResult {
    int fold = 0;
    std::vector<std::string> groups;  // held out
    std::size_t positives = 0, negatives = 0;
    ThresholdCounts atHalf, atChosen;
};

struct CrossValidation {
    std::vector<FoldResult> folds;
    std::vector<double> scores;  // out-of-fold score of every sample
    double highPrecision = 0.5, balanced = 0.5, highRecall = 0.5;  // best F0.5, F1, F2 out of fold
    ThresholdCounts pooledHalf, pooledChosen;
    std::string groupedBy;

    Json toJson() const;
    std::string toText() const;
};

// Groups to folds: names sorted, shuffled by the seed, each in turn to the fold with the fewest
// samples. min(k, groups) folds; UsageError with fewer than two groups.
std::map<std::string, int> assignGroupFolds(const std::vector<std::string>& sampleGroups, int k, std::uint64_t seed);

// The threshold among `cuts` maximising F-beta of counts(threshold) (ties: the highest threshold).
double bestThreshold(const std::vector<double>& cuts, const std::function<ThresholdCounts(double)>& counts, double beta);

class VerifierTrainer {
public:
    explicit VerifierTrainer(TrainerOptions o) : o_(o) {}
    // A forest on the given rows of `samples`: the same rows and seed give the same forest.
    cv::Ptr<cv::ml::RTrees> fit(const std::vector<TrainingSample>& samples, const std::vector<std::size_t>& rows) const;
    // Out-of-fold scores, folds of whole groups, operating points. `images` give each group's
    // certain labels (recall counts labels no candidate found).
    CrossValidation crossValidate(const std::vector<TrainingSample>& samples, const std::vector<ImageLabels>& images,
                                  const std::string& groupedBy) const;

private:
    TrainerOptions o_;
};

}  // namespace riskmap
