#include "tiling/SeamMerge.hpp"

#include <algorithm>

namespace riskmap {

std::size_t SeamMerge::keepOwned(const Window& core, std::vector<Detection>& detections) {
    auto end = std::remove_if(detections.begin(), detections.end(),
                              [&](const Detection& d) { return !owns(core, d.anchor); });
    std::size_t dropped = static_cast<std::size_t>(detections.end() - end);
    detections.erase(end, detections.end());
    return dropped;
}

std::size_t SeamMerge::keepOwned(const Window& core, std::vector<Rejection>& rejections) {
    auto end = std::remove_if(rejections.begin(), rejections.end(),
                              [&](const Rejection& r) { return !owns(core, r.candidate.anchor); });
    std::size_t dropped = static_cast<std::size_t>(rejections.end() - end);
    rejections.erase(end, rejections.end());
    return dropped;
}

}  // namespace riskmap
