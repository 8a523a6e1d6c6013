#include "detection/imgproc/ComponentExtractor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/Error.hpp"
#include "detection/imgproc/PixelOutline.hpp"

namespace riskmap {

namespace {
std::int64_t saturated(double v) {
    if (!(v > 0)) return 0;
    return v < 9.0e18 ? static_cast<std::int64_t>(v) : INT64_MAX;
}
}  // namespace

std::int64_t ComponentExtractor::Limits::pixelsAtLeast(double m2, double pxArea) {
    return std::max<std::int64_t>(1, saturated(std::ceil(m2 / pxArea - 1e-9)));
}

std::int64_t ComponentExtractor::Limits::pixelsAtMost(double m2, double pxArea) {
    return saturated(std::floor(m2 / pxArea + 1e-9));
}

namespace {

// Word-at-a-time scans: masks are mostly background, and runs are long.
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

int nextSet(const std::uint8_t* row, int x, int w) {
    if (kLittleEndian) {
        for (; x + 8 <= w; x += 8) {
            std::uint64_t v;
            std::memcpy(&v, row + x, 8);
            if (v) return x + __builtin_ctzll(v) / 8;
        }
    }
    while (x < w && !row[x]) ++x;
    return x;
}

int nextClear(const std::uint8_t* row, int x, int w) {
    if (kLittleEndian) {
        for (; x + 8 <= w; x += 8) {
            std::uint64_t v;
            std::memcpy(&v, row + x, 8);
            // The lowest flagged byte is exactly the first zero byte.
            const std::uint64_t zero = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
            if (zero) return x + __builtin_ctzll(zero) / 8;
        }
    }
    while (x < w && row[x]) ++x;
    return x;
}

}  // namespace

ComponentExtractor::ComponentExtractor(int width, int height) : width_(width), height_(height) {}

ComponentExtractor::ComponentExtractor(const cv::Mat& mask)
    : ComponentExtractor(mask.cols, mask.rows) {
    if (mask.type() != CV_8U) throw Error("component mask must be CV_8U (a detector bug)");
    for (int y = 0; y < mask.rows; ++y) addRow(y, mask.ptr<std::uint8_t>(y));
    finish();
}

int ComponentExtractor::find(int i) {
    while (parent_[static_cast<std::size_t>(i)] != i) {
        auto& p = parent_[static_cast<std::size_t>(i)];
        p = parent_[static_cast<std::size_t>(p)];  // path halving
        i = p;
    }
    return i;
}

void ComponentExtractor::addRow(int y, const std::uint8_t* row) {
    if (finished_ || y != nextRow_ || y >= height_)
        throw Error("component rows fed out of order (a detector bug)");
    ++nextRow_;
    const std::size_t begin = runs_.size();
    std::size_t j = prevBegin_;
    for (int x = nextSet(row, 0, width_); x < width_; x = nextSet(row, x, width_)) {
        const int end = nextClear(row, x + 1, width_);
        const int idx = static_cast<int>(runs_.size());
        runs_.push_back({y, x, end});
        parent_.push_back(idx);
        // 8-connected to a run above that spans any of columns x-1 .. end.
        while (j < prevEnd_ && runs_[j].x1 < x) ++j;
        for (std::size_t k = j; k < prevEnd_ && runs_[k].x0 <= end; ++k) {
            int a = find(static_cast<int>(k)), b = find(idx);
            // The root is always a component's first run in row-major order.
            if (a != b) parent_[static_cast<std::size_t>(std::max(a, b))] = std::min(a, b);
        }
        x = end;
    }
    prevBegin_ = begin;
    prevEnd_ = runs_.size();
}

void ComponentExtractor::finish() {
    if (finished_) return;
    if (nextRow_ != height_) throw Error("component rows missing (a detector bug)");
    finished_ = true;
    const std::size_t n = runs_.size();
    std::vector<int> label(n);
    int labels = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int r = find(static_cast<int>(i));
        label[i] = static_cast<std::size_t>(r) == i ? ++labels : label[static_cast<std::size_t>(r)];
    }
    firstRun_.assign(static_cast<std::size_t>(labels) + 1, 0);
    for (std::size_t i = 0; i < n; ++i) firstRun_[static_cast<std::size_t>(label[i])]++;
    for (std::size_t l = 1; l < firstRun_.size(); ++l) firstRun_[l] += firstRun_[l - 1];
    // Stable grouping keeps each component's runs in row-major order.
    std::vector<PixelRun> grouped(n);
    std::vector<std::size_t> at(firstRun_.begin(), firstRun_.end() - 1);
    boxes_.assign(static_cast<std::size_t>(labels), cv::Rect());
    pixels_.assign(static_cast<std::size_t>(labels), 0);
    std::vector<int> x0(static_cast<std::size_t>(labels), INT_MAX),
        x1(static_cast<std::size_t>(labels), INT_MIN);
    std::vector<int> y0(static_cast<std::size_t>(labels), INT_MAX),
        y1(static_cast<std::size_t>(labels), INT_MIN);
    for (std::size_t i = 0; i < n; ++i) {
        const auto l = static_cast<std::size_t>(label[i] - 1);
        const PixelRun& r = runs_[i];
        grouped[at[l]++] = r;
        pixels_[l] += r.x1 - r.x0;
        x0[l] = std::min(x0[l], r.x0);
        x1[l] = std::max(x1[l], r.x1);
        y0[l] = std::min(y0[l], r.y);
        y1[l] = std::max(y1[l], r.y + 1);
    }
    for (std::size_t l = 0; l < boxes_.size(); ++l)
        boxes_[l] = cv::Rect(x0[l], y0[l], x1[l] - x0[l], y1[l] - y0[l]);
    runs_ = std::move(grouped);
    parent_ = {};
}

