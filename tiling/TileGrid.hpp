#pragma once
// Cuts a raster into tiles: disjoint cores that cover every pixel once, each read with a halo
// so that objects straddling a core boundary are seen whole by the tile that owns them.
#include <cstddef>
#include <vector>

#include "raster/Window.hpp"

namespace riskmap {

struct Tile {
    std::size_t index = 0;  // row-major position in the grid
    Window core;
    Window window;  // core grown by the halo, clipped to the raster
};

class TileGrid {
public:
    // tileSize: requested core size in pixels; it is rounded to whole blocks when the raster is
    // tiled (blockW/blockH smaller than the raster) so that no block is decoded for two cores.
    TileGrid(int width, int height, int tileSize, int haloX, int haloY, int blockW = 0,
             int blockH = 0);

    int width() const { return width_; }
    int height() const { return height_; }
    int tileWidth() const { return tileW_; }
    int tileHeight() const { return tileH_; }
    int haloX() const { return haloX_; }
    int haloY() const { return haloY_; }
    int columns() const { return cols_; }
    int rows() const { return rows_; }
    std::size_t size() const { return static_cast<std::size_t>(cols_) * rows_; }
    Tile tile(std::size_t index) const;
    // Index of the tile whose core contains global pixel (x, y).
    std::size_t ownerOf(int x, int y) const;

    // Core size for a requested size and block size along one axis.
    static int alignedSize(int requested, int block, int extent);

private:
    int width_, height_;
    int tileW_, tileH_;
    int haloX_, haloY_;
    int cols_, rows_;
};

}  // namespace riskmap
