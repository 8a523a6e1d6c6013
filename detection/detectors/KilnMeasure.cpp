// Step 5 of the kiln detector (research/kiln/REPORT.md): everything measured around a candidate
// peak inside a disk of window_m: the bright complex, a yard template, the kiln body with and
// without colour, NDVI and NDBI. Lengths are metres, contrasts local-SD units.
//
// Cheap first: the first phase measures what the gates, the body choice and an exact upper bound
// on the logit need; the shape work (hull, chroma body, brightness blob) follows only for a
// candidate that can still reach the probability threshold. Both phases compute the same values
// as a single pass would, so detections do not depend on the cascade.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "detection/detectors/KilnParts.hpp"

namespace riskmap::kiln {

namespace {

constexpr double kPi = 3.14159265358979323846;
// Feature definitions of the fitted model (REPORT.md section 2); changing them would change what
// the coefficients mean, so they are constants rather than options.
constexpr double kNearComplexM = 60;   // the complex is the bright region within a body length of the peak
constexpr double kNearBlobM = 30;      // the body blob starts within half a body width of the peak
constexpr double kYardInM = 90;        // mean kiln profile: a bright yard out to ~100 m ...
constexpr double kSurroundInM = 160;   // ... and a darker surround beyond 160 m
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

struct Off {
    int dx, dy;
};

// A disk's offsets in raster order, the same as offsets in the grid (dy * w + dx), and its
// half sizes: a disk wholly inside a window is walked without bounds checks.
struct Disk {
    std::vector<Off> offs;
    std::vector<std::ptrdiff_t> lin;
    int rx = 0, ry = 0;
};

// The disk of these offsets (in the order given) on a grid of rows `stride` long.
Disk diskOf(std::vector<Off> offs, std::size_t stride) {
    Disk d;
    for (const Off& o : offs) {
        d.lin.push_back(static_cast<std::ptrdiff_t>(o.dy) * static_cast<std::ptrdiff_t>(stride) +
                        o.dx);
        d.rx = std::max(d.rx, std::abs(o.dx));
        d.ry = std::max(d.ry, std::abs(o.dy));
    }
    d.offs = std::move(offs);
    return d;
}

}  // namespace

// Per tile: the distance in metres of every offset between two window pixels, computed as the
// prototype does (sqrt((dx gx)^2 + (dy gy)^2)), and the offsets of each disk, in raster order.
struct Geometry {
    int rx = 0, ry = 0;  // analysis window half sizes, pixels
    int tx = 0, ty = 0;  // table half sizes
    std::vector<double> table;
    std::vector<std::uint8_t> inWindow;  // per window offset (dx + rx, dy + ry): within window_m
    std::size_t stride = 0;              // grid row length
    Disk near60, near30, yardIn, ring, homog, margin, seed, ms;
    double dist(int dx, int dy) const {
        return table[static_cast<std::size_t>(dy + ty) * static_cast<std::size_t>(2 * tx + 1) + static_cast<std::size_t>(dx + tx)];
    }
    Disk disk(double r0, double r1) const {
        std::vector<Off> offs;
        for (int dy = -ry; dy <= ry; ++dy)
            for (int dx = -rx; dx <= rx; ++dx)
                if (dist(dx, dy) >= r0 && dist(dx, dy) <= r1) offs.push_back({dx, dy});
        return diskOf(std::move(offs), stride);
    }
};

namespace {

std::unique_ptr<Geometry> makeGeometry(const Grid& g, const KilnDetector::Params& p) {
    auto geo = std::make_unique<Geometry>();
    geo->rx = static_cast<int>(std::ceil(p.window / g.gx));
    geo->ry = static_cast<int>(std::ceil(p.window / g.gy));
    geo->tx = 2 * geo->rx;
    geo->ty = 2 * geo->ry;
    geo->stride = static_cast<std::size_t>(g.w);
    geo->table.resize(static_cast<std::size_t>(2 * geo->tx + 1) * static_cast<std::size_t>(2 * geo->ty + 1));
    for (int dy = -geo->ty; dy <= geo->ty; ++dy)
        for (int dx = -geo->tx; dx <= geo->tx; ++dx) {
            const double ddx = dx * g.gx, ddy = dy * g.gy;
            geo->table[static_cast<std::size_t>(dy + geo->ty) * static_cast<std::size_t>(2 * geo->tx + 1) +
                       static_cast<std::size_t>(dx + geo->tx)] = std::sqrt(ddx * ddx + ddy * ddy);
        }
    geo->inWindow.resize(static_cast<std::size_t>(2 * geo->rx + 1) * static_cast<std::size_t>(2 * geo->ry + 1));
    for (int dy = -geo->ry; dy <= geo->ry; ++dy)
        for (int dx = -geo->rx; dx <= geo->rx; ++dx)
            geo->inWindow[static_cast<std::size_t>(dy + geo->ry) * static_cast<std::size_t>(2 * geo->rx + 1) + static_cast<std::size_t>(dx + geo->rx)] =
                geo->dist(dx, dy) <= p.window;
    geo->near60 = geo->disk(-1, kNearComplexM);
    geo->near30 = geo->disk(-1, kNearBlobM);
    geo->yardIn = geo->disk(-1, kYardInM);
    geo->ring = geo->disk(kSurroundInM, kSurroundOutM);
    geo->homog = geo->disk(-1, kHomogM);
    geo->margin = geo->disk(-1, kBodyMarginM);
    geo->seed = geo->disk(-1, kChromaSeedM);
    geo->ms = geo->disk(-1, kMsRadiusM);
    return geo;
}

// Moment axes of a pixel set in metres (as KilnDetector::measureShape), centroid in window pixels.
struct Moments {
    double length = 0, width = 0, angle = 0, mx = 0, my = 0;
    std::size_t n = 0;
};

// Distance in log space of a blob's size from a kiln's; 3 (= 20x off) when there is no blob.
double misfit(double length, double width, double l0, double w0) {
    if (length <= 0 || width <= 0) return 3.0;
    return std::min(3.0, std::hypot(std::log(length / l0), std::log(width / w0)));
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const std::size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
    if (v.size() % 2) return v[h];
    const double hi = v[h];
    return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)) + hi) / 2;
}

