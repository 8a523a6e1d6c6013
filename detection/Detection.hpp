#pragma once
// What a detector reports: a polygon in the raster's pixel space plus class, score and its own
// attributes. The pipeline turns it into map coordinates.
#include <opencv2/core/types.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace riskmap {

// Global pixel-corner coordinates: (0, 0) is the top-left corner of the raster.
using Ring = std::vector<cv::Point2d>;

struct Polygon {
    Ring outer;               // not closed: the first vertex is not repeated
    std::vector<Ring> holes;  // same convention

    // Absolute area in square pixels (outer minus holes).
    double areaPixels() const;
    // Centre of the outer ring's bounding box.
    cv::Point2d boxCentre() const;
};

// One or more polygons. Pixel regions joined only at a corner become separate parts that touch
// at that corner, which keeps every ring simple (valid OGC geometry).
struct MultiPolygon {
    std::vector<Polygon> parts;

    double areaPixels() const;
    cv::Point2d boxCentre() const;
    bool empty() const { return parts.empty(); }
};

using AttributeValue = std::variant<std::int64_t, double, std::string, bool>;

struct Detection {
    MultiPolygon geometry;
    // The global pixel that decides which tile owns the detection: it must not depend on how
    // the raster was tiled (use integer arithmetic or exact pixel-corner geometry).
    cv::Point anchor;
    std::string cls;
    double score = 0;  // 0..1
    // In the order of the detector's DetectorInfo::attributes.
    std::vector<AttributeValue> attributes;
};

// A candidate a detector looked at and rejected, for `scan --explain`: where it was, the gate
// that rejected it, what the gate measured and the limit it missed, and other measures worth
// seeing. Owned by a tile through the candidate's anchor, like a detection.
struct Rejection {
    Detection candidate;  // geometry, anchor, class, score so far; attributes left empty
    std::string gate;     // the option or test that rejected it, e.g. "min_area_m2", "enclosure"
    double value = 0;     // what the gate measured
    double limit = 0;     // the threshold it missed
    std::vector<std::pair<std::string, double>> measures;
};

// About the heap a detection or rejection holds (vectors, strings, allocator overhead): what a
// scan's results take from its memory budget.
std::size_t heapBytes(const Detection& d);
std::size_t heapBytes(const Rejection& r);

// Anchor pixel for a centre given in pixel-corner coordinates.
cv::Point anchorOf(const cv::Point2d& centre);

}  // namespace riskmap
