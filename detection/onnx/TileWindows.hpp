#pragma once
// One tile's view of the model's window grid: which windows it must run to decide everything
// it owns, and running them (input, forward, validity). Shared by the box and segment scans.
#include <opencv2/core.hpp>

#include <vector>

#include "detection/Detection.hpp"
#include "detection/onnx/ModelCard.hpp"
#include "detection/onnx/NetRunner.hpp"
#include "detection/onnx/WindowGrid.hpp"
#include "raster/TileImage.hpp"

namespace riskmap::onnx {

// The card's values with the user's overrides applied.
struct Settings {
    double score = 0.25, nmsIou = 0.45;
    int maxDetections = 300;
    int overlap = 0;            // model pixels
    double explainFloor = 0.05;  // --explain reports candidates scoring above this
    double gsdTolerance = 0.05;
    double minAreaM2 = 0, maxLengthM = 1000;  // segment
    std::vector<bool> wanted;                 // per class
};

class WindowCache;

struct ModelRef {
    const ModelCard& card;
    const NetRunner& net;
    const Settings& settings;
    WindowCache* cache;  // results of windows already run, shared by every tile
};

class TileWindows {
public:
    TileWindows(const TileImage& tile, const ModelRef& model);

    const WindowGrid& grid() const { return grid_; }
    const TileImage& tile() const { return tile_; }
    // Windows whose cores meet the tile's owned area grown by `reach` model pixels.
    struct Range {
        int x0, x1, y0, y1;  // inclusive
    };
    Range windowsFor(double reach) const;

    struct Input {
        cv::Mat blob;   // the model's input
        cv::Mat valid;  // CV_8U per model pixel of the window
        Window model;   // the window in model pixels
    };
    Input input(int ix, int iy) const;
    // The model's raw output for window (ix, iy), uncached.
    cv::Mat run(int ix, int iy) const { return model_.net.forward(input(ix, iy).blob); }

    // Model pixels to raster pixels (both pixel-corner coordinates).
    cv::Point2d toRaster(const cv::Point2d& m) const { return {m.x * grid_.rs.sx, m.y * grid_.rs.sy}; }
    // The raster pixel holding a model point, clamped into the raster so that every centre has
    // an owner.
    cv::Point anchor(const cv::Point2d& m) const;
    // Metres of a vector given in model pixels.
    double metres(const cv::Point2d& v) const;

private:
    const TileImage& tile_;
    ModelRef model_;
    WindowGrid grid_;
    std::vector<std::size_t> planes_;
};

}  // namespace riskmap::onnx
