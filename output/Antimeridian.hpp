#pragma once
// Lon/lat outlines that cross the antimeridian, cut there as RFC 7946 asks, for every format
// written in a geographic CRS (a GeoPackage in EPSG:4326 carried a 130 m object as a polygon
// around the globe).
#include "features/FeatureRecord.hpp"

namespace riskmap {

// Spanning more than half the globe, or outside [-180, 180]: OGR's wrap brings it back.
bool needsWrap(const MapPolygons& parts);
// The parts cut at the antimeridian by OGR (WRAPDATELINE), or `parts` when nothing was cut.
MapPolygons splitAtAntimeridian(const MapPolygons& parts);

}  // namespace riskmap
