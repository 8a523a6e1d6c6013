#include "raster/TileImage.hpp"

#include <cstdint>
#include <cstring>

#include "core/Error.hpp"
#include "core/VectorClones.hpp"

namespace riskmap {

namespace {

// k for a positional band name "bk", else 0.
int positionOf(const std::string& name) {
    if (name.size() < 2 || name[0] != 'b' || name.size() > 7) return 0;
    int k = 0;
    for (std::size_t i = 1; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') return 0;
        k = 10 * k + (name[i] - '0');
    }
    return k;
}

}  // namespace

void TileImage::stopIfCancelled() const {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("interrupted");
}

bool TileImage::has(const std::string& name) const {
    for (const auto& n : names)
        if (n == name) return true;
    const int k = positionOf(name);
    for (int p : positions)
        if (k && p == k) return true;
    return false;
}

std::size_t TileImage::bandIndex(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i;
    // Positional names always work, also for bands a profile has named.
    const int k = positionOf(name);
    for (std::size_t i = 0; k && i < positions.size(); ++i)
        if (positions[i] == k) return i;
    throw Error("band '" + name +
                "' was not read for this tile (a detector bug: declare it in "
                "the detector's band request)");
}

namespace {

// Stored values to reflectance. Small integer types go through float, wide ones through
// double; invalid pixels become 0 so that no detector can see their values.
template <typename T, typename Calc>
void scaleRow(const T* src, const std::uint8_t* valid, int n, Calc scale, Calc offset, float* dst) {
    // Convert every pixel, then clear the bits of invalid ones: branch-free, so the compiler
    // vectorises it.
    for (int i = 0; i < n; ++i) {
        const float v = static_cast<float>(static_cast<Calc>(src[i]) * scale + offset);
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        bits &= 0u - static_cast<std::uint32_t>(valid[i] != 0);
        std::memcpy(dst + i, &bits, sizeof bits);
    }
}

}  // namespace

RISKMAP_VECTOR_CLONES void TileImage::convertRow(std::size_t i, int y, int x0, int n,
                                                 float* dst) const {
    const RawPlane& r = raw[i];
    const std::uint8_t* v = valid.ptr<std::uint8_t>(y) + x0;
    const float fs = static_cast<float>(r.scale), fo = static_cast<float>(r.offset);
    switch (r.values.depth()) {
        case CV_8U:
            return scaleRow(r.values.ptr<std::uint8_t>(y) + x0, v, n, fs, fo, dst);
        case CV_16U:
            return scaleRow(r.values.ptr<std::uint16_t>(y) + x0, v, n, fs, fo, dst);
        case CV_16S:
            return scaleRow(r.values.ptr<std::int16_t>(y) + x0, v, n, fs, fo, dst);
        case CV_32S:
            return scaleRow(r.values.ptr<std::int32_t>(y) + x0, v, n, r.scale, r.offset, dst);
        case CV_32F:
            return scaleRow(r.values.ptr<float>(y) + x0, v, n, r.scale, r.offset, dst);
        case CV_64F:
            return scaleRow(r.values.ptr<double>(y) + x0, v, n, r.scale, r.offset, dst);
        default:
            throw Error("unsupported stored pixel depth (a reader bug)");
    }
}

const cv::Mat& TileImage::plane(std::size_t i) const {
    if (i >= planes.size()) throw Error("plane index out of range (a detector bug)");
    cv::Mat& p = planes[i];
    if (!p.empty() || i >= raw.size() || raw[i].values.empty()) return p;
    const int h = window.h, w = window.w;
    // One buffer for all planes, kept across tiles: no fresh pages per tile.
    cv::Mat all = reuseBuffer(storage, static_cast<int>(planes.size()) * h, w, CV_32F);
    p = all.rowRange(static_cast<int>(i) * h, static_cast<int>(i + 1) * h);
    for (int y = 0; y < h; ++y) convertRow(i, y, 0, w, p.ptr<float>(y));
    return p;
}

const float* TileImage::row(std::size_t i, int y, int x0, int n, float* scratch) const {
    if (i >= planes.size()) throw Error("plane index out of range (a detector bug)");
    if (y < 0 || y >= window.h || x0 < 0 || n < 0 || x0 + n > window.w)
        throw Error("row segment outside the tile (a detector bug)");
    if (!planes[i].empty()) return planes[i].ptr<float>(y) + x0;
    if (i >= raw.size() || raw[i].values.empty()) throw Error("band has no pixels (a reader bug)");
    convertRow(i, y, x0, n, scratch);
    return scratch;
}

cv::Mat reuseBuffer(cv::Mat& buffer, int rows, int cols, int type) {
    if (buffer.empty() || buffer.type() != type || buffer.rows < rows || buffer.cols < cols)
        buffer.create(std::max(rows, buffer.empty() || buffer.type() != type ? 0 : buffer.rows),
                      std::max(cols, buffer.empty() || buffer.type() != type ? 0 : buffer.cols),
                      type);
    return buffer(cv::Rect(0, 0, cols, rows));
}

bool TileImage::isDisplay(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i < display.size() && display[i];
    return false;
}

}  // namespace riskmap
