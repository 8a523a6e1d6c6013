#include "detection/ComponentExtractor.hpp"

#include <opencv2/imgproc.hpp>

#include "detection/PixelOutline.hpp"

namespace riskmap {

ComponentExtractor::ComponentExtractor(const cv::Mat& mask) {
    cv::Mat centroids;
    count_ = cv::connectedComponentsWithStats(mask, labels_, stats_, centroids, 8, CV_32S);
}

std::vector<Component> ComponentExtractor::complete(const TileImage& tile,
                                                    const Limits& limits) const {
    std::vector<Component> out;
    const int w = labels_.cols, h = labels_.rows;
    for (int l = 1; l < count_; ++l) {
        Component c;
        c.label = l;
        c.box = cv::Rect(stats_.at<int>(l, cv::CC_STAT_LEFT), stats_.at<int>(l, cv::CC_STAT_TOP),
                         stats_.at<int>(l, cv::CC_STAT_WIDTH), stats_.at<int>(l, cv::CC_STAT_HEIGHT));
        c.pixels = stats_.at<int>(l, cv::CC_STAT_AREA);
        if (c.pixels < limits.minPixels || c.pixels > limits.maxPixels) continue;
        if (c.box.width > limits.maxExtentX || c.box.height > limits.maxExtentY) continue;
        // Seen whole and with full context on every side that is a cut through the raster.
        if (!tile.leftIsRasterEdge() && c.box.x <= limits.marginX) continue;
        if (!tile.topIsRasterEdge() && c.box.y <= limits.marginY) continue;
        if (!tile.rightIsRasterEdge() && c.box.x + c.box.width >= w - limits.marginX) continue;
        if (!tile.bottomIsRasterEdge() && c.box.y + c.box.height >= h - limits.marginY) continue;
        for (int y = c.box.y; y < c.box.y + c.box.height; ++y) {
            const int* row = labels_.ptr<int>(y);
            for (int x = c.box.x; x < c.box.x + c.box.width; ++x) {
                if (row[x] != l) continue;
                c.sumX += x + tile.window.x;
                c.sumY += y + tile.window.y;
            }
        }
        // floor(sum / n + 0.5) in integers: the same pixel whatever the tiling.
        c.anchor = cv::Point(static_cast<int>((2 * c.sumX + c.pixels) / (2 * c.pixels)),
                             static_cast<int>((2 * c.sumY + c.pixels) / (2 * c.pixels)));
        if (limits.ownedOnly && !tile.owns(c.anchor.x, c.anchor.y)) continue;
        out.push_back(c);
    }
    return out;
}

cv::Mat ComponentExtractor::componentMask(const Component& c) const {
    cv::Mat m;
    cv::compare(labels_(c.box), cv::Scalar(c.label), m, cv::CMP_EQ);
    return m;
}

MultiPolygon ComponentExtractor::outline(const Component& c, const TileImage& tile) const {
    return traceOutline(componentMask(c),
                        cv::Point(c.box.x + tile.window.x, c.box.y + tile.window.y));
}

}  // namespace riskmap