struct Stats {
    double mean = 0, sd = 0;
    std::size_t n = 0;
};

// Mean and population SD (two passes, as numpy).
Stats stats(const std::vector<double>& v) {
    Stats s;
    s.n = v.size();
    if (!s.n) return s;
    double sum = 0, ss = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(s.n);
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n));
    return s;
}

struct WindowScratch {
    std::vector<std::uint8_t> inReg, inwin, member;
    std::vector<int> label;
    bool busy = false;
};

// The thread's window arrays while a candidate holds them; its own arrays for a candidate
// measured while another is (never today: measuring waits on no task that could start one).
class ScratchLease {
public:
    ScratchLease() {
        thread_local WindowScratch mine;
        if (mine.busy) {
            own_ = std::make_unique<WindowScratch>();
            s_ = own_.get();
        } else {
            s_ = &mine;
        }
        s_->busy = true;
    }
    ~ScratchLease() { s_->busy = false; }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    WindowScratch& get() const { return *s_; }

private:
    std::unique_ptr<WindowScratch> own_;
    WindowScratch* s_ = nullptr;
};

// One candidate's window (the square of window_m around the peak, clipped to the grid) and
// what its measurement steps share. Window arrays carry a border of one pixel that is never
// inside any region, so region growing needs no bounds checks: padded index
// K = (y - y0 + 1) * pw + (x - x0 + 1).
class Cand {
public:
    Cand(const Grid& grid, const KilnDetector::Params& params, const Geometry& geometry, const Peak& peakAt)
        : g(grid), p(params), geo(geometry), pk(peakAt), f(kFeatureCount, 0.0) {
        x0 = std::max(0, pk.x - geo.rx);
        y0 = std::max(0, pk.y - geo.ry);
        ww = std::min(g.w, pk.x + geo.rx + 1) - x0;
        wh = std::min(g.h, pk.y + geo.ry + 1) - y0;
        pw = ww + 2;
        const std::size_t n = static_cast<std::size_t>(pw) * static_cast<std::size_t>(wh + 2);
        peak = body = at(pk.x, pk.y);
        label.assign(n, 0);
        inReg.assign(n, 0);
        inwin.assign(n, 0);
        member.assign(n, 0);
        // Row pointers and a local width: byte stores could alias the members otherwise, and
        // the loop would neither vectorise nor keep its bound in a register.
        const std::size_t rowLen = static_cast<std::size_t>(2 * geo.rx + 1);
        const int n0 = ww;
        for (int y = y0; y < y0 + wh; ++y) {
            const std::uint8_t* disk = geo.inWindow.data() +
                                       static_cast<std::size_t>(y - pk.y + geo.ry) * rowLen +
                                       (x0 - pk.x + geo.rx);
            const std::uint8_t* valid = &g.valid[g.idx(x0, y)];
            std::uint8_t* out = &inwin[static_cast<std::size_t>(at(x0, y))];
            for (int i = 0; i < n0; ++i) out[i] = static_cast<std::uint8_t>(valid[i] & disk[i]);
        }
    }
    const Grid& g;
    const KilnDetector::Params& p;
    const Geometry& geo;
    const Peak& pk;
    int x0 = 0, y0 = 0, ww = 0, wh = 0, pw = 0;
    int peak = 0, body = 0;
    std::vector<int> reg;                 // the complex, padded indices in raster order
    // Window arrays, reused by each thread's next candidate (no allocation per candidate).
    ScratchLease lease;
    std::vector<std::uint8_t>& inReg = lease.get().inReg;    // the complex
    std::vector<std::uint8_t>& inwin = lease.get().inwin;    // within window_m and valid
    std::vector<std::uint8_t>& member = lease.get().member;  // scratch
    std::vector<int>& label = lease.get().label;             // scratch for region growing
    std::vector<double> f;
    bool colour = false;
    double sdc = 0, level = 0, halfLevel = 0, u1 = 0, u2 = 0;
    Moments shape;                        // the reported body
    std::vector<int> shapePix;            // its pixels (empty: the body pixel alone)

