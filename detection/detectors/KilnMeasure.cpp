// Steps 4 and 5 of the kiln detector (research/kiln/REPORT.md): candidate peaks, and everything
// measured around each one inside a disk of window_m (the bright complex, a yard template, the
// kiln body with and without colour, NDVI and NDBI). Lengths are metres, contrasts local-SD units.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "detection/detectors/KilnParts.hpp"

namespace riskmap::kiln {

namespace {

// Feature definitions of the fitted model (REPORT.md section 2); changing them would change what
// the coefficients mean, so they are constants rather than options.
constexpr double kNearComplexM = 60;   // the complex is the bright region within a body length of the peak
constexpr double kNearBlobM = 30;      // the body blob starts within half a body width of the peak
constexpr double kYardInM = 90;        // mean kiln profile: bright yard out to ~100 m ...
constexpr double kSurroundInM = 160;   // ... darker surround beyond 160 m
constexpr double kSurroundOutM = 250;
constexpr double kHomogM = 60;         // yard homogeneity radius
constexpr double kBodyMarginM = 40;    // the body sits in or at the edge of the complex ...
constexpr double kBodySearchM = 150;   // ... within a yard's size of the peak
constexpr double kYardGapM = 40;       // the yard, for the body's chroma contrast to it, excludes the body
constexpr double kChromaBodyM = 120;   // the chroma body lies within a kiln length of the body pixel
constexpr double kChromaSeedM = 10;
constexpr double kBodyLenM = 130, kBodyWidM = 80;  // 100-150 x 40-60 m body blurred by 20 m smoothing
constexpr double kBlobLenM = 75, kBlobWidM = 50;   // half-way brightness blob of a body (dev medians 74 x 52)
constexpr double kMsRadiusM = 30;      // NDVI / NDBI averaged within half a body width

constexpr double kPi = 3.14159265358979323846;

using Mask = std::vector<std::uint8_t>;

// The analysis square around a peak, clipped to the grid; masks and values are window-sized.
struct Win {
    const Grid* g = nullptr;
    int x0 = 0, y0 = 0, w = 0, h = 0;  // grid origin and size
    int cx = 0, cy = 0;                // peak, window coordinates
    std::vector<double> d0;            // metres to the peak
    Mask valid;
    std::size_t gi(std::size_t k) const {
        return g->idx(x0 + static_cast<int>(k % static_cast<std::size_t>(w)), y0 + static_cast<int>(k / static_cast<std::size_t>(w)));
    }
    std::size_t at(int i, int j) const { return static_cast<std::size_t>(j) * static_cast<std::size_t>(w) + static_cast<std::size_t>(i); }
    std::size_t size() const { return d0.size(); }
    // Metres from pixel k to window position (px, py), as the prototype computes it.
    double dist(std::size_t k, double px, double py) const {
        const double dx = (static_cast<double>(k % static_cast<std::size_t>(w)) - px) * g->gx;
        const double dy = (static_cast<double>(k / static_cast<std::size_t>(w)) - py) * g->gy;
        return std::sqrt(dx * dx + dy * dy);
    }
    std::vector<double> take(const std::vector<float>& plane) const {
        std::vector<double> out(size());
        for (std::size_t k = 0; k < size(); ++k) out[k] = plane[gi(k)];
        return out;
    }
    Mask within(double metres, double px, double py, bool validOnly) const {
        Mask m(size(), 0);
        for (std::size_t k = 0; k < size(); ++k) m[k] = dist(k, px, py) <= metres && (!validOnly || valid[k]);
        return m;
    }
};

Win window(const Grid& g, const Peak& pk, double radius) {
    Win w;
    w.g = &g;
    const int rx = static_cast<int>(std::ceil(radius / g.gx)), ry = static_cast<int>(std::ceil(radius / g.gy));
    w.x0 = std::max(0, pk.x - rx);
    w.y0 = std::max(0, pk.y - ry);
    w.w = std::min(g.w, pk.x + rx + 1) - w.x0;
    w.h = std::min(g.h, pk.y + ry + 1) - w.y0;
    w.cx = pk.x - w.x0;
    w.cy = pk.y - w.y0;
    w.d0.resize(static_cast<std::size_t>(w.w) * static_cast<std::size_t>(w.h));
    w.valid.resize(w.d0.size());
    for (std::size_t k = 0; k < w.size(); ++k) {
        w.d0[k] = w.dist(k, w.cx, w.cy);
        w.valid[k] = g.valid[w.gi(k)];
    }
    return w;
}

Mask both(const Mask& a, const Mask& b) {
    Mask m(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) m[k] = a[k] && b[k];
    return m;
}

std::size_t count(const Mask& m) { return static_cast<std::size_t>(std::count(m.begin(), m.end(), 1)); }

// 8-connected labels of `set` numbered in raster order of each component's first pixel.
std::vector<int> labels(const Mask& set, int w, int h, int& n) {
    std::vector<int> lab(set.size(), 0), stack;
    n = 0;
    for (std::size_t s = 0; s < set.size(); ++s) {
        if (!set[s] || lab[s]) continue;
        lab[s] = ++n;
        stack.assign(1, static_cast<int>(s));
        while (!stack.empty()) {
            const int k = stack.back();
            stack.pop_back();
            const int x = k % w, y = k / w;
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    const auto q = static_cast<std::size_t>(yy * w + xx);
                    if (set[q] && !lab[q]) {
                        lab[q] = n;
                        stack.push_back(static_cast<int>(q));
                    }
                }
        }
    }
    return lab;
}

// The component of {a >= level} & allowed holding the seed; when the seed is below the level,
// the one with most pixels in `near` (ties: first in raster order). Empty when there is none.
Mask region(const Win& w, const std::vector<double>& a, std::size_t seed, double level, const Mask& allowed,
            const Mask& near) {
    Mask set(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) set[k] = a[k] >= level && allowed[k];
    int n = 0;
    const std::vector<int> lab = labels(set, w.w, w.h, n);
    int pick = lab[seed];
    if (!pick) {
        std::vector<int> hits(static_cast<std::size_t>(n) + 1, 0);
        for (std::size_t k = 0; k < w.size(); ++k)
            if (near[k] && lab[k]) ++hits[static_cast<std::size_t>(lab[k])];
        for (int l = 1; l <= n; ++l)
            if (hits[static_cast<std::size_t>(l)] > (pick ? hits[static_cast<std::size_t>(pick)] : 0)) pick = l;
    }
    if (!pick) return {};
    Mask out(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) out[k] = lab[k] == pick;
    return out;
}

// Moment axes of a pixel set in metres (as KilnDetector::measureShape), centroid in window pixels.
struct Moments {
    double length = 0, width = 0, angle = 0, mx = 0, my = 0;
    std::size_t n = 0;
};

Moments moments(const Mask& m, int w, double gx, double gy) {
    Moments r;
    double sx = 0, sy = 0;
    for (std::size_t k = 0; k < m.size(); ++k)
        if (m[k]) {
            ++r.n;
            sx += static_cast<double>(k % static_cast<std::size_t>(w));
            sy += static_cast<double>(k / static_cast<std::size_t>(w));
        }
    if (!r.n) return r;
    const double n = static_cast<double>(r.n);
    r.mx = sx / n;
    r.my = sy / n;
    double a = 0, b = 0, c = 0;
    for (std::size_t k = 0; k < m.size(); ++k)
        if (m[k]) {
            const double dx = (static_cast<double>(k % static_cast<std::size_t>(w)) - r.mx) * gx;
            const double dy = (static_cast<double>(k / static_cast<std::size_t>(w)) - r.my) * gy;
            a += dx * dx;
            c += dy * dy;
            b += dx * dy;
        }
    const double den = std::max(n - 1, 1.0);
    // Each pixel is a square, not a point: add its own spread (side^2 / 12).
    a = a / den + gx * gy / 12;
    c = c / den + gx * gy / 12;
    b /= den;
    const double mid = (a + c) / 2, rad = std::sqrt((a - c) * (a - c) / 4 + b * b);
    r.length = 4 * std::sqrt(std::max(mid + rad, 1e-6));
    r.width = 4 * std::sqrt(std::max(mid - rad, 1e-6));
    r.angle = 0.5 * std::atan2(2 * b, a - c);
    return r;
}

// Distance in log space of a blob's size from a kiln's; 3 (= 20x off) when there is no blob.
double misfit(double length, double width, double l0, double w0) {
    if (length <= 0 || width <= 0) return 3.0;
    return std::min(3.0, std::hypot(std::log(length / l0), std::log(width / w0)));
}

struct Stats {
    double mean = 0, sd = 0;
    std::size_t n = 0;
};

// Mean and population SD of `a` over a mask (two passes, as numpy).
Stats stats(const std::vector<double>& a, const Mask& m) {
    Stats s;
    double sum = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (m[k]) {
            sum += a[k];
            ++s.n;
        }
    if (!s.n) return s;
    s.mean = sum / static_cast<double>(s.n);
    double ss = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (m[k]) ss += (a[k] - s.mean) * (a[k] - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n));
    return s;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const std::size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
    if (v.size() % 2) return v[h];
    const double hi = v[h];
    return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)) + hi) / 2;
}

