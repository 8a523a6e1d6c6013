#pragma once
// Image chips for the evidence report: a window of the source raster around a detection,
// stretched for display, with the outline drawn, a scale bar and a caption, as PNG.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "geo/CoordinateMapper.hpp"
#include "geo/Geodesy.hpp"
#include "raster/RasterInput.hpp"
#include "raster/RasterReader.hpp"

class OGRCoordinateTransformation;

namespace riskmap {

struct ChipInfo {
    LonLat centre;
    double widthMetres = 0;
    double scaleBarMetres = 0;
    std::string bands;  // e.g. "red, green, blue (true colour)"
};

class ChipRenderer {
public:
    explicit ChipRenderer(const RasterInput& input);
    ~ChipRenderer();

    // rings: the detection's outer rings in lon/lat. The chip spans three times the object, and
    // at least minMetres. Returns PNG bytes, or nothing when the object lies off the raster.
    std::vector<unsigned char> render(const std::vector<std::vector<LonLat>>& rings,
                                      const std::vector<std::string>& caption, double minMetres, ChipInfo& info);

private:
    std::optional<MapPoint> toPixel(const LonLat& p) const;

    const RasterInput& input_;
    RasterReader reader_;
    std::vector<int> bands_;
    std::string bandText_;
    std::unique_ptr<OGRCoordinateTransformation> fromLonLat_;
    CoordinateMapper toLonLat_;
};

}  // namespace riskmap
