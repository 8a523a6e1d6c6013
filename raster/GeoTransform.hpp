#pragma once
// GDAL's six-coefficient affine transform between pixel/line and georeferenced coordinates.
#include <array>

namespace riskmap {

struct MapPoint {
    double x = 0;
    double y = 0;
};

class GeoTransform {
public:
    GeoTransform() : c_{0, 1, 0, 0, 0, 1} {}
    explicit GeoTransform(const std::array<double, 6>& c);
    explicit GeoTransform(const double* c);

    // Pixel (column, row) at pixel-corner convention -> map coordinates.
    MapPoint apply(double px, double py) const {
        return {c_[0] + px * c_[1] + py * c_[2], c_[3] + px * c_[4] + py * c_[5]};
    }
    // Map coordinates -> fractional pixel (column, row). Throws DataError when not invertible.
    MapPoint inverse(double mx, double my) const;

    bool isNorthUp() const { return c_[2] == 0.0 && c_[4] == 0.0; }
    double pixelWidth() const { return c_[1]; }
    double pixelHeight() const { return c_[5]; }
    const std::array<double, 6>& coefficients() const { return c_; }
    const double* data() const { return c_.data(); }

private:
    std::array<double, 6> c_;
};

}  // namespace riskmap
