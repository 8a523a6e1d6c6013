#include "detection/onnx/WindowGrid.hpp"

#include <algorithm>
#include <cmath>

namespace riskmap::onnx {

WindowAxis WindowAxis::make(int extent, int size, int overlap) {
    WindowAxis a;
    a.extent = extent;
    a.size = size;
    const int step = std::max(1, size - overlap);
    for (int x = 0;; x += step) {
        if (x + size >= extent) {
            a.starts.push_back(std::max(0, extent - size));
            break;
        }
        a.starts.push_back(x);
    }
    for (std::size_t k = 0; k < a.starts.size(); ++k) {
        a.coreLo.push_back(k == 0 ? -kInfinity : (a.starts[k] + a.starts[k - 1] + size) / 2.0);
        a.coreHi.push_back(k + 1 == a.starts.size() ? kInfinity : (a.starts[k + 1] + a.starts[k] + size) / 2.0);
    }
    return a;
}

std::pair<int, int> WindowAxis::windowsMeeting(double lo, double hi) const {
    int first = count(), last = -1;
    for (int k = 0; k < count(); ++k)
        if (coreLo[k] < hi && coreHi[k] > lo) {
            first = std::min(first, k);
            last = k;
        }
    return {first, last};
}

Resampling Resampling::make(double modelGsd, double gsdX, double gsdY, double tolerance) {
    Resampling r{modelGsd / gsdX, modelGsd / gsdY};
    if (std::fabs(r.sx - 1) <= tolerance && std::fabs(r.sy - 1) <= tolerance) r = Resampling{};
    return r;
}

WindowGrid WindowGrid::make(const Resampling& rs, int rasterW, int rasterH, int width, int height, int overlap) {
    // Model pixels wholly inside the raster (a sliver under one model pixel at the far edge is
    // left out).
    const int mw = rs.native() ? rasterW : std::max(1, static_cast<int>(std::floor(rasterW / rs.sx + 1e-9)));
    const int mh = rs.native() ? rasterH : std::max(1, static_cast<int>(std::floor(rasterH / rs.sy + 1e-9)));
    return WindowGrid{rs, WindowAxis::make(mw, width, overlap), WindowAxis::make(mh, height, overlap)};
}

Window WindowGrid::source(int ix, int iy, int rasterW, int rasterH) const {
    const Window m = model(ix, iy);
    // Area averaging reads [i sx, (i + 1) sx); bilinear up-sampling one pixel beyond.
    auto span = [](int a, int b, double s) {
        const int lo = static_cast<int>(std::floor(a * s)) - (s < 1 ? 1 : 0);
        const int hi = static_cast<int>(std::ceil(b * s)) + (s < 1 ? 1 : 0);
        return std::make_pair(lo, hi);
    };
    const auto [x0, x1] = span(m.x, m.right(), rs.sx);
    const auto [y0, y1] = span(m.y, m.bottom(), rs.sy);
    return Window{x0, y0, x1 - x0, y1 - y0}.intersect(Window{0, 0, rasterW, rasterH});
}

}  // namespace riskmap::onnx
