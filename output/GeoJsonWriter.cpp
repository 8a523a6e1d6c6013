#include "output/GeoJsonWriter.hpp"

#include <fcntl.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "output/Antimeridian.hpp"

namespace riskmap {

namespace {

// Twice the signed area: > 0 for counter-clockwise rings in lon/lat.
double signedArea2(const std::vector<MapPoint>& ring) {
    double a = 0;
    for (std::size_t i = 0, n = ring.size(); i < n; ++i) {
        const MapPoint& p = ring[i];
        const MapPoint& q = ring[(i + 1) % n];
        a += p.x * q.y - q.x * p.y;
    }
    return a;
}

// Coordinates reach the writer in lon/lat; anything else means a transformation failed.
// |v| <= 1e4 also keeps fixed-point text within the formatting buffer.
void requireLonLat(double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y) || std::fabs(x) > 1e4 || std::fabs(y) > 1e4)
        throw DataError("a coordinate is not a longitude or latitude (" + std::to_string(x) + ", " +
                        std::to_string(y) +
                        "): a coordinate transformation failed; check the input's CRS");
}

void appendChars(std::string& out, const char* b, const char* e) {
    out.append(b, static_cast<std::size_t>(e - b));
}

}  // namespace

namespace {

// `v` rounded to `precision` decimals as digits and a point, or nullptr when the rounding is too
// close to call in double arithmetic (the caller then asks std::to_chars, which rounds exactly).
// to_chars' fixed notation was the larger part of formatting 1.5 million vertices (issue 14).
char* fastFixed(char* buf, double v, int precision) {
    static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const double r = std::fabs(v) * kPow10[precision];
    if (!(r < 4e15)) return nullptr;
    const double whole = std::floor(r), frac = r - whole;
    // r carries at most half an ulp of error (~1e-16 relative): decide only away from the tie.
    if (std::fabs(frac - 0.5) <= 1e-6 + r * 1e-15) return nullptr;
    auto n = static_cast<std::uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
    char digits[24];
    int len = 0;
    do {
        digits[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n);
    while (len <= precision) digits[len++] = '0';  // at least one digit before the point
    char* out = buf;
    if (std::signbit(v)) *out++ = '-';  // as to_chars: -0.0 prints "-0"
    for (int i = len - 1; i >= 0; --i) {
        *out++ = digits[i];
        if (i == precision && precision > 0) *out++ = '.';
    }
    return out;
}

}  // namespace

// Metres in a degree of latitude: precision and pixel sizes are compared in degrees, said in metres.
constexpr double kMetresPerDegree = 111320.0;

// 3 places are ~110 m: every 10 m outline of a scan collapsed without a word (an audit); warned
// of, they were still written, collapsed to repeated points and crossing themselves (a sweep:
// 239 of 260 invalid at 3 places).
void GeoJsonWriter::checkPrecision(int places, double finestPixelDegrees) {
    if (!(finestPixelDegrees > 0) || std::pow(10.0, -places) <= finestPixelDegrees / 2) return;
    int least = places;
    while (std::pow(10.0, -least) > finestPixelDegrees / 2) ++least;
    char text[400];
    std::snprintf(text, sizeof text,
                  "--precision %d rounds coordinates to about %.3g m, coarser than half the %.3g m pixels: "
                  "outlines would collapse into invalid polygons. Give --precision %d or more (the default 7 keeps "
                  "about 1 cm), or write .gpkg or .fgb; to share coarse locations, use --publish",
                  places, kMetresPerDegree * std::pow(10.0, -places), kMetresPerDegree * finestPixelDegrees, least);
    throw UsageError(text);
}

double GeoJsonWriter::pixelDegrees(double gsdX, double gsdY, const std::vector<LonLat>& footprint) {
    double lo = 90, hi = -90;
    for (const LonLat& p : footprint) lo = std::min(lo, p.lat), hi = std::max(hi, p.lat);
    const double latitude = lo <= hi ? (lo + hi) / 2 : 0;
    const double c = std::max(std::cos(latitude * M_PI / 180.0), 1e-12);
    return std::min(gsdY / kMetresPerDegree, gsdX / (kMetresPerDegree * c));
}

void GeoJsonWriter::appendCoordinate(std::string& out, double v, int precision) {
    requireLonLat(v, 0);
    char buf[64];
    precision = std::clamp(precision, 0, kMaxPrecision);
    char* end = fastFixed(buf, v, precision);
    bool point = precision > 0;
    if (!end) {
        auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
        if (r.ec != std::errc()) throw Error("coordinate formatting failed (a writer bug)");
        end = r.ptr;
        point = std::memchr(buf, '.', static_cast<std::size_t>(end - buf)) != nullptr;
    }
    if (point) {
        while (end[-1] == '0') --end;
        if (end[-1] == '.') *end++ = '0';  // keep one decimal: 87.0
    }
    if (end - buf == 4 && std::memcmp(buf, "-0.0", 4) == 0) {
        out += "0.0";
        return;
    }
    appendChars(out, buf, end);
}

void GeoJsonWriter::appendReal(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";  // JSON has no NaN or infinity
        return;
    }
    char buf[64];
    // 15 significant digits, as OGR writes them: hides the last-bit noise of arithmetic
    // (1 - (1 - 0.0553) prints as 0.0553).
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 15);
    if (r.ec != std::errc()) throw Error("number formatting failed (a writer bug)");
    appendChars(out, buf, r.ptr);
    // A decimal point keeps readers from typing the field as an integer.
    if (!std::memchr(buf, '.', static_cast<std::size_t>(r.ptr - buf)) &&
        !std::memchr(buf, 'e', static_cast<std::size_t>(r.ptr - buf)))
        out += ".0";
}

