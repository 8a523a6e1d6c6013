#pragma once
// Connected components of a tile mask, filtered to those the tile sees completely and
// reliably, with exact outlines. Shared by every detector that segments pixels.
//
// Components are built from horizontal runs of foreground pixels joined by union-find, so the
// cost is one read of the mask plus work per run, not per pixel: detection masks are sparse,
// and no label image is ever written. Rows can be fed one at a time, so a detector that needs
// no morphology never holds a whole-tile mask.
#include <climits>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "detection/Detection.hpp"
#include "raster/TileImage.hpp"

namespace riskmap {

// Pixels [x0, x1) of local row y.
struct PixelRun {
    int y = 0;
    int x0 = 0;
    int x1 = 0;
};

struct Component {
    // Why complete() set it aside (scan --explain), None for a kept component.
    enum class Rejected : std::uint8_t { None, TooSmall, TooLarge, TooLong };
    int label = 0;  // 1.. in the order of each component's first pixel in row-major order
    cv::Rect box;   // local (tile window) pixel coordinates
    std::int64_t pixels = 0;
    std::int64_t sumX = 0;  // sums of global pixel indices, exact
    std::int64_t sumY = 0;
    cv::Point anchor;  // global pixel holding the centroid
    Rejected rejected = Rejected::None;

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
        // Longer components up to this are set aside as too long (scan --explain). Only sizes the
        // halo sees whole in the tile that owns them may be listed, or the list would depend on
        // the tiling: the detector widens its halo under --explain to match (explainHaloMetres).
        int explainExtentX = 0;
        int explainExtentY = 0;
        std::int64_t minPixels = 1;
        std::int64_t maxPixels = INT64_MAX;
        // Areas in m² as pixel counts of pxArea m² each: the fewest pixels that reach `m2`, the
        // most that stay within it, saturated (max_area_m2=1e25 cast past int64 reported
        // nothing, exit 0: a sweep of every option).
        static std::int64_t pixelsAtLeast(double m2, double pxArea);
        static std::int64_t pixelsAtMost(double m2, double pxArea);
        // Skip components whose anchor lies outside the tile core (they belong elsewhere).
        bool ownedOnly = true;
    };

    // mask: CV_8U, non-zero = foreground. 8-connectivity.
    explicit ComponentExtractor(const cv::Mat& mask);
    // Row by row: call addRow for rows 0..height-1 in order, then finish().
    ComponentExtractor(int width, int height);
    void addRow(int y, const std::uint8_t* row);
    void finish();

    int count() const { return static_cast<int>(boxes_.size()); }
    // `setAside` (for scan --explain) receives the complete components (owned ones only under
    // ownedOnly) that fail minPixels, maxPixels or, up to explainExtent, maxExtent; each says why.
    std::vector<Component> complete(const TileImage& tile, const Limits& limits,
                                    std::vector<Component>* setAside = nullptr) const;
    // The component's runs, row by row, left to right.
    const PixelRun* runsBegin(const Component& c) const;
    const PixelRun* runsEnd(const Component& c) const;
    MultiPolygon outline(const Component& c, const TileImage& tile) const;
    // CV_8U mask (255 inside) of the component within its box.
    cv::Mat componentMask(const Component& c) const;
    // The same over any local rectangle.
    cv::Mat componentMask(const Component& c, const cv::Rect& area) const;

private:
    int find(int i);

    int width_ = 0;
    int height_ = 0;
    int nextRow_ = 0;
    bool finished_ = false;
    std::vector<PixelRun> runs_;  // row-major while building, grouped by component after finish()
    std::vector<int> parent_;     // union-find over runs while building
    std::size_t prevBegin_ = 0, prevEnd_ = 0;
    // Per component (label - 1) after finish().
    std::vector<cv::Rect> boxes_;
    std::vector<std::int64_t> pixels_;
    std::vector<std::size_t> firstRun_;  // runs of label l: [firstRun_[l-1], firstRun_[l])
};

}  // namespace riskmap
