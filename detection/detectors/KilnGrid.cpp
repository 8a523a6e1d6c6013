// Steps 1-3 of the kiln detector (research/kiln/REPORT.md): the internal grid, log-brightness
// and log-chromaticity, and the full-plane filters. Every neighbourhood filter is an exact
// integer sum (ExactFilters), so a pixel's value does not depend on the tiling.
#include <algorithm>
#include <cmath>

#include "detection/detectors/KilnParts.hpp"
#include "detection/imgproc/ExactFilters.hpp"

namespace riskmap::kiln {

namespace {

int oddWidth(double px) {
    int n = std::max(1, static_cast<int>(std::lround(px)));
    return n % 2 ? n : n + 1;
}

// Fixed-point inputs of the filters: log-brightness L, L^2, the two chroma coordinates and the
// validity mask.
struct Fixed {
    IntPlane qL, qLL, q1, q2, m;
    bool chroma = false;  // some valid pixel has non-zero chroma
};

// Sums of one internal row's f x f blocks, accumulated over f input rows.
struct BlockRow {
    std::vector<double> r, g, b, nir, red, swir;
    std::vector<int> count;
    void reset(int w, bool nirOn, bool swirOn) {
        for (auto* v : {&r, &g, &b}) v->assign(static_cast<std::size_t>(w), 0.0);
        nir.assign(nirOn ? static_cast<std::size_t>(w) : 0, 0.0);
        red.assign(nirOn ? static_cast<std::size_t>(w) : 0, 0.0);
        swir.assign(swirOn ? static_cast<std::size_t>(w) : 0, 0.0);
        count.assign(static_cast<std::size_t>(w), 0);
    }
};

// The bands the detector reads, one input row at a time (no whole-tile float planes).
class BandRows {
public:
    BandRows(const TileImage& t, int x0, int n) : t_(t), x0_(x0), n_(n) {
        for (const char* name : {"red", "green", "blue"}) add(name);
        nir_ = t.has("nir");
        swir_ = nir_ && t.has("swir1");
        if (nir_) add("nir");
        if (swir_) add("swir1");
        // Display brightness 0..255: 8-bit renderings as they are, reflectance rendered as
        // Sentinel Hub's true colour does (2.5 x reflectance, clipped).
        for (int i = 0; i < 3; ++i) gain_[i] = t.isDisplay(t.names[index_[static_cast<std::size_t>(i)]]) ? 255.0 : 2.5 * 255.0;
    }
    void read(int y) {
        for (std::size_t i = 0; i < index_.size(); ++i) rows_[i] = t_.row(index_[i], y, x0_, n_, scratch_[i].data());
    }
    const float* row(int i) const { return rows_[static_cast<std::size_t>(i)]; }
    double gain(int i) const { return gain_[i]; }
    bool nir() const { return nir_; }
    bool swir() const { return swir_; }

private:
    void add(const char* name) {
        index_.push_back(t_.bandIndex(name));
        scratch_.emplace_back(static_cast<std::size_t>(n_));
        rows_.push_back(nullptr);
    }
    const TileImage& t_;
    int x0_, n_;
    bool nir_ = false, swir_ = false;
    double gain_[3] = {255, 255, 255};
    std::vector<std::size_t> index_;
    std::vector<std::vector<float>> scratch_;
    std::vector<const float*> rows_;
};

void accumulate(const BandRows& rows, const std::uint8_t* valid, int f, BlockRow& acc) {
    const int w = static_cast<int>(acc.count.size());
    for (int i = 0; i < w; ++i) {
        for (int dx = 0; dx < f; ++dx) {
            const int x = i * f + dx;
            if (!valid[x]) continue;
            const auto k = static_cast<std::size_t>(i);
            ++acc.count[k];
            acc.r[k] += std::min(255.0, rows.gain(0) * rows.row(0)[x]);
            acc.g[k] += std::min(255.0, rows.gain(1) * rows.row(1)[x]);
            acc.b[k] += std::min(255.0, rows.gain(2) * rows.row(2)[x]);
            if (rows.nir()) {
                acc.nir[k] += rows.row(3)[x];
                acc.red[k] += rows.row(0)[x];
            }
            if (rows.swir()) acc.swir[k] += rows.row(4)[x];
        }
    }
}

// Normalised difference as the prototype computes it: a zero or negative sum gives ~0.
float normalisedDifference(double a, double b) { return static_cast<float>((a - b) / std::max(a + b, 1e-9)); }

// One internal pixel from its block sums: logs of display brightness after the dark offset.
void setPixel(Grid& g, Fixed& q, const BlockRow& acc, int i, std::size_t k, double c0) {
    const auto s = static_cast<std::size_t>(i);
    const int n = acc.count[s];
    g.valid[k] = 1;
    q.m.v[k] = 1;
    const double R = acc.r[s] / n + c0, G = acc.g[s] / n + c0, B = acc.b[s] / n + c0;
    // ln R/G and ln R/B are exactly 0 in a greyscale image, so chroma vanishes there.
    const double a = std::log(R / G), b = std::log(R / B), L = std::log((R + G + B) / 3.0);
    q.qL.v[k] = toFixed(L);
    q.qLL.v[k] = toFixed(L * L);
    q.q1.v[k] = toFixed(a / std::sqrt(2.0));
    q.q2.v[k] = toFixed((2.0 * b - a) / std::sqrt(6.0));
    q.chroma |= q.q1.v[k] != 0 || q.q2.v[k] != 0;
    if (!acc.nir.empty()) g.ndvi[k] = normalisedDifference(acc.nir[s] / n, acc.red[s] / n);
    if (!acc.swir.empty()) g.ndbi[k] = normalisedDifference(acc.swir[s] / n, acc.nir[s] / n);
}

// Step 1: block averages anchored on multiples of f; a pixel needs half its input pixels.
Fixed resample(const TileImage& t, const KilnDetector::Params& p, Grid& g) {
    const int f = g.f, lx = g.ox - t.window.x, ly = g.oy - t.window.y;
    const std::size_t n = static_cast<std::size_t>(g.w) * static_cast<std::size_t>(g.h);
    Fixed q{IntPlane(g.w, g.h, true), IntPlane(g.w, g.h, true), IntPlane(g.w, g.h, true), IntPlane(g.w, g.h, true),
            IntPlane(g.w, g.h, true), false};
    g.valid.assign(n, 0);
    BandRows rows(t, lx, g.w * f);
    if (rows.nir()) g.ndvi.assign(n, 0.0f);
    if (rows.swir()) g.ndbi.assign(n, 0.0f);
    BlockRow acc;
    for (int j = 0; j < g.h; ++j) {
        acc.reset(g.w, rows.nir(), rows.swir());
        for (int dy = 0; dy < f; ++dy) {
            const int y = ly + j * f + dy;
            rows.read(y);
            accumulate(rows, t.valid.ptr<std::uint8_t>(y) + lx, f, acc);
        }
        for (int i = 0; i < g.w; ++i) {
            const int c = acc.count[static_cast<std::size_t>(i)];
            if (c > 0 && 2 * c >= f * f) setPixel(g, q, acc, i, g.idx(i, j), p.darkOffset * 255.0);
        }
    }
    return q;
}

double ratio(std::int64_t num, std::int64_t den) { return static_cast<double>(num) / static_cast<double>(den); }

// Step 3, colour-free: z = (L - mu) / sd and zs = (Ls - mu) / sd, with mu and sd the mean and
// SD of L over the background box and Ls the masked Gaussian of L at kiln scale.
void brightness(Grid& g, Fixed& q, const IntPlane& W, const IntPlane& n, double sx, double sy, double sdFloor) {
    const IntPlane GL = gaussianSum(q.qL, sx, sy);
    const IntPlane BL = boxSum(q.qL, g.kx, g.ky);
    IntPlane BLL = boxSum(q.qLL, g.kx, g.ky);
    q.qLL = IntPlane();
    const std::size_t N = g.valid.size();
    g.z.assign(N, 0.0f);
    g.zs.assign(N, -1e9f);
    for (std::size_t k = 0; k < N; ++k) {
        if (!g.valid[k]) continue;
        const double mu = ratio(BL.v[k], n.v[k]) / kFixedOne;
        const double var = std::max(ratio(BLL.v[k], n.v[k]) / kFixedOne - mu * mu, 0.0);
        const double sd = std::sqrt(std::max(var, sdFloor * sdFloor));
        g.z[k] = static_cast<float>((static_cast<double>(q.qL.v[k]) / kFixedOne - mu) / sd);
        g.zs[k] = static_cast<float>((ratio(GL.v[k], W.v[k]) / kFixedOne - mu) / sd);
    }
}

// Step 3, colour: chroma smoothed at kiln scale, minus its local mean; cc = |b|, a hue-free
// chroma contrast (a rotation about the grey axis moves every pixel almost rigidly).
void chroma(Grid& g, Fixed& q, const IntPlane& W, const IntPlane& n, double sx, double sy) {
    const std::size_t N = g.valid.size();
    for (auto* v : {&g.c1, &g.c2, &g.c1s, &g.c2s, &g.b1, &g.b2, &g.cc}) v->assign(N, 0.0f);
    for (int c = 0; c < 2; ++c) {
        IntPlane& in = c == 0 ? q.q1 : q.q2;
        const IntPlane G = gaussianSum(in, sx, sy), B = boxSum(in, g.kx, g.ky);
        std::vector<float>& raw = c == 0 ? g.c1 : g.c2;
        std::vector<float>& smooth = c == 0 ? g.c1s : g.c2s;
        std::vector<float>& contrast = c == 0 ? g.b1 : g.b2;
        for (std::size_t k = 0; k < N; ++k) {
            if (!g.valid[k]) continue;
            const double s = ratio(G.v[k], W.v[k]) / kFixedOne;
            raw[k] = static_cast<float>(static_cast<double>(in.v[k]) / kFixedOne);
            smooth[k] = static_cast<float>(s);
            contrast[k] = static_cast<float>(s - ratio(B.v[k], n.v[k]) / kFixedOne);
        }
        in = IntPlane();
    }
    for (std::size_t k = 0; k < N; ++k)
        if (g.valid[k]) g.cc[k] = static_cast<float>(std::hypot(static_cast<double>(g.b1[k]), static_cast<double>(g.b2[k])));
}

}  // namespace

Grid buildGrid(const TileImage& t, const KilnDetector::Params& p) {
    Grid g;
    g.f = std::max(1, static_cast<int>(std::lround(p.internalGsd / std::max(t.gsdX, t.gsdY))));
    const int f = g.f;
    const int lx = (f - t.window.x % f) % f, ly = (f - t.window.y % f) % f;
    g.ox = t.window.x + lx;
    g.oy = t.window.y + ly;
    g.w = std::max(0, (t.window.w - lx) / f);
    g.h = std::max(0, (t.window.h - ly) / f);
    g.gx = t.gsdX * f;
    g.gy = t.gsdY * f;
    g.kx = oddWidth(p.backgroundWindow / g.gx);
    g.ky = oddWidth(p.backgroundWindow / g.gy);
    if (g.w < 1 || g.h < 1) return g;
    Fixed q = resample(t, p, g);
    const double sx = p.kilnSigma / g.gx, sy = p.kilnSigma / g.gy;
    const IntPlane W = gaussianSum(q.m, sx, sy), n = boxSum(q.m, g.kx, g.ky);
    q.m = IntPlane();
    brightness(g, q, W, n, sx, sy, p.sdFloor);
    q.qL = IntPlane();
    // Without chroma (greyscale, or colour off) every chroma term is zero: skip those filters.
    g.colour = p.colour && q.chroma;
    if (g.colour) chroma(g, q, W, n, sx, sy);
    return g;
}

}  // namespace riskmap::kiln
