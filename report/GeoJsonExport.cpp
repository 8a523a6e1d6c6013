#include "report/GeoJsonExport.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <ogr_api.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

// OGR writes the geometry (its GeoJSON writer, rounded to `precision` decimals), compacted:
// geometry JSON holds no strings with spaces, so every blank can go.
std::string geometryText(OGRGeometry* g, int precision) {
    if (!g || g->IsEmpty()) return "null";
    std::string opt = "COORDINATE_PRECISION=" + std::to_string(precision);
    char* options[] = {opt.data(), nullptr};
    char* text = OGR_G_ExportToJsonEx(OGRGeometry::ToHandle(g), options);
    if (!text) throw DataError(std::string("cannot show a ") + OGRGeometryTypeToName(g->getGeometryType()) + " geometry in the report");
    std::string json;
    for (const char* p = text; *p; ++p)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') json += *p;
    CPLFree(text);
    return json;
}

Json fieldJson(const OGRFeature& f, int i, bool jsonText) {
    if (!f.IsFieldSetAndNotNull(i)) return Json();
    const OGRFieldDefn* d = f.GetFieldDefnRef(i);
    switch (d->GetType()) {
        case OFTInteger:
            if (d->GetSubType() == OFSTBoolean) return Json(f.GetFieldAsInteger(i) != 0);
            return Json(f.GetFieldAsInteger(i));
        case OFTInteger64:
            return Json(static_cast<long long>(f.GetFieldAsInteger64(i)));
        case OFTReal:
            return Json(f.GetFieldAsDouble(i));
        case OFTStringList: {
            Json a = Json::array();
            for (char** s = f.GetFieldAsStringList(i); s && *s; ++s) a.push_back(std::string(*s));
            return a;
        }
        case OFTIntegerList: {
            int n = 0;
            const int* v = f.GetFieldAsIntegerList(i, &n);
            Json a = Json::array();
            for (int k = 0; k < n; ++k) a.push_back(v[k]);
            return a;
        }
        case OFTRealList: {
            int n = 0;
            const double* v = f.GetFieldAsDoubleList(i, &n);
            Json a = Json::array();
            for (int k = 0; k < n; ++k) a.push_back(v[k]);
            return a;
        }
        case OFTDate:
        case OFTDateTime: {
            // ISO 8601, not OGR's own YYYY/MM/DD. FlatGeobuf has no date type: riskmap's dates
            // come back from it as date-times at midnight, and are dates again here (a format
            // sweep saw "2021/01/01 00:00:00" in a report).
            int y = 0, m = 0, day = 0, hh = 0, mm = 0, tz = 0;
            float ss = 0;
            f.GetFieldAsDateTime(i, &y, &m, &day, &hh, &mm, &ss, &tz);
            char buf[40];
            if (d->GetType() == OFTDate || (hh == 0 && mm == 0 && ss == 0))
                std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, day);
            else
                std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, day, hh, mm, static_cast<int>(ss));
            return Json(std::string(buf));
        }
        case OFTString:
            if (d->GetSubType() == OFSTJSON || jsonText) {
                try {
                    return parseJson(f.GetFieldAsString(i), d->GetNameRef());
                } catch (const Error&) {
                }
            }
            return Json(std::string(f.GetFieldAsString(i)));
        default:
            return Json(std::string(f.GetFieldAsString(i)));
    }
}

}  // namespace

TextSpool::TextSpool(const std::string& dir) : dir_(dir.empty() ? std::string(".") : dir) {
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {  // a file system without O_TMPFILE: a named file, unlinked at once
        std::string name = dir_ + "/.riskmap-spool-XXXXXX";
        fd_ = ::mkstemp(name.data());
        if (fd_ >= 0) ::unlink(name.c_str());
    }
    if (fd_ < 0) throw IoError("cannot create a working file in '" + dir_ + "': " + std::strerror(errno));
}

TextSpool::~TextSpool() {
    if (fd_ >= 0) ::close(fd_);
}

void TextSpool::add(const std::string& text) {
    pending_ += text;
    offsets_.push_back(offsets_.back() + static_cast<long>(text.size()));
    if (pending_.size() >= (1u << 20)) flush();
}