// Shape of the complex: fill of its minimum-area rectangle and solidity against its convex hull,
// both with pixel centres grown by half a pixel.
void complexShape(const Win& w, const Mask& reg, std::vector<double>& f) {
    const double gx = w.g->gx, gy = w.g->gy;
    std::vector<cv::Point2f> pts;
    for (std::size_t k = 0; k < reg.size(); ++k)
        if (reg[k])
            pts.emplace_back(static_cast<float>(static_cast<double>(k % static_cast<std::size_t>(w.w)) * gx),
                             static_cast<float>(static_cast<double>(k / static_cast<std::size_t>(w.w)) * gy));
    const double area = static_cast<double>(pts.size()) * gx * gy;
    f[CFill] = f[CSolid] = 1.0;
    if (pts.size() < 3) return;
    const cv::RotatedRect rect = cv::minAreaRect(pts);
    f[CFill] = std::min(1.0, area / std::max((rect.size.width + gx) * (rect.size.height + gy), 1e-9));
    std::vector<cv::Point2f> hull;
    cv::convexHull(pts, hull);
    const double ha = cv::contourArea(hull) + (gx + gy) / 2 * cv::arcLength(hull, true) / 2 + gx * gy;
    f[CSolid] = std::min(1.0, area / ha);
}

// Everything a candidate's measurement shares between its steps.
struct Ctx {
    const Grid& g;
    const KilnDetector::Params& p;
    const Peak& pk;
    Win w;
    std::vector<double> z, zs;
    Mask inwin, reg;
    std::size_t peak = 0, body = 0;
    Moments shape;        // the reported body
    Mask shapeMask;       // its pixels (empty: the body pixel alone)
    double u1 = 0, u2 = 0, halfLevel = 0;
    std::vector<double> f = std::vector<double>(kFeatureCount, 0.0);
};

