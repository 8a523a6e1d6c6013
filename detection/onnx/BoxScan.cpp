#include "detection/onnx/BoxScan.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "detection/onnx/Nms.hpp"
#include "detection/onnx/WindowCache.hpp"

namespace riskmap::onnx {

namespace {

bool earlier(const Candidate& a, const Candidate& b) {
    return a.window != b.window ? a.window < b.window : a.box.index < b.box.index;
}

class BoxScanner {
public:
    BoxScanner(const TileImage& tile, const ModelRef& m, std::vector<Rejection>* rejected)
        : tw_(tile, m), m_(m), rejected_(rejected), obb_(m.card.head == Head::Yolov8Obb) {}

    std::vector<Detection> run();

private:
    void collect(int ix, int iy);
    void judge(const std::vector<Box>& boxes, const NmsResult& r, const TileWindows::Input& out, int key);
    std::vector<Box> decode(const cv::Mat& tensor, double floor) const;
    std::vector<Detection> decide();
    Detection detection(const Candidate& c) const;
    void reject(const Candidate& c, const char* gate, double value, double limit);

    TileWindows tw_;
    ModelRef m_;
    std::vector<Rejection>* rejected_;
    bool obb_;
    std::vector<Candidate> survivors_;
};

std::vector<Detection> BoxScanner::run() {
    const auto r = tw_.windowsFor(boxNmsReach(m_.settings) + 1);
    for (int iy = r.y0; iy <= r.y1; ++iy)
        for (int ix = r.x0; ix <= r.x1; ++ix) {
            tw_.tile().stopIfCancelled();
            collect(ix, iy);
        }
    std::sort(survivors_.begin(), survivors_.end(), earlier);
    return decide();
}

std::vector<Box> BoxScanner::decode(const cv::Mat& tensor, double floor) const {
    const TensorView tv = viewOf(tensor);
    std::vector<Box> boxes = m_.card.head == Head::Yolov5 ? decodeYolov5(tv, floor) : decodeYolov8(tv, floor, obb_);
    boxes.erase(std::remove_if(boxes.begin(), boxes.end(),
                               [&](const Box& b) {
                                   return !m_.settings.wanted[static_cast<std::size_t>(b.cls)] ||
                                          !withinReach(b, m_.card.width, m_.card.height);
                               }),
                boxes.end());
    return boxes;
}

void BoxScanner::collect(int ix, int iy) {
    const TileWindows::Input in = tw_.input(ix, iy);
    // With --explain, candidates down to the floor, to report near misses.
    const double floor = rejected_ ? std::min(m_.settings.explainFloor, m_.settings.score) : m_.settings.score;
    std::uint64_t variant;
    std::memcpy(&variant, &floor, sizeof variant);
    const auto r = m_.cache->get(in.blob, variant, [&] {
        WindowResult w;
        w.boxes = decode(m_.net.forward(in.blob), floor);
        w.nms = nms(w.boxes, m_.settings.nmsIou, INT_MAX, m_.card.polygonIou);
        return w;
    });
    judge(r->boxes, r->nms, in, tw_.grid().key(ix, iy));
}

// The fate of each box of one window whose centre lies in the window's core.
void BoxScanner::judge(const std::vector<Box>& boxes, const NmsResult& r, const TileWindows::Input& out, int key) {
    const Settings& s = m_.settings;
    const int ix = key % tw_.grid().x.count(), iy = key / tw_.grid().x.count();
    auto candidate = [&](const Box& b, Candidate& c) {
        c.box = b;
        c.box.cx += out.model.x;
        c.box.cy += out.model.y;
        c.window = key;
        c.anchor = tw_.anchor({c.box.cx, c.box.cy});
        return tw_.grid().x.inCore(ix, c.box.cx) && tw_.grid().y.inCore(iy, c.box.cy);
    };
    int rank = 0;
    for (int k : r.keep) {
        Candidate c;
        const bool above = boxes[k].score > s.score;
        rank += above ? 1 : 0;
        if (!candidate(boxes[k], c)) continue;
        const int px = std::clamp(static_cast<int>(std::floor(boxes[k].cx)), 0, out.model.w - 1);
        const int py = std::clamp(static_cast<int>(std::floor(boxes[k].cy)), 0, out.model.h - 1);
        if (!above)
            reject(c, "score_threshold", c.box.score, s.score);
        else if (rank > s.maxDetections)
            reject(c, "max_detections", rank, s.maxDetections);
        else if (!out.valid.at<std::uint8_t>(py, px))
            reject(c, "nodata", 0, 0);
        else
            survivors_.push_back(c);
    }
    for (std::size_t k = 0; k < boxes.size() && rejected_; ++k) {
        Candidate c;
        if (r.suppressedBy[k] >= 0 && boxes[k].score > s.score && candidate(boxes[k], c))
            reject(c, "nms", r.iou[k], s.nmsIou);
    }
}

std::vector<Detection> BoxScanner::decide() {
    std::vector<Detection> out;
    for (std::size_t i = 0; i < survivors_.size(); ++i) {
        const Candidate& c = survivors_[i];
        if (!tw_.tile().owns(c.anchor.x, c.anchor.y)) continue;
        double iou = 0;
        if (!suppressedNearby(survivors_, i, boxNmsReach(m_.settings), m_.settings.nmsIou, m_.card.polygonIou, iou))
            out.push_back(detection(c));
        else
            reject(c, "nms", iou, m_.settings.nmsIou);
    }
    return out;
}

Detection BoxScanner::detection(const Candidate& c) const {
    const Box b = obb_ ? regularised(c.box) : c.box;
    Detection d;
    Polygon p;
    for (const cv::Point2d& q : corners(b)) p.outer.push_back(tw_.toRaster(q));
    d.geometry.parts.push_back(std::move(p));
    d.anchor = c.anchor;
    d.cls = m_.card.classes[static_cast<std::size_t>(b.cls)];
    d.score = b.score;
    const cv::Point2d along(std::cos(b.theta), std::sin(b.theta)), across(-std::sin(b.theta), std::cos(b.theta));
    // Angle of the w side on the ground, clockwise from east on a north-up raster.
    const cv::Point2d ground(along.x * tw_.grid().rs.sx * tw_.tile().gsdX, along.y * tw_.grid().rs.sy * tw_.tile().gsdY);
    double angle = std::atan2(ground.y, ground.x) * 180 / M_PI;
    angle = angle < 0 ? angle + 180 : (angle >= 180 ? angle - 180 : angle);
    d.attributes = {AttributeValue(static_cast<std::int64_t>(b.cls)), AttributeValue(obb_ ? angle : 0.0),
                    AttributeValue(tw_.metres(along * b.w)), AttributeValue(tw_.metres(across * b.h))};
    return d;
}

void BoxScanner::reject(const Candidate& c, const char* gate, double value, double limit) {
    if (!rejected_) return;
    Rejection r;
    r.candidate = detection(c);
    r.candidate.attributes.clear();
    r.gate = gate;
    r.value = value;
    r.limit = limit;
    r.measures = {{"score", c.box.score}, {"class_id", static_cast<double>(c.box.cls)}};
    rejected_->push_back(std::move(r));
}

}  // namespace

bool suppressedNearby(const std::vector<Candidate>& all, std::size_t i, double reach, double iouThreshold, bool polygonIou,
                      double& iou) {
    const Candidate& b = all[i];
    std::vector<Box> near;
    std::size_t self = 0;
    bool contested = false;
    for (std::size_t j = 0; j < all.size(); ++j) {
        const Candidate& o = all[j];
        if (o.box.cls != b.box.cls || std::fabs(o.box.cx - b.box.cx) > reach || std::fabs(o.box.cy - b.box.cy) > reach)
            continue;
        if (j == i) self = near.size();
        near.push_back(o.box);
        // Only a box ahead of it in NMS order can suppress it; without one it survives.
        const bool ahead = o.box.score > b.box.score || (o.box.score == b.box.score && j < i);
        if (ahead && !contested) contested = (polygonIou ? iouRotated(o.box, b.box) : iouAxis(o.box, b.box)) > iouThreshold;
    }
    if (!contested) return false;
    const NmsResult r = nms(near, iouThreshold, INT_MAX, polygonIou);
    iou = r.iou[self];
    return r.suppressedBy[self] >= 0;
}

double boxNmsReach(const Settings& s) { return 2.0 * s.overlap; }

double boxHaloModelPixels(const ModelCard& card, const Settings& s) {
    // A window whose core meets a point reaches at most size - overlap / 2 beyond it; 2 more
    // pixels for the resampling kernel and rounding.
    return boxNmsReach(s) + 1 + std::max(card.width, card.height) - s.overlap / 2.0 + 2;
}

std::vector<Detection> scanBoxes(const TileImage& tile, const ModelRef& model, std::vector<Rejection>* rejected) {
    return BoxScanner(tile, model, rejected).run();
}

}  // namespace riskmap::onnx
