#include <gtest/gtest.h>

#include <cmath>

#include "geo/CoordinateMapper.hpp"
#include "geo/Geodesy.hpp"
#include "geo/GdalRuntime.hpp"

using namespace riskmap;

namespace {

std::string wkt(const char* epsg) {
    ensureGdalRegistered();
    OGRSpatialReference s;
    s.SetFromUserInput(epsg);
    char* w = nullptr;
    s.exportToWkt(&w);
    std::string out = w;
    CPLFree(w);
    return out;
}

}  // namespace

TEST(Geodesy, UtmPixelsAreTheirNominalSize) {
    CoordinateMapper m(wkt("EPSG:32645"), GeoTransform(std::array<double, 6>{500000, 10, 0, 2500000, 0, -10}));
    // On the central meridian UTM's scale factor is 0.9996: 10 m of grid is 10.004 m of ground.
    EXPECT_NEAR(m.groundDistance(0, 0, 1, 0), 10.004, 0.002);
    EXPECT_NEAR(m.groundDistance(0, 0, 0, 1), 10.004, 0.002);
}

TEST(Geodesy, GeographicPixelsShrinkWithLatitude) {
    double d = 8.983152841195214e-05;  // the "10 m" pitch of an EPSG:4326 export
    CoordinateMapper eq(wkt("EPSG:4326"), GeoTransform(std::array<double, 6>{89.0, d, 0, 0.0, 0, -d}));
    EXPECT_NEAR(eq.groundDistance(0, 0, 1, 0), 10.0, 0.02);
    CoordinateMapper bd(wkt("EPSG:4326"), GeoTransform(std::array<double, 6>{89.0, d, 0, 23.13, 0, -d}));
    // About 9.2 m east-west and 9.95 m north-south at 23 N (the dev chips' README).
    EXPECT_NEAR(bd.groundDistance(0, 0, 1, 0), 9.2, 0.05);
    EXPECT_NEAR(bd.groundDistance(0, 0, 0, 1), 9.95, 0.05);
}

TEST(Geodesy, WebMercatorIsCorrectedToGround) {
    // At 60 N a Web Mercator metre is half a ground metre.
    double y60 = 8399737.89;  // northing of 60 N in EPSG:3857
    CoordinateMapper m(wkt("EPSG:3857"), GeoTransform(std::array<double, 6>{0, 10, 0, y60, 0, -10}));
    EXPECT_NEAR(m.groundDistance(0, 0, 1, 0), 5.0, 0.05);
}

TEST(Geodesy, RingAreaOfOneSquareDegreeAtTheEquator) {
    std::vector<LonLat> ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}};
    // 110.57 km x 111.32 km, give or take the ellipsoid.
    EXPECT_NEAR(geodesicRingArea(ring) / 1e6, 12308.8, 5.0);
}

namespace {

// A ring of `n` vertices on a circle of radius r pixels around (cx, cy).
std::vector<MapPoint> circle(double cx, double cy, double r, int n) {
    std::vector<MapPoint> pts;
    for (int k = 0; k < n; ++k)
        pts.push_back({cx + r * std::cos(6.283185307179586 * k / n), cy + r * std::sin(6.283185307179586 * k / n)});
    return pts;
}

double maxDifference(const std::vector<MapPoint>& a, const std::vector<MapPoint>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max({d, std::fabs(a[i].x - b[i].x), std::fabs(a[i].y - b[i].y)});
    return d;
}

// How far objectPixelsToTarget puts the points from PROJ's own transform of each (0: exact).
double modelMiss(const CoordinateMapper& m, std::vector<MapPoint> pts) {
    std::vector<MapPoint> exact = pts;
    m.objectPixelsToTarget(pts);
    m.pixelsToTarget(exact);
    return maxDifference(pts, exact);
}

}  // namespace

TEST(Geodesy, AnObjectsVerticesAgreeWithTheExactTransformWellBelowTheWrittenDigits) {
    // An 800 m object of 60 vertices in UTM 45N at 10 m: the quadratic model is used and stays
    // far inside GeoJSON's 7 decimals (1e-7 degree).
    CoordinateMapper m(wkt("EPSG:32645"), GeoTransform(std::array<double, 6>{300000, 10, 0, 2600000, 0, -10}));
    const double miss = modelMiss(m, circle(5000, 7000, 40, 60));
    EXPECT_LT(miss, 1e-10);
    EXPECT_GT(miss, 0) << "the model was not used: this test checks nothing";
}

TEST(Geodesy, AnObjectTooLargeForTheModelIsTransformedExactly) {
    // 1000 km across at 1 km pixels: no quadratic holds to 1e-10 degree there, so every vertex
    // must come from PROJ itself.
    CoordinateMapper m(wkt("EPSG:32645"), GeoTransform(std::array<double, 6>{0, 1000, 0, 3000000, 0, -1000}));
    EXPECT_EQ(modelMiss(m, circle(500, 500, 500, 60)), 0);
}

TEST(Geodesy, SmallObjectsShareTheModelOfTheirLatticeCell) {
    CoordinateMapper m(wkt("EPSG:32645"), GeoTransform(std::array<double, 6>{300000, 10, 0, 2600000, 0, -10}));
    // Five points inside the 64-px cell (64..128, 64..128): the cell's model, within 1e-10 degree.
    const std::vector<MapPoint> points{{70, 70}, {71, 70}, {71, 71}, {70, 71}, {100.5, 120.25}};
    const double miss = modelMiss(m, points);
    EXPECT_LT(miss, 1e-10);
    EXPECT_GT(miss, 0) << "the cell's model was not used";
    std::vector<MapPoint> inCell = points;
    m.objectPixelsToTarget(inCell);
    // The same points again, after other cells filled the cache: the same values to the bit.
    for (int k = 0; k < 600; ++k) {
        ASSERT_LT(modelMiss(m, {{64.0 * k + 3, 5}}), 1e-10) << "cell " << k << " got another cell's model";
    }
    std::vector<MapPoint> again = points;
    m.objectPixelsToTarget(again);
    EXPECT_EQ(maxDifference(again, inCell), 0);
    // Four points across a cell boundary are too few for a model of their own: exact.
    EXPECT_EQ(modelMiss(m, {{126, 70}, {131, 70}, {131, 75}, {126, 75}}), 0);
}

TEST(Geodesy, ModelsAreCheckedInsideTheirBoxNotOnlyAtItsCorners) {
    // Web Mercator: latitude depends on y alone, a cubic term the model's samples and box corners
    // cannot see; a 20 km object must still come within 1e-10 degree of PROJ.
    CoordinateMapper m(wkt("EPSG:3857"), GeoTransform(std::array<double, 6>{1e6, 10, 0, 7e6, 0, -10}));
    EXPECT_LT(modelMiss(m, circle(5000, 5000, 1000, 80)), 1e-10);
}

TEST(Geodesy, AModelWhoseSamplesCannotBeTransformedFallsBackToExact) {
    // A lon/lat raster whose top row is the pole, to polar stereographic: the cell's samples
    // above the pole fail in PROJ; the object's own vertices do not.
    CoordinateMapper m(wkt("EPSG:4326"), GeoTransform(std::array<double, 6>{-40, 0.01, 0, 90, 0, -0.01}), "EPSG:3413");
    double miss = -1;
    ASSERT_NO_THROW(miss = modelMiss(m, {{10, 1}, {12, 1}, {12, 3}, {10, 3}}));
    EXPECT_EQ(miss, 0);
}
