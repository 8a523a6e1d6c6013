#include "raster/GeoTransform.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace riskmap {

GeoTransform::GeoTransform(const std::array<double, 6>& c) : c_(c) {}

GeoTransform::GeoTransform(const double* c) : c_{c[0], c[1], c[2], c[3], c[4], c[5]} {}

MapPoint GeoTransform::inverse(double mx, double my) const {
    double det = c_[1] * c_[5] - c_[2] * c_[4];
    if (det == 0.0 || !std::isfinite(det))
        throw DataError("the raster's geotransform cannot be inverted (zero pixel size)");
    double dx = mx - c_[0], dy = my - c_[3];
    return {(c_[5] * dx - c_[2] * dy) / det, (-c_[4] * dx + c_[1] * dy) / det};
}

}  // namespace riskmap
