#pragma once
// Decoding of the raw output tensors of YOLOv5, YOLOv8/YOLO11 (axis-aligned and OBB) and
// per-pixel segmentation heads, exactly as tests/models/reference_decode.py specifies: box
// decoding is already in the graph, so the runtime reads centres and sizes in input pixels.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

namespace riskmap::onnx {

// A tensor as laid out by ONNX (row-major, batch first), float (from the net) or double (tests).
struct TensorView {
    std::vector<int> shape;
    const float* f = nullptr;
    const double* d = nullptr;

    double at(std::size_t i) const { return f ? static_cast<double>(f[i]) : d[i]; }
    std::size_t size() const;
};

// A view of a CV_32F tensor from OpenCV DNN (which must outlive the view).
TensorView viewOf(const cv::Mat& tensor);

// A decoded box in input-tensor pixels (x right, y down, origin at the top-left pixel corner).
struct Box {
    double cx = 0, cy = 0, w = 0, h = 0;
    double theta = 0;  // radians; the w side points along (cos theta, sin theta); 0 unless OBB
    int cls = 0;
    double score = 0;
    int index = 0;  // row (yolov5) or column (yolov8) in the tensor
};

// Candidates passing the score rule (strict '>'), in tensor order; w <= 0 or h <= 0 dropped.
// yolov5 [1, N, 5 + C]: score = obj * p_best, needs obj > thr and score > thr.
std::vector<Box> decodeYolov5(const TensorView& t, double threshold);
// yolov8 [1, 4 + C, N] or, with obb, [1, 4 + C + 1, N] (angle last): score = p_best.
std::vector<Box> decodeYolov8(const TensorView& t, double threshold, bool obb);

// A box a window of width x height could have seen: centred within its neighbours, at most four
// windows long. One at cx = 1e30 failed the whole scan at the coordinate transformation (an audit).
bool withinReach(const Box& b, int width, int height);

// Long-edge form of the same rectangle: w >= h, theta in [0, pi).
Box regularised(const Box& b);
// Corners p1..p4 as Ultralytics' xywhr2xyxyxyxy: p1 = c + v1 + v2, p2 = c + v1 - v2,
// p3 = c - v1 - v2, p4 = c - v1 + v2 with v1 = w/2 (cos t, sin t), v2 = h/2 (-sin t, cos t).
std::array<cv::Point2d, 4> corners(const Box& b);

// Per-pixel classes of a [1, C, H, W] output: argmax over C (ties to the lowest index, softmax
// first for logits); a pixel whose winning probability is <= threshold takes `background`
// (none when < 0).
struct ClassMap {
    cv::Mat cls;   // CV_32S, H x W
    cv::Mat prob;  // CV_32F, winning probability
};
ClassMap decodeSegment(const TensorView& t, bool logits, double threshold, int background);

}  // namespace riskmap::onnx
