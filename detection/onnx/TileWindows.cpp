#include "detection/onnx/TileWindows.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "detection/onnx/WindowInput.hpp"

namespace riskmap::onnx {

TileWindows::TileWindows(const TileImage& tile, const ModelRef& model)
    : tile_(tile),
      model_(model),
      grid_(WindowGrid::make(Resampling::make(model.card.gsd, tile.gsdX, tile.gsdY, model.settings.gsdTolerance),
                             tile.rasterWidth, tile.rasterHeight, model.card.width, model.card.height,
                             model.settings.overlap)) {
    for (const auto& b : model.card.bands) planes_.push_back(tile.bandIndex(b));
}

TileWindows::Range TileWindows::windowsFor(double reach) const {
    const Window& c = tile_.core;
    // Owned centres: raster pixel in the core; at a raster edge, anything beyond it too.
    const double lx = c.x == 0 ? -kInfinity : c.x / grid_.rs.sx - reach;
    const double hx = c.right() == tile_.rasterWidth ? kInfinity : c.right() / grid_.rs.sx + reach;
    const double ly = c.y == 0 ? -kInfinity : c.y / grid_.rs.sy - reach;
    const double hy = c.bottom() == tile_.rasterHeight ? kInfinity : c.bottom() / grid_.rs.sy + reach;
    const auto [x0, x1] = grid_.x.windowsMeeting(lx, hx);
    const auto [y0, y1] = grid_.y.windowsMeeting(ly, hy);
    return {x0, x1, y0, y1};
}

TileWindows::Input TileWindows::input(int ix, int iy) const {
    WindowInput in = buildWindowInput(tile_, model_.card, planes_, grid_, ix, iy);
    return {in.blob, in.valid, grid_.model(ix, iy)};
}

cv::Point TileWindows::anchor(const cv::Point2d& m) const {
    const cv::Point a = riskmap::anchorOf(toRaster(m));
    return {std::clamp(a.x, 0, tile_.rasterWidth - 1), std::clamp(a.y, 0, tile_.rasterHeight - 1)};
}

double TileWindows::metres(const cv::Point2d& v) const {
    return std::hypot(v.x * grid_.rs.sx * tile_.gsdX, v.y * grid_.rs.sy * tile_.gsdY);
}

}  // namespace riskmap::onnx
