#include "risk/ContextLayer.hpp"

#include <gdal_priv.h>
#include <geos_c.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <limits>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

void geosQuiet(const char*, void*) {}

}  // namespace

struct ContextLayer::Impl {
    GEOSContextHandle_t ctx = nullptr;
    std::vector<GEOSGeometry*> geoms;
    std::vector<const GEOSPreparedGeometry*> prepared;
    std::vector<std::string> labels;
    std::vector<std::size_t> ids;  // stable storage for tree items
    GEOSSTRtree* tree = nullptr;
    std::unique_ptr<OGRCoordinateTransformation> toLocal, toLonLat;
    std::string path;

    ~Impl() {
        if (tree) GEOSSTRtree_destroy_r(ctx, tree);
        for (auto* p : prepared) GEOSPreparedGeom_destroy_r(ctx, p);
        for (auto* g : geoms) GEOSGeom_destroy_r(ctx, g);
        if (ctx) GEOS_finish_r(ctx);
    }

    GEOSGeometry* point(const LonLat& p) const {
        double x = p.lon, y = p.lat;
        if (!toLocal->Transform(1, &x, &y)) throw DataError("cannot project a point for context layer '" + path + "'");
        return GEOSGeom_createPointFromXY_r(ctx, x, y);
    }

    LonLat back(double x, double y) const {
        if (!toLonLat->Transform(1, &x, &y)) throw DataError("cannot unproject a point of context layer '" + path + "'");
        return {x, y};
    }

    // Geodesic distance between the point and a feature, via their nearest points.
    double geodesic(const GEOSGeometry* pt, long index, const LonLat& p) const {
        GEOSCoordSequence* seq = GEOSNearestPoints_r(ctx, pt, geoms[static_cast<std::size_t>(index)]);
        if (!seq) return std::numeric_limits<double>::infinity();
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(ctx, seq, 1, &x, &y);
        GEOSCoordSeq_destroy_r(ctx, seq);
        return geodesicDistance(p, back(x, y));
    }
};

ContextLayer::ContextLayer(const std::string& path, const LonLat& centre) : impl_(std::make_unique<Impl>()) {
    ensureGdalRegistered();
    Impl& m = *impl_;
    m.path = path;
    m.ctx = GEOS_init_r();
    GEOSContext_setErrorMessageHandler_r(m.ctx, geosQuiet, nullptr);
    GEOSContext_setNoticeMessageHandler_r(m.ctx, geosQuiet, nullptr);

    OGRSpatialReference lonlat = epsgSpatialRef(4326), local;
    // Azimuthal equidistant on the scan: distances from its centre are exact, and nearby ones close.
    local.SetAE(centre.lat, centre.lon, 0, 0);
    local.SetWellKnownGeogCS("WGS84");
    local.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    m.toLocal.reset(OGRCreateCoordinateTransformation(&lonlat, &local));
    m.toLonLat.reset(OGRCreateCoordinateTransformation(&local, &lonlat));

    refuseSpecialFile(path, "context layer");
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open context layer '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    std::unique_ptr<GDALDataset, GdalDatasetCloser> hold(ds);
    for (OGRLayer* layer : ds->GetLayers()) {
        std::unique_ptr<OGRCoordinateTransformation> ct;
        OGRSpatialReference src;
        if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
            src = *srs;
        } else {
            src.importFromEPSG(4326);
        }
        src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        ct.reset(OGRCreateCoordinateTransformation(&src, &local));
        // Named by the CRS's name, not its WKT (1,500 characters of a Mars CRS: a sweep).
        const std::string crs = src.GetName() ? src.GetName() : "unnamed CRS";
        if (!ct)
            throw DataError("context layer '" + path + "' is in " + crs +
                            ", which cannot be transformed to metres on Earth: give a layer in an Earth CRS");
        OGRFeatureDefn* defn = layer->GetLayerDefn();
        int nameField = -1;
        for (const char* n : {"name", "NAME", "Name", "title", "label"})
            if (nameField < 0) nameField = defn->GetFieldIndex(n);
        for (auto& feat : *layer) {
            OGRGeometry* g = feat->GetGeometryRef();
            if (!g || g->IsEmpty()) continue;
            // Curves (CurvePolygon, CircularString) as line segments: GEOS reads no curves, and a
            // valid curved layer was called "not a valid geometry" (a sweep).
            std::unique_ptr<OGRGeometry> copy(g->hasCurveGeometry() ? g->getLinearGeometry() : g->clone());
            if (copy->transform(ct.get()) != OGRERR_NONE)
                throw DataError("feature " + std::to_string(feat->GetFID()) + " of context layer '" + path + "' (" + crs +
                                (layer->GetSpatialRef() ? "" : ": it declares no CRS, so lon/lat was assumed") +
                                ") cannot be projected to metres: give the layer its CRS");
            std::vector<unsigned char> wkb(static_cast<std::size_t>(copy->WkbSize()));
            copy->exportToWkb(wkbNDR, wkb.data());
            GEOSGeometry* geom = GEOSGeomFromWKB_buf_r(m.ctx, wkb.data(), wkb.size());
            if (!geom)
                throw DataError("feature " + std::to_string(feat->GetFID()) + " of context layer '" + path + "' is a " +
                                copy->getGeometryName() + " riskmap cannot measure distances to: give points, lines or polygons");
            m.geoms.push_back(geom);
            m.prepared.push_back(GEOSPrepare_r(m.ctx, geom));
            std::string label = nameField >= 0 && feat->IsFieldSetAndNotNull(nameField) ? feat->GetFieldAsString(nameField) : "";
            m.labels.push_back(label.empty() ? "#" + std::to_string(m.labels.size() + 1) : label);
        }
    }
    m.ids.resize(m.geoms.size());
    m.tree = GEOSSTRtree_create_r(m.ctx, 10);
    for (std::size_t i = 0; i < m.geoms.size(); ++i) {
        m.ids[i] = i;
        GEOSSTRtree_insert_r(m.ctx, m.tree, m.geoms[i], &m.ids[i]);
    }
}

