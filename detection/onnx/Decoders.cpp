#include "detection/onnx/Decoders.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace riskmap::onnx {

namespace {

void requireShape(const TensorView& t, std::size_t dims, const char* head) {
    if (t.shape.size() != dims || t.shape[0] != 1)
        throw DataError(std::string(head) + " output must have " + std::to_string(dims) + " dimensions with batch 1");
}

// argmax over `n` values at stride `step` from `first`; ties go to the lowest index.
std::pair<int, double> best(const TensorView& t, std::size_t first, std::size_t step, int n) {
    int arg = 0;
    double top = t.at(first);
    for (int c = 1; c < n; ++c) {
        const double v = t.at(first + static_cast<std::size_t>(c) * step);
        if (v > top) {
            top = v;
            arg = c;
        }
    }
    return {arg, top};
}

// Finite, with a positive size: NaN or degenerate boxes are dropped.
bool usable(const Box& b) {
    return b.w > 0 && b.h > 0 && std::isfinite(b.cx) && std::isfinite(b.cy) && std::isfinite(b.w) && std::isfinite(b.h) &&
           std::isfinite(b.theta) && std::isfinite(b.score);
}

}  // namespace

bool withinReach(const Box& b, int width, int height) {
    const double w = width, h = height;
    return b.cx > -w && b.cx < 2 * w && b.cy > -h && b.cy < 2 * h && b.w < 4 * w && b.h < 4 * h;
}

std::size_t TensorView::size() const {
    std::size_t n = 1;
    for (int s : shape) n *= static_cast<std::size_t>(s);
    return n;
}

TensorView viewOf(const cv::Mat& tensor) {
    TensorView tv;
    for (int i = 0; i < tensor.dims; ++i) tv.shape.push_back(tensor.size[i]);
    tv.f = tensor.ptr<float>();
    return tv;
}

std::vector<Box> decodeYolov5(const TensorView& t, double threshold) {
    requireShape(t, 3, "yolov5");
    const int rows = t.shape[1], cols = t.shape[2], classes = cols - 5;
    if (classes < 1) throw DataError("yolov5 output needs 5 + C columns");
    std::vector<Box> out;
    for (int n = 0; n < rows; ++n) {
        const std::size_t r = static_cast<std::size_t>(n) * static_cast<std::size_t>(cols);
        const double obj = t.at(r + 4);
        if (!(obj > threshold)) continue;
        const auto [cls, p] = best(t, r + 5, 1, classes);
        const double score = obj * p;
        Box b{t.at(r), t.at(r + 1), t.at(r + 2), t.at(r + 3), 0, cls, score, n};
        if (score > threshold && usable(b)) out.push_back(b);
    }
    return out;
}

std::vector<Box> decodeYolov8(const TensorView& t, double threshold, bool obb) {
    requireShape(t, 3, obb ? "yolov8-obb" : "yolov8");
    const int attrs = t.shape[1], anchors = t.shape[2], classes = attrs - 4 - (obb ? 1 : 0);
    if (classes < 1) throw DataError(obb ? "yolov8-obb output needs 4 + C + 1 rows" : "yolov8 output needs 4 + C rows");
    const std::size_t stride = static_cast<std::size_t>(anchors);
    std::vector<Box> out;
    for (int j = 0; j < anchors; ++j) {
        const std::size_t a = static_cast<std::size_t>(j);
        const auto [cls, score] = best(t, 4 * stride + a, stride, classes);
        if (!(score > threshold)) continue;
        Box b{t.at(a), t.at(stride + a), t.at(2 * stride + a), t.at(3 * stride + a), 0, cls, score, j};
        if (obb) b.theta = t.at(static_cast<std::size_t>(attrs - 1) * stride + a);
        if (usable(b)) out.push_back(b);
    }
    return out;
}

Box regularised(const Box& b) {
    Box r = b;
    if (r.w < r.h) {
        std::swap(r.w, r.h);
        r.theta += M_PI / 2;
    }
    r.theta = std::fmod(r.theta, M_PI);
    if (r.theta < 0) r.theta += M_PI;
    if (r.theta >= M_PI) r.theta -= M_PI;  // fmod rounding guard
    return r;
}

std::array<cv::Point2d, 4> corners(const Box& b) {
    const double c = std::cos(b.theta), s = std::sin(b.theta);
    const cv::Point2d v1(b.w / 2 * c, b.w / 2 * s), v2(-b.h / 2 * s, b.h / 2 * c), ctr(b.cx, b.cy);
    return {ctr + v1 + v2, ctr + v1 - v2, ctr - v1 - v2, ctr - v1 + v2};
}

ClassMap decodeSegment(const TensorView& t, bool logits, double threshold, int background) {
    requireShape(t, 4, "segment");
    const int classes = t.shape[1], h = t.shape[2], w = t.shape[3];
    const std::size_t plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    ClassMap m{cv::Mat(h, w, CV_32S), cv::Mat(h, w, CV_32F)};
    for (std::size_t i = 0; i < plane; ++i) {
        auto [cls, top] = best(t, i, plane, classes);
        if (logits) {
            // softmax of the winner: 1 / sum(exp(x_c - x_max))
            double sum = 0;
            for (int c = 0; c < classes; ++c) sum += std::exp(t.at(static_cast<std::size_t>(c) * plane + i) - top);
            top = 1.0 / sum;
        }
        if (background >= 0 && !(top > threshold)) cls = background;
        m.cls.ptr<int>()[i] = cls;
        m.prob.ptr<float>()[i] = static_cast<float>(top);
    }
    return m;
}

}  // namespace riskmap::onnx
