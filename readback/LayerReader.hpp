#pragma once
// A layer riskmap wrote (GeoJSON, GeoPackage or FlatGeobuf, in any CRS) read back through OGR:
// its fields with their types, and every feature's values, lists and geometry in lon/lat.
// `riskmap diff` and `scan --time-series` read scans with it. Lists that a format stores as
// JSON text (GeoPackage, FlatGeobuf) come back as lists.
#include <ogr_geometry.h>

#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "features/FeatureRecord.hpp"
#include "geo/Geodesy.hpp"
#include "output/OutputDataset.hpp"

class OGRCoordinateTransformation;

namespace riskmap {

struct LayerFeature {
    std::vector<std::pair<std::string, FieldValue>> values;  // the fields that are set
    std::vector<std::pair<std::string, std::vector<std::string>>> lists;
    OGRGeometryUniquePtr geometry;  // EPSG:4326 in lon/lat order; null when the feature has none

    // A field as text or number; "" or `fallback` when unset or of another type.
    std::string text(const std::string& field) const;
    double number(const std::string& field, double fallback = std::numeric_limits<double>::quiet_NaN()) const;
    std::vector<std::string> list(const std::string& field) const;
};

struct LayerContent {
    std::string path, name;
    std::string crsWkt;             // the layer's own CRS, "" when it has none
    std::vector<FieldSpec> fields;  // list fields as OFTStringList
    std::vector<LayerFeature> features;
};

// `layerName` "" picks the only layer. `listFields` name text fields holding JSON lists. `what`
// names the file in errors ("BEFORE scan"). Throws DataError when it cannot be read.
LayerContent readLayer(const std::string& path, const std::string& layerName, const std::set<std::string>& listFields,
                       const std::string& what);

// The polygons of a Polygon or MultiPolygon (other geometries give none), moved by `transform`
// when given (lon/lat to an output CRS).
MapPolygons polygonsOf(const OGRGeometry& geometry, OGRCoordinateTransformation* transform = nullptr);

// Lon/lat to `targetWkt`; null when targetWkt is "" (EPSG:4326 itself). Throws UsageError.
std::unique_ptr<OGRCoordinateTransformation> lonLatTo(const std::string& targetWkt);

// The area of a lon/lat geometry in square degrees (for shares of one place, not for metres).
double planarArea(const OGRGeometry& geometry);

// A polygon of one ring of lon/lat points (a scene's footprint), closed; unwrapped across lon 180
// (readback/Antimeridian).
OGRGeometryUniquePtr lonLatPolygon(const std::vector<LonLat>& ring);

}  // namespace riskmap
