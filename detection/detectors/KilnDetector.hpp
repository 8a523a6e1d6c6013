#pragma once
// `kiln`: brick kilns (bull's-trench, zigzag, circular) in RGB or multispectral imagery from
// ~0.5 to 20 m, with or without colour. Works on an internal ~10 m grid: candidates are peaks of
// brightness contrast in local-SD units (colour-free) and, in colour images, of hue-free chroma
// contrast; each is measured in metres (bright complex, yard template, kiln body), scored by a
// two-stage logistic model whose colour term is absent without colour, and Platt-calibrated so
// that the score is a probability. See docs/kilns.md and research/kiln/REPORT.md.
#include <string>
#include <vector>

#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"
#include "detection/VerifierModel.hpp"

namespace riskmap {

// One candidate as the detector measured it: what `detect` decides on and what a verifier
// (`riskmap train`) learns from. Positions are global (the same in every tiling).
struct KilnCandidate {
    cv::Point anchor;        // input pixel of the candidate's peak: decides which tile owns it
    cv::Point2d centre;      // reported body centre, global pixel-corner coordinates
    cv::Point peak;          // peak on the global internal grid (column, row)
    cv::Point body;          // body pixel on the global internal grid
    std::string source;      // bright, chroma or both
    bool colour = false;     // scored with colour evidence
    double length = 0, width = 0, angle = 0;  // reported body: metres, radians from +x towards +y
    std::vector<double> features;             // values in the order of KilnDetector::featureNames()
    double logit = 0;        // full logit (colour-free logit plus the colour term when colour)
    double probability = 0;  // calibrated
    std::string gate;        // hard gate that rejected it (ndvi, ndbi, complex_area_ha), else empty
    double gateValue = 0, gateLimit = 0;
    // Value of a named feature (NaN when absent, e.g. ndvi without a nir band).
    double feature(const std::string& name) const;
};

class KilnDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    explicit KilnDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    std::size_t workingBytesPerPixel(std::size_t bands, bool explain) const override;
    // Grid filters and candidate measures are parallel loops: one tile at a time kept 1.73-1.82
    // of 2 threads busy (real mosaic, 320-1024 px tiles, against two tiles in flight), a
    // parallel share of 0.85 by Amdahl's law.
    double tileParallelism() const override { return 0.85; }
    std::string inputWarning(double gsdX, double gsdY) const override;
    double contextMetres() const override;
    Json resources() const override;
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;

    struct Params {
        double internalGsd, maxGsd, darkOffset, backgroundWindow, sdFloor, kilnSigma;
        double peakRadius, minPeakSd, minChroma, window, regionSd, minChromaSd;
        double maxNdvi, minNdbi, maxComplexHa, detNms, complexNms, minScore, typeMaxGsd;
        std::string operatingPoint, model;
        bool colour;
    };
    const Params& params() const { return p_; }
    // Every option, declared once and bound to its Params member.
    static const OptionTable<Params>& table();
    // Probability threshold in force: min_score when set, else the operating point's.
    double threshold() const;
    // The documented probability threshold of an operating point.
    static double operatingPointThreshold(const std::string& name);

    // Every candidate whose anchor the tile owns, measured as detect() measures it, with its
    // feature vector, probability and hard-gate verdict (before body choice and NMS).
    std::vector<KilnCandidate> candidates(const TileImage& tile) const;
    // Names of KilnCandidate::features, in order.
    static const std::vector<std::string>& featureNames();
    // A verifier's view of a candidate (riskmap train, model=): every feature, the colour mode and
    // the candidate sources, absent features as VerifierModel::kAbsent. Names in order.
    static const std::vector<std::string>& verifierFeatureNames();
    static std::vector<float> verifierFeatures(const KilnCandidate& c);
    const VerifierModel* model() const { return model_.get(); }

    // Shape of a pixel region in metres (exposed for tests): moment axes, orientation, and how
    // fully its minimum-area rectangle is filled.
    struct Shape {
        double length = 0;   // 4 sqrt(lambda1), full major axis of the equivalent ellipse
        double width = 0;    // 4 sqrt(lambda2)
        double angle = 0;    // major axis, radians from +x towards +y (image rows down)
        double fill = 0;     // area / min-area-rectangle area
        double area = 0;     // m2
        double cx = 0, cy = 0;  // centroid, pixels (same frame as the input points)
    };
    // pts: pixel indices of the region; gx, gy: metres per pixel.
    static Shape measureShape(const std::vector<cv::Point>& pts, double gx, double gy);
    // fcbk / zigzag / circular / unknown with a confidence, from a shape at a GSD.
    static std::pair<std::string, double> classify(const Shape& s, double gsd, bool touchesEdge,
                                                   double typeMaxGsd);

private:
    class LazyAnalysis;  // measures a tile's candidates on demand (KilnDetector.cpp)
    // With a model: the candidate's probability becomes the forest's vote (KilnVerifier.cpp).
    void rescore(KilnCandidate& c) const;
    // UsageError naming the file and the option when the scan measures candidates with other
    // option values than the model was trained on (its features would mean something else).
    void checkTrainedAlike(const OptionValues& options) const;
    // A warning when the model never saw features measured at pixels of `gsd` metres.
    std::string modelGsdWarning(double gsd) const;
    // Pixels too coarse for a kiln: the detector reports nothing (inputWarning says why).
    bool tooCoarse(double gsdX, double gsdY) const { return std::max(gsdX, gsdY) > p_.maxGsd; }

    DetectorInfo info_;
    Params p_;
    std::shared_ptr<const VerifierModel> model_;
    std::string modelSha256_;
};

}  // namespace riskmap
