#pragma once
// Reads a layer written by riskmap (any OGR format, any CRS) back as an RFC 7946
// FeatureCollection in lon/lat, for the evidence report's data.js.
#include <set>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

class GeoJsonExport {
public:
    // `layerName` may be empty for single-layer files. Coordinates are rounded to `precision`
    // decimals. `listFields` name text fields that hold JSON lists in formats without a list type
    // (FlatGeobuf); they come back as arrays. Throws DataError when the file or the layer cannot
    // be read.
    static Json layer(const std::string& path, const std::string& layerName, int precision,
                      const std::set<std::string>& listFields = {});
    // The outer rings of a GeoJSON Polygon or MultiPolygon (as `layer` writes them).
    static std::vector<std::vector<LonLat>> outerRings(const Json& geometry);
};

}  // namespace riskmap
