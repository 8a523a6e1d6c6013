#include "features/OutlineSimplifier.hpp"

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

namespace riskmap {

namespace {

struct GeomDeleter {
    GEOSContextHandle_t ctx;
    void operator()(GEOSGeometry* g) const {
        if (g) GEOSGeom_destroy_r(ctx, g);
    }
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;

GEOSGeometry* ringOf(GEOSContextHandle_t ctx, const Ring& r) {
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(ctx, static_cast<unsigned>(r.size() + 1), 2);
    for (std::size_t i = 0; i <= r.size(); ++i) {
        const auto& p = r[i % r.size()];
        GEOSCoordSeq_setXY_r(ctx, seq, static_cast<unsigned>(i), p.x, p.y);
    }
    return GEOSGeom_createLinearRing_r(ctx, seq);
}

GEOSGeometry* polygonOf(GEOSContextHandle_t ctx, const Polygon& p) {
    std::vector<GEOSGeometry*> holes;
    for (const auto& h : p.holes) holes.push_back(ringOf(ctx, h));
    return GEOSGeom_createPolygon_r(ctx, ringOf(ctx, p.outer), holes.data(), static_cast<unsigned>(holes.size()));
}

// The ring's vertices without the repeated closing one.
Ring ringFrom(GEOSContextHandle_t ctx, const GEOSGeometry* ring) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(ctx, ring);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(ctx, seq, &n);
    Ring out;
    for (unsigned i = 0; i + 1 < n; ++i) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(ctx, seq, i, &x, &y);
        out.emplace_back(x, y);
    }
    return out;
}

Polygon polygonFrom(GEOSContextHandle_t ctx, const GEOSGeometry* g) {
    Polygon p;
    p.outer = ringFrom(ctx, GEOSGetExteriorRing_r(ctx, g));
    const int holes = GEOSGetNumInteriorRings_r(ctx, g);
    for (int i = 0; i < holes; ++i) p.holes.push_back(ringFrom(ctx, GEOSGetInteriorRingN_r(ctx, g, i)));
    return p;
}

// Douglas-Peucker on a closed ring, anchored at its first vertex and the vertex farthest from it.
void keepFarthest(const Ring& r, std::size_t a, std::size_t b, double tolerance, std::vector<char>& keep) {
    if (b <= a + 1) return;
    const cv::Point2d p = r[a], q = r[b % r.size()];
    const double dx = q.x - p.x, dy = q.y - p.y, len = std::hypot(dx, dy);
    std::size_t far = a;
    double farDistance = -1;
    for (std::size_t i = a + 1; i < b; ++i) {
        const double d = len > 0 ? std::fabs(dy * (r[i].x - p.x) - dx * (r[i].y - p.y)) / len : std::hypot(r[i].x - p.x, r[i].y - p.y);
        if (d > farDistance) far = i, farDistance = d;
    }
    if (farDistance <= tolerance) return;
    keep[far] = 1;
    keepFarthest(r, a, far, tolerance, keep);
    keepFarthest(r, far, b, tolerance, keep);
}

bool segmentsCross(const cv::Point2d& a, const cv::Point2d& b, const cv::Point2d& c, const cv::Point2d& d) {
    auto orient = [](const cv::Point2d& p, const cv::Point2d& q, const cv::Point2d& r) {
        const double v = (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
        return v > 0 ? 1 : v < 0 ? -1 : 0;
    };
    const int o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (o1 != o2 && o3 != o4) return true;
    auto on = [](const cv::Point2d& p, const cv::Point2d& q, const cv::Point2d& r) {
        return std::min(p.x, q.x) <= r.x && r.x <= std::max(p.x, q.x) && std::min(p.y, q.y) <= r.y && r.y <= std::max(p.y, q.y);
    };
    return (o1 == 0 && on(a, b, c)) || (o2 == 0 && on(a, b, d)) || (o3 == 0 && on(c, d, a)) || (o4 == 0 && on(c, d, b));
}

// Douglas-Peucker on one closed ring (no validity check: that is done over all rings at once).
Ring simplifyRing(const Ring& r, double tolerance) {
    std::size_t far = 0;
    double farDistance = -1;
    for (std::size_t i = 1; i < r.size(); ++i) {
        const double d = std::hypot(r[i].x - r[0].x, r[i].y - r[0].y);
        if (d > farDistance) far = i, farDistance = d;
    }
    std::vector<char> keep(r.size(), 0);
    keep[0] = keep[far] = 1;
    keepFarthest(r, 0, far, tolerance, keep);
    keepFarthest(r, far, r.size(), tolerance, keep);
    Ring out;
    out.reserve(static_cast<std::size_t>(std::count(keep.begin(), keep.end(), 1)));
    for (std::size_t i = 0; i < r.size(); ++i)
        if (keep[i]) out.push_back(r[i]);
    return out;
}

struct Edge {
    cv::Point2d a, b;
    double minX, maxX;
    std::size_t ring, index;
};

// True when two edges that are not neighbours on one ring touch anywhere. A sweep over x keeps
// it near n log n for outlines of thousands of vertices.
bool anyEdgesTouch(const std::vector<Ring>& rings) {
    std::vector<Edge> edges;
    for (std::size_t r = 0; r < rings.size(); ++r)
        for (std::size_t i = 0, n = rings[r].size(); i < n; ++i) {
            const cv::Point2d a = rings[r][i], b = rings[r][(i + 1) % n];
            edges.push_back({a, b, std::min(a.x, b.x), std::max(a.x, b.x), r, i});
        }
    std::sort(edges.begin(), edges.end(), [](const Edge& p, const Edge& q) { return p.minX < q.minX; });
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const Edge& e = edges[i];
        for (std::size_t j = i + 1; j < edges.size() && edges[j].minX <= e.maxX; ++j) {
            const Edge& f = edges[j];
            if (e.ring == f.ring) {
                const std::size_t n = rings[e.ring].size(), d = e.index > f.index ? e.index - f.index : f.index - e.index;
                if (d == 1 || d == n - 1) continue;  // neighbours share a vertex by construction
            }
            if (std::max(e.a.y, e.b.y) < std::min(f.a.y, f.b.y) || std::max(f.a.y, f.b.y) < std::min(e.a.y, e.b.y)) continue;
            if (segmentsCross(e.a, e.b, f.a, f.b)) return true;
        }
    }
    return false;
}

// Even-odd test: is p inside ring r?
bool inside(const cv::Point2d& p, const Ring& r) {
    bool in = false;
    for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++)
        if ((r[i].y > p.y) != (r[j].y > p.y) && p.x < (r[j].x - r[i].x) * (p.y - r[i].y) / (r[j].y - r[i].y) + r[i].x) in = !in;
    return in;
}

