#pragma once
// The model input of one window: the card's bands by name, as reflectance or stored values,
// resampled to the model's GSD, normalised and clipped; model pixels without data (nodata,
// beyond the raster) take the card's pad_value. Every value depends only on global pixel
// positions, so a window's input is the same whichever tile builds it.
#include <opencv2/core.hpp>

#include <vector>

#include "detection/onnx/ModelCard.hpp"
#include "detection/onnx/WindowGrid.hpp"
#include "raster/TileImage.hpp"

namespace riskmap::onnx {

struct WindowInput {
    cv::Mat blob;   // 1 x bands x height x width, CV_32F
    cv::Mat valid;  // height x width, CV_8U: 1 where the model pixel has data
};

// `planes`: the tile plane of each card band. The window's source (WindowGrid::source) must lie
// inside tile.window.
WindowInput buildWindowInput(const TileImage& tile, const ModelCard& card, const std::vector<std::size_t>& planes,
                             const WindowGrid& grid, int ix, int iy);

}  // namespace riskmap::onnx
