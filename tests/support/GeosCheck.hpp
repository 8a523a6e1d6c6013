#pragma once
// GEOS's own verdict on riskmap geometries, for tests: what a GIS will say when it opens a layer.
#include <geos_c.h>

#include <string>

#include "detection/Detection.hpp"

namespace riskmap {

// A new GEOS MultiPolygon with the rings of `g` (closed); the caller destroys it.
GEOSGeometry* toGeos(GEOSContextHandle_t ctx, const MultiPolygon& g);

// Empty when GEOS finds `g` valid, else its reason ("Interior is disconnected[x y]").
std::string geosInvalidReason(const MultiPolygon& g);

}  // namespace riskmap
