// OutlineSimplifier: pixel stairs go, the shape stays within the tolerance, and the result is
// always a valid polygon (rings simple, holes inside, parts apart) or else the exact outline.
#include <geos_c.h>
#include <gtest/gtest.h>

#include <cmath>

#include "features/OutlineSimplifier.hpp"
#include "support/GeosCheck.hpp"

using namespace riskmap;

namespace {

// The pixel-edge outline of a disc of radius r centred at (cx, cy): a staircase ring.
Ring discOutline(double cx, double cy, double r, bool clockwise = false) {
    Ring ring;
    const int n = static_cast<int>(std::ceil(r));
    // Walk the upper half then the lower half of the pixel set |(x+.5,y+.5)-(c)| <= r by rows.
    std::vector<std::pair<int, int>> rows;  // y -> [x0, x1)
    for (int y = -n; y < n; ++y) {
        const double yc = y + 0.5, half = std::sqrt(std::max(0.0, r * r - yc * yc));
        rows.push_back({static_cast<int>(std::floor(-half + 0.5)), static_cast<int>(std::floor(half + 0.5))});
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {  // right side going down
        ring.emplace_back(cx + rows[i].second, cy - n + static_cast<double>(i));
        ring.emplace_back(cx + rows[i].second, cy - n + static_cast<double>(i) + 1);
    }
    for (std::size_t i = rows.size(); i-- > 0;) {  // left side going up
        ring.emplace_back(cx + rows[i].first, cy - n + static_cast<double>(i) + 1);
        ring.emplace_back(cx + rows[i].first, cy - n + static_cast<double>(i));
    }
    if (clockwise) std::reverse(ring.begin(), ring.end());
    return ring;
}

std::size_t vertexCount(const MultiPolygon& g) {
    std::size_t n = 0;
    for (const auto& p : g.parts) {
        n += p.outer.size();
        for (const auto& h : p.holes) n += h.size();
    }
    return n;
}

// GEOS's own verdict on the result: valid, and its Hausdorff distance to the input.
struct Verdict {
    bool valid;
    double hausdorff;
};

Verdict judge(const MultiPolygon& in, const MultiPolygon& out) {
    GEOSContextHandle_t ctx = GEOS_init_r();
    GEOSGeometry* a = toGeos(ctx, in);
    GEOSGeometry* b = toGeos(ctx, out);
    Verdict v{GEOSisValid_r(ctx, b) == 1, 0};
    GEOSHausdorffDistance_r(ctx, a, b, &v.hausdorff);
    GEOSGeom_destroy_r(ctx, a);
    GEOSGeom_destroy_r(ctx, b);
    GEOS_finish_r(ctx);
    return v;
}

}  // namespace

TEST(OutlineSimplifier, StairsGoWithinTheTolerance) {
    MultiPolygon g;
    g.parts.push_back({discOutline(50, 50, 20), {}});
    OutlineSimplifier s;
    const MultiPolygon out = s.simplify(g, 0.5);
    EXPECT_LT(vertexCount(out), vertexCount(g) / 2) << "a staircase disc loses most of its vertices";
    const Verdict v = judge(g, out);
    EXPECT_TRUE(v.valid);
    EXPECT_LE(v.hausdorff, 0.5 + 1e-9);
    EXPECT_NEAR(out.parts[0].areaPixels(), g.parts[0].areaPixels(), 0.03 * g.parts[0].areaPixels());
}

// Bug: a tolerance larger than an object collapsed its ring, and the exact outline was kept:
// --simplify-m 200 wrote the bytes of --simplify-m 0. The tolerance is halved until it holds.
TEST(OutlineSimplifier, ATooCoarseToleranceIsHalvedNotDropped) {
    MultiPolygon g;
    g.parts.push_back({discOutline(50, 50, 6), {}});
    OutlineSimplifier s;
    const MultiPolygon fine = s.simplify(g, 0.5), coarse = s.simplify(g, 100);
    EXPECT_LT(vertexCount(fine), vertexCount(g));
    EXPECT_LT(vertexCount(coarse), vertexCount(fine)) << "coarser than half a pixel, not the exact outline";
    const Verdict v = judge(g, coarse);
    EXPECT_TRUE(v.valid);
    EXPECT_GE(coarse.parts.at(0).outer.size(), 3u);
}

TEST(OutlineSimplifier, ZeroToleranceKeepsPixelEdges) {
    MultiPolygon g;
    g.parts.push_back({discOutline(50, 50, 20), {}});
    OutlineSimplifier s;
    EXPECT_EQ(vertexCount(s.simplify(g, 0)), vertexCount(g));
}

TEST(OutlineSimplifier, HolesAndIslandsStayWhereTheyWere) {
    // A disc with a hole, and a second part (an island) inside the hole.
    MultiPolygon g;
    g.parts.push_back({discOutline(60, 60, 40), {discOutline(60, 60, 15, true)}});
    g.parts.push_back({discOutline(60, 60, 3), {}});
    OutlineSimplifier s;
    const MultiPolygon out = s.simplify(g, 0.5);
    ASSERT_EQ(out.parts.size(), 2u);
    ASSERT_EQ(out.parts[0].holes.size(), 1u);
    EXPECT_LT(vertexCount(out), vertexCount(g));
    const Verdict v = judge(g, out);
    EXPECT_TRUE(v.valid);
    EXPECT_LE(v.hausdorff, 0.5 + 1e-9);
}

TEST(OutlineSimplifier, NeverCrossesANarrowGap) {
    // Two parts one pixel apart along a long staircase: a tolerance of 2 px would let the
    // simplified edges cross; the result must stay valid (or be the exact outline).
    MultiPolygon g;
    Ring a, b;
    for (int i = 0; i < 30; ++i) a.emplace_back(i, i), a.emplace_back(i + 1, i);
    a.emplace_back(30, 30), a.emplace_back(0, 30);
    for (int i = 0; i < 30; ++i) b.emplace_back(i + 2, i), b.emplace_back(i + 3, i);
    b.emplace_back(40, 30), b.emplace_back(40, 0);
    std::reverse(b.begin(), b.end());
    g.parts.push_back({a, {}});
    g.parts.push_back({b, {}});
    OutlineSimplifier s;
    for (double tol : {0.5, 1.0, 2.0, 5.0}) {
        const MultiPolygon out = s.simplify(g, tol);
        EXPECT_TRUE(judge(g, out).valid) << "tolerance " << tol;
    }
}

TEST(OutlineSimplifier, ManyRingsGoThroughGeosAndStayValid) {
    MultiPolygon g;
    Polygon p{discOutline(200, 200, 150), {}};
    for (int k = 0; k < 80; ++k) p.holes.push_back(discOutline(110 + (k % 9) * 22, 110 + (k / 9) * 22, 6, true));
    g.parts.push_back(p);
    OutlineSimplifier s;
    const MultiPolygon out = s.simplify(g, 0.5);
    EXPECT_LT(vertexCount(out), vertexCount(g));
    ASSERT_EQ(out.parts[0].holes.size(), 80u);
    EXPECT_TRUE(judge(g, out).valid);
}
