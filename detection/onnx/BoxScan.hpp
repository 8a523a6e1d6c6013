#pragma once
// Box heads (YOLOv5, YOLOv8/YOLO11, OBB) over one tile. Each window is decoded and NMS-ed on
// its own, as the reference does, and keeps what lies in its core. Across windows, a box the
// tile owns is then decided by greedy NMS over the same-class boxes whose centres lie within
// `reach` model pixels (2 x the overlap) of its own: a rule that looks only that far is the
// same for every tiling, and gives the global NMS result whenever chains of suppression
// (A suppresses B, which would have suppressed C) stay within that reach.
#include <vector>

#include "detection/Detection.hpp"
#include "detection/onnx/Decoders.hpp"
#include "detection/onnx/TileWindows.hpp"

namespace riskmap::onnx {

// A box a window kept, in global model pixels.
struct Candidate {
    Box box;
    int window = 0;  // WindowGrid::key
    cv::Point anchor;  // raster pixel of its centre
};

// Whether candidate i of `all` (sorted in global order: window, then tensor index) loses the
// greedy class-aware NMS over the candidates of its class whose centres lie within `reach` of
// its own; `iou` gets its IoU with the box that beat it.
bool suppressedNearby(const std::vector<Candidate>& all, std::size_t i, double reach, double iouThreshold, bool polygonIou,
                      double& iou);

// How far (model pixels) beyond the owned area the NMS of an owned box looks.
double boxNmsReach(const Settings& s);
// How far (model pixels) beyond the core a tile must read: every window whose core meets the
// NMS reach, whole.
double boxHaloModelPixels(const ModelCard& card, const Settings& s);

std::vector<Detection> scanBoxes(const TileImage& tile, const ModelRef& model, std::vector<Rejection>* rejected);

}  // namespace riskmap::onnx
