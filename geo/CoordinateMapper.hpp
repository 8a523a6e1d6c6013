#pragma once
// Maps raster pixel coordinates to another CRS (lon/lat by default). Not thread-safe:
// give each thread its own instance.
#include <memory>
#include <string>
#include <vector>

#include "raster/GeoTransform.hpp"
#include "geo/Geodesy.hpp"

class OGRCoordinateTransformation;
class OGRSpatialReference;

namespace riskmap {

class CoordinateMapper {
public:
    // targetCrs: anything OGRSpatialReference::SetFromUserInput accepts; empty means EPSG:4326.
    CoordinateMapper(const std::string& sourceWkt, const GeoTransform& gt,
                     const std::string& targetCrs = "");
    ~CoordinateMapper();
    CoordinateMapper(CoordinateMapper&&) noexcept;
    CoordinateMapper& operator=(CoordinateMapper&&) noexcept;

    // Pixel-corner coordinates -> target CRS (x = lon, y = lat for EPSG:4326). In place.
    void pixelsToTarget(std::vector<MapPoint>& pts) const;
    // The same for the points of one object: a quadratic model of the transformation fitted on
    // 7 exact points, used where it agrees with the exact transform at its box's corners within
    // 1e-10 degree (about 11 um; 1e-5 of a projected unit) at its box's corners and inside. Points within one 64-px cell of a
    // global lattice share the cell's model; 16 or more elsewhere get a model of their own; else
    // every point is transformed exactly.
    void objectPixelsToTarget(std::vector<MapPoint>& pts) const;
    MapPoint pixelToTarget(double px, double py) const;
    LonLat pixelToLonLat(double px, double py) const;
    // Ground distance in metres between two pixel positions.
    double groundDistance(double px0, double py0, double px1, double py1) const;
    // True when the target CRS is geographic (degrees).
    bool targetIsGeographic() const;
    std::string targetWkt() const;

private:
    // f(c + (u, v)) = f0 + a u + b v + (A u^2 + 2 B u v + C v^2) / 2, one per output axis.
    struct Quadratic {
        double f0 = 0, a = 0, b = 0, A = 0, B = 0, C = 0;
        double at(double u, double v) const { return f0 + a * u + b * v + 0.5 * (A * u * u + 2 * B * u * v + C * v * v); }
        static Quadratic fit(const double* f, double h);
    };
    struct Model {
        std::pair<long long, long long> key{0, 0};  // lattice cell, for cached models
        double cx = 0, cy = 0;
        Quadratic qx, qy;
        bool fitted = false, ok = false;
    };
    Model fitModel(double x0, double y0, double x1, double y1) const;
    bool transform(std::vector<MapPoint>& pts, bool report) const;
    const Model* cellModel(double x0, double y0, double x1, double y1) const;

    GeoTransform gt_;
    mutable std::vector<Model> cells_;
    std::unique_ptr<OGRSpatialReference> target_;
    std::unique_ptr<OGRCoordinateTransformation> toTarget_;
    std::unique_ptr<OGRCoordinateTransformation> toLonLat_;
    bool geographic_ = true;
};

}  // namespace riskmap