    int at(int x, int y) const { return (y - y0 + 1) * pw + (x - x0 + 1); }
    int xOf(int K) const { return x0 + K % pw - 1; }
    int yOf(int K) const { return y0 + K / pw - 1; }
    std::size_t gi(int K) const { return g.idx(xOf(K), yOf(K)); }
    bool inside(int x, int y) const { return x >= x0 && y >= y0 && x < x0 + ww && y < y0 + wh; }
    double dist(int K, int C) const { return geo.dist(xOf(K) - xOf(C), yOf(K) - yOf(C)); }
    // f(K, x, y) for every window pixel, in raster order.
    template <class F>
    void forWindow(F fn) const {
        for (int y = y0; y < y0 + wh; ++y)
            for (int x = x0, K = at(x0, y); x < x0 + ww; ++x, ++K) fn(K, x, y);
    }
    // f(K, x, y) for the padded indices of `pix`; one division per row, not per pixel.
    template <class F>
    void forPixels(const std::vector<int>& pix, F fn) const {
        int row = 0, start = 0;  // padded row of the last pixel, and its first index
        for (int K : pix) {
            if (K < start || K >= start + pw) {
                row = K / pw;
                start = row * pw;
            }
            fn(K, x0 + K - start - 1, y0 + row - 1);
        }
    }
    // f(K, x, y) for the window pixels at the given offsets from pixel C, in raster order.
    template <class F>
    void forAround(const Disk& d, int C, F fn) const {
        const int cx = xOf(C), cy = yOf(C);
        for (const Off& o : d.offs)
            if (inside(cx + o.dx, cy + o.dy)) fn(at(cx + o.dx, cy + o.dy), cx + o.dx, cy + o.dy);
    }
    std::vector<int> around(const Disk& d, int C, bool validOnly) const {
        std::vector<int> out;
        forAround(d, C, [&](int K, int x, int y) {
            if (!validOnly || g.valid[g.idx(x, y)]) out.push_back(K);
        });
        return out;
    }
};

// The 8-connected component of `member` holding pixel K0, labelled l, in raster order.
std::vector<int> flood(Cand& c, int K0, int l) {
    const int d[8] = {-c.pw - 1, -c.pw, -c.pw + 1, -1, 1, c.pw - 1, c.pw, c.pw + 1};
    std::vector<int> stack{K0};
    c.label[static_cast<std::size_t>(K0)] = l;
    int lo = K0, hi = K0;
    while (!stack.empty()) {
        const int k = stack.back();
        stack.pop_back();
        for (int dk : d) {
            const auto q = static_cast<std::size_t>(k + dk);
            if (c.label[q] || !c.member[q]) continue;
            c.label[q] = l;
            lo = std::min(lo, k + dk);
            hi = std::max(hi, k + dk);
            stack.push_back(k + dk);
        }
    }
    std::vector<int> pix;
    for (int k = lo; k <= hi; ++k)
        if (c.label[static_cast<std::size_t>(k)] == l) pix.push_back(k);
    return pix;
}

// The component of c.member holding the seed; when the seed is outside it, the component with
// most pixels among `near` (ties: the one whose first pixel comes first in raster order). Empty
// when there is none.
std::vector<int> region(Cand& c, int seed, const std::vector<int>& near) {
    std::fill(c.label.begin(), c.label.end(), 0);
    if (c.member[static_cast<std::size_t>(seed)]) return flood(c, seed, 1);
    std::vector<std::vector<int>> comps;
    for (int k : near)
        if (c.member[static_cast<std::size_t>(k)] && !c.label[static_cast<std::size_t>(k)])
            comps.push_back(flood(c, k, static_cast<int>(comps.size()) + 1));
    std::vector<int> hits(comps.size() + 1, 0);
    for (int k : near) hits[static_cast<std::size_t>(c.label[static_cast<std::size_t>(k)])] += c.member[static_cast<std::size_t>(k)];
    int best = 0;
    for (int l = 1; l <= static_cast<int>(comps.size()); ++l) {
        const auto L = static_cast<std::size_t>(l), B = static_cast<std::size_t>(best);
        if (!best || hits[L] > hits[B] || (hits[L] == hits[B] && comps[L - 1].front() < comps[B - 1].front())) best = l;
    }
    return best ? comps[static_cast<std::size_t>(best) - 1] : std::vector<int>();
}

