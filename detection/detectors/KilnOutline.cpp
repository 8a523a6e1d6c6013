// Step 9 of the kiln detector: the reported polygon, its size and kiln_type. At ~10 m the outline
// is the oriented equivalent rectangle of the body measured on the internal grid; at
// type_max_gsd_m or finer the body is re-segmented at native resolution (ring gaps closed,
// interior filled) so that its outline can tell a zigzag kiln from a bull's trench.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "detection/detectors/KilnParts.hpp"
#include "detection/imgproc/ExactFilters.hpp"

namespace riskmap {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNativeReachM = 120;  // the body lies within a kiln length of its centre
constexpr double kNativeNearM = 60;    // the outline must reach within a body length of the centre
constexpr double kNativeSmoothM = 2;   // removes texture (chimney, brick stacks) but keeps the outline
constexpr double kRingGapM = 8;        // closes gaps in the ring (trenches, the chimney)

int oddWidth(double px) {
    int n = std::max(1, static_cast<int>(std::lround(px)));
    return n % 2 ? n : n + 1;
}

// A window of the tile's native pixels around a kiln.
struct Native {
    int x0 = 0, y0 = 0, w = 0, h = 0;  // tile-local origin and size
    int cx = 0, cy = 0;                // the kiln centre, window pixels
    cv::Mat contrast;                  // CV_64F, 0 where invalid
    cv::Mat valid;                     // CV_8U 0/1
};

Native nativeWindow(const TileImage& t, const cv::Point2d& centre, const KilnDetector::Params& p) {
    Native n;
    const double reach = kNativeReachM + p.backgroundWindow / 2;
    const int rx = static_cast<int>(std::ceil(reach / t.gsdX)), ry = static_cast<int>(std::ceil(reach / t.gsdY));
    const int px = static_cast<int>(std::floor(centre.x)) - t.window.x, py = static_cast<int>(std::floor(centre.y)) - t.window.y;
    n.x0 = std::max(0, px - rx);
    n.y0 = std::max(0, py - ry);
    n.w = std::min(t.window.w, px + rx + 1) - n.x0;
    n.h = std::min(t.window.h, py + ry + 1) - n.y0;
    n.cx = px - n.x0;
    n.cy = py - n.y0;
    return n;
}

// Per native pixel, the raw contrast before smoothing: along the body's chroma direction u
// (colour), else log-brightness in local-SD units, each against the background box.
IntPlane rawContrast(const TileImage& t, Native& n, const kiln::Measured& m, const KilnDetector::Params& p) {
    IntPlane qa(n.w, n.h, true), qb(n.w, n.h, true), mask(n.w, n.h, true);
    n.valid = cv::Mat(n.h, n.w, CV_8U, cv::Scalar(0));
    const double c0 = p.darkOffset * 255.0;
    double gain[3];
    const char* names[3] = {"red", "green", "blue"};
    for (int i = 0; i < 3; ++i) gain[i] = t.isDisplay(names[i]) ? 255.0 : 2.5 * 255.0;
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x) {
            if (!t.valid.at<std::uint8_t>(n.y0 + y, n.x0 + x)) continue;
            double v[3];
            for (int i = 0; i < 3; ++i)
                v[i] = kiln::displayLevel(gain[i], t.band(names[i]).at<float>(n.y0 + y, n.x0 + x)) +
                       c0;
            const double a = std::log(v[0] / v[1]), b = std::log(v[0] / v[2]), L = std::log((v[0] + v[1] + v[2]) / 3.0);
            qa.at(x, y) = toFixed(m.c.colour ? a / std::sqrt(2.0) : L);
            qb.at(x, y) = toFixed(m.c.colour ? (2.0 * b - a) / std::sqrt(6.0) : L * L);
            mask.at(x, y) = 1;
            n.valid.at<std::uint8_t>(y, x) = 1;
        }
    const int kx = oddWidth(p.backgroundWindow / t.gsdX), ky = oddWidth(p.backgroundWindow / t.gsdY);
    const IntPlane sa = boxSum(qa, kx, ky), sb = boxSum(qb, kx, ky), sm = boxSum(mask, kx, ky);
    const double nu = std::max(std::hypot(m.u1, m.u2), 1e-9);
    IntPlane out(n.w, n.h, true);
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (!mask.v[k]) continue;
        const double cnt = static_cast<double>(sm.v[k]) * kFixedOne;
        const double ma = static_cast<double>(sa.v[k]) / cnt, mb = static_cast<double>(sb.v[k]) / cnt;
        const double a = static_cast<double>(qa.v[k]) / kFixedOne, b = static_cast<double>(qb.v[k]) / kFixedOne;
        const double c = m.c.colour ? ((a - ma) * m.u1 + (b - mb) * m.u2) / nu
                                    : (a - ma) / std::sqrt(std::max(mb - ma * ma, p.sdFloor * p.sdFloor));
        out.v[k] = toFixed(c);
    }
    return out;
}

