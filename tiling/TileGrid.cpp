#include "tiling/TileGrid.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"

namespace riskmap {

int TileGrid::alignedSize(int requested, int block, int extent) {
    if (requested >= extent) return extent;
    // Strips (a block spanning the whole axis) and odd block sizes cannot be aligned to.
    if (block <= 1 || block >= extent || block > requested) return requested;
    int blocks = static_cast<int>(std::lround(static_cast<double>(requested) / block));
    return std::max(1, blocks) * block;
}

TileGrid::TileGrid(int width, int height, int tileSize, int haloX, int haloY, int blockW,
                   int blockH)
    : width_(width), height_(height), haloX_(haloX), haloY_(haloY) {
    if (width <= 0 || height <= 0) throw DataError("the raster is empty (0 pixels)");
    if (tileSize < 16) throw UsageError("--tile-size must be at least 16 pixels");
    if (haloX < 0 || haloY < 0) throw Error("negative halo (a detector bug)");
    tileW_ = alignedSize(tileSize, blockW, width);
    tileH_ = alignedSize(tileSize, blockH, height);
    cols_ = (width + tileW_ - 1) / tileW_;
    rows_ = (height + tileH_ - 1) / tileH_;
}

Tile TileGrid::tile(std::size_t index) const {
    if (index >= size()) throw Error("tile index out of range (a tiling bug)");
    int c = static_cast<int>(index % static_cast<std::size_t>(cols_));
    int r = static_cast<int>(index / static_cast<std::size_t>(cols_));
    Tile t;
    t.index = index;
    t.core.x = c * tileW_;
    t.core.y = r * tileH_;
    t.core.w = std::min(tileW_, width_ - t.core.x);
    t.core.h = std::min(tileH_, height_ - t.core.y);
    Window grown{t.core.x - haloX_, t.core.y - haloY_, t.core.w + 2 * haloX_,
                 t.core.h + 2 * haloY_};
    t.window = grown.intersect(Window{0, 0, width_, height_});
    return t;
}

std::size_t TileGrid::ownerOf(int x, int y) const {
    if (x < 0 || y < 0 || x >= width_ || y >= height_)
        throw Error("pixel outside the raster has no owner tile");
    return static_cast<std::size_t>(y / tileH_) * static_cast<std::size_t>(cols_) +
           static_cast<std::size_t>(x / tileW_);
}

}  // namespace riskmap