// Window coordinates of a padded index.
double wx(const Cand& c, int K) { return K % c.pw - 1; }
double wy(const Cand& c, int K) { return K / c.pw - 1; }

Moments moments(const Cand& c, const std::vector<int>& pix) {
    Moments r;
    r.n = pix.size();
    if (!r.n) return r;
    const double n = static_cast<double>(r.n), gx = c.g.gx, gy = c.g.gy;
    double sx = 0, sy = 0;
    for (int k : pix) {
        sx += wx(c, k);
        sy += wy(c, k);
    }
    r.mx = sx / n;
    r.my = sy / n;
    double a = 0, b = 0, cc = 0;
    for (int k : pix) {
        const double dx = (wx(c, k) - r.mx) * gx, dy = (wy(c, k) - r.my) * gy;
        a += dx * dx;
        cc += dy * dy;
        b += dx * dy;
    }
    const double den = std::max(n - 1, 1.0);
    // Each pixel is a square, not a point: add its own spread (side^2 / 12).
    a = a / den + gx * gy / 12;
    cc = cc / den + gx * gy / 12;
    b /= den;
    const double mid = (a + cc) / 2, rad = std::sqrt((a - cc) * (a - cc) / 4 + b * b);
    r.length = 4 * std::sqrt(std::max(mid + rad, 1e-6));
    r.width = 4 * std::sqrt(std::max(mid - rad, 1e-6));
    r.angle = 0.5 * std::atan2(2 * b, a - cc);
    return r;
}

// f(i) for the grid index i of every pixel of disk d about window pixel C that lies in the
// window, in raster order; a disk wholly inside is walked without bounds checks.
template <class F>
void forDiskInGrid(const Cand& c, const Disk& d, int C, F fn) {
    const int cx = c.xOf(C), cy = c.yOf(C);
    if (cx - d.rx >= c.x0 && cx + d.rx < c.x0 + c.ww && cy - d.ry >= c.y0 &&
        cy + d.ry < c.y0 + c.wh) {
        const auto base = static_cast<std::ptrdiff_t>(c.g.idx(cx, cy));
        for (std::ptrdiff_t o : d.lin) fn(static_cast<std::size_t>(base + o));
        return;
    }
    c.forAround(d, C, [&](int, int x, int y) { fn(c.g.idx(x, y)); });
}

// Mean and population SD of a plane over the valid window pixels of a disk about C (two
// passes, as numpy).
Stats statsAround(const Cand& c, const Disk& d, int C, const Plane<float>& plane) {
    Stats s;
    double sum = 0, ss = 0;
    forDiskInGrid(c, d, C, [&](std::size_t i) {
        if (c.g.valid[i]) {
            sum += plane[i];
            ++s.n;
        }
    });
    if (!s.n) return s;
    s.mean = sum / static_cast<double>(s.n);
    forDiskInGrid(c, d, C, [&](std::size_t i) {
        if (c.g.valid[i]) ss += (plane[i] - s.mean) * (plane[i] - s.mean);
    });
    s.sd = std::sqrt(ss / static_cast<double>(s.n));
    return s;
}

// member = within the window and plane >= level, a row at a time (so that it vectorises).
void markAtLeast(Cand& c, const Plane<float>& plane, double level) {
    for (int y = c.y0; y < c.y0 + c.wh; ++y) {
        const auto K = static_cast<std::size_t>(c.at(c.x0, y));
        const std::uint8_t* in = &c.inwin[K];
        std::uint8_t* m = &c.member[K];
        const float* v = &plane[c.g.idx(c.x0, y)];
        const int n = c.ww;  // a local bound: stores through m could alias c otherwise
        for (int i = 0; i < n; ++i) m[i] = static_cast<std::uint8_t>(in[i] & (v[i] >= level));
    }
}

// 5a: the bright complex (kiln plus drying yard): z >= region_sd, 8-connected to the peak.
void measureComplex(Cand& c) {
    markAtLeast(c, c.g.z, c.p.regionSd);
    c.reg = region(c, c.peak, c.around(c.geo.near60, c.peak, true));
    if (c.reg.empty()) c.reg.push_back(c.peak);
    for (int k : c.reg) c.inReg[static_cast<std::size_t>(k)] = 1;
    const Moments m = moments(c, c.reg);
    const double gx = c.g.gx, gy = c.g.gy;
    auto& f = c.f;
    f[CArea] = static_cast<double>(m.n) * gx * gy / 1e4;
    f[LnArea] = std::log(std::max(f[CArea], 0.01));
    f[CLen] = m.length;
    f[CWid] = m.width;
    f[CElong] = m.length / std::max(m.width, 1e-6);
    f[BDist] = std::hypot((wx(c, c.peak) - m.mx) * gx, (wy(c, c.peak) - m.my) * gy);
    std::vector<double> z;
    z.reserve(c.reg.size());
    c.forPixels(c.reg, [&](int, int x, int y) { z.push_back(c.g.z[c.g.idx(x, y)]); });
    const Stats s = stats(z);
    f[CZin] = s.mean;
    f[CTex] = s.sd;
    c.level = median(z);
    f[BPeak] = c.g.zs[c.gi(c.peak)];
    f[BLift] = f[BPeak] - c.level;
    c.halfLevel = (f[BPeak] + std::max(c.level, 0.0)) / 2;
}

