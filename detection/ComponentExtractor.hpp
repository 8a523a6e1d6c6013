#pragma once
// Connected components of a tile mask, filtered to those the tile sees completely and
// reliably, with exact outlines. Shared by every detector that segments pixels.
#include <opencv2/core.hpp>

#include <climits>
#include <cstdint>
#include <vector>

#include "detection/Detection.hpp"
#include "raster/TileImage.hpp"

namespace riskmap {

struct Component {
    int label = 0;
    cv::Rect box;  // local (tile window) pixel coordinates
    std::int64_t pixels = 0;
    std::int64_t sumX = 0;  // sums of global pixel indices, exact
    std::int64_t sumY = 0;
    cv::Point anchor;  // global pixel holding the centroid

    // Centroid in global pixel-corner coordinates.
    cv::Point2d centroid() const {
        return {static_cast<double>(sumX) / pixels + 0.5, static_cast<double>(sumY) / pixels + 0.5};
    }
};

class ComponentExtractor {
public:
    struct Limits {
        // Pixels this close to a window edge that is not the raster edge have incomplete
        // context (filters, morphology); a component must stay clear of them, plus one pixel.
        int marginX = 0;
        int marginY = 0;
        // Largest bounding box the detector reports; the halo is at least this plus the margin,
        // so an owned object of this size is always seen whole.
        int maxExtentX = INT_MAX;
        int maxExtentY = INT_MAX;
        std::int64_t minPixels = 1;
        std::int64_t maxPixels = INT64_MAX;
        // Skip components whose anchor lies outside the tile core (they belong elsewhere).
        bool ownedOnly = true;
    };

    // mask: CV_8U, non-zero = foreground. 8-connectivity.
    explicit ComponentExtractor(const cv::Mat& mask);

    std::vector<Component> complete(const TileImage& tile, const Limits& limits) const;
    MultiPolygon outline(const Component& c, const TileImage& tile) const;
    // CV_8U mask (255 inside) of the component within its box.
    cv::Mat componentMask(const Component& c) const;
    const cv::Mat& labels() const { return labels_; }

private:
    cv::Mat labels_;  // CV_32S
    cv::Mat stats_;
    int count_ = 0;
};

}  // namespace riskmap
