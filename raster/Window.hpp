#pragma once
// A rectangle of pixels: [x, x + w) x [y, y + h) in raster pixel indices.
#include <algorithm>
#include <cstdint>

namespace riskmap {

struct Window {
    int x = 0;
    int y = 0;
    int w = 0;
    int h = 0;

    int right() const { return x + w; }
    int bottom() const { return y + h; }
    bool empty() const { return w <= 0 || h <= 0; }
    std::int64_t area() const { return static_cast<std::int64_t>(w) * h; }
    bool contains(int px, int py) const { return px >= x && px < x + w && py >= y && py < y + h; }
    bool containsWindow(const Window& o) const {
        return o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom();
    }
    Window intersect(const Window& o) const {
        int x0 = std::max(x, o.x), y0 = std::max(y, o.y);
        int x1 = std::min(right(), o.right()), y1 = std::min(bottom(), o.bottom());
        return Window{x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0)};
    }
    bool operator==(const Window& o) const {
        return x == o.x && y == o.y && w == o.w && h == o.h;
    }
    bool operator!=(const Window& o) const { return !(*this == o); }
};

}  // namespace riskmap