// 5b: yard template about the peak, a bright disk against a darker ring, and its homogeneity.
void measureYard(Cand& c) {
    const Stats in = statsAround(c, c.geo.yardIn, c.peak, c.g.z);
    const Stats out = statsAround(c, c.geo.ring, c.peak, c.g.z);
    const Stats hom = statsAround(c, c.geo.homog, c.peak, c.g.z);
    c.f[YIn] = in.mean;
    c.f[YOut] = out.mean;
    c.f[YCon] = in.mean - out.mean;
    c.f[YHomog] = hom.n > 1 ? hom.sd : 0.0;
}

// Local chroma SD over the background box centred on the peak, of the smoothed chroma (pixel
// noise and blur finer than the kiln scale barely change it). Both planes are summed in one
// loop, each in raster order as before: two independent chains of additions run side by side.
double chromaSd(const Grid& g, const Peak& pk) {
    const int y0 = std::max(0, pk.y - g.ky / 2), y1 = std::min(g.h, pk.y + g.ky / 2 + 1);
    const int x0 = std::max(0, pk.x - g.kx / 2), x1 = std::min(g.w, pk.x + g.kx / 2 + 1);
    double sum1 = 0, sum2 = 0;
    std::size_t n = 0;
    for (int y = y0; y < y1; ++y)
        for (std::size_t i = g.idx(x0, y), e = g.idx(x1, y); i < e; ++i)
            if (g.valid[i]) {
                sum1 += g.c1s[i];
                sum2 += g.c2s[i];
                ++n;
            }
    if (!n) return 0;
    const double mean1 = sum1 / static_cast<double>(n), mean2 = sum2 / static_cast<double>(n);
    double ss1 = 0, ss2 = 0;
    for (int y = y0; y < y1; ++y)
        for (std::size_t i = g.idx(x0, y), e = g.idx(x1, y); i < e; ++i)
            if (g.valid[i]) {
                ss1 += (g.c1s[i] - mean1) * (g.c1s[i] - mean1);
                ss2 += (g.c2s[i] - mean2) * (g.c2s[i] - mean2);
            }
    double var = 0;
    var += ss1 / static_cast<double>(n);
    var += ss2 / static_cast<double>(n);
    return std::sqrt(std::max(var, 0.0));
}

// Steepest ascent on cc from the peak over 8-neighbours inside the zone where the body may be
// (valid, within body_search of the peak and within body_margin of the complex; ties: first
// neighbour in raster order); stops at a local maximum. Keeps two kilns of one yard apart.
int climb(const Cand& c) {
    std::vector<signed char> memo(c.label.size(), -1);
    auto zone = [&](int k) {
        signed char& m = memo[static_cast<std::size_t>(k)];
        if (m >= 0) return m == 1;
        m = 0;
        if (!c.g.valid[c.gi(k)] || c.dist(k, c.peak) > kBodySearchM) return false;
        m = c.inReg[static_cast<std::size_t>(k)];
        if (!m) c.forAround(c.geo.margin, k, [&](int q, int, int) { m = static_cast<signed char>(m | c.inReg[static_cast<std::size_t>(q)]); });
        return m == 1;
    };
    int k = c.peak;
    for (;;) {
        double best = zone(k) ? static_cast<double>(c.g.cc[c.gi(k)]) : -std::numeric_limits<double>::infinity();
        int next = k;
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int x = c.xOf(k) + dx, y = c.yOf(k) + dy;
                if ((!dx && !dy) || !c.inside(x, y)) continue;
                const int q = c.at(x, y);
                if (zone(q) && c.g.cc[c.gi(q)] > best) {
                    best = c.g.cc[c.gi(q)];
                    next = q;
                }
            }
        if (next == k) return k;
        k = next;
    }
}