// 5a: the bright complex (kiln plus drying yard): z >= region_sd, 8-connected to the peak.
void measureComplex(Ctx& c) {
    const Win& w = c.w;
    const double gx = c.g.gx, gy = c.g.gy, R = c.p.window;
    c.reg = region(w, c.z, c.peak, c.p.regionSd, c.inwin, w.within(kNearComplexM, w.cx, w.cy, true));
    if (c.reg.empty()) {
        c.reg.assign(w.size(), 0);
        c.reg[c.peak] = 1;
    }
    const Moments m = moments(c.reg, w.w, gx, gy);
    auto& f = c.f;
    f[CArea] = static_cast<double>(m.n) * gx * gy / 1e4;
    f[LnArea] = std::log(std::max(f[CArea], 0.01));
    f[CLen] = m.length;
    f[CWid] = m.width;
    f[CElong] = m.length / std::max(m.width, 1e-6);
    complexShape(w, c.reg, f);
    Mask rim(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) rim[k] = c.inwin[k] && w.d0[k] > R - 1.5 * std::max(gx, gy);
    f[COpen] = static_cast<double>(count(both(c.reg, rim))) / static_cast<double>(std::max<std::size_t>(count(rim), 1));
    const Stats s = stats(c.z, c.reg);
    f[CZin] = s.mean;
    f[CTex] = s.sd;
    f[ValidFrac] = std::min(1.0, static_cast<double>(count(c.inwin)) * gx * gy / (kPi * R * R));
    f[BDist] = std::hypot((w.cx - m.mx) * gx, (w.cy - m.my) * gy);
}