void GeoJsonWriter::appendString(std::string& out, const std::string& s) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {  // valid UTF-8 passes through; an invalid byte (a Latin-1 file name) is U+FFFD
            i += appendUtf8(out, s, i) - 1;
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += hex[u >> 4];
                    out += hex[u & 15];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

GeoJsonWriter::GeoJsonWriter(const std::string& path, const std::string& layerName,
                             std::vector<FieldSpec> fields, int precision)
    : path_(path), fields_(std::move(fields)), precision_(std::clamp(precision, 0, kMaxPrecision)) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || !(file_ = ::fdopen(fd, "wb"))) {
        if (fd >= 0) ::close(fd);
        throw IoError("cannot create '" + path + "': " + std::strerror(errno));
    }
    buffer_ = "{\n\"type\": \"FeatureCollection\",\n\"name\": ";
    appendString(buffer_, layerName);
    buffer_ += ",\n\"features\": [\n";
}

GeoJsonWriter::~GeoJsonWriter() {
    if (file_) std::fclose(file_);
}

void GeoJsonWriter::appendGeometry(std::string& out, const MapPolygons& given) const {
    if (given.empty()) {
        out += "null";
        return;
    }
    for (const auto& part : given)
        for (const auto& ring : part)
            for (const auto& p : ring) requireLonLat(p.x, p.y);  // before the antimeridian wrap
    const MapPolygons split = needsWrap(given) ? splitAtAntimeridian(given) : MapPolygons{};
    const MapPolygons& parts = split.empty() ? given : split;
    const bool multi = parts.size() > 1;
    out += multi ? "{ \"type\": \"MultiPolygon\", \"coordinates\": [ "
                 : "{ \"type\": \"Polygon\", \"coordinates\": ";
    for (std::size_t p = 0; p < parts.size(); ++p) {
        out += p ? ", [ " : "[ ";
        bool firstRing = true;
        for (std::size_t r = 0; r < parts[p].size(); ++r) {
            const auto& ring = parts[p][r];
            if (ring.empty()) continue;
            // Right-hand rule: exterior counter-clockwise, holes clockwise.
            const double area = signedArea2(ring);
            const bool reverse = firstRing ? area < 0 : area > 0;
            const bool closed = ring.size() > 1 && ring.front().x == ring.back().x &&
                                ring.front().y == ring.back().y;
            const std::size_t m = closed ? ring.size() - 1 : ring.size();  // distinct vertices
            out += firstRing ? "[ " : ", [ ";
            firstRing = false;
            // v0 .. v(m-1) v0, or reversed v0 v(m-1) .. v1 v0: always closed.
            for (std::size_t i = 0; i <= m; ++i) {
                const std::size_t k = i % m;
                const MapPoint& q = ring[reverse ? (m - k) % m : k];
                out += i ? ", [ " : "[ ";
                appendCoordinate(out, q.x, precision_);
                out += ", ";
                appendCoordinate(out, q.y, precision_);
                out += " ]";
            }
            out += " ]";
        }
        out += " ]";
    }
    out += multi ? " ] }" : " }";
}

