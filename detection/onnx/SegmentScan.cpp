#include "detection/onnx/SegmentScan.hpp"

#include <algorithm>
#include <cmath>

#include "detection/imgproc/ComponentExtractor.hpp"
#include "detection/onnx/Decoders.hpp"
#include "detection/onnx/WindowCache.hpp"

namespace riskmap::onnx {

namespace {

// Model pixels whose centres lie in window k's core along one axis: [first, last).
std::pair<int, int> corePixels(const WindowAxis& a, int k) {
    const double lo = a.coreLo[k], hi = a.coreHi[k];
    const int first = std::isinf(lo) ? 0 : static_cast<int>(std::ceil(lo - 0.5));
    const int last = std::isinf(hi) ? a.extent : static_cast<int>(std::ceil(hi - 0.5));
    return {std::max(0, first), std::min(a.extent, last)};
}

int maxLengthPixels(const ModelCard& card, const Settings& s) {
    return static_cast<int>(std::ceil(s.maxLengthM / card.gsd));
}

class SegmentScanner {
public:
    SegmentScanner(const TileImage& tile, const ModelRef& m, std::vector<Rejection>* rejected)
        : tw_(tile, m), m_(m), rejected_(rejected) {}

    std::vector<Detection> run();

private:
    void paint(int ix, int iy);
    void components(int cls, std::vector<Detection>& out);
    Detection detection(const ComponentExtractor& cc, const Component& c, int cls) const;

    TileWindows tw_;
    ModelRef m_;
    std::vector<Rejection>* rejected_;
    Window region_;       // model pixels whose classes this tile knows
    cv::Mat cls_, prob_;  // over region_
};

std::vector<Detection> SegmentScanner::run() {
    const auto r = tw_.windowsFor(maxLengthPixels(m_.card, m_.settings) + 2);
    const int x0 = corePixels(tw_.grid().x, r.x0).first, x1 = corePixels(tw_.grid().x, r.x1).second;
    const int y0 = corePixels(tw_.grid().y, r.y0).first, y1 = corePixels(tw_.grid().y, r.y1).second;
    region_ = Window{x0, y0, x1 - x0, y1 - y0};
    cls_ = cv::Mat(region_.h, region_.w, CV_32S, cv::Scalar(-1));
    prob_ = cv::Mat::zeros(region_.h, region_.w, CV_32F);
    for (int iy = r.y0; iy <= r.y1; ++iy)
        for (int ix = r.x0; ix <= r.x1; ++ix) {
            tw_.tile().stopIfCancelled();
            paint(ix, iy);
        }
    std::vector<Detection> out;
    for (int c = 0; c < static_cast<int>(m_.card.classes.size()); ++c)
        if (c != m_.card.backgroundClass && m_.settings.wanted[static_cast<std::size_t>(c)]) components(c, out);
    return out;
}

// Copies the classes of window (ix, iy)'s core into the region; nodata is background.
void SegmentScanner::paint(int ix, int iy) {
    const TileWindows::Input out = tw_.input(ix, iy);
    const auto r = m_.cache->get(out.blob, 0, [&] {
        WindowResult w;
        w.map = decodeSegment(viewOf(m_.net.forward(out.blob)), m_.card.logits, m_.settings.score, m_.card.backgroundClass);
        return w;
    });
    const ClassMap& map = r->map;
    const auto [cx0, cx1] = corePixels(tw_.grid().x, ix);
    const auto [cy0, cy1] = corePixels(tw_.grid().y, iy);
    for (int y = std::max(cy0, region_.y); y < std::min(cy1, region_.bottom()); ++y)
        for (int x = std::max(cx0, region_.x); x < std::min(cx1, region_.right()); ++x) {
            const int wy = y - out.model.y, wx = x - out.model.x;
            const bool valid = out.valid.at<std::uint8_t>(wy, wx) != 0;
            cls_.at<int>(y - region_.y, x - region_.x) = valid ? map.cls.at<int>(wy, wx) : m_.card.backgroundClass;
            prob_.at<float>(y - region_.y, x - region_.x) = map.prob.at<float>(wy, wx);
        }
}

void SegmentScanner::components(int cls, std::vector<Detection>& out) {
    const cv::Mat mask = cls_ == cls;
    ComponentExtractor cc(mask);
    // The region in model pixels, as a tile: components touching its cut edges are incomplete.
    TileImage frame;
    frame.window = region_;
    frame.rasterWidth = tw_.grid().x.extent;
    frame.rasterHeight = tw_.grid().y.extent;
    ComponentExtractor::Limits lim;
    lim.maxExtentX = lim.maxExtentY = maxLengthPixels(m_.card, m_.settings);
    lim.ownedOnly = false;
    const double pxArea = tw_.metres({1, 0}) * tw_.metres({0, 1});
    lim.minPixels = ComponentExtractor::Limits::pixelsAtLeast(m_.settings.minAreaM2, pxArea);
    std::vector<Component> small;
    const auto complete = cc.complete(frame, lim, rejected_ ? &small : nullptr);
    for (const Component& c : complete)
        if (tw_.tile().owns(tw_.anchor(c.centroid()).x, tw_.anchor(c.centroid()).y)) out.push_back(detection(cc, c, cls));
    for (const Component& c : small) {
        Rejection r;
        r.candidate = detection(cc, c, cls);
        r.candidate.attributes.clear();
        r.gate = "min_area_m2";
        r.value = static_cast<double>(c.pixels) * pxArea;
        r.limit = m_.settings.minAreaM2;
        r.measures = {{"score", r.candidate.score}, {"model_pixels", static_cast<double>(c.pixels)}};
        rejected_->push_back(std::move(r));
    }
}

Detection SegmentScanner::detection(const ComponentExtractor& cc, const Component& c, int cls) const {
    TileImage frame;
    frame.window = region_;
    Detection d;
    d.geometry = cc.outline(c, frame);
    for (Polygon& p : d.geometry.parts) {
        for (cv::Point2d& q : p.outer) q = tw_.toRaster(q);
        for (Ring& h : p.holes)
            for (cv::Point2d& q : h) q = tw_.toRaster(q);
    }
    d.anchor = tw_.anchor(c.centroid());
    d.cls = m_.card.classes[static_cast<std::size_t>(cls)];
    double sum = 0;
    for (const PixelRun* r = cc.runsBegin(c); r != cc.runsEnd(c); ++r)
        for (int x = r->x0; x < r->x1; ++x) sum += prob_.at<float>(r->y, x);
    d.score = sum / static_cast<double>(c.pixels);
    d.attributes = {AttributeValue(static_cast<std::int64_t>(cls)), AttributeValue(0.0),
                    AttributeValue(tw_.metres({static_cast<double>(c.box.width), 0})),
                    AttributeValue(tw_.metres({0, static_cast<double>(c.box.height)}))};
    return d;
}

}  // namespace

double segmentHaloModelPixels(const ModelCard& card, const Settings& s) {
    return maxLengthPixels(card, s) + 2 + 1 + std::max(card.width, card.height) - s.overlap / 2.0 + 2;
}

std::vector<Detection> scanSegments(const TileImage& tile, const ModelRef& model, std::vector<Rejection>* rejected) {
    return SegmentScanner(tile, model, rejected).run();
}

}  // namespace riskmap::onnx