ContextLayer::~ContextLayer() = default;

std::size_t ContextLayer::size() const { return impl_->geoms.size(); }

const std::string& ContextLayer::label(long index) const { return impl_->labels.at(static_cast<std::size_t>(index)); }

long ContextLayer::containing(const LonLat& p) const {
    Impl& m = *impl_;
    GEOSGeometry* pt = m.point(p);
    std::vector<std::size_t> hits;
    GEOSSTRtree_query_r(
        m.ctx, m.tree, pt, [](void* item, void* data) { static_cast<std::vector<std::size_t>*>(data)->push_back(*static_cast<std::size_t*>(item)); },
        &hits);
    std::sort(hits.begin(), hits.end());
    long found = -1;
    for (std::size_t i : hits)
        if (GEOSPreparedContains_r(m.ctx, m.prepared[i], pt) == 1) {
            found = static_cast<long>(i);
            break;
        }
    GEOSGeom_destroy_r(m.ctx, pt);
    return found;
}

std::pair<double, long> ContextLayer::nearest(const LonLat& p) const {
    Impl& m = *impl_;
    if (m.geoms.empty()) return {std::numeric_limits<double>::infinity(), -1};
    GEOSGeometry* pt = m.point(p);
    // Nearest in the projection, then every feature not much farther, measured geodesically.
    const void* item = GEOSSTRtree_nearest_generic_r(
        m.ctx, m.tree, pt, pt,
        [](const void* a, const void* b, double* d, void* ud) {
            auto* mm = static_cast<Impl*>(ud);
            const GEOSGeometry* g = mm->geoms[*static_cast<const std::size_t*>(a)];
            return GEOSDistance_r(mm->ctx, g, static_cast<const GEOSGeometry*>(b), d);
        },
        &m);
    long best = item ? static_cast<long>(*static_cast<const std::size_t*>(item)) : -1;
    double planar = 0;
    GEOSDistance_r(m.ctx, m.geoms[static_cast<std::size_t>(best)], pt, &planar);
    GEOSGeom_destroy_r(m.ctx, pt);
    auto candidates = within(p, planar * 1.05 + 1.0);
    if (candidates.empty()) return {std::numeric_limits<double>::infinity(), -1};
    return {candidates.front().second, candidates.front().first};
}

std::vector<std::pair<long, double>> ContextLayer::within(const LonLat& p, double metres) const {
    Impl& m = *impl_;
    std::vector<std::pair<long, double>> out;
    if (m.geoms.empty()) return out;
    GEOSGeometry* pt = m.point(p);
    // The projection stretches distances away from its centre by well under 5 % over a
    // region: search a little wider, then keep what the ellipsoid says is within.
    GEOSGeometry* probe = GEOSBuffer_r(m.ctx, pt, metres * 1.05 + 1.0, 8);
    std::vector<std::size_t> hits;
    GEOSSTRtree_query_r(
        m.ctx, m.tree, probe, [](void* item, void* data) { static_cast<std::vector<std::size_t>*>(data)->push_back(*static_cast<std::size_t*>(item)); },
        &hits);
    std::sort(hits.begin(), hits.end());
    for (std::size_t i : hits) {
        double d = GEOSPreparedContains_r(m.ctx, m.prepared[i], pt) == 1 ? 0.0 : m.geodesic(pt, static_cast<long>(i), p);
        if (d <= metres) out.emplace_back(static_cast<long>(i), d);
    }
    GEOSGeom_destroy_r(m.ctx, probe);
    GEOSGeom_destroy_r(m.ctx, pt);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return out;
}

}  // namespace riskmap
