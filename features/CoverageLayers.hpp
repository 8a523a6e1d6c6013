#pragma once
// What was scanned, as layers: each scene's footprint, and the nodata gaps inside it (coverage
// cells less than half valid), drawn in the output CRS.
#include <string>

#include "features/FeatureRecord.hpp"
#include "raster/RasterInput.hpp"
#include "tiling/Coverage.hpp"

namespace riskmap {

class CoverageLayers {
public:
    // targetCrs: "" for EPSG:4326.
    static MapPolygons footprint(const RasterInput& input, const std::string& targetCrs);
    static MapPolygons gaps(const RasterInput& input, const CoverageMap& coverage, const std::string& targetCrs);
};

}  // namespace riskmap
