#pragma once
// The pixels of one tile as a detector sees them: named bands in reflectance (CV_32F), a
// validity mask, and where the tile sits in the raster.
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "raster/Window.hpp"

namespace riskmap {

struct TileImage {
    Window window;  // pixels held here: the core plus the halo, clipped to the raster
    Window core;    // pixels this tile is responsible for
    int rasterWidth = 0;
    int rasterHeight = 0;
    double gsdX = 0;  // metres per pixel, constant over the scene so results ignore tiling
    double gsdY = 0;
    std::vector<std::string> names;
    std::vector<cv::Mat> planes;  // CV_32F, invalid pixels set to 0
    // Per plane: true when the values are a display rendering (0..1 of white, e.g. 8-bit
    // true colour) rather than surface reflectance.
    std::vector<bool> display;
    cv::Mat valid;                // CV_8U, 255 where every requested band has data
    cv::Mat storage;              // backing store of the planes, reused between tiles
    std::size_t validCount = 0;

    bool has(const std::string& name) const;
    // Throws Error naming the missing band.
    const cv::Mat& band(const std::string& name) const;
    bool isDisplay(const std::string& name) const;

    // Whether each side of the window is the raster's own edge (nothing beyond it) rather than
    // a cut through the raster whose pixels near the edge lack context.
    bool leftIsRasterEdge() const { return window.x == 0; }
    bool topIsRasterEdge() const { return window.y == 0; }
    bool rightIsRasterEdge() const { return window.right() == rasterWidth; }
    bool bottomIsRasterEdge() const { return window.bottom() == rasterHeight; }

    // Global pixel -> index into the planes.
    int localX(int gx) const { return gx - window.x; }
    int localY(int gy) const { return gy - window.y; }
    // Whether this tile owns an object whose anchor is global pixel (gx, gy).
    bool owns(int gx, int gy) const { return core.contains(gx, gy); }
    double pixelAreaM2() const { return gsdX * gsdY; }
    double metresToPixels(double metres) const { return metres / std::min(gsdX, gsdY); }
};

// A rows x cols view of `buffer`, which only ever grows: tiles of varying size (edges, first
// column) then reuse the same pages instead of faulting in fresh ones for every tile.
cv::Mat reuseBuffer(cv::Mat& buffer, int rows, int cols, int type);

}  // namespace riskmap
