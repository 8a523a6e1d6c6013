#pragma once
// `index`: a spectral-index rule detector. Pixels passing a rule over named bands are cleaned
// with morphology (radii in metres), grouped into connected components, filtered by area and
// length in metres, and reported as exact pixel polygons scored by how far they pass the rule.
#include "detection/Detector.hpp"
#include "detection/imgproc/SpectralExpression.hpp"

namespace riskmap {

class IndexDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    explicit IndexDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    std::vector<Detection> detect(const TileImage& tile) const override;
    // Rows are evaluated straight from stored values; only morphology needs a whole mask (and
    // OpenCV's temporaries for it).
    std::size_t workingBytesPerPixel(std::size_t) const override {
        return openRadiusM_ > 0 || closeRadiusM_ > 0 ? 4 : 1;
    }

private:
    DetectorInfo info_;
    SpectralExpression rule_;
    std::string class_;
    double openRadiusM_;
    double closeRadiusM_;
    double minAreaM2_;
    double maxAreaM2_;
    double maxLengthM_;
    double scoreMargin_;
    double minScore_;
};

}  // namespace riskmap
