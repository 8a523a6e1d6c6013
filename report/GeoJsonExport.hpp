#pragma once
// Reads a layer written by riskmap (any OGR format, any CRS) back as an RFC 7946
// FeatureCollection in lon/lat, for the evidence report's data.js.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

// Texts kept in an unlinked file instead of in memory: the outlines of a big scan.
class TextSpool {
public:
    // An anonymous file in `dir` (never visible there, gone when closed).
    explicit TextSpool(const std::string& dir);
    ~TextSpool();
    TextSpool(const TextSpool&) = delete;
    TextSpool& operator=(const TextSpool&) = delete;

    void add(const std::string& text);
    std::string at(std::size_t i) const;
    std::size_t size() const { return offsets_.size() - 1; }

private:
    void flush() const;

    int fd_ = -1;
    std::string dir_;
    std::vector<long> offsets_{0};
    mutable std::string pending_;  // not yet written, from offset written_
    mutable long written_ = 0;
};

// A layer as the report embeds it, feature by feature: properties as compact JSON text (parsed
// when asked for) and geometries as compact GeoJSON text, in memory or spooled to a file. As
// JSON trees, 80,000 outlines and their properties held 1.8 GB for the report of a 10000 px
// real-texture scan; spooled, the report holds ~0.4 KB per feature (issue 14).
class ExportedLayer {
public:
    std::string name;

    std::size_t size() const { return properties_.size(); }
    Json properties(std::size_t i) const;
    const std::string& propertiesText(std::size_t i) const { return properties_.at(i); }
    void setProperties(std::size_t i, const Json& properties) { properties_.at(i) = dumpJson(properties); }
    std::string geometryText(std::size_t i) const;
    Json geometry(std::size_t i) const;
    void add(Json properties, const std::string& geometry);
    // Geometries from here on go to an unlinked file in `dir`.
    void spoolGeometriesIn(const std::string& dir) { spool_ = std::make_shared<TextSpool>(dir); }

    // The FeatureCollection's compact text, feature by feature to `sink` (as dumpJson would
    // write the whole, but never all of it in memory at once).
    template <class Sink>
    void write(Sink&& sink) const;
    Json toJson() const;

private:
    std::vector<std::string> properties_;
    std::vector<std::string> geometries_;  // when not spooled; "null" for no geometry
    std::shared_ptr<TextSpool> spool_;
};

class GeoJsonExport {
public:
    // The layer with properties and geometries kept as text (see ExportedLayer), geometries
    // spooled to an unlinked file in `spoolDir` unless it is empty.
    static ExportedLayer read(const std::string& path, const std::string& layerName, int precision,
                              const std::set<std::string>& listFields = {}, const std::string& spoolDir = "");
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
        sink(std::string(i ? "," : "") + "{\"type\":\"Feature\",\"properties\":" + properties_[i] +
             ",\"geometry\":" + geometryText(i) + "}");
    sink("]}");
}

}  // namespace riskmap