// 5b: yard template about the peak, a bright disk against a darker ring, and its homogeneity.
void measureYard(Ctx& c) {
    const Win& w = c.w;
    Mask in(w.size()), out(w.size()), homog(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) {
        in[k] = w.d0[k] <= kYardInM && w.valid[k];
        out[k] = w.d0[k] >= kSurroundInM && w.d0[k] <= kSurroundOutM && w.valid[k];
        homog[k] = w.d0[k] <= kHomogM && w.valid[k];
    }
    const Stats si = stats(c.z, in), so = stats(c.z, out), sh = stats(c.z, homog);
    c.f[YIn] = si.mean;
    c.f[YOut] = so.mean;
    c.f[YCon] = si.mean - so.mean;
    c.f[YHomog] = sh.n > 1 ? sh.sd : 0.0;
}

// Local chroma SD over the background box centred on the peak, of the smoothed chroma (pixel
// noise and blur finer than the kiln scale barely change it).
double chromaSd(const Grid& g, const Peak& pk) {
    const int y0 = std::max(0, pk.y - g.ky / 2), y1 = std::min(g.h, pk.y + g.ky / 2 + 1);
    const int x0 = std::max(0, pk.x - g.kx / 2), x1 = std::min(g.w, pk.x + g.kx / 2 + 1);
    double var = 0;
    for (const auto* plane : {&g.c1s, &g.c2s}) {
        double sum = 0, ss = 0;
        std::size_t n = 0;
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
                if (g.valid[g.idx(x, y)]) {
                    sum += (*plane)[g.idx(x, y)];
                    ++n;
                }
        if (!n) return 0;
        const double mean = sum / static_cast<double>(n);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
                if (g.valid[g.idx(x, y)]) ss += ((*plane)[g.idx(x, y)] - mean) * ((*plane)[g.idx(x, y)] - mean);
        var += ss / static_cast<double>(n);
    }
    return std::sqrt(std::max(var, 0.0));
}

// Pixels within `metres` of the mask (exact Euclidean distance in metres), among `candidates`.
Mask nearMask(const Win& w, const Mask& m, double metres, const Mask& candidates) {
    const double gx = w.g->gx, gy = w.g->gy;
    const int rx = static_cast<int>(std::floor(metres / gx)), ry = static_cast<int>(std::floor(metres / gy));
    Mask out(w.size(), 0);
    for (std::size_t k = 0; k < w.size(); ++k) {
        if (!candidates[k]) continue;
        const int x = static_cast<int>(k % static_cast<std::size_t>(w.w)), y = static_cast<int>(k / static_cast<std::size_t>(w.w));
        for (int dy = -ry; dy <= ry && !out[k]; ++dy)
            for (int dx = -rx; dx <= rx; ++dx) {
                const int xx = x + dx, yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= w.w || yy >= w.h || !m[w.at(xx, yy)]) continue;
                const double ddx = dx * gx, ddy = dy * gy;
                if (std::sqrt(ddx * ddx + ddy * ddy) <= metres) {
                    out[k] = 1;
                    break;
                }
            }
    }
    return out;
}

// Steepest ascent on `a` from the peak over 8-neighbours inside `zone` (ties: first neighbour
// in raster order); stops at a local maximum. Keeps two kilns of one yard apart.
std::size_t climb(const Win& w, const std::vector<double>& a, const Mask& zone, std::size_t start) {
    std::size_t k = start;
    for (;;) {
        const int x = static_cast<int>(k % static_cast<std::size_t>(w.w)), y = static_cast<int>(k / static_cast<std::size_t>(w.w));
        double best = zone[k] ? a[k] : -std::numeric_limits<double>::infinity();
        std::size_t next = k;
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int xx = x + dx, yy = y + dy;
                if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= w.w || yy >= w.h) continue;
                const std::size_t q = w.at(xx, yy);
                if (zone[q] && a[q] > best) {
                    best = a[q];
                    next = q;
                }
            }
        if (next == k) return k;
        k = next;
    }
}

