#pragma once
// Per-pixel segmentation over one tile: each model pixel takes its class from the window whose
// core holds it, so the class map is one global map whatever the tiling. Connected regions of
// each non-background class become exact pixel polygons, kept when the tile sees them whole
// and owns their centroid (as the index detector does), up to max_length_m across.
#include <vector>

#include "detection/Detection.hpp"
#include "detection/onnx/TileWindows.hpp"

namespace riskmap::onnx {

// Model pixels beyond the core a tile must read to see every region it owns whole.
double segmentHaloModelPixels(const ModelCard& card, const Settings& s);

std::vector<Detection> scanSegments(const TileImage& tile, const ModelRef& model, std::vector<Rejection>* rejected);

}  // namespace riskmap::onnx
