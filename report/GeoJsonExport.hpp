#pragma once
// Reads a layer written by riskmap (any OGR format, any CRS) back as an RFC 7946
// FeatureCollection in lon/lat, for the evidence report's data.js.
#include <set>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

// A layer as the report embeds it: properties as JSON values (to rank leads and add chip fields),
// each geometry as compact GeoJSON text. Parsing 80,000 outlines into JSON trees held 1.8 GB for
// the report of a 10000 px real-texture scan (issue 14); as text they take about their file size.
struct ExportedLayer {
    std::string name;
    std::vector<Json> properties;
    std::vector<std::string> geometries;  // "null" for a feature without geometry

    std::size_t size() const { return properties.size(); }
    Json geometry(std::size_t i) const;
    // The FeatureCollection's compact text, feature by feature to `sink` (as dumpJson would
    // write the whole, but never all of it in memory at once).
    template <class Sink>
    void write(Sink&& sink) const;
    Json toJson() const;
};

class GeoJsonExport {
public:
    // The layer with its geometries kept as text (see ExportedLayer).
    static ExportedLayer read(const std::string& path, const std::string& layerName, int precision,
                              const std::set<std::string>& listFields = {});
    // `layerName` may be empty for single-layer files. Coordinates are rounded to `precision`
    // decimals. `listFields` name text fields that hold JSON lists in formats without a list type
    // (FlatGeobuf); they come back as arrays. Throws DataError when the file or the layer cannot
    // be read.
    static Json layer(const std::string& path, const std::string& layerName, int precision,
                      const std::set<std::string>& listFields = {});
    // The outer rings of a GeoJSON Polygon or MultiPolygon (as `layer` writes them).
    static std::vector<std::vector<LonLat>> outerRings(const Json& geometry);
};

template <class Sink>
void ExportedLayer::write(Sink&& sink) const {
    sink("{\"type\":\"FeatureCollection\",\"name\":" + jsonQuote(name) + ",\"features\":[");
    for (std::size_t i = 0; i < size(); ++i)
        sink(std::string(i ? "," : "") + "{\"type\":\"Feature\",\"properties\":" + dumpJson(properties[i]) +
             ",\"geometry\":" + geometries[i] + "}");
    sink("]}");
}

}  // namespace riskmap
