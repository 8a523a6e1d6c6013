#include "geo/CoordinateMapper.hpp"

#include <algorithm>
#include <cmath>

#include <ogr_spatialref.h>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

std::unique_ptr<OGRSpatialReference> srsFrom(const std::string& text, const char* what) {
    auto srs = std::make_unique<OGRSpatialReference>();
    srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (srs->SetFromUserInput(text.c_str()) != OGRERR_NONE)
        throw UsageError(std::string("cannot understand the ") + what + " '" + text +
                         "': give an EPSG code such as EPSG:32645 or a WKT string");
    return srs;
}

std::unique_ptr<OGRCoordinateTransformation> makeTransform(const OGRSpatialReference& src,
                                                           const OGRSpatialReference& dst) {
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
    if (!ct)
        throw DataError("no coordinate transformation between the raster CRS and the target CRS: " +
                        lastGdalError("PROJ could not build one"));
    return ct;
}

}  // namespace

CoordinateMapper::CoordinateMapper(const std::string& sourceWkt, const GeoTransform& gt,
                                   const std::string& targetCrs)
    : gt_(gt) {
    ensureGdalRegistered();
    if (sourceWkt.empty())
        throw DataError("the raster has no CRS: assign one (gdal_edit.py -a_srs EPSG:XXXX) first");
    auto src = srsFrom(sourceWkt, "raster CRS");
    target_ = srsFrom(targetCrs.empty() ? std::string("EPSG:4326") : targetCrs, "output CRS");
    auto lonlat = srsFrom("EPSG:4326", "CRS");
    toTarget_ = makeTransform(*src, *target_);
    toLonLat_ = makeTransform(*src, *lonlat);
    geographic_ = target_->IsGeographic();
}

CoordinateMapper::~CoordinateMapper() = default;
CoordinateMapper::CoordinateMapper(CoordinateMapper&&) noexcept = default;
CoordinateMapper& CoordinateMapper::operator=(CoordinateMapper&&) noexcept = default;

void CoordinateMapper::pixelsToTarget(std::vector<MapPoint>& pts) const {
    if (!transform(pts, true)) throw DataError("a coordinate could not be transformed to the output CRS");
}

// false when a point could not be transformed (and, when `report`, PROJ's own failure throws).
bool CoordinateMapper::transform(std::vector<MapPoint>& pts, bool report) const {
    if (pts.empty()) return true;
    std::vector<double> xs(pts.size()), ys(pts.size());
    for (std::size_t i = 0; i < pts.size(); ++i) {
        MapPoint m = gt_.apply(pts[i].x, pts[i].y);
        xs[i] = m.x;
        ys[i] = m.y;
    }
    std::vector<int> ok(pts.size(), 0);
    if (!toTarget_->Transform(static_cast<int>(pts.size()), xs.data(), ys.data(), nullptr, ok.data())) {
        if (report) throw DataError("coordinate transformation failed: " + lastGdalError());
        return false;
    }
    for (std::size_t i = 0; i < pts.size(); ++i) {
        if (!ok[i]) return false;
        pts[i] = {xs[i], ys[i]};
    }
    return true;
}

// Central differences at step h from samples at (0,0), (h,0), (-h,0), (0,h), (0,-h), (h,h),
// (-h,-h): exact for quadratics, cubic error terms.
CoordinateMapper::Quadratic CoordinateMapper::Quadratic::fit(const double* f, double h) {
    Quadratic q;
    q.f0 = f[0];
    q.a = (f[1] - f[2]) / (2 * h);
    q.b = (f[3] - f[4]) / (2 * h);
    q.A = (f[1] - 2 * f[0] + f[2]) / (h * h);
    q.C = (f[3] - 2 * f[0] + f[4]) / (h * h);
    q.B = ((f[5] + f[6] - 2 * f[0]) / (h * h) - q.A - q.C) / 2;
    return q;
}

namespace {

// Below this many points an object of its own costs more in model points (11) than it saves.
constexpr std::size_t kModelMinVertices = 16;
// Objects inside one cell of this global lattice share the cell's model (most are small).
constexpr double kCell = 64;
constexpr std::size_t kCellCacheSize = 256;

}  // namespace

