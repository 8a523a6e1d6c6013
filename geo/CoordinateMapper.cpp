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
    if (pts.empty()) return;
    std::vector<double> xs(pts.size()), ys(pts.size());
    for (std::size_t i = 0; i < pts.size(); ++i) {
        MapPoint m = gt_.apply(pts[i].x, pts[i].y);
        xs[i] = m.x;
        ys[i] = m.y;
    }
    std::vector<int> ok(pts.size(), 0);
    if (!toTarget_->Transform(static_cast<int>(pts.size()), xs.data(), ys.data(), nullptr,
                              ok.data()))
        throw DataError("coordinate transformation failed: " + lastGdalError());
    for (std::size_t i = 0; i < pts.size(); ++i) {
        if (!ok[i]) throw DataError("a coordinate could not be transformed to the output CRS");
        pts[i] = {xs[i], ys[i]};
    }
}

namespace {

// f(c + (u, v)) = f0 + a u + b v + (A u^2 + 2 B u v + C v^2) / 2 for each output coordinate,
// from central differences at step h: exact for quadratics, cubic error terms.
struct Quadratic {
    double f0, a, b, A, B, C;
    double at(double u, double v) const { return f0 + a * u + b * v + 0.5 * (A * u * u + 2 * B * u * v + C * v * v); }
    // Samples at (0,0), (h,0), (-h,0), (0,h), (0,-h), (h,h), (-h,-h).
    static Quadratic fit(const double* f, double h) {
        Quadratic q{};
        q.f0 = f[0];
        q.a = (f[1] - f[2]) / (2 * h);
        q.b = (f[3] - f[4]) / (2 * h);
        q.A = (f[1] - 2 * f[0] + f[2]) / (h * h);
        q.C = (f[3] - 2 * f[0] + f[4]) / (h * h);
        q.B = ((f[5] + f[6] - 2 * f[0]) / (h * h) - q.A - q.C) / 2;
        return q;
    }
};

// Below this many vertices the 11 exact points of the model cost more than they save.
constexpr std::size_t kModelMinVertices = 16;

}  // namespace

// Outlines carry ~50 vertices each after simplification; transforming every one through PROJ's
// inverse Transverse Mercator was ~16 % of the index scan's CPU on real texture (issue 14).
void CoordinateMapper::objectPixelsToTarget(std::vector<MapPoint>& pts) const {
    if (pts.size() < kModelMinVertices) return pixelsToTarget(pts);
    double x0 = pts[0].x, x1 = x0, y0 = pts[0].y, y1 = y0;
    for (const auto& p : pts) {
        x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
        y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
    const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const double h = std::max(0.5, std::max(x1 - x0, y1 - y0) / 2);
    std::vector<MapPoint> s{{cx, cy},         {cx + h, cy},     {cx - h, cy}, {cx, cy + h}, {cx, cy - h},
                            {cx + h, cy + h}, {cx - h, cy - h}, {x0, y0},     {x1, y0},     {x0, y1},
                            {x1, y1}};
    pixelsToTarget(s);
    double fx[7], fy[7];
    for (int k = 0; k < 7; ++k) fx[k] = s[k].x, fy[k] = s[k].y;
    const Quadratic qx = Quadratic::fit(fx, h), qy = Quadratic::fit(fy, h);
    const double tol = geographic_ ? 1e-10 : 1e-5;
    for (int k = 7; k < 11; ++k) {
        const double u = (k == 7 || k == 9 ? x0 : x1) - cx, v = (k < 9 ? y0 : y1) - cy;
        if (!(std::fabs(qx.at(u, v) - s[k].x) <= tol && std::fabs(qy.at(u, v) - s[k].y) <= tol))
            return pixelsToTarget(pts);
    }
    for (auto& p : pts) p = {qx.at(p.x - cx, p.y - cy), qy.at(p.x - cx, p.y - cy)};
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
