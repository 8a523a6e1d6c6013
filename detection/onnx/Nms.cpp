#include "detection/onnx/Nms.hpp"

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace riskmap::onnx {

namespace {

// One GEOS context per thread: detect() runs on many tiles at once.
GEOSContextHandle_t geos() {
    struct Context {
        GEOSContextHandle_t h = GEOS_init_r();
        ~Context() { GEOS_finish_r(h); }
    };
    thread_local Context ctx;
    return ctx.h;
}

GEOSGeometry* polygon(GEOSContextHandle_t h, const std::array<cv::Point2d, 4>& p) {
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, 5, 2);
    for (unsigned i = 0; i < 5; ++i) GEOSCoordSeq_setXY_r(h, seq, i, p[i % 4].x, p[i % 4].y);
    return GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, seq), nullptr, 0);
}

// Sutherland-Hodgman clip of convex polygons: used only if GEOS fails on a degenerate pair.
double convexIntersection(const std::array<cv::Point2d, 4>& a, const std::array<cv::Point2d, 4>& b) {
    std::vector<cv::Point2d> poly(a.begin(), a.end());
    const double orient = (b[1] - b[0]).cross(b[2] - b[1]) >= 0 ? 1 : -1;
    for (int i = 0; i < 4 && !poly.empty(); ++i) {
        const cv::Point2d e0 = b[i], e1 = b[(i + 1) % 4];
        auto side = [&](const cv::Point2d& p) { return orient * (e1 - e0).cross(p - e0); };
        std::vector<cv::Point2d> out;
        for (std::size_t k = 0; k < poly.size(); ++k) {
            const cv::Point2d cur = poly[k], nxt = poly[(k + 1) % poly.size()];
            const double sc = side(cur), sn = side(nxt);
            if (sc >= 0) out.push_back(cur);
            if ((sc >= 0) != (sn >= 0)) out.push_back(cur + (nxt - cur) * (sc / (sc - sn)));
        }
        poly.swap(out);
    }
    double area = 0;
    for (std::size_t k = 0; k < poly.size(); ++k) area += poly[k].cross(poly[(k + 1) % poly.size()]);
    return std::fabs(area) / 2;
}

double intersectionArea(const std::array<cv::Point2d, 4>& a, const std::array<cv::Point2d, 4>& b) {
    GEOSContextHandle_t h = geos();
    GEOSGeometry* ga = polygon(h, a);
    GEOSGeometry* gb = polygon(h, b);
    GEOSGeometry* inter = ga && gb ? GEOSIntersection_r(h, ga, gb) : nullptr;
    double area = -1;
    if (inter && GEOSArea_r(h, inter, &area) != 1) area = -1;
    for (GEOSGeometry* g : {ga, gb, inter})
        if (g) GEOSGeom_destroy_r(h, g);
    return area >= 0 ? area : convexIntersection(a, b);
}

bool boundsApart(const std::array<cv::Point2d, 4>& a, const std::array<cv::Point2d, 4>& b) {
    auto lo = [](const std::array<cv::Point2d, 4>& p, double cv::Point2d::*m) {
        return std::min({p[0].*m, p[1].*m, p[2].*m, p[3].*m});
    };
    auto hi = [](const std::array<cv::Point2d, 4>& p, double cv::Point2d::*m) {
        return std::max({p[0].*m, p[1].*m, p[2].*m, p[3].*m});
    };
    return lo(a, &cv::Point2d::x) >= hi(b, &cv::Point2d::x) || lo(b, &cv::Point2d::x) >= hi(a, &cv::Point2d::x) ||
           lo(a, &cv::Point2d::y) >= hi(b, &cv::Point2d::y) || lo(b, &cv::Point2d::y) >= hi(a, &cv::Point2d::y);
}

}  // namespace

double iouAxis(const Box& a, const Box& b) {
    const double iw = std::min(a.cx + a.w / 2, b.cx + b.w / 2) - std::max(a.cx - a.w / 2, b.cx - b.w / 2);
    const double ih = std::min(a.cy + a.h / 2, b.cy + b.h / 2) - std::max(a.cy - a.h / 2, b.cy - b.h / 2);
    if (iw <= 0 || ih <= 0) return 0;
    const double inter = iw * ih, uni = a.w * a.h + b.w * b.h - inter;
    return uni > 0 ? inter / uni : 0;
}

double iouRotated(const Box& a, const Box& b) {
    const auto pa = corners(a), pb = corners(b);
    if (boundsApart(pa, pb)) return 0;
    const double inter = intersectionArea(pa, pb), uni = a.w * a.h + b.w * b.h - inter;
    return uni > 0 ? inter / uni : 0;
}

NmsResult nms(const std::vector<Box>& boxes, double iouThreshold, int maxDetections, bool polygonIou) {
    std::vector<int> order(boxes.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return boxes[i].score > boxes[j].score; });
    NmsResult r;
    r.suppressedBy.assign(boxes.size(), -1);
    r.iou.assign(boxes.size(), 0);
    for (std::size_t oi = 0; oi < order.size(); ++oi) {
        const int i = order[oi];
        if (r.suppressedBy[i] != -1) continue;
        if (static_cast<int>(r.keep.size()) >= maxDetections) {
            r.suppressedBy[i] = -2;
            continue;
        }
        r.keep.push_back(i);
        for (std::size_t oj = oi + 1; oj < order.size(); ++oj) {
            const int j = order[oj];
            if (r.suppressedBy[j] != -1 || boxes[j].cls != boxes[i].cls) continue;
            const double iou = polygonIou ? iouRotated(boxes[i], boxes[j]) : iouAxis(boxes[i], boxes[j]);
            if (iou > iouThreshold) {
                r.suppressedBy[j] = i;
                r.iou[j] = iou;
            }
        }
    }
    return r;
}

}  // namespace riskmap::onnx