// Rings that cross nothing can still jump a small ring (an island in a hole): each ring's first
// vertex, kept by the simplifier, must lie inside the same rings as before.
bool sameNesting(const std::vector<const Ring*>& before, const std::vector<Ring>& after) {
    for (std::size_t i = 0; i < before.size(); ++i)
        for (std::size_t j = 0; j < before.size(); ++j)
            if (i != j && inside((*before[i])[0], *before[j]) != inside(after[i][0], after[j])) return false;
    return true;
}

}  // namespace

OutlineSimplifier::OutlineSimplifier() : ctx_(GEOS_init_r()) {}

OutlineSimplifier::~OutlineSimplifier() { GEOS_finish_r(ctx_); }

MultiPolygon OutlineSimplifier::simplify(const MultiPolygon& geometry, double tolerance) const {
    std::size_t vertices = 0, rings = 0;
    for (const auto& part : geometry.parts) vertices += part.outer.size(), rings += 1 + part.holes.size();
    if (tolerance <= 0 || vertices <= 4 * geometry.parts.size()) return geometry;
    // A tolerance too coarse for an object (a ring collapses, edges meet) steps down a ladder of
    // half a pixel times powers of two until the outline holds: a large --simplify-m kept every
    // pixel stair of small objects, more vertices than a small one gave (an audit: 200 m wrote
    // the bytes of 0 m). Below the first try every tolerance shares the ladder, so vertex counts
    // stay close to monotone (Sundarbans, index rule: 2283 / 1889 / 1853 / 1851 vertices at 0 /
    // 20 / 50 / 200 m).
    for (double t = tolerance;;) {
        std::optional<MultiPolygon> out = rings <= kMaxFastRings ? simplifyFast(geometry, t) : simplifyGeos(geometry, t);
        if (out) return std::move(*out);
        if (t <= kLeastRetried) return geometry;
        double step = kLeastRetried;
        while (step * 2 < t) step *= 2;
        t = step;
    }
}

// Douglas-Peucker per ring, kept only when no edges touch and the nesting holds; else the exact
// outline. GEOS's topology-preserving simplifier and validity check cost ~70 us a feature, more
// than the rest of writing an outline (80,000 objects of the real-texture bench: user time
// 1.4 s -> 3.0 s with GEOS), so it is left to outlines of many rings.
std::optional<MultiPolygon> OutlineSimplifier::simplifyFast(const MultiPolygon& geometry, double tolerance) const {
    std::vector<const Ring*> before;  // not copies: malloc is shared by the threads
    for (const auto& part : geometry.parts) {
        before.push_back(&part.outer);
        for (const auto& h : part.holes) before.push_back(&h);
    }
    std::vector<Ring> after;
    after.reserve(before.size());
    for (const Ring* r : before) {
        after.push_back(simplifyRing(*r, tolerance));
        if (after.back().size() < 3) return std::nullopt;
    }
    if (anyEdgesTouch(after) || !sameNesting(before, after)) return std::nullopt;
    MultiPolygon out;
    std::size_t k = 0;
    for (const auto& part : geometry.parts) {
        Polygon p{std::move(after[k++]), {}};
        for (std::size_t h = 0; h < part.holes.size(); ++h) p.holes.push_back(std::move(after[k++]));
        out.parts.push_back(std::move(p));
    }
    return out;
}

std::optional<MultiPolygon> OutlineSimplifier::simplifyGeos(const MultiPolygon& geometry, double tolerance) const {
    std::vector<GEOSGeometry*> parts;
    for (const auto& part : geometry.parts) parts.push_back(polygonOf(ctx_, part));
    GeomPtr multi(GEOSGeom_createCollection_r(ctx_, GEOS_MULTIPOLYGON, parts.data(), static_cast<unsigned>(parts.size())),
                  GeomDeleter{ctx_});
    GeomPtr simple(GEOSTopologyPreserveSimplify_r(ctx_, multi.get(), tolerance), GeomDeleter{ctx_});
    if (!simple || GEOSisValid_r(ctx_, simple.get()) != 1) return std::nullopt;
    MultiPolygon out;
    const int n = GEOSGetNumGeometries_r(ctx_, simple.get());
    for (int i = 0; i < n; ++i) out.parts.push_back(polygonFrom(ctx_, GEOSGetGeometryN_r(ctx_, simple.get(), i)));
    // A part simplified away, or a ring reduced below a triangle, keeps the exact outline.
    if (out.parts.size() != geometry.parts.size()) return std::nullopt;
    for (const auto& p : out.parts)
        if (p.outer.size() < 3) return std::nullopt;
    return out;
}

}  // namespace riskmap