// A quadratic model over the box [x0, x1] x [y0, y1], checked against the exact transform at
// the box's corners and halfway to each sample (where a cubic term that vanishes at the samples
// peaks; Web Mercator's latitude is such a term); ok is false when it misses one by more than
// 1e-10 degree (1e-5 projected), or when a point it samples cannot be transformed.
CoordinateMapper::Model CoordinateMapper::fitModel(double x0, double y0, double x1, double y1) const {
    Model m;
    m.cx = (x0 + x1) / 2, m.cy = (y0 + y1) / 2;
    m.fitted = true;
    const double h = std::max(0.5, std::max(x1 - x0, y1 - y0) / 2), cx = m.cx, cy = m.cy;
    std::vector<MapPoint> s{{cx, cy},         {cx + h, cy},         {cx - h, cy},     {cx, cy + h},     {cx, cy - h},
                            {cx + h, cy + h}, {cx - h, cy - h},     {x0, y0},         {x1, y0},         {x0, y1},
                            {x1, y1},         {cx + h / 2, cy},     {cx - h / 2, cy}, {cx, cy + h / 2}, {cx, cy - h / 2},
                            {cx + h / 2, cy - h / 2}};
    const std::vector<MapPoint> at = s;
    if (!transform(s, false)) return m;  // ok stays false: every vertex goes to PROJ itself
    double fx[7], fy[7];
    for (int k = 0; k < 7; ++k) fx[k] = s[k].x, fy[k] = s[k].y;
    m.qx = Quadratic::fit(fx, h);
    m.qy = Quadratic::fit(fy, h);
    const double tol = geographic_ ? 1e-10 : 1e-5;
    m.ok = true;
    for (std::size_t k = 7; k < s.size(); ++k) {
        const double u = at[k].x - cx, v = at[k].y - cy;
        m.ok = m.ok && std::fabs(m.qx.at(u, v) - s[k].x) <= tol && std::fabs(m.qy.at(u, v) - s[k].y) <= tol;
    }
    return m;
}

// The model of the lattice cell holding the whole box (one pixel of slack: a pixel's corners
// around a point in the cell), or nullptr. The model depends on the cell alone, so results do
// not depend on which objects came first.
const CoordinateMapper::Model* CoordinateMapper::cellModel(double x0, double y0, double x1, double y1) const {
    const double i = std::floor((x0 + x1) / 2 / kCell), j = std::floor((y0 + y1) / 2 / kCell);
    if (x0 < i * kCell - 1 || x1 > (i + 1) * kCell + 1 || y0 < j * kCell - 1 || y1 > (j + 1) * kCell + 1) return nullptr;
    if (cells_.empty()) cells_.resize(kCellCacheSize);
    const auto key = std::make_pair(static_cast<long long>(i), static_cast<long long>(j));
    auto& slot = cells_[static_cast<std::size_t>(key.first * 31 + key.second) % kCellCacheSize];
    if (!slot.fitted || slot.key != key) {
        slot = fitModel(i * kCell - 1, j * kCell - 1, (i + 1) * kCell + 1, (j + 1) * kCell + 1);
        slot.key = key;
    }
    return slot.ok ? &slot : nullptr;
}

// Outlines carry ~50 vertices each after simplification; transforming every one through PROJ's
// inverse Transverse Mercator was ~16 % of the index scan's CPU on real texture (issue 14).
void CoordinateMapper::objectPixelsToTarget(std::vector<MapPoint>& pts) const {
    if (pts.empty()) return;
    double x0 = pts[0].x, x1 = x0, y0 = pts[0].y, y1 = y0;
    for (const auto& p : pts) {
        x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
        y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
    const Model* m = cellModel(x0, y0, x1, y1);
    Model own;
    if (!m && pts.size() >= kModelMinVertices) {
        own = fitModel(x0, y0, x1, y1);
        if (own.ok) m = &own;
    }
    if (!m) return pixelsToTarget(pts);
    for (auto& p : pts) p = {m->qx.at(p.x - m->cx, p.y - m->cy), m->qy.at(p.x - m->cx, p.y - m->cy)};
}

MapPoint CoordinateMapper::pixelToTarget(double px, double py) const {
    std::vector<MapPoint> p{{px, py}};
    pixelsToTarget(p);
    return p[0];
}

LonLat CoordinateMapper::pixelToLonLat(double px, double py) const {
    MapPoint m = gt_.apply(px, py);
    double x = m.x, y = m.y;
    if (!toLonLat_->Transform(1, &x, &y))
        throw DataError("a pixel could not be transformed to lon/lat: " + lastGdalError());
    return {x, y};
}

double CoordinateMapper::groundDistance(double px0, double py0, double px1, double py1) const {
    return geodesicDistance(pixelToLonLat(px0, py0), pixelToLonLat(px1, py1));
}

bool CoordinateMapper::targetIsGeographic() const { return target_->IsGeographic(); }

std::string CoordinateMapper::targetWkt() const {
    char* wkt = nullptr;
    target_->exportToWkt(&wkt);
    std::string out = wkt ? wkt : "";
    CPLFree(wkt);
    return out;
}

}  // namespace riskmap
