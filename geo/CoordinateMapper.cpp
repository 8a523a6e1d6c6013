#include "geo/CoordinateMapper.hpp"

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