const PixelRun* ComponentExtractor::runsBegin(const Component& c) const {
    return runs_.data() + firstRun_[static_cast<std::size_t>(c.label - 1)];
}

const PixelRun* ComponentExtractor::runsEnd(const Component& c) const {
    return runs_.data() + firstRun_[static_cast<std::size_t>(c.label)];
}

std::vector<Component> ComponentExtractor::complete(const TileImage& tile, const Limits& limits,
                                                    std::vector<Component>* setAside) const {
    if (!finished_) throw Error("components used before finish() (a detector bug)");
    using R = Component::Rejected;
    std::vector<Component> out;
    const int w = width_, h = height_;
    for (int l = 1; l <= count(); ++l) {
        Component c;
        c.label = l;
        c.box = boxes_[static_cast<std::size_t>(l - 1)];
        c.pixels = pixels_[static_cast<std::size_t>(l - 1)];
        if (c.box.width > limits.maxExtentX || c.box.height > limits.maxExtentY)
            c.rejected = R::TooLong;
        else if (c.pixels < limits.minPixels)
            c.rejected = R::TooSmall;
        else if (c.pixels > limits.maxPixels)
            c.rejected = R::TooLarge;
        if (c.rejected != R::None && !setAside) continue;
        if (c.rejected == R::TooLong && (c.box.width > limits.explainExtentX || c.box.height > limits.explainExtentY)) continue;
        // Seen whole and with full context on every side that is a cut through the raster.
        if (!tile.leftIsRasterEdge() && c.box.x <= limits.marginX) continue;
        if (!tile.topIsRasterEdge() && c.box.y <= limits.marginY) continue;
        if (!tile.rightIsRasterEdge() && c.box.x + c.box.width >= w - limits.marginX) continue;
        if (!tile.bottomIsRasterEdge() && c.box.y + c.box.height >= h - limits.marginY) continue;
        for (const PixelRun* r = runsBegin(c); r != runsEnd(c); ++r) {
            const std::int64_t len = r->x1 - r->x0;
            c.sumX += len * (r->x0 + tile.window.x) + len * (len - 1) / 2;
            c.sumY += len * (r->y + tile.window.y);
        }
        // floor(sum / n + 0.5) in integers: the same pixel whatever the tiling.
        c.anchor = cv::Point(static_cast<int>((2 * c.sumX + c.pixels) / (2 * c.pixels)),
                             static_cast<int>((2 * c.sumY + c.pixels) / (2 * c.pixels)));
        if (limits.ownedOnly && !tile.owns(c.anchor.x, c.anchor.y)) continue;
        (c.rejected != R::None ? *setAside : out).push_back(c);
    }
    return out;
}

cv::Mat ComponentExtractor::componentMask(const Component& c, const cv::Rect& area) const {
    cv::Mat m(area.size(), CV_8U, cv::Scalar(0));
    for (const PixelRun* r = runsBegin(c); r != runsEnd(c); ++r) {
        if (r->y < area.y || r->y >= area.y + area.height) continue;
        const int a = std::max(r->x0, area.x), b = std::min(r->x1, area.x + area.width);
        if (a < b)
            std::memset(m.ptr<std::uint8_t>(r->y - area.y) + (a - area.x), 255,
                        static_cast<std::size_t>(b - a));
    }
    return m;
}

cv::Mat ComponentExtractor::componentMask(const Component& c) const {
    return componentMask(c, c.box);
}

MultiPolygon ComponentExtractor::outline(const Component& c, const TileImage& tile) const {
    return traceOutline(componentMask(c),
                        cv::Point(c.box.x + tile.window.x, c.box.y + tile.window.y));
}

}  // namespace riskmap
