#include "risk/RiskGrid.hpp"

#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"
#include "geo/CoordinateMapper.hpp"

namespace riskmap {

namespace {

std::unique_ptr<OGRCoordinateTransformation> lonLatToEqualArea() { return epsgTransform(4326, 6933); }

constexpr double kSqrt3 = 1.7320508075688772;

}  // namespace

RiskGrid::Shape RiskGrid::parseShape(const std::string& s) {
    if (s == "square") return Shape::Square;
    if (s == "hex" || s == "hexagon") return Shape::Hexagon;
    throw UsageError("--grid-shape '" + s + "': use square or hex");
}

RiskGrid::RiskGrid(double cellMetres, Shape shape) : size_(cellMetres), shape_(shape) {
    if (!(cellMetres >= 10)) throw UsageError("--grid must be at least 10 metres");
}

std::pair<long long, long long> RiskGrid::cellOf(double x, double y) const {
    if (shape_ == Shape::Square)
        return {static_cast<long long>(std::floor(y / size_)), static_cast<long long>(std::floor(x / size_))};
    // Pointy-top hexagons of circumradius R (width across flats = size), axial coordinates.
    const double R = size_ / kSqrt3;
    const double q = (kSqrt3 / 3 * x - y / 3) / R, r = (2.0 / 3 * y) / R;
    double cx = q, cz = r, cy = -q - r;
    double rx = std::round(cx), ry = std::round(cy), rz = std::round(cz);
    const double dx = std::fabs(rx - cx), dy = std::fabs(ry - cy), dz = std::fabs(rz - cz);
    if (dx > dy && dx > dz)
        rx = -ry - rz;
    else if (dy <= dz)
        rz = -rx - ry;
    return {static_cast<long long>(rz), static_cast<long long>(rx)};
}

std::vector<MapPoint> RiskGrid::outline(const Cell& c) const {
    std::vector<MapPoint> ring;
    if (shape_ == Shape::Square) {
        // Cut at the map's edge: a cell reaching past it made every scene within a cell of 180
        // degrees (Fiji) fail, whatever the cell size (an audit).
        const double x0 = std::max(static_cast<double>(c.i) * size_, -kMapHalfWidth);
        const double x1 = std::min(static_cast<double>(c.i + 1) * size_, kMapHalfWidth);
        const double y0 = static_cast<double>(c.j) * size_, w = x1 - x0;
        // Counter-clockwise; four points a side, so the outline stays true after reprojection.
        for (int k = 0; k < 4; ++k) ring.push_back({x0 + w * k / 4, y0});
        for (int k = 0; k < 4; ++k) ring.push_back({x1, y0 + size_ * k / 4});
        for (int k = 0; k < 4; ++k) ring.push_back({x1 - w * k / 4, y0 + size_});
        for (int k = 0; k < 4; ++k) ring.push_back({x0, y0 + size_ - size_ * k / 4});
        return ring;
    }
    const double R = size_ / kSqrt3;
    const double cx = R * kSqrt3 * (static_cast<double>(c.i) + static_cast<double>(c.j) / 2), cy = R * 1.5 * static_cast<double>(c.j);
    for (int k = 0; k < 6; ++k) {
        const double a0 = (60.0 * k - 30.0) * M_PI / 180, a1 = (60.0 * (k + 1) - 30.0) * M_PI / 180;
        for (int s = 0; s < 4; ++s) {
            const double t = s / 4.0;
            ring.push_back({cx + R * ((1 - t) * std::cos(a0) + t * std::cos(a1)), cy + R * ((1 - t) * std::sin(a0) + t * std::sin(a1))});
        }
    }
    return ring;
}

void RiskGrid::addCoverage(const RasterInput& input, const CoverageMap& cov) {
    CoordinateMapper toLonLat(input.crsWkt(), input.geoTransform());
    auto toEqual = lonLatToEqualArea();
    const double pixelKm2 = input.gsdX() * input.gsdY() / 1e6;
    std::vector<MapPoint> pts;
    std::vector<std::uint32_t> counts;
    for (int cy = 0; cy < cov.rows(); ++cy) {
        for (int cx = 0; cx < cov.columns(); ++cx) {
            const std::uint32_t v = cov.valid(cx, cy);
            if (!v) continue;
            // The cell's centre decides which grid cell its scanned area counts for.
            const double px = std::min<double>(cx * kCoverageCell + kCoverageCell / 2.0, input.width());
            const double py = std::min<double>(cy * kCoverageCell + kCoverageCell / 2.0, input.height());
            pts.push_back({px, py});
            counts.push_back(v);
        }
    }
    if (pts.empty()) return;
    toLonLat.pixelsToTarget(pts);
    std::vector<double> xs(pts.size()), ys(pts.size());
    for (std::size_t k = 0; k < pts.size(); ++k) {
        xs[k] = pts[k].x;
        ys[k] = pts[k].y;
    }
    toEqual->Transform(static_cast<int>(pts.size()), xs.data(), ys.data());
    for (std::size_t k = 0; k < pts.size(); ++k) {
        auto key = cellOf(xs[k], ys[k]);
        Cell& c = cells_[key];
        c.j = key.first;
        c.i = key.second;
        c.areaKm2 += counts[k] * pixelKm2;
    }
}

void RiskGrid::addFeatures(const std::vector<FeatureRecord>& features) {
    std::vector<Point> points;
    points.reserve(features.size());
    for (const auto& f : features) points.push_back({f.centroid, f.score, f.risk});
    addPoints(points);
}

void RiskGrid::addPoints(const std::vector<Point>& points) {
    auto toEqual = lonLatToEqualArea();
    for (const auto& p : points) {
        double x = p.centroid.lon, y = p.centroid.lat;
        toEqual->Transform(1, &x, &y);
        auto key = cellOf(x, y);
        Cell& c = cells_[key];
        c.j = key.first;
        c.i = key.second;
        c.count++;
        c.maxScore = std::max(c.maxScore, p.score);
        c.sumRisk += p.risk;
    }
}

std::vector<RiskGrid::Cell> RiskGrid::cells(std::size_t minCount) const {
    std::vector<Cell> out;
    for (const auto& kv : cells_)
        if (kv.second.count >= minCount) out.push_back(kv.second);
    return out;
}

bool RiskGrid::isPublishedCellSize(double metres) { return metres >= 5000 && publishedCellSize(metres) == metres; }

double RiskGrid::publishedCellSize(double metres) {
    double size = 5000;
    while (size < metres && size < 1e7) size *= 2;
    return size;
}

}  // namespace riskmap
