#include "detection/imgproc/MetricMorphology.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>

namespace riskmap {

namespace {

int radiusPixels(double metres, double gsd) {
    return metres > 0 ? static_cast<int>(std::lround(metres / gsd)) : 0;
}

cv::Mat kernel(int rx, int ry) {
    return cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rx + 1, 2 * ry + 1));
}

}  // namespace

MetricMorphology::MetricMorphology(double gsdX, double gsdY, double openRadiusM, double closeRadiusM)
    : openX_(radiusPixels(openRadiusM, gsdX)),
      openY_(radiusPixels(openRadiusM, gsdY)),
      closeX_(radiusPixels(closeRadiusM, gsdX)),
      closeY_(radiusPixels(closeRadiusM, gsdY)) {}

double MetricMorphology::influenceMetres(double openRadiusM, double closeRadiusM) {
    // lround() may round a radius up by half a pixel; the pipeline adds pixels of slack too.
    return 2.0 * (openRadiusM + closeRadiusM);
}

void MetricMorphology::apply(cv::Mat& mask, const cv::Mat& valid) const {
    // The default constant border leaves the raster edge neutral for both operations.
    if (openX_ > 0 || openY_ > 0) cv::morphologyEx(mask, mask, cv::MORPH_OPEN, kernel(openX_, openY_));
    if (closeX_ > 0 || closeY_ > 0) {
        cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, kernel(closeX_, closeY_));
        cv::bitwise_and(mask, valid, mask);
    }
}

}  // namespace riskmap
