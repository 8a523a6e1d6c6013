#pragma once
// Reads a layer written by riskmap (any OGR format, any CRS) back as an RFC 7946
// FeatureCollection in lon/lat, for the evidence report's data.js.
#include <string>

#include "core/Json.hpp"

namespace riskmap {

class GeoJsonExport {
public:
    // `layerName` may be empty for single-layer files. Coordinates are rounded to `precision`
    // decimals. Throws DataError when the file or the layer cannot be read.
    static Json layer(const std::string& path, const std::string& layerName, int precision);
};

}  // namespace riskmap
