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

}  // namespace riskmap