// 5c: colour evidence, when the neighbourhood has usable chroma: the body is the chroma peak
// of the complex; its chroma contrast to the background and to its own yard (hue-free).
void measureColour(Cand& c) {
    if (!c.g.colour) return;
    c.sdc = chromaSd(c.g, c.pk);
    c.f[Sdc] = c.sdc;
    if (!(c.sdc >= c.p.minChromaSd)) return;
    c.colour = true;
    c.body = climb(c);
    const std::size_t gb = c.gi(c.body);
    c.f[Cc] = c.g.cc[gb];
    c.f[Ccz] = c.f[Cc] / c.sdc;
    double s1 = 0, s2 = 0;
    std::size_t n = 0;
    const int bx = c.xOf(c.body), by = c.yOf(c.body);
    c.forPixels(c.reg, [&](int, int x, int y) {
        if (c.geo.dist(x - bx, y - by) > kYardGapM) {
            s1 += c.g.c1[c.g.idx(x, y)];
            s2 += c.g.c2[c.g.idx(x, y)];
            ++n;
        }
    });
    if (n >= 3)
        c.f[CcYard] = std::hypot(c.g.c1s[gb] - s1 / static_cast<double>(n), c.g.c2s[gb] - s2 / static_cast<double>(n)) / c.sdc;
}

// 5e: mean NDVI and NDBI within ms_radius of the body (NaN without the bands).
void measureSpectra(Cand& c) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    c.f[Ndvi] = c.f[Ndbi] = nan;
    if (c.g.ndvi.empty()) return;
    const Stats v = statsAround(c, c.geo.ms, c.body, c.g.ndvi);
    if (!v.n) return;
    c.f[Ndvi] = v.mean;
    if (!c.g.ndbi.empty()) c.f[Ndbi] = statsAround(c, c.geo.ms, c.body, c.g.ndbi).mean;
}

// Shape of the complex: fill of its minimum-area rectangle and solidity against its convex hull,
// both of pixel centres in metres, grown by half a pixel. Only boundary pixels can be hull
// vertices, so only they are passed on.
void complexShape(Cand& c) {
    const double gx = c.g.gx, gy = c.g.gy;
    std::vector<cv::Point2f> pts;
    for (int k : c.reg) {
        const auto K = static_cast<std::size_t>(k), pw = static_cast<std::size_t>(c.pw);
        if (c.inReg[K - 1] && c.inReg[K + 1] && c.inReg[K - pw] && c.inReg[K + pw]) continue;
        pts.emplace_back(static_cast<float>(wx(c, k) * gx), static_cast<float>(wy(c, k) * gy));
    }
    const double area = static_cast<double>(c.reg.size()) * gx * gy;
    c.f[CFill] = c.f[CSolid] = 1.0;
    if (c.reg.size() < 3) return;
    const cv::RotatedRect rect = cv::minAreaRect(pts);
    c.f[CFill] = std::min(1.0, area / std::max((rect.size.width + gx) * (rect.size.height + gy), 1e-9));
    std::vector<cv::Point2f> hull;
    cv::convexHull(pts, hull);
    const double ha = cv::contourArea(hull) + (gx + gy) / 2 * cv::arcLength(hull, true) / 2 + gx * gy;
    c.f[CSolid] = std::min(1.0, area / ha);
}

// The complex's share of the rim of the analysis disk (an open, unbounded bright area), and the
// valid share of the disk (it falls at raster edges and nodata).
void windowShares(Cand& c) {
    const double rim = c.p.window - 1.5 * std::max(c.g.gx, c.g.gy);
    std::size_t onRim = 0, all = 0, in = 0;
    c.forWindow([&](int K, int x, int y) {
        const auto k = static_cast<std::size_t>(K);
        if (!c.inwin[k]) return;
        ++in;
        if (c.geo.dist(x - c.pk.x, y - c.pk.y) > rim) {
            ++all;
            onRim += c.inReg[k];
        }
    });
    c.f[COpen] = static_cast<double>(onRim) / static_cast<double>(std::max<std::size_t>(all, 1));
    c.f[ValidFrac] = std::min(1.0, static_cast<double>(in) * c.g.gx * c.g.gy / (kPi * c.p.window * c.p.window));
}

// 5c: the chroma body, pixels at least half as far as the body pixel along its own chroma
// direction from the local background (a hue-free "redness"), connected to it.
void chromaBody(Cand& c) {
    const std::size_t gb = c.gi(c.body);
    c.u1 = c.g.b1[gb];
    c.u2 = c.g.b2[gb];
    const double nu = std::hypot(c.u1, c.u2), den = std::max(nu, 1e-9);
    const int bx = c.xOf(c.body), by = c.yOf(c.body);
    c.forWindow([&](int K, int x, int y) {
        const std::size_t i = c.g.idx(x, y);
        c.member[static_cast<std::size_t>(K)] = c.inwin[static_cast<std::size_t>(K)] && c.geo.dist(x - bx, y - by) <= kChromaBodyM &&
                                                (c.g.b1[i] * c.u1 + c.g.b2[i] * c.u2) / den >= 0.5 * nu;
    });
    const std::vector<int> cb = region(c, c.body, c.around(c.geo.seed, c.body, false));
    if (cb.size() >= 2) {
        c.shape = moments(c, cb);
        c.shapePix = cb;
        c.f[CbLen] = c.shape.length;
        c.f[CbWid] = c.shape.width;
    }
    c.f[CbMis] = misfit(c.f[CbLen], c.f[CbWid], kBodyLenM, kBodyWidM);
}