double px(const Win& w, std::size_t k) { return static_cast<double>(k % static_cast<std::size_t>(w.w)); }
double py(const Win& w, std::size_t k) { return static_cast<double>(k / static_cast<std::size_t>(w.w)); }

// 5c, the body's chroma contrast to the background and to its own yard (hue-free).
void chromaContrast(Ctx& c, double sdc) {
    const Win& w = c.w;
    const std::size_t gb = w.gi(c.body);
    c.f[Cc] = c.g.cc[gb];
    c.f[Ccz] = c.f[Cc] / sdc;
    Mask yard(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) yard[k] = c.reg[k] && w.dist(k, px(w, c.body), py(w, c.body)) > kYardGapM;
    if (count(yard) < 3) return;
    const Stats y1 = stats(w.take(c.g.c1), yard), y2 = stats(w.take(c.g.c2), yard);
    c.f[CcYard] = std::hypot(c.g.c1s[gb] - y1.mean, c.g.c2s[gb] - y2.mean) / sdc;
}

// 5c, the chroma body: pixels at least half as far as the body pixel along its own chroma
// direction from the local background (a hue-free "redness"), connected to it.
void chromaBody(Ctx& c) {
    const Win& w = c.w;
    const std::vector<double> b1 = w.take(c.g.b1), b2 = w.take(c.g.b2);
    const double u1 = b1[c.body], u2 = b2[c.body], nu = std::hypot(u1, u2);
    c.u1 = u1;
    c.u2 = u2;
    std::vector<double> proj(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) proj[k] = (b1[k] * u1 + b2[k] * u2) / std::max(nu, 1e-9);
    const double bx = px(w, c.body), by = py(w, c.body);
    Mask allowed(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) allowed[k] = c.inwin[k] && w.dist(k, bx, by) <= kChromaBodyM;
    const Mask cb = region(w, proj, c.body, 0.5 * nu, allowed, w.within(kChromaSeedM, bx, by, false));
    if (!cb.empty() && count(cb) >= 2) {
        c.shape = moments(cb, w.w, c.g.gx, c.g.gy);
        c.shapeMask = cb;
        c.f[CbLen] = c.shape.length;
        c.f[CbWid] = c.shape.width;
    }
    c.f[CbMis] = misfit(c.f[CbLen], c.f[CbWid], kBodyLenM, kBodyWidM);
}

// 5c: colour evidence, when the neighbourhood has usable chroma. Returns whether it had.
bool measureColour(Ctx& c) {
    if (!c.g.colour) return false;
    const double sdc = chromaSd(c.g, c.pk);
    c.f[Sdc] = sdc;
    if (!(sdc >= c.p.minChromaSd)) return false;
    const Win& w = c.w;
    Mask search(w.size());
    for (std::size_t k = 0; k < w.size(); ++k) search[k] = w.d0[k] <= kBodySearchM && w.valid[k];
    const Mask zone = nearMask(w, c.reg, kBodyMarginM, search);
    c.body = climb(w, w.take(c.g.cc), zone, c.peak);
    chromaContrast(c, sdc);
    chromaBody(c);
    return true;
}

