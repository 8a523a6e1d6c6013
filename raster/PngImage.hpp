#pragma once
// A BGR image as PNG bytes, through GDAL's PNG driver (chips, plots).
#include <opencv2/core.hpp>

#include <vector>

namespace riskmap {

std::vector<unsigned char> encodePng(const cv::Mat& bgr);

}  // namespace riskmap