// 5d: the kiln body as a brightness blob, half-way between the yard level and the peak; always
// measured at the brightness peak so that it means the same with and without colour.
void measureBlob(Cand& c) {
    std::vector<int> blob;
    if (c.f[BPeak] > 0) {
        markAtLeast(c, c.g.zs, c.halfLevel);
        blob = region(c, c.peak, c.around(c.geo.near30, c.peak, true));
    }
    if (blob.size() >= 2) {
        const Moments m = moments(c, blob);
        c.f[BbLen] = m.length;
        c.f[BbWid] = m.width;
        c.f[BbArea] = static_cast<double>(m.n) * c.g.gx * c.g.gy / 1e4;
        if (!c.colour) {
            c.shape = m;
            c.shapePix = blob;
        }
    }
    c.f[BbMis] = misfit(c.f[BbLen], c.f[BbWid], kBlobLenM, kBlobWidM);
}

void measureShapes(Cand& c) {
    complexShape(c);
    windowShares(c);
    if (c.colour) chromaBody(c);
    measureBlob(c);
}

bool touchesEdge(const Cand& c, const std::vector<int>& pix) {
    for (int k : pix)
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int x = c.xOf(k) + dx, y = c.yOf(k) + dy;
                if (x < 0 || y < 0 || x >= c.g.w || y >= c.g.h || !c.g.valid[c.g.idx(x, y)]) return true;
            }
    return false;
}

// Hard gates (step 6), in order: a vegetated body (NDVI, Rouse et al. 1974), a wet or vegetated
// one (fired clay reflects more SWIR than NIR: NDBI, Zha et al. 2003), a complex too large to
// be a kiln's. NaN (no band) never fails.
void applyGates(KilnCandidate& k, const KilnDetector::Params& p) {
    const auto& f = k.features;
    if (f[Ndvi] > p.maxNdvi) {
        k.gate = "ndvi";
        k.gateValue = f[Ndvi];
        k.gateLimit = p.maxNdvi;
    } else if (f[Ndbi] < p.minNdbi) {
        k.gate = "ndbi";
        k.gateValue = f[Ndbi];
        k.gateLimit = p.minNdbi;
    } else if (f[CArea] > p.maxComplexHa) {
        k.gate = "complex_area_ha";
        k.gateValue = f[CArea];
        k.gateLimit = p.maxComplexHa;
    }
}

// 5f: the reported kiln (chroma body with colour, else the brightness blob, else the body
// pixel), its global positions, anchor and complex.
Measured report(const Cand& c) {
    Measured m;
    const Grid& g = c.g;
    KilnCandidate& k = m.c;
    k.features = c.f;
    k.colour = c.colour;
    k.source = c.pk.bright && c.pk.chroma ? "both" : c.pk.bright ? "bright" : "chroma";
    k.peak = {g.globalX(c.pk.x), g.globalY(c.pk.y)};
    k.body = {g.globalX(c.xOf(c.body)), g.globalY(c.yOf(c.body))};
    k.anchor = {g.ox + c.pk.x * g.f + g.f / 2, g.oy + c.pk.y * g.f + g.f / 2};
    const bool sized = !c.shapePix.empty();
    // Global internal coordinates: an integer origin plus a window-local mean, identical in every tiling.
    m.cx = sized ? static_cast<double>(g.globalX(c.x0)) + c.shape.mx : static_cast<double>(k.body.x);
    m.cy = sized ? static_cast<double>(g.globalY(c.y0)) + c.shape.my : static_cast<double>(k.body.y);
    k.centre = {(m.cx + 0.5) * g.f, (m.cy + 0.5) * g.f};
    if (sized) {
        k.length = c.shape.length;
        k.width = c.shape.width;
        k.angle = c.shape.angle;
    }
    m.touches = touchesEdge(c, sized ? c.shapePix : std::vector<int>{c.body});
    m.evidence = c.colour ? c.f[Ccz] : c.f[BPeak];
    m.u1 = c.u1;
    m.u2 = c.u2;
    m.halfLevel = c.halfLevel;
    for (int q : c.reg) m.complex.push_back(pixelKey(g.globalX(c.xOf(q)), g.globalY(c.yOf(q))));
    return m;
}

}  // namespace

std::int64_t pixelKey(int gx, int gy) { return static_cast<std::int64_t>(gy) * (std::int64_t{1} << 32) + gx; }

bool Measured::inComplex(cv::Point p) const { return std::binary_search(complex.begin(), complex.end(), pixelKey(p.x, p.y)); }

Measurer::Measurer(const Grid& g, const KilnDetector::Params& p) : g_(g), p_(p), geo_(makeGeometry(g, p)) {}

Measurer::~Measurer() = default;

