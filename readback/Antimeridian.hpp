#pragma once
// Lon/lat geometries across the antimeridian. riskmap writes layers as RFC 7946 asks: an object
// astride lon 180 is split into parts at +180 and -180. Read back, such a part pair has its
// centroid near lon 0, and a footprint ring running 179.9 -> -179.9 encloses the rest of the
// globe (an audit: eval and diff of a Fiji scene counted every object as outside its scan).
// Here such geometries are made continuous (longitudes past 180 where that keeps them compact),
// and tests of a place against an area try the place one turn east and west as well.
#include <ogr_geometry.h>

#include "geo/Geodesy.hpp"

namespace riskmap {

// Shifts the negative longitudes of `g` by +360 when it spans more than 180 degrees and less
// after the shift: one object or scene astride lon 180. Returns whether it shifted.
bool unwrapLongitudes(OGRGeometry& g);
// Puts `g` in the frame of `frame`: where `frame` was unwrapped (it reaches past lon 180), the
// negative longitudes of `g` are shifted by +360 (a scene's nodata gaps, to its footprint).
void alignLongitudes(OGRGeometry& g, const OGRGeometry& frame);
// A copy of `g`, unwrapped.
OGRGeometryUniquePtr unwrappedCopy(const OGRGeometry& g);
// A copy of `g` moved by `degrees` of longitude.
OGRGeometryUniquePtr shiftedCopy(const OGRGeometry& g, double degrees);
// The centroid of a lon/lat geometry, taken unwrapped, its longitude back in [-180, 180].
// Throws DataError when it has none.
LonLat lonLatCentroid(const OGRGeometry& g);
// Whether `area` (possibly unwrapped) holds or touches the point, at its longitude or one turn
// east or west of it.
bool coversLonLat(const OGRGeometry& area, const LonLat& p);

}  // namespace riskmap
