#pragma once
// RFC 7946 GeoJSON streamed straight to a file. OGR's GeoJSON driver builds a json-c tree per
// feature (about 130 us each, 10x its FlatGeobuf writer), which made writing the serial tail of
// every scan; this writes the text directly with the same conventions:
// - EPSG:4326 lon/lat with fixed decimals (trailing zeros dropped);
// - outer rings counter-clockwise and holes clockwise (the right-hand rule), rings closed;
// - a Polygon for single-part objects, else a MultiPolygon;
// - geometries spanning more than 180 degrees of longitude split at the antimeridian (by OGR);
// - properties in field order, reals to 15 significant digits and always with a decimal point
//   or exponent, lists as arrays.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "geo/Geodesy.hpp"
#include "output/OutputDataset.hpp"

namespace riskmap {

class GeoJsonWriter {
public:
    // Coordinates rounded to `places` decimals of a degree, coarser than half the finest pixel
    // of what is written (in degrees: pixelDegrees), collapse outlines into invalid polygons:
    // throws UsageError naming the places that keep them. Scan, merge and diff check first.
    static void checkPrecision(int places, double finestPixelDegrees);
    // A pixel of gsdX x gsdY metres at the middle latitude of a scene's footprint, in degrees of
    // latitude or longitude, whichever is smaller (a longitude degree shrinks towards the poles).
    static double pixelDegrees(double gsdX, double gsdY, const std::vector<LonLat>& footprint);

    // Creates `path` (owner-only until the caller relaxes it). Throws IoError.
    GeoJsonWriter(const std::string& path, const std::string& layerName,
                  std::vector<FieldSpec> fields, int precision);
    ~GeoJsonWriter();
    GeoJsonWriter(const GeoJsonWriter&) = delete;
    GeoJsonWriter& operator=(const GeoJsonWriter&) = delete;

    // Values and lists for fields not declared are an error (a caller bug).
    void write(const MapPolygons& parts,
               const std::vector<std::pair<std::string, FieldValue>>& values,
               const std::vector<std::pair<std::string, std::vector<std::string>>>& lists);
    // The text of one feature as write() would add it; const, so threads may format features
    // side by side and append() them in order (the same bytes as write()).
    std::string feature(
        const MapPolygons& parts, const std::vector<std::pair<std::string, FieldValue>>& values,
        const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) const;
    void append(const std::string& featureText);
    // Closes the collection and the file; throws IoError (disk full, ...).
    void finish();

    // Decimals of coordinates: 15 is below a nanometre; more only prints noise.
    static constexpr int kMaxPrecision = 15;
    // Number formats, exposed for tests.
    static void appendCoordinate(std::string& out, double v, int precision);
    static void appendReal(std::string& out, double v);
    static void appendString(std::string& out, const std::string& s);

private:
    void appendGeometry(std::string& out, const MapPolygons& parts) const;
    void flush();

    std::string path_;
    std::vector<FieldSpec> fields_;
    int precision_;
    std::FILE* file_ = nullptr;
    std::string buffer_;
    bool first_ = true;
};

}  // namespace riskmap