// The native contrast, smoothed at 2 m with a masked Gaussian.
void nativeContrast(const TileImage& t, Native& n, const kiln::Measured& m, const KilnDetector::Params& p) {
    const IntPlane raw = rawContrast(t, n, m, p);
    IntPlane mask(n.w, n.h, true);
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x) mask.at(x, y) = n.valid.at<std::uint8_t>(y, x);
    const double sx = std::max(1.0, kNativeSmoothM / t.gsdX), sy = std::max(1.0, kNativeSmoothM / t.gsdY);
    const IntPlane num = gaussianSum(raw, sx, sy), den = gaussianSum(mask, sx, sy);
    n.contrast = cv::Mat(n.h, n.w, CV_64F, cv::Scalar(0));
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x)
            if (mask.at(x, y) && den.at(x, y))
                n.contrast.at<double>(y, x) = static_cast<double>(num.at(x, y)) / static_cast<double>(den.at(x, y)) / kFixedOne;
}

bool nearCentre(const Native& n, const TileImage& t, int x, int y) {
    const double dx = (x - n.cx) * t.gsdX, dy = (y - n.cy) * t.gsdY;
    return dx * dx + dy * dy <= kNativeNearM * kNativeNearM;
}

// The level that separates the body: half the peak contrast near the centre along the body's
// chroma direction (as the 10 m chroma body), or the colour-free half-way brightness level.
bool nativeLevel(const Native& n, const TileImage& t, const kiln::Measured& m, double& level) {
    if (!m.c.colour) {
        level = m.halfLevel;
        return true;
    }
    double peak = -1e300;
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x)
            if (n.valid.at<std::uint8_t>(y, x) && nearCentre(n, t, x, y)) peak = std::max(peak, n.contrast.at<double>(y, x));
    level = 0.5 * peak;
    return peak > 0;
}

// The largest component of {contrast >= level} reaching near the centre, ring gaps closed and
// interior filled, as global pixels. False when there is none.
bool nativeBody(const TileImage& t, const Native& n, double level, std::vector<cv::Point>& pts, bool& touches) {
    cv::Mat mask = (n.contrast >= level) & n.valid;
    const int crx = std::max(1, static_cast<int>(std::lround(kRingGapM / t.gsdX)));
    const int cry = std::max(1, static_cast<int>(std::lround(kRingGapM / t.gsdY)));
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * crx + 1, 2 * cry + 1)));
    cv::Mat labels, stats, cents;
    cv::connectedComponentsWithStats(mask, labels, stats, cents, 8, CV_32S);
    int best = 0, bestArea = 0;
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x) {
            const int l = labels.at<int>(y, x);
            if (l && nearCentre(n, t, x, y) && stats.at<int>(l, cv::CC_STAT_AREA) > bestArea) {
                best = l;
                bestArea = stats.at<int>(l, cv::CC_STAT_AREA);
            }
        }
    if (!best) return false;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(cv::Mat(labels == best), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::Mat filled(n.h, n.w, CV_8U, cv::Scalar(0));
    cv::drawContours(filled, contours, -1, cv::Scalar(255), cv::FILLED);
    pts.clear();
    touches = false;
    for (int y = 0; y < n.h; ++y)
        for (int x = 0; x < n.w; ++x) {
            if (!filled.at<std::uint8_t>(y, x)) continue;
            pts.emplace_back(x + n.x0 + t.window.x, y + n.y0 + t.window.y);
            touches |= x == 0 || y == 0 || x == n.w - 1 || y == n.h - 1;
        }
    return !pts.empty();
}

// The oriented equivalent rectangle on the moment axes, around a centre in pixel-corner coordinates.
Polygon rectangle(const TileImage& t, double cx, double cy, double length, double width, double angle) {
    const double ca = std::cos(angle), sa = std::sin(angle), hl = length / 2, hw = width / 2;
    Polygon poly;
    for (auto [u, v] : {std::pair{1, 1}, std::pair{-1, 1}, std::pair{-1, -1}, std::pair{1, -1}}) {
        const double mx = u * hl * ca - v * hw * sa;  // metres along image x
        const double my = u * hl * sa + v * hw * ca;  // metres along image y
        poly.outer.emplace_back(cx + mx / t.gsdX, cy + my / t.gsdY);
    }
    return poly;
}

}  // namespace

