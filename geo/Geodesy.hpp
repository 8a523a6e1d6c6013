#pragma once
// Distances and areas on the WGS84 ellipsoid (Karney's algorithms via PROJ's geodesic.h).
#include <vector>

namespace riskmap {

struct LonLat {
    double lon = 0;
    double lat = 0;
};

// Geodesic distance in metres.
double geodesicDistance(const LonLat& a, const LonLat& b);

// Absolute area in square metres of a simple ring given in lon/lat (first vertex need not repeat).
double geodesicRingArea(const std::vector<LonLat>& ring);

}  // namespace riskmap
