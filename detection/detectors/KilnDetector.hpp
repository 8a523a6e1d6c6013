#pragma once
// `kiln`: brick kilns (bull's-trench, zigzag, circular) in RGB or multispectral imagery from
// ~0.5 to 20 m. Works on an internal ~10 m grid: cheap candidates are peaks of smoothed redness
// contrast against a local background, then each is verified by the shape of its half-maximum
// region (length, width in metres) and scored, with a drying-yard bonus.
#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"

namespace riskmap {

class KilnDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    explicit KilnDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    std::size_t workingBytesPerPixel(std::size_t bands) const override { return 64 + 4 * bands; }
    std::string inputWarning(double gsdX, double gsdY) const override;
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;

    struct Params {
        double internalGsd, maxGsd, backgroundWindow, smoothSigma, nmsRadius;
        double minRedness, minBrightness, regionFraction, regionMin, regionRadius;
        double minLength, maxLength, maxWidth, yardRadius, yardBrightness, yardRednessMax;
        double typeMaxGsd, maxNdvi, minNdbi, minScore, darkOffset;
    };
    const Params& params() const { return p_; }
    // Every option, declared once and bound to its Params member.
    static const OptionTable<Params>& table();

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
    DetectorInfo info_;
    Params p_;
};

}  // namespace riskmap
