#pragma once
// Morphological opening then closing with radii in metres, turned into elliptical kernels from
// the GSD of each axis. Also says how far from a window edge results are affected.
#include <opencv2/core.hpp>

namespace riskmap {

class MetricMorphology {
public:
    MetricMorphology(double gsdX, double gsdY, double openRadiusM, double closeRadiusM);

    // Opening removes specks narrower than the radius; closing fills gaps narrower than it.
    // The result is masked by `valid` again so that closing never reaches into nodata.
    void apply(cv::Mat& mask, const cv::Mat& valid) const;
    // Whether apply() changes anything: without it masks can be streamed row by row.
    bool active() const { return openX_ > 0 || openY_ > 0 || closeX_ > 0 || closeY_ > 0; }

    // Pixels near a cut edge whose value may differ from an uncut raster: each erosion or
    // dilation reaches one radius further.
    int marginX() const { return 2 * (openX_ + closeX_); }
    int marginY() const { return 2 * (openY_ + closeY_); }

    // The same reach in metres, for the halo (rounded up by a pixel per operation).
    static double influenceMetres(double openRadiusM, double closeRadiusM);

private:
    int openX_, openY_, closeX_, closeY_;
};

}  // namespace riskmap
