#include "raster/TileImage.hpp"

#include "core/Error.hpp"

namespace riskmap {

bool TileImage::has(const std::string& name) const {
    for (const auto& n : names)
        if (n == name) return true;
    return false;
}

const cv::Mat& TileImage::band(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return planes[i];
    throw Error("band '" + name + "' was not read for this tile (a detector bug: declare it in "
                "the detector's band request)");
}

cv::Mat reuseBuffer(cv::Mat& buffer, int rows, int cols, int type) {
    if (buffer.empty() || buffer.type() != type || buffer.rows < rows || buffer.cols < cols)
        buffer.create(std::max(rows, buffer.empty() || buffer.type() != type ? 0 : buffer.rows),
                      std::max(cols, buffer.empty() || buffer.type() != type ? 0 : buffer.cols), type);
    return buffer(cv::Rect(0, 0, cols, rows));
}

bool TileImage::isDisplay(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i < display.size() && display[i];
    return false;
}

}  // namespace riskmap
