#include "report/GeoJsonExport.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <memory>

#include "core/Error.hpp"
#include "raster/GdalRuntime.hpp"

namespace riskmap {

namespace {

double roundTo(double v, int decimals) {
    const double f = std::pow(10.0, decimals);
    return std::round(v * f) / f;
}

Json position(const OGRPoint& p, int precision) {
    Json a = Json::array();
    a.push(roundTo(p.getX(), precision));
    a.push(roundTo(p.getY(), precision));
    return a;
}

Json lineCoords(const OGRSimpleCurve& c, int precision) {
    Json a = Json::array();
    OGRPoint p;
    for (int i = 0; i < c.getNumPoints(); ++i) {
        c.getPoint(i, &p);
        a.push(position(p, precision));
    }
    return a;
}

Json polygonCoords(const OGRPolygon& poly, int precision) {
    Json rings = Json::array();
    if (poly.getExteriorRing()) rings.push(lineCoords(*poly.getExteriorRing(), precision));
    for (int i = 0; i < poly.getNumInteriorRings(); ++i) rings.push(lineCoords(*poly.getInteriorRing(i), precision));
    return rings;
}

Json geometryJson(const OGRGeometry* g, int precision) {
    if (!g || g->IsEmpty()) return Json();
    Json out = Json::object();
    switch (wkbFlatten(g->getGeometryType())) {
        case wkbPoint:
            out.set("type", "Point");
            out.set("coordinates", position(*g->toPoint(), precision));
            break;
        case wkbLineString:
            out.set("type", "LineString");
            out.set("coordinates", lineCoords(*g->toLineString(), precision));
            break;
        case wkbPolygon:
            out.set("type", "Polygon");
            out.set("coordinates", polygonCoords(*g->toPolygon(), precision));
            break;
        case wkbMultiPolygon: {
            Json polys = Json::array();
            for (const OGRPolygon* p : *g->toMultiPolygon()) polys.push(polygonCoords(*p, precision));
            out.set("type", "MultiPolygon");
            out.set("coordinates", polys);
            break;
        }
        case wkbMultiPoint: {
            Json pts = Json::array();
            for (const OGRPoint* p : *g->toMultiPoint()) pts.push(position(*p, precision));
            out.set("type", "MultiPoint");
            out.set("coordinates", pts);
            break;
        }
        case wkbMultiLineString: {
            Json lines = Json::array();
            for (const OGRLineString* l : *g->toMultiLineString()) lines.push(lineCoords(*l, precision));
            out.set("type", "MultiLineString");
            out.set("coordinates", lines);
            break;
        }
        default:
            throw DataError(std::string("cannot show a ") + OGRGeometryTypeToName(g->getGeometryType()) +
                            " geometry in the report");
    }
    return out;
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
            for (char** s = f.GetFieldAsStringList(i); s && *s; ++s) a.push(std::string(*s));
            return a;
        }
        case OFTIntegerList: {
            int n = 0;
            const int* v = f.GetFieldAsIntegerList(i, &n);
            Json a = Json::array();
            for (int k = 0; k < n; ++k) a.push(v[k]);
            return a;
        }
        case OFTRealList: {
            int n = 0;
            const double* v = f.GetFieldAsDoubleList(i, &n);
            Json a = Json::array();
            for (int k = 0; k < n; ++k) a.push(v[k]);
            return a;
        }
        case OFTString:
            if (d->GetSubType() == OFSTJSON || jsonText) {
                try {
                    return Json::parse(f.GetFieldAsString(i), d->GetNameRef());
                } catch (const Error&) {
                }
            }
            return Json(std::string(f.GetFieldAsString(i)));
        default:
            return Json(std::string(f.GetFieldAsString(i)));
    }
}

}  // namespace

Json GeoJsonExport::layer(const std::string& path, const std::string& layerName, int precision,
                          const std::set<std::string>& listFields) {
    ensureGdalRegistered();
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
    Json features = Json::array();
    layer->ResetReading();
    for (auto& f : *layer) {
        Json props = Json::object();
        for (int i = 0; i < f->GetFieldCount(); ++i) {
            const std::string name = f->GetFieldDefnRef(i)->GetNameRef();
            props.set(name, fieldJson(*f, i, listFields.count(name) > 0));
        }
        std::unique_ptr<OGRGeometry> g(f->GetGeometryRef() ? f->GetGeometryRef()->clone() : nullptr);
        if (g && ct && g->transform(ct.get()) != OGRERR_NONE)
            throw DataError("cannot map a feature of '" + path + "' to lon/lat");
        Json feat = Json::object();
        feat.set("type", "Feature");
        feat.set("properties", props);
        feat.set("geometry", geometryJson(g.get(), precision));
        features.push(feat);
    }
    Json fc = Json::object();
    fc.set("type", "FeatureCollection");
    fc.set("name", std::string(layer->GetName()));
    fc.set("features", features);
    return fc;
}

}  // namespace riskmap
