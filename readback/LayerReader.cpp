#include "readback/LayerReader.hpp"

#include "readback/Antimeridian.hpp"

#include <gdal_priv.h>
#include <ogr_api.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "core/Json.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

FieldSpec specOf(const OGRFieldDefn& d, bool asList) {
    if (asList || d.GetType() == OFTStringList) return {d.GetNameRef(), OFTStringList};
    if (d.GetType() == OFTDate || d.GetType() == OFTDateTime) return {d.GetNameRef(), d.GetType()};
    return {d.GetNameRef(), d.GetType(), d.GetSubType()};
}

// A list stored as JSON text; a value that is not a JSON list of strings is refused.
std::vector<std::string> jsonList(const char* text, const std::string& where) {
    std::vector<std::string> out;
    const Json arr = parseJson(text, where);
    if (!arr.is_array()) throw DataError("'" + where + "' must hold a JSON list");
    for (const auto& s : arr) out.push_back(s.is_string() ? s.get<std::string>() : dumpJson(s));
    return out;
}

// Dates as ISO 8601 (OGR's own text is YYYY/MM/DD).
std::string isoDate(const OGRFeature& f, int i) {
    int y = 0, m = 0, d = 0, hh = 0, mm = 0, tz = 0;
    float ss = 0;
    f.GetFieldAsDateTime(i, &y, &m, &d, &hh, &mm, &ss, &tz);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    return buf;
}

void readField(const OGRFeature& f, int i, bool asList, const std::string& where, LayerFeature& out) {
    if (!f.IsFieldSetAndNotNull(i)) return;
    const OGRFieldDefn& d = *f.GetFieldDefnRef(i);
    const std::string name = d.GetNameRef();
    if (d.GetType() == OFTStringList) {
        std::vector<std::string> items;
        for (char** s = f.GetFieldAsStringList(i); s && *s; ++s) items.push_back(*s);
        out.lists.emplace_back(name, std::move(items));
    } else if (asList) {
        out.lists.emplace_back(name, jsonList(f.GetFieldAsString(i), where + ": field " + name));
    } else if (d.GetType() == OFTInteger && d.GetSubType() == OFSTBoolean) {
        out.values.emplace_back(name, f.GetFieldAsInteger(i) != 0);
    } else if (d.GetType() == OFTInteger || d.GetType() == OFTInteger64) {
        out.values.emplace_back(name, static_cast<std::int64_t>(f.GetFieldAsInteger64(i)));
    } else if (d.GetType() == OFTReal) {
        out.values.emplace_back(name, f.GetFieldAsDouble(i));
    } else if (d.GetType() == OFTDate || d.GetType() == OFTDateTime) {
        out.values.emplace_back(name, isoDate(f, i));
    } else {
        out.values.emplace_back(name, std::string(f.GetFieldAsString(i)));
    }
}

std::unique_ptr<OGRCoordinateTransformation> toLonLat(OGRLayer& layer, const std::string& path) {
    const OGRSpatialReference* srs = layer.GetSpatialRef();
    if (!srs) return nullptr;
    OGRSpatialReference src(*srs), ll = epsgSpatialRef(4326);
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (src.IsSame(&ll)) return nullptr;
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &ll));
    if (!ct) throw DataError("cannot map '" + path + "' to lon/lat: " + lastGdalError());
    return ct;
}

OGRLayer* findLayer(GDALDataset& ds, const std::string& name, const std::string& path, const std::string& what) {
    OGRLayer* layer = name.empty() ? nullptr : ds.GetLayerByName(name.c_str());
    if (!layer && ds.GetLayerCount() == 1) layer = ds.GetLayer(0);
    if (!layer) throw DataError(what + " '" + path + "' has no layer '" + name + "': is it a layer riskmap wrote?");
    return layer;
}

std::string wktOf(const OGRSpatialReference* srs) {
    if (!srs) return "";
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    const std::string out = wkt ? wkt : "";
    CPLFree(wkt);
    return out;
}

}  // namespace

std::string LayerFeature::text(const std::string& field) const {
    for (const auto& [name, v] : values)
        if (name == field && v.index() == 2) return std::get<std::string>(v);
    return "";
}

