#pragma once
// A verifier learned by `riskmap train`: a random forest (OpenCV ml RTrees) that re-scores a
// detector's candidates from their measured features. This type alone writes and reads the
// model file: YAML through cv::FileStorage, the forest plus what it was trained on (detector,
// options, feature names, GSD range, labels' hash, seed) and how well it did in grouped
// cross-validation.
#include <opencv2/ml.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/Json.hpp"

namespace riskmap {

struct VerifierModel {
    // 2: the file ends with forest_nodes, so a file cut short is refused (version 1 is still read,
    // unchecked).
    static constexpr int kFormatVersion = 2;
    // Stands in for a feature that is absent (colour in greyscale, NDVI without NIR): below every
    // measured value, so a tree sends "absent" down one side of any split on that feature.
    static constexpr float kAbsent = -1e6f;

    std::string detector;
    std::vector<std::string> features;
    std::string riskmapVersion;
    Json detectorOptions = Json::object();  // options the training candidates were measured with
    double gsdMin = 0, gsdMax = 0;          // metres, over the training images
    std::uint64_t seed = 0;
    double radiusMetres = 0;
    std::string labelsPath, labelsSha256, groupField;
    std::size_t positives = 0, negatives = 0;
    // Score thresholds chosen on out-of-fold scores: best F0.5, F1 and F2.
    double highPrecision = 0.5, balanced = 0.5, highRecall = 0.5;
    Json crossValidation = Json::object();
    cv::Ptr<cv::ml::RTrees> forest;

    // Fraction of the forest's trees voting "kiln" for a feature row (NaN already kAbsent).
    double score(const std::vector<float>& row) const { return vote(*forest, row); }
    static double vote(const cv::ml::RTrees& forest, const std::vector<float>& row);
    // The threshold of an operating point (high_precision, balanced, high_recall).
    double threshold(const std::string& operatingPoint) const;

    // The file's bytes: identical for identical models.
    std::string toText() const;
    static VerifierModel fromText(const std::string& text, const std::string& origin);
    // UsageError naming the file when it is missing, damaged or of another format version.
    static VerifierModel read(const std::string& path);
    // UsageError naming `origin` and what to do when the model was trained for another detector
    // or on another feature list than `featureNames`.
    void checkFits(const std::string& detectorName, const std::vector<std::string>& featureNames,
                   const std::string& origin) const;

private:
    static VerifierModel fromStorage(const cv::FileStorage& fs, const std::string& origin);
};

// Lower-case hex SHA-256 of a file's bytes (UsageError naming an unreadable file).
std::string fileSha256(const std::string& path);

}  // namespace riskmap
