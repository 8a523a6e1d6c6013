#pragma once
// The pixels of one tile as a detector sees them: named bands in reflectance (CV_32F), a
// validity mask, and where the tile sits in the raster.
#include <atomic>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "raster/Window.hpp"

namespace riskmap {

// A plane as stored in the file: values of any depth and the scale to reflectance.
struct RawPlane {
    cv::Mat values;  // window-sized view, stored type
    double scale = 1;
    double offset = 0;
};

struct TileImage {
    Window window;  // pixels held here: the core plus the halo, clipped to the raster
    Window core;    // pixels this tile is responsible for
    int rasterWidth = 0;
    int rasterHeight = 0;
    double gsdX = 0;  // metres per pixel, constant over the scene so results ignore tiling
    double gsdY = 0;
    std::vector<std::string> names;
    std::vector<int> positions;  // 1-based band number in the raster of each plane: b1, b2... name them too
    // Reflectance planes (CV_32F, invalid pixels 0). The reader leaves them empty and keeps the
    // stored values in `raw`; a plane is converted on first use, so a detector that works row by
    // row (row()) never writes whole float planes. Mutable for that lazy fill: a TileImage is
    // used by one thread at a time.
    mutable std::vector<cv::Mat> planes;
    std::vector<RawPlane> raw;  // per plane; empty when planes were given directly
    // Per plane: true when the values are a display rendering (0..1 of white, e.g. 8-bit
    // true colour) rather than surface reflectance.
    std::vector<bool> display;
    cv::Mat valid;                    // CV_8U, 255 where every requested band has data
    mutable cv::Mat storage;          // backing store of the planes, reused between tiles
    std::vector<cv::Mat> rawStorage;  // backing store of `raw`, one per input file
    std::size_t validCount = 0;
    // The run's stop flag (SIGINT/SIGTERM), set by the pipeline: a detector that works through
    // many windows of one tile looks at it between them (an ONNX tile took minutes to notice).
    const std::atomic<bool>* cancel = nullptr;
    // Throws Cancelled when the run was asked to stop.
    void stopIfCancelled() const;

    bool has(const std::string& name) const;
    // Index of a band in `names`; throws Error naming the missing band.
    std::size_t bandIndex(const std::string& name) const;
    const cv::Mat& band(const std::string& name) const { return plane(bandIndex(name)); }
    // Plane i, converted from `raw` on first use.
    const cv::Mat& plane(std::size_t i) const;
    // Reflectance of pixels [x0, x0 + n) of row y: a pointer into the plane when it is already
    // converted, else converted into `scratch` (n floats). Bit-identical to plane(i).
    const float* row(std::size_t i, int y, int x0, int n, float* scratch) const;
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

private:
    void convertRow(std::size_t i, int y, int x0, int n, float* dst) const;
};

// A rows x cols view of `buffer`, which only ever grows: tiles of varying size (edges, first
// column) then reuse the same pages instead of faulting in fresh ones for every tile.
cv::Mat reuseBuffer(cv::Mat& buffer, int rows, int cols, int type);

}  // namespace riskmap
