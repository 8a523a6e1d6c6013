#include "tiling/Coverage.hpp"

#include <opencv2/core.hpp>

#include <algorithm>

#include "core/Error.hpp"

namespace riskmap {

TileCoverage TileCoverage::cellsOf(const Window& core) {
    TileCoverage t;
    const int c = kCoverageCell;
    t.cx0 = core.x / c;
    t.cy0 = core.y / c;
    t.ncx = (core.right() - 1) / c - t.cx0 + 1;
    t.ncy = (core.bottom() - 1) / c - t.cy0 + 1;
    return t;
}

TileCoverage TileCoverage::count(const cv::Mat& valid, const Window& window, const Window& core) {
    const int c = kCoverageCell;
    TileCoverage t = cellsOf(core);
    t.valid.assign(static_cast<std::size_t>(t.ncx) * t.ncy, 0);
    for (int y = core.y; y < core.bottom(); ++y) {
        const std::uint8_t* row = valid.ptr<std::uint8_t>(y - window.y);
        std::uint32_t* cells = &t.valid[static_cast<std::size_t>(y / c - t.cy0) * t.ncx];
        // Cell by cell, with a branch-free inner loop the compiler vectorises (this runs over
        // every pixel of every tile).
        for (int x0 = core.x; x0 < core.right();) {
            const int x1 = std::min(core.right(), (x0 / c + 1) * c);
            const std::uint8_t* p = row + (x0 - window.x);
            std::uint32_t n = 0;
            for (int i = 0; i < x1 - x0; ++i) n += p[i] != 0;
            cells[x0 / c - t.cx0] += n;
            x0 = x1;
        }
    }
    return t;
}

CoverageMap::CoverageMap(int w, int h)
    : width_(w),
      height_(h),
      cols_((w + kCoverageCell - 1) / kCoverageCell),
      rows_((h + kCoverageCell - 1) / kCoverageCell),
      cells_(static_cast<std::size_t>(cols_) * rows_, 0) {}

void CoverageMap::add(const TileCoverage& t) {
    if (t.cx0 < 0 || t.cy0 < 0 || t.ncx < 0 || t.ncy < 0 || t.cx0 > cols_ - t.ncx || t.cy0 > rows_ - t.ncy ||
        t.valid.size() != static_cast<std::size_t>(t.ncx) * static_cast<std::size_t>(t.ncy))
        throw DataError("a coverage record lies outside its raster (a damaged journal?)");
    for (int j = 0; j < t.ncy; ++j)
        for (int i = 0; i < t.ncx; ++i) {
            const std::uint32_t v = t.valid[static_cast<std::size_t>(j) * t.ncx + i];
            std::uint32_t& cell = cells_[static_cast<std::size_t>(t.cy0 + j) * cols_ + (t.cx0 + i)];
            if (v > capacity(t.cx0 + i, t.cy0 + j) - cell) throw DataError("a coverage record counts more pixels than its cell holds (a damaged journal?)");
            cell += v;
        }
}

std::uint32_t CoverageMap::capacity(int cx, int cy) const {
    const int w = std::min(kCoverageCell, width_ - cx * kCoverageCell);
    const int h = std::min(kCoverageCell, height_ - cy * kCoverageCell);
    return static_cast<std::uint32_t>(std::max(0, w) * std::max(0, h));
}

}  // namespace riskmap