void GeoJsonWriter::write(
    const MapPolygons& parts, const std::vector<std::pair<std::string, FieldValue>>& values,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
    append(feature(parts, values, lists));
}

void GeoJsonWriter::append(const std::string& featureText) {
    // The feature was built aside and is appended whole: a failure leaves the collection valid.
    if (!first_) buffer_ += ",\n";
    buffer_ += featureText;
    first_ = false;
    if (buffer_.size() > (1u << 20)) flush();
}

std::string GeoJsonWriter::feature(
    const MapPolygons& parts, const std::vector<std::pair<std::string, FieldValue>>& values,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) const {
    std::string out = "{ \"type\": \"Feature\", \"properties\": { ";
    bool firstProperty = true;
    std::size_t matched = 0;
    // Properties in the order the fields were declared, as OGR writes them.
    for (const FieldSpec& f : fields_) {
        const FieldValue* v = nullptr;
        const std::vector<std::string>* list = nullptr;
        for (const auto& [name, value] : values)
            if (name == f.name) v = &value;
        for (const auto& [name, items] : lists)
            if (name == f.name) list = &items;
        out += firstProperty ? "" : ", ";
        firstProperty = false;
        appendString(out, f.name);
        out += ": ";
        // A field without a value is written as null, not left out: a column null in every
        // feature (a change layer's dates when the scans had none) vanished from the layer's
        // schema, and the columns' order differed from GeoPackage's (a format sweep).
        if (!v && !list) {
            out += "null";
            continue;
        }
        ++matched;
        if (list) {
            out += "[ ";
            for (std::size_t i = 0; i < list->size(); ++i) {
                if (i) out += ", ";
                appendString(out, (*list)[i]);
            }
            out += list->empty() ? "]" : " ]";
            continue;
        }
        switch (v->index()) {
            case 0:
                out += std::to_string(std::get<std::int64_t>(*v));
                break;
            case 1:
                if (f.type == OFTInteger || f.type == OFTInteger64) {
                    const double d = std::get<double>(*v);
                    if (std::isfinite(d) && std::fabs(d) < 9e18)
                        out += std::to_string(std::llround(d));
                    else
                        out += "null";
                } else
                    appendReal(out, std::get<double>(*v));
                break;
            case 2:
                // A JSON field (the explain layer's measures) is an object, not a string holding
                // one: GDAL and every JSON reader take it as such (a format sweep found it
                // double-encoded). Its text comes from the JSON library, so it is valid.
                if (f.subType == OFSTJSON && !std::get<std::string>(*v).empty())
                    out += std::get<std::string>(*v);
                else
                    appendString(out, std::get<std::string>(*v));
                break;
            default:
                if (f.subType == OFSTBoolean)
                    out += std::get<bool>(*v) ? "true" : "false";
                else
                    out += std::get<bool>(*v) ? "1" : "0";
                break;
        }
    }
    if (matched != values.size() + lists.size())
        throw Error("a GeoJSON feature has a value for an undeclared field (a writer bug)");
    out += " }, \"geometry\": ";
    appendGeometry(out, parts);
    out += " }";
    return out;
}

void GeoJsonWriter::flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
        throw IoError("writing '" + path_ + "' failed: " + std::strerror(errno) + " (disk full?)");
    buffer_.clear();
}

void GeoJsonWriter::finish() {
    if (!file_) return;
    buffer_ += first_ ? "]\n}\n" : "\n]\n}\n";
    flush();
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fflush(f) != 0 || std::fclose(f) != 0)
        throw IoError("writing '" + path_ + "' failed: " + std::strerror(errno) + " (disk full?)");
}

}  // namespace riskmap
