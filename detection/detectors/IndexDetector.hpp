#pragma once
// `index`: a spectral-index rule detector. Pixels passing a rule over named bands are cleaned
// with morphology (radii in metres), grouped into connected components, filtered by area and
// length in metres, and reported as exact pixel polygons scored by how far they pass the rule.
#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"
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
    double explainHaloMetres() const override;
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;
    // Rows are evaluated straight from stored values; only morphology needs a whole mask (and
    // OpenCV's temporaries for it).
    std::size_t workingBytesPerPixel(std::size_t, bool) const override {
        return p_.openRadius > 0 || p_.closeRadius > 0 ? 4 : 1;
    }

    struct Params {
        std::string rule, cls;
        double openRadius, closeRadius, minArea, maxArea, maxLength, scoreMargin, minScore;
    };
    const Params& params() const { return p_; }
    // Every option, declared once and bound to its Params member.
    static const OptionTable<Params>& table();

private:
    // --explain lists objects up to this many max_length_m long as too long.
    static constexpr double kExplainLengths = 2;
    Rejection sizeRejection(const ComponentExtractor& cc, const Component& c, const TileImage& tile) const;
    Rejection rejection(const ComponentExtractor& cc, const Component& c, const TileImage& tile, const char* gate,
                        double value, double limit) const;

    DetectorInfo info_;
    Params p_;
    SpectralExpression rule_;
};

}  // namespace riskmap