void TextSpool::flush() const {
    const char* p = pending_.data();
    std::size_t left = pending_.size();
    off_t at = static_cast<off_t>(written_);
    while (left > 0) {
        const ssize_t n = ::pwrite(fd_, p, left, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw IoError("cannot write a working file in '" + dir_ + "': " + std::strerror(errno));
        p += n;
        at += n;
        left -= static_cast<std::size_t>(n);
    }
    written_ = static_cast<long>(at);
    pending_.clear();
}

std::string TextSpool::at(std::size_t i) const {
    if (i + 1 >= offsets_.size()) throw std::out_of_range("TextSpool::at");
    if (offsets_[i + 1] > written_) flush();
    std::string out(static_cast<std::size_t>(offsets_[i + 1] - offsets_[i]), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offsets_[i] + static_cast<long>(got)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw IoError("cannot read back a working file in '" + dir_ + "'");
        got += static_cast<std::size_t>(n);
    }
    return out;
}

ExportedLayer GeoJsonExport::read(const std::string& path, const std::string& layerName, int precision,
                                  const std::set<std::string>& listFields, const std::string& spoolDir) {
    ensureGdalRegistered();
    refuseSpecialFile(path, "layer file");
    DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open the layer file '" + path + "': " + lastGdalError());
    OGRLayer* layer = layerName.empty() ? nullptr : ds->GetLayerByName(layerName.c_str());
    if (!layer && ds->GetLayerCount() == 1) layer = ds->GetLayer(0);
    if (!layer) throw DataError("'" + path + "' has no layer '" + layerName + "'");

    std::unique_ptr<OGRCoordinateTransformation> ct;
    if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
        OGRSpatialReference src(*srs), ll = epsgSpatialRef(4326);
        src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (!src.IsSame(&ll)) {
            ct.reset(OGRCreateCoordinateTransformation(&src, &ll));
            if (!ct) throw DataError("cannot map '" + path + "' to lon/lat");
        }
    }
    ExportedLayer out;
    out.name = layer->GetName();
    if (!spoolDir.empty()) out.spoolGeometriesIn(spoolDir);
    layer->ResetReading();
    for (auto& f : *layer) {
        Json props = Json::object();
        for (int i = 0; i < f->GetFieldCount(); ++i) {
            const std::string name = f->GetFieldDefnRef(i)->GetNameRef();
            props[name] = fieldJson(*f, i, listFields.count(name) > 0);
        }
        std::unique_ptr<OGRGeometry> g(f->GetGeometryRef() ? f->GetGeometryRef()->clone() : nullptr);
        if (g && ct && g->transform(ct.get()) != OGRERR_NONE)
            throw DataError("cannot map a feature of '" + path + "' to lon/lat");
        out.add(std::move(props), geometryText(g.get(), precision));
    }
    return out;
}

Json GeoJsonExport::layer(const std::string& path, const std::string& layerName, int precision,
                          const std::set<std::string>& listFields) {
    return read(path, layerName, precision, listFields).toJson();
}

Json ExportedLayer::properties(std::size_t i) const { return parseJson(properties_.at(i), "properties"); }

void ExportedLayer::add(Json properties, const std::string& geometry) {
    properties_.push_back(dumpJson(properties));
    if (spool_)
        spool_->add(geometry);
    else
        geometries_.push_back(geometry);
}

std::string ExportedLayer::geometryText(std::size_t i) const { return spool_ ? spool_->at(i) : geometries_.at(i); }

Json ExportedLayer::geometry(std::size_t i) const { return parseJson(geometryText(i), "geometry"); }

Json ExportedLayer::toJson() const {
    Json features = Json::array();
    for (std::size_t i = 0; i < size(); ++i) {
        Json feat = Json::object();
        feat["type"] = "Feature";
        feat["properties"] = properties(i);
        feat["geometry"] = geometry(i);
        features.push_back(std::move(feat));
    }
    Json fc = Json::object();
    fc["type"] = "FeatureCollection";
    fc["name"] = name;
    fc["features"] = std::move(features);
    return fc;
}

std::vector<std::vector<LonLat>> GeoJsonExport::outerRings(const Json& geometry) {
    std::vector<std::vector<LonLat>> rings;
    if (!geometry.is_object() || !geometry.contains("coordinates") || !geometry.contains("type")) return rings;
    auto ring = [](const Json& r) {
        std::vector<LonLat> out;
        for (const auto& p : r) out.push_back({p.at(0).get<double>(), p.at(1).get<double>()});
        return out;
    };
    const Json& type = geometry["type"];
    const Json& c = geometry["coordinates"];
    if (type == "Polygon" && !c.empty()) rings.push_back(ring(c[0]));
    if (type == "MultiPolygon")
        for (const auto& poly : c)
            if (!poly.empty()) rings.push_back(ring(poly[0]));
    return rings;
}

}  // namespace riskmap
