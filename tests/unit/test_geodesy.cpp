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