KilnDetector::Shape KilnDetector::measureShape(const std::vector<cv::Point>& pts, double gx, double gy) {
    Shape s;
    const double n = static_cast<double>(pts.size());
    if (pts.empty()) return s;
    double mx = 0, my = 0;
    for (const auto& p : pts) {
        mx += p.x;
        my += p.y;
    }
    mx /= n;
    my /= n;
    double sxx = 0, syy = 0, sxy = 0;
    for (const auto& p : pts) {
        const double dx = (p.x - mx) * gx, dy = (p.y - my) * gy;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    const double denom = pts.size() > 1 ? n - 1 : 1;
    // Each pixel is a square, not a point: add its own spread (variance of a uniform: side^2/12).
    const double a = sxx / denom + gx * gy / 12.0, c = syy / denom + gx * gy / 12.0, b = sxy / denom;
    const double mid = (a + c) / 2, rad = std::sqrt((a - c) * (a - c) / 4 + b * b);
    s.length = 4 * std::sqrt(std::max(mid + rad, 1e-6));
    s.width = 4 * std::sqrt(std::max(mid - rad, 1e-6));
    s.angle = 0.5 * std::atan2(2 * b, a - c);
    s.area = n * gx * gy;
    s.cx = mx;
    s.cy = my;
    std::vector<cv::Point2f> metric;
    metric.reserve(pts.size());
    for (const auto& p : pts)
        metric.emplace_back(static_cast<float>((p.x - pts[0].x) * gx), static_cast<float>((p.y - pts[0].y) * gy));
    cv::RotatedRect r = cv::minAreaRect(metric);
    // minAreaRect spans pixel centres; add a pixel to cover pixel extents.
    s.fill = s.area / std::max((r.size.width + gx) * (r.size.height + gy), 1e-9);
    return s;
}

std::pair<std::string, double> KilnDetector::classify(const Shape& s, double gsd, bool touchesEdge, double typeMaxGsd) {
    if (touchesEdge) return {"unknown", 0.0};
    const double elong = s.length / std::max(s.width, 1e-9);
    if (gsd > typeMaxGsd) {
        // At ~10 m only compact versus elongated is (weakly) measurable: a simulation gives at
        // best 0.79 balanced accuracy for fcbk against zigzag.
        if (elong < 1.2) return {"circular", 0.3};
        return {"unknown", 0.0};
    }
    if (elong < 1.3) return {"circular", 0.8};
    // A sharp-cornered rectangle (zigzag) fills its minimum rectangle more than a stadium
    // (bull's trench) does; the threshold drifts with blur (simulated at 0.5-5 m).
    const double thr = 0.93 - 0.016 * gsd;
    const double conf = std::min(1.0, std::fabs(s.fill - thr) / 0.03);
    return {s.fill >= thr ? "zigzag" : "fcbk", conf};
}

namespace kiln {

namespace {

// The body re-segmented at native resolution; false when no outline is found.
bool nativeShape(const TileImage& t, const Measured& m, const KilnDetector::Params& p, KilnDetector::Shape& s, bool& touches) {
    Native n = nativeWindow(t, m.c.centre, p);
    if (n.w < 3 || n.h < 3) return false;
    nativeContrast(t, n, m, p);
    double level = 0;
    std::vector<cv::Point> fine;
    if (!nativeLevel(n, t, m, level) || !nativeBody(t, n, level, fine, touches)) return false;
    s = KilnDetector::measureShape(fine, t.gsdX, t.gsdY);
    return true;
}

}  // namespace

Outline outline(const TileImage& t, const Grid& g, const Measured& m, const KilnDetector::Params& p) {
    Outline o;
    const double gsd = std::max(t.gsdX, t.gsdY);
    KilnDetector::Shape s;
    s.length = m.c.length;
    s.width = m.c.width;
    s.angle = m.c.angle;
    double cx = m.c.centre.x, cy = m.c.centre.y;
    o.touches = m.touches;
    o.type = "unknown";
    if (gsd > p.typeMaxGsd) {
        std::tie(o.type, o.typeConfidence) = KilnDetector::classify(s, gsd, o.touches, p.typeMaxGsd);
    } else {
        // Fine pixels show the outline: measure and type the kiln at native resolution.
        bool fineTouches = false;
        if (nativeShape(t, m, p, s, fineTouches)) {
            cx = s.cx + 0.5;
            cy = s.cy + 0.5;
            o.touches = o.touches || fineTouches;
            std::tie(o.type, o.typeConfidence) = KilnDetector::classify(s, gsd, o.touches, p.typeMaxGsd);
        }
    }
    o.length = s.length;
    o.width = s.width;
    // A body of one pixel is drawn as that pixel, never as a zero-area polygon.
    o.polygon = rectangle(t, cx, cy, std::max(s.length, g.gx), std::max(s.width, g.gy), s.angle);
    // Azimuth clockwise from north of the long axis (image x east, y south).
    o.azimuth = std::fmod(std::atan2(std::cos(s.angle), -std::sin(s.angle)) * 180.0 / kPi + 360.0, 180.0);
    return o;
}

}  // namespace kiln

}  // namespace riskmap