// 5d: the kiln body as a brightness blob, half-way between the yard level and the peak; always
// measured at the brightness peak so that it means the same with and without colour.
void measureBlob(Ctx& c, bool colour) {
    auto& f = c.f;
    f[BPeak] = c.zs[c.peak];
    std::vector<double> inReg;
    for (std::size_t k = 0; k < c.w.size(); ++k)
        if (c.reg[k]) inReg.push_back(c.z[k]);
    const double level = median(inReg);
    f[BLift] = f[BPeak] - level;
    Mask blob;
    c.halfLevel = (f[BPeak] + std::max(level, 0.0)) / 2;
    if (f[BPeak] > 0) blob = region(c.w, c.zs, c.peak, c.halfLevel, c.inwin, c.w.within(kNearBlobM, c.w.cx, c.w.cy, true));
    if (!blob.empty() && count(blob) >= 2) {
        const Moments m = moments(blob, c.w.w, c.g.gx, c.g.gy);
        f[BbLen] = m.length;
        f[BbWid] = m.width;
        f[BbArea] = static_cast<double>(m.n) * c.g.gx * c.g.gy / 1e4;
        if (!colour) {
            c.shape = m;
            c.shapeMask = blob;
        }
    }
    f[BbMis] = misfit(f[BbLen], f[BbWid], kBlobLenM, kBlobWidM);
}

// 5e: mean NDVI and NDBI within ms_radius of the body (NaN without the bands).
void measureSpectra(Ctx& c) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    c.f[Ndvi] = c.f[Ndbi] = nan;
    if (c.g.ndvi.empty()) return;
    const Mask near = c.w.within(kMsRadiusM, px(c.w, c.body), py(c.w, c.body), true);
    c.f[Ndvi] = count(near) ? stats(c.w.take(c.g.ndvi), near).mean : nan;
    if (!c.g.ndbi.empty()) c.f[Ndbi] = count(near) ? stats(c.w.take(c.g.ndbi), near).mean : nan;
}

bool touchesEdge(const Win& w, const Mask& m) {
    for (std::size_t k = 0; k < m.size(); ++k) {
        if (!m[k]) continue;
        const int x = w.x0 + static_cast<int>(px(w, k)), y = w.y0 + static_cast<int>(py(w, k));
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int xx = x + dx, yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= w.g->w || yy >= w.g->h || !w.g->valid[w.g->idx(xx, yy)]) return true;
            }
    }
    return false;
}

// 5f: the reported kiln and its global keys, positions and anchor.
Measured report(Ctx& c, bool colour) {
    Measured m;
    const Grid& g = c.g;
    const Win& w = c.w;
    KilnCandidate& k = m.c;
    k.features = c.f;
    k.colour = colour;
    k.source = c.pk.bright && c.pk.chroma ? "both" : c.pk.bright ? "bright" : "chroma";
    k.peak = {g.globalX(c.pk.x), g.globalY(c.pk.y)};
    k.body = {g.globalX(w.x0) + static_cast<int>(px(w, c.body)), g.globalY(w.y0) + static_cast<int>(py(w, c.body))};
    k.anchor = {g.ox + c.pk.x * g.f + g.f / 2, g.oy + c.pk.y * g.f + g.f / 2};
    const bool sized = !c.shapeMask.empty();
    // Global internal coordinates: an integer origin plus a window-local mean, identical in every tiling.
    m.cx = sized ? static_cast<double>(g.globalX(w.x0)) + c.shape.mx : static_cast<double>(k.body.x);
    m.cy = sized ? static_cast<double>(g.globalY(w.y0)) + c.shape.my : static_cast<double>(k.body.y);
    k.centre = {(m.cx + 0.5) * g.f, (m.cy + 0.5) * g.f};
    k.length = sized ? c.shape.length : 0.0;
    k.width = sized ? c.shape.width : 0.0;
    k.angle = sized ? c.shape.angle : 0.0;
    m.touches = touchesEdge(w, sized ? c.shapeMask : Mask());
    if (!sized) {
        Mask one(w.size(), 0);
        one[c.body] = 1;
        m.touches = touchesEdge(w, one);
    }
    m.evidence = colour ? c.f[Ccz] : c.f[BPeak];
    m.u1 = c.u1;
    m.u2 = c.u2;
    m.halfLevel = c.halfLevel;
    for (std::size_t q = 0; q < w.size(); ++q)
        if (c.reg[q]) m.complex.push_back(pixelKey(g.globalX(w.x0) + static_cast<int>(px(w, q)), g.globalY(w.y0) + static_cast<int>(py(w, q))));
    return m;
}

}  // namespace