double LayerFeature::number(const std::string& field, double fallback) const {
    for (const auto& [name, v] : values) {
        if (name != field) continue;
        if (v.index() == 0) return static_cast<double>(std::get<std::int64_t>(v));
        if (v.index() == 1) return std::get<double>(v);
    }
    return fallback;
}

std::vector<std::string> LayerFeature::list(const std::string& field) const {
    for (const auto& [name, items] : lists)
        if (name == field) return items;
    return {};
}

LayerContent readLayer(const std::string& path, const std::string& layerName, const std::set<std::string>& listFields,
                       const std::string& what) {
    ensureGdalRegistered();
    refuseSpecialFile(path, what);
    DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open " + what + " '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    OGRLayer* layer = findLayer(*ds, layerName, path, what);
    LayerContent c;
    c.path = path;
    c.name = layer->GetName();
    c.crsWkt = wktOf(layer->GetSpatialRef());
    const auto ct = toLonLat(*layer, path);
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    for (int i = 0; i < defn->GetFieldCount(); ++i)
        c.fields.push_back(specOf(*defn->GetFieldDefn(i), listFields.count(defn->GetFieldDefn(i)->GetNameRef()) > 0));
    layer->ResetReading();
    for (auto& f : *layer) {
        LayerFeature lf;
        for (int i = 0; i < defn->GetFieldCount(); ++i)
            readField(*f, i, listFields.count(defn->GetFieldDefn(i)->GetNameRef()) > 0, path, lf);
        if (const OGRGeometry* g = f->GetGeometryRef()) {
            lf.geometry.reset(g->clone());
            if (ct && lf.geometry->transform(ct.get()) != OGRERR_NONE)
                throw DataError("a feature of " + what + " '" + path + "' cannot be mapped to lon/lat");
        }
        c.features.push_back(std::move(lf));
    }
    return c;
}

MapPolygons polygonsOf(const OGRGeometry& geometry, OGRCoordinateTransformation* transform) {
    OGRGeometryUniquePtr g(geometry.clone());
    if (transform && g->transform(transform) != OGRERR_NONE)
        throw DataError("a geometry cannot be mapped to the output CRS");
    MapPolygons out;
    auto addPolygon = [&out](const OGRPolygon& p) {
        std::vector<std::vector<MapPoint>> rings;
        for (const OGRLinearRing* r : p) {
            std::vector<MapPoint> ring;
            for (int i = 0; i < r->getNumPoints(); ++i) ring.push_back({r->getX(i), r->getY(i)});
            rings.push_back(std::move(ring));
        }
        if (!rings.empty()) out.push_back(std::move(rings));
    };
    const auto type = wkbFlatten(g->getGeometryType());
    if (type == wkbPolygon) addPolygon(*g->toPolygon());
    if (type == wkbMultiPolygon)
        for (const OGRPolygon* p : *g->toMultiPolygon()) addPolygon(*p);
    return out;
}

std::unique_ptr<OGRCoordinateTransformation> lonLatTo(const std::string& targetWkt) {
    if (targetWkt.empty()) return nullptr;
    OGRSpatialReference ll = epsgSpatialRef(4326), target;
    if (target.importFromWkt(targetWkt.c_str()) != OGRERR_NONE)
        throw UsageError("the output CRS is not one PROJ knows: give --out-crs as EPSG:CODE or WKT");
    target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (target.IsSame(&ll)) return nullptr;
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&ll, &target));
    if (!ct) throw UsageError("cannot map lon/lat to the output CRS: " + lastGdalError());
    return ct;
}

OGRGeometryUniquePtr lonLatPolygon(const std::vector<LonLat>& ring) {
    auto poly = std::make_unique<OGRPolygon>();
    OGRLinearRing r;
    for (const auto& p : ring) r.addPoint(p.lon, p.lat);
    r.closeRings();
    poly->addRing(&r);
    unwrapLongitudes(*poly);  // a footprint astride lon 180 (Fiji), else it rings the globe
    return OGRGeometryUniquePtr(poly.release());
}

double planarArea(const OGRGeometry& g) {
    // OGR_G_Area covers polygons, multipolygons and collections alike (0 for lines and points).
    return OGR_G_Area(OGRGeometry::ToHandle(const_cast<OGRGeometry*>(&g)));
}

}  // namespace riskmap
