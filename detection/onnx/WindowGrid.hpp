#pragma once
// Where the model runs: windows of the model's input size on a grid anchored to the raster
// origin, in model pixels (the raster resampled to the card's GSD). The grid depends only on
// the raster's size and GSD, never on riskmap's tiling, so every tiling runs the same windows
// and gets the same outputs. Each window has a core (from the middle of its overlap with the
// previous window to the middle of its overlap with the next); the cores partition the plane,
// and a window reports only what it finds in its core.
#include <limits>
#include <utility>
#include <vector>

#include "raster/Window.hpp"

namespace riskmap::onnx {

struct WindowAxis {
    int extent = 0;  // model pixels covered by the raster along this axis
    int size = 0;    // window size
    std::vector<int> starts;
    std::vector<double> coreLo, coreHi;  // first coreLo is -inf, last coreHi +inf

    // Regular starts k * (size - overlap); the last window lies flush with the far raster edge,
    // so no window needs padding unless the raster is smaller than one window.
    static WindowAxis make(int extent, int size, int overlap);
    int count() const { return static_cast<int>(starts.size()); }
    // Windows whose cores meet [lo, hi): first and last index (first > last when none).
    std::pair<int, int> windowsMeeting(double lo, double hi) const;
    bool inCore(int k, double x) const { return x >= coreLo[k] && x < coreHi[k]; }
};

// Raster pixels per model pixel along each axis (1 when the GSD is within tolerance of the
// card's, so a model trained at the raster's GSD sees its native pixels).
struct Resampling {
    double sx = 1, sy = 1;
    bool native() const { return sx == 1 && sy == 1; }
    static Resampling make(double modelGsd, double gsdX, double gsdY, double tolerance);
};

struct WindowGrid {
    Resampling rs;
    WindowAxis x, y;

    static WindowGrid make(const Resampling& rs, int rasterW, int rasterH, int width, int height, int overlap);
    // Global order of window (ix, iy): row-major.
    int key(int ix, int iy) const { return iy * x.count() + ix; }
    // Model window (ix, iy) in model pixels (may reach beyond the raster when it is smaller).
    Window model(int ix, int iy) const { return {x.starts[ix], y.starts[iy], x.size, y.size}; }
    // Raster pixels the window reads, including the resampling kernel, clipped to the raster.
    Window source(int ix, int iy, int rasterW, int rasterH) const;
};

constexpr double kInfinity = std::numeric_limits<double>::infinity();

}  // namespace riskmap::onnx
