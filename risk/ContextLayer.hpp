#pragma once
// A context layer (protected areas, banned fishing zones, schools, roads...) read through OGR in
// any CRS, held as GEOS geometries in an azimuthal equidistant projection centred on the scan,
// with an STRtree. Distances are found in that projection and then measured on the ellipsoid
// between the nearest points, so they are right in metres for lon/lat data too.
#include <memory>
#include <string>
#include <vector>

#include "geo/Geodesy.hpp"

namespace riskmap {

class ContextLayer {
public:
    // centre: the scan area's centre, for the projection.
    ContextLayer(const std::string& path, const LonLat& centre);
    ~ContextLayer();
    ContextLayer(const ContextLayer&) = delete;
    ContextLayer& operator=(const ContextLayer&) = delete;

    std::size_t size() const;
    // Index of a feature containing the point (the first in file order), or -1.
    long containing(const LonLat& p) const;
    // Geodesic distance (m) to the nearest feature, and its index; {inf, -1} for an empty layer.
    std::pair<double, long> nearest(const LonLat& p) const;
    // Features within `metres` (geodesic), nearest first: index and distance.
    std::vector<std::pair<long, double>> within(const LonLat& p, double metres) const;
    // A readable label for a feature: its name/NAME/title field, else "#index".
    const std::string& label(long index) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace riskmap