std::int64_t pixelKey(int gx, int gy) { return static_cast<std::int64_t>(gy) * (std::int64_t{1} << 32) + gx; }

bool Measured::inComplex(cv::Point p) const { return std::binary_search(complex.begin(), complex.end(), pixelKey(p.x, p.y)); }

Measured measure(const Grid& g, const KilnDetector::Params& p, const Peak& pk) {
    Ctx c{g, p, pk, window(g, pk, p.window), {}, {}, {}, {}, 0, 0, {}, {}, 0, 0, 0};
    c.z = c.w.take(g.z);
    c.zs = c.w.take(g.zs);
    c.peak = c.body = c.w.at(c.w.cx, c.w.cy);
    c.inwin.resize(c.w.size());
    for (std::size_t k = 0; k < c.w.size(); ++k) c.inwin[k] = c.w.d0[k] <= p.window && c.w.valid[k];
    measureComplex(c);
    measureYard(c);
    const bool colour = measureColour(c);
    measureBlob(c, colour);
    measureSpectra(c);
    return report(c, colour);
}

// Step 4: strict local maxima within an ellipse of peak_radius_m (a plateau keeps its first
// pixel in raster order), of zs >= min_peak_sd and, in colour, of cc >= min_chroma.
std::vector<Peak> findPeaks(const Grid& g, const KilnDetector::Params& p) {
    const double rxp = p.peakRadius / g.gx, ryp = p.peakRadius / g.gy;
    const int rx = static_cast<int>(std::floor(rxp)), ry = static_cast<int>(std::floor(ryp));
    std::vector<cv::Point> fp;
    for (int dy = -ry; dy <= ry; ++dy)
        for (int dx = -rx; dx <= rx; ++dx)
            if ((dx / std::max(rxp, 1e-9)) * (dx / std::max(rxp, 1e-9)) + (dy / std::max(ryp, 1e-9)) * (dy / std::max(ryp, 1e-9)) <= 1.0 &&
                (dx || dy))
                fp.emplace_back(dx, dy);
    auto maxima = [&](const std::vector<float>& a, double thr) {
        std::vector<std::uint8_t> pk(g.valid.size(), 0);
        for (int y = 0; y < g.h; ++y)
            for (int x = 0; x < g.w; ++x) {
                const std::size_t k = g.idx(x, y);
                if (!g.valid[k] || !(a[k] >= thr)) continue;
                bool top = true;
                for (const cv::Point& o : fp) {
                    const int xx = x + o.x, yy = y + o.y;
                    if (xx >= 0 && yy >= 0 && xx < g.w && yy < g.h && g.valid[g.idx(xx, yy)] && a[g.idx(xx, yy)] > a[k]) {
                        top = false;
                        break;
                    }
                }
                pk[k] = top;
            }
        // A plateau keeps its first pixel: drop a peak with an earlier peak in its ellipse.
        std::vector<std::uint8_t> keep(pk);
        for (int y = 0; y < g.h; ++y)
            for (int x = 0; x < g.w; ++x) {
                if (!pk[g.idx(x, y)]) continue;
                for (const cv::Point& o : fp) {
                    const int xx = x + o.x, yy = y + o.y;
                    if ((o.y < 0 || (o.y == 0 && o.x < 0)) && xx >= 0 && yy >= 0 && xx < g.w && yy < g.h && pk[g.idx(xx, yy)]) {
                        keep[g.idx(x, y)] = 0;
                        break;
                    }
                }
            }
        return keep;
    };
    const std::vector<std::uint8_t> bright = maxima(g.zs, p.minPeakSd);
    const std::vector<std::uint8_t> chroma = g.colour ? maxima(g.cc, p.minChroma) : std::vector<std::uint8_t>();
    std::vector<Peak> out;
    for (int y = 0; y < g.h; ++y)
        for (int x = 0; x < g.w; ++x) {
            const std::size_t k = g.idx(x, y);
            const bool b = bright[k], c = !chroma.empty() && chroma[k];
            if (b || c) out.push_back({x, y, b, c});
        }
    return out;
}

}  // namespace riskmap::kiln
