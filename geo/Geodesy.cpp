#include "geo/Geodesy.hpp"

#include <geodesic.h>

#include <cmath>

namespace riskmap {

namespace {

const geod_geodesic& wgs84() {
    // Immutable after construction; C++11 guarantees thread-safe init of statics.
    static const geod_geodesic g = [] {
        geod_geodesic out;
        geod_init(&out, 6378137.0, 1.0 / 298.257223563);
        return out;
    }();
    return g;
}

}  // namespace

double geodesicDistance(const LonLat& a, const LonLat& b) {
    double s12 = 0;
    geod_inverse(&wgs84(), a.lat, a.lon, b.lat, b.lon, &s12, nullptr, nullptr);
    return s12;
}

double geodesicRingArea(const std::vector<LonLat>& ring) {
    if (ring.size() < 3) return 0;
    geod_polygon poly;
    geod_polygon_init(&poly, 0);
    std::size_t n = ring.size();
    if (ring.front().lon == ring.back().lon && ring.front().lat == ring.back().lat) --n;
    for (std::size_t i = 0; i < n; ++i) geod_polygon_addpoint(&wgs84(), &poly, ring[i].lat, ring[i].lon);
    double area = 0;
    geod_polygon_compute(&wgs84(), &poly, 0, 1, &area, nullptr);
    return std::fabs(area);
}

}  // namespace riskmap
