#pragma once
// Seam merging: a tile keeps a detection only when the detection's anchor lies in the tile's
// core. Cores are disjoint and cover the raster, so every object is kept exactly once.
#include <vector>

#include "detection/Detection.hpp"
#include "raster/Window.hpp"

namespace riskmap {

class SeamMerge {
public:
    static bool owns(const Window& core, const cv::Point& anchor) {
        return core.contains(anchor.x, anchor.y);
    }
    // Removes detections the tile does not own; returns how many were dropped.
    static std::size_t keepOwned(const Window& core, std::vector<Detection>& detections);
    static std::size_t keepOwned(const Window& core, std::vector<Rejection>& rejections);
};

}  // namespace riskmap
