#pragma once
// Where a scan actually saw data: valid-pixel counts per coverage cell of 32 x 32 pixels. Each
// tile counts the cells its core touches; summed over tiles they give, per input, what was
// scanned, so that risk grids can tell "nothing found" from "not looked at" and nodata gaps can
// be drawn. 32 pixels keeps the record small (a 40000-pixel-wide scene has 1250 cells a row).
#include <cstdint>
#include <vector>

#include "raster/Window.hpp"

namespace cv {
class Mat;
}

namespace riskmap {

constexpr int kCoverageCell = 32;

struct TileCoverage {
    int cx0 = 0, cy0 = 0;  // first cell (global pixel / kCoverageCell)
    int ncx = 0, ncy = 0;
    std::vector<std::uint32_t> valid;  // valid pixels of the core in each cell, row-major

    // Counts `valid` (CV_8U, the tile window) over `core`; `window` is the mask's placement.
    static TileCoverage count(const cv::Mat& valid, const Window& window, const Window& core);
    // The cells a core touches, with no counts: what a tile's record must cover.
    static TileCoverage cellsOf(const Window& core);
};

// The coverage of one input: valid pixels per cell.
class CoverageMap {
public:
    CoverageMap() = default;
    CoverageMap(int rasterWidth, int rasterHeight);
    // Adds a tile's counts; throws DataError when they fall outside the raster or exceed what a
    // cell can hold (a damaged journal record).
    void add(const TileCoverage& t);
    int columns() const { return cols_; }
    int rows() const { return rows_; }
    std::uint32_t valid(int cx, int cy) const { return cells_[static_cast<std::size_t>(cy) * cols_ + cx]; }
    // Pixels a cell spans (less at the raster's right and bottom edges).
    std::uint32_t capacity(int cx, int cy) const;

private:
    int width_ = 0, height_ = 0, cols_ = 0, rows_ = 0;
    std::vector<std::uint32_t> cells_;
};

}  // namespace riskmap
