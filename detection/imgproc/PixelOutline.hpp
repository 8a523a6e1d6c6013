#pragma once
// Exact outlines of pixel regions along pixel edges (crack following), so that polygons cover
// exactly the pixels detected, with holes. Rings are always simple: where pixels meet only at a
// corner the outline is split there, giving parts (or holes) that touch at that point; and no
// part's rings touch so often that its interior falls apart (OGC validity).
#include <opencv2/core.hpp>

#include "detection/Detection.hpp"

namespace riskmap {

// `mask` (CV_8U, non-zero = inside) holds one 8-connected region. `origin` is the global pixel
// of mask(0, 0). Vertices are pixel corners; collinear vertices are dropped.
MultiPolygon traceOutline(const cv::Mat& mask, cv::Point origin);

}  // namespace riskmap