Measured Measurer::measure(const Peak& pk, double threshold) const {
    Cand c(g_, p_, *geo_, pk);
    measureComplex(c);
    measureYard(c);
    measureColour(c);
    measureSpectra(c);
    KilnCandidate probe;
    probe.features = mostFavourable(c.f);
    applyGates(probe, p_);
    const double bound = logit(probe.features, c.colour);
    if (threshold >= 0 && (!probe.gate.empty() || calibrated(bound, c.colour) < threshold)) {
        Measured m = report(c);
        m.complete = false;
        m.c.gate = probe.gate;
        m.c.gateValue = probe.gateValue;
        m.c.gateLimit = probe.gateLimit;
        m.c.logit = bound;
        m.c.probability = calibrated(bound, c.colour);
        return m;
    }
    measureShapes(c);
    Measured m = report(c);
    applyGates(m.c, p_);
    m.c.logit = logit(m.c.features, c.colour);
    m.c.probability = calibrated(m.c.logit, c.colour);
    return m;
}

namespace {

// The offsets of an ellipse of radii (rx, ry) pixels, without its centre.
std::vector<cv::Point> ellipse(double rxp, double ryp) {
    const int rx = static_cast<int>(std::floor(rxp)), ry = static_cast<int>(std::floor(ryp));
    std::vector<cv::Point> fp;
    for (int dy = -ry; dy <= ry; ++dy)
        for (int dx = -rx; dx <= rx; ++dx) {
            const double u = dx / std::max(rxp, 1e-9), v = dy / std::max(ryp, 1e-9);
            if (u * u + v * v <= 1.0 && (dx || dy)) fp.emplace_back(dx, dy);
        }
    return fp;
}

// Whether no valid pixel of the ellipse e about (x, y) exceeds a[k]; bounds are checked only
// near the grid's edge.
bool isTop(const Grid& g, const Plane<float>& a, int x, int y, const Disk& e) {
    const std::size_t k = g.idx(x, y);
    if (x >= e.rx && y >= e.ry && x < g.w - e.rx && y < g.h - e.ry) {
        const auto base = static_cast<std::ptrdiff_t>(k);
        for (std::ptrdiff_t o : e.lin) {
            const auto q = static_cast<std::size_t>(base + o);
            if (g.valid[q] && a[q] > a[k]) return false;
        }
        return true;
    }
    for (const Off& o : e.offs) {
        const int xx = x + o.dx, yy = y + o.dy;
        if (xx >= 0 && yy >= 0 && xx < g.w && yy < g.h && g.valid[g.idx(xx, yy)] &&
            a[g.idx(xx, yy)] > a[k])
            return false;
    }
    return true;
}

// Valid pixels of `a` at or above thr that no valid pixel of the ellipse exceeds. The offsets
// are tried nearest first: most pixels are beaten by a neighbour, and the answer does not
// depend on the order.
std::vector<std::uint8_t> maxima(const Grid& g, const Plane<float>& a, double thr,
                                 const std::vector<cv::Point>& fp) {
    std::vector<Off> offs;
    for (const cv::Point& o : fp) offs.push_back({o.x, o.y});
    std::stable_sort(offs.begin(), offs.end(), [](const Off& p, const Off& q) {
        return p.dx * p.dx + p.dy * p.dy < q.dx * q.dx + q.dy * q.dy;
    });
    const Disk e = diskOf(std::move(offs), static_cast<std::size_t>(g.w));
    std::vector<std::uint8_t> pk(g.valid.size(), 0);
    tbb::parallel_for(tbb::blocked_range<int>(0, g.h, 8), [&](const tbb::blocked_range<int>& r) {
        for (int y = r.begin(); y < r.end(); ++y)
            for (int x = 0; x < g.w; ++x) {
                const std::size_t k = g.idx(x, y);
                if (g.valid[k] && a[k] >= thr) pk[k] = isTop(g, a, x, y, e);
            }
    });
    return pk;
}

// A plateau keeps its first pixel: a peak with an earlier peak in its ellipse is dropped.
std::vector<std::uint8_t> firstOfPlateaus(const Grid& g, const std::vector<std::uint8_t>& pk, const std::vector<cv::Point>& fp) {
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
}

}  // namespace

// Step 4: strict local maxima within an ellipse of peak_radius_m (a plateau keeps its first
// pixel in raster order), of zs >= min_peak_sd and, in colour, of cc >= min_chroma.
std::vector<Peak> findPeaks(const Grid& g, const KilnDetector::Params& p) {
    const std::vector<cv::Point> fp = ellipse(p.peakRadius / g.gx, p.peakRadius / g.gy);
    const std::vector<std::uint8_t> bright = firstOfPlateaus(g, maxima(g, g.zs, p.minPeakSd, fp), fp);
    const std::vector<std::uint8_t> chroma =
        g.colour ? firstOfPlateaus(g, maxima(g, g.cc, p.minChroma, fp), fp) : std::vector<std::uint8_t>();
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
