#pragma once
// IoU and greedy class-aware NMS as tests/models/README.md specifies: stable sort by score
// (equal scores keep input order), a kept box suppresses later boxes of its class whose IoU is
// strictly above the threshold, then at most maxDetections are kept.
#include <vector>

#include "detection/onnx/Decoders.hpp"

namespace riskmap::onnx {

// Axis-aligned IoU of (cx, cy, w, h) boxes, continuous areas (no +1).
double iouAxis(const Box& a, const Box& b);
// Exact IoU of two rotated rectangles: their polygons' intersection by GEOS.
double iouRotated(const Box& a, const Box& b);

struct NmsResult {
    std::vector<int> keep;  // indices into the boxes, in output order (score descending)
    // Per box: -1 kept, -2 cut by maxDetections, else the index of the box that suppressed it.
    std::vector<int> suppressedBy;
    std::vector<double> iou;  // per suppressed box: its IoU with the suppressor
};

NmsResult nms(const std::vector<Box>& boxes, double iouThreshold, int maxDetections, bool polygonIou);

}  // namespace riskmap::onnx
