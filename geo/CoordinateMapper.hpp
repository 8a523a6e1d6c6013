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
    // The same for the vertices of one object: a quadratic model of the transformation fitted
    // on 7 exact points across the vertices' box, used when it agrees with the exact transform
    // at the box's corners within 1e-10 degrees (about 11 um; 1e-5 of a projected unit).
    // Otherwise, or for a few vertices, every vertex is transformed exactly.
    void objectPixelsToTarget(std::vector<MapPoint>& pts) const;
    MapPoint pixelToTarget(double px, double py) const;
    LonLat pixelToLonLat(double px, double py) const;
    // Ground distance in metres between two pixel positions.
    double groundDistance(double px0, double py0, double px1, double py1) const;
    // True when the target CRS is geographic (degrees).
    bool targetIsGeographic() const;
    std::string targetWkt() const;

private:
    GeoTransform gt_;
    std::unique_ptr<OGRSpatialReference> target_;
    std::unique_ptr<OGRCoordinateTransformation> toTarget_;
    std::unique_ptr<OGRCoordinateTransformation> toLonLat_;
    bool geographic_ = true;
};

}  // namespace riskmap
