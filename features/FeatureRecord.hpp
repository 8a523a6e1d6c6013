#pragma once
// An output feature as every layer writer, risk scorer and grid sees it: the detection in map
// coordinates with its common properties. Below both risk/ and output/.
#include <memory>
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "geo/Geodesy.hpp"
#include "raster/GeoTransform.hpp"

class OGRMultiPolygon;

namespace riskmap {

// Rings (outer first) of each polygon, in the layer's CRS.
using MapPolygons = std::vector<std::vector<std::vector<MapPoint>>>;

// One feature ready to write.
struct FeatureRecord {
    std::string id;
    std::string detector;
    std::string cls;
    double score = 0;
    double areaM2 = 0;
    std::string source;
    std::vector<std::string> sources;  // every scene the object was seen in (overlap merge)
    std::size_t inputIndex = 0;        // not written: which input produced it
    LonLat centroid;                   // not written: for context and grids
    double risk = 0;                   // 0..1, from score and context
    std::string riskLevel = "low";
    std::vector<std::string> riskFactors;
    std::vector<AttributeValue> attributes;
    // Polygons, each a list of rings (outer first) in the output CRS.
    MapPolygons parts;
};

// The polygons as one OGR MultiPolygon, rings closed.
std::unique_ptr<OGRMultiPolygon> toMultiPolygon(const MapPolygons& parts);

}  // namespace riskmap
