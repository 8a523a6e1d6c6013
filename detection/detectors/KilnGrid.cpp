// Steps 1-3 of the kiln detector (research/kiln/REPORT.md): the internal grid, log-brightness
// and log-chromaticity, and the full-plane filters. Every neighbourhood filter is an exact
// integer sum (ExactFilters, computed as ExactSums), so a pixel's value does not depend on the
// tiling. Rows are processed in parallel: one tile may be all that memory allows in flight.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/VectorClones.hpp"
#include "detection/detectors/KilnParts.hpp"
#include "detection/imgproc/ExactFilters.hpp"
#include "detection/imgproc/ExactSums.hpp"
#include "detection/imgproc/FastLog.hpp"

namespace riskmap::kiln {

namespace {

int oddWidth(double px) {
    int n = std::max(1, static_cast<int>(std::lround(px)));
    return n % 2 ? n : n + 1;
}

template <class F>
void forRows(int h, F f) {
    tbb::parallel_for(tbb::blocked_range<int>(0, h, 8), [&](const tbb::blocked_range<int>& r) { f(r.begin(), r.end()); });
}

// Fixed-point inputs of the filters (integers held as doubles, 0 where invalid): log-brightness
// L, L^2 and the two chroma coordinates.
struct Fixed {
    DoublePlane qL, qLL, q1, q2;
    std::vector<std::uint8_t> rowChroma;  // per row: some valid pixel has non-zero chroma
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
        // Display brightness (0..255 = white): 8-bit renderings as they are, reflectance
        // rendered as Sentinel Hub's true colour does (2.5 x reflectance), but not clipped.
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

// One internal row: block sums over f input rows, then means and logs.
struct RowWork {
    std::vector<double> r, g, b, nir, red, swir, lr, lg, lb, ls;
    std::vector<int> count;
    explicit RowWork(int w) {
        for (auto* v : {&r, &g, &b, &nir, &red, &swir, &lr, &lg, &lb, &ls}) v->resize(static_cast<std::size_t>(w));
        count.resize(static_cast<std::size_t>(w));
    }
    void reset() {
        for (auto* v : {&r, &g, &b, &nir, &red, &swir}) std::fill(v->begin(), v->end(), 0.0);
        std::fill(count.begin(), count.end(), 0);
    }
};

// f = 1 (10 m input): each block is one pixel; branch-free so that it vectorises.
void copyRow(const BandRows& rows, const std::uint8_t* valid, RowWork& acc) {
    const std::size_t w = acc.count.size();
    const float *R = rows.row(0), *G = rows.row(1), *B = rows.row(2);
    for (std::size_t i = 0; i < w; ++i) {
        const bool v = valid[i] != 0;
        acc.count[i] = v;
        acc.r[i] = v ? displayLevel(rows.gain(0), R[i]) : 0.0;
        acc.g[i] = v ? displayLevel(rows.gain(1), G[i]) : 0.0;
        acc.b[i] = v ? displayLevel(rows.gain(2), B[i]) : 0.0;
    }
    if (rows.nir())
        for (std::size_t i = 0; i < w; ++i) {
            acc.nir[i] = valid[i] ? rows.row(3)[i] : 0.0;
            acc.red[i] = valid[i] ? R[i] : 0.0;
        }
    if (rows.swir())
        for (std::size_t i = 0; i < w; ++i) acc.swir[i] = valid[i] ? rows.row(4)[i] : 0.0;
}

void accumulate(const BandRows& rows, const std::uint8_t* valid, int f, RowWork& acc) {
    if (f == 1) return copyRow(rows, valid, acc);
    const int w = static_cast<int>(acc.count.size());
    for (int i = 0; i < w; ++i) {
        const auto k = static_cast<std::size_t>(i);
        for (int x = i * f; x < (i + 1) * f; ++x) {
            if (!valid[x]) continue;
            ++acc.count[k];
            acc.r[k] += displayLevel(rows.gain(0), rows.row(0)[x]);
            acc.g[k] += displayLevel(rows.gain(1), rows.row(1)[x]);
            acc.b[k] += displayLevel(rows.gain(2), rows.row(2)[x]);
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

// The fixed-point planes of one row; whether any valid pixel has chroma.
RISKMAP_VECTOR_CLONES bool fixedRow(const std::uint8_t* valid, const RowWork& a, int w, double* qL,
                                    double* qLL, double* q1, double* q2) {
    bool chroma = false;
    for (int i = 0; i < w; ++i) {
        const auto s = static_cast<std::size_t>(i);
        const bool ok = valid[i] != 0;
        // ln R' - ln G' and ln R' - ln B' are exactly 0 in a greyscale image: chroma vanishes
        // there.
        const double L = a.ls[s], da = a.lr[s] - a.lg[s], db = a.lr[s] - a.lb[s];
        qL[i] = ok ? toFixedDouble(L) : 0.0;
        qLL[i] = ok ? toFixedDouble(L * L) : 0.0;
        q1[i] = ok ? toFixedDouble(da / std::sqrt(2.0)) : 0.0;
        q2[i] = ok ? toFixedDouble((2.0 * db - da) / std::sqrt(6.0)) : 0.0;
        chroma |= (q1[i] != 0) | (q2[i] != 0);
    }
    return chroma;
}

// Normalised difference of the block means of a and b (0 where invalid).
RISKMAP_VECTOR_CLONES void differenceRow(const std::uint8_t* valid, const RowWork& r,
                                         const std::vector<double>& a, const std::vector<double>& b,
                                         int w, float* out) {
    for (int i = 0; i < w; ++i) {
        const auto s = static_cast<std::size_t>(i);
        const bool ok = valid[i] != 0;
        const double n = ok ? r.count[s] : 1.0;
        out[i] = ok ? normalisedDifference(a[s] / n, b[s] / n) : 0.0f;
    }
}

// Means of the row's blocks (display brightness plus the dark offset), their logs, and the
// fixed-point planes. A pixel needs half of its f x f input pixels.
void finishRow(Grid& g, Fixed& q, RowWork& a, int j, double c0) {
    const int w = g.w, ff = g.f * g.f;
    std::uint8_t* valid = &g.valid[g.idx(0, j)];
    for (int i = 0; i < w; ++i) {
        const auto s = static_cast<std::size_t>(i);
        const bool ok = a.count[s] > 0 && 2 * a.count[s] >= ff;
        valid[i] = ok;
        const double n = ok ? a.count[s] : 1.0;
        a.r[s] = ok ? a.r[s] / n + c0 : 1.0;
        a.g[s] = ok ? a.g[s] / n + c0 : 1.0;
        a.b[s] = ok ? a.b[s] / n + c0 : 1.0;
        a.ls[s] = (a.r[s] + a.g[s] + a.b[s]) / 3.0;
    }
    logArray(a.r.data(), a.lr.data(), w);
    logArray(a.g.data(), a.lg.data(), w);
    logArray(a.b.data(), a.lb.data(), w);
    logArray(a.ls.data(), a.ls.data(), w);
    if (fixedRow(valid, a, w, q.qL.row(j), q.qLL.row(j), q.q1.row(j), q.q2.row(j)))
        q.rowChroma[static_cast<std::size_t>(j)] = 1;
    if (!g.ndvi.empty()) differenceRow(valid, a, a.nir, a.red, w, &g.ndvi[g.idx(0, j)]);
    if (!g.ndbi.empty()) differenceRow(valid, a, a.swir, a.nir, w, &g.ndbi[g.idx(0, j)]);
}

// Step 1: block averages anchored on multiples of f.
Fixed resample(const TileImage& t, const KilnDetector::Params& p, Grid& g) {
    const int f = g.f, lx = g.ox - t.window.x, ly = g.oy - t.window.y;
    const std::size_t n = static_cast<std::size_t>(g.w) * static_cast<std::size_t>(g.h);
    Fixed q{DoublePlane(g.w, g.h), DoublePlane(g.w, g.h), DoublePlane(g.w, g.h), DoublePlane(g.w, g.h),
            std::vector<std::uint8_t>(static_cast<std::size_t>(g.h), 0)};
    g.valid.allocate(n);
    if (t.has("nir")) g.ndvi.allocate(n);
    if (t.has("nir") && t.has("swir1")) g.ndbi.allocate(n);
    forRows(g.h, [&](int j0, int j1) {
        BandRows rows(t, lx, g.w * f);
        RowWork acc(g.w);
        for (int j = j0; j < j1; ++j) {
            if (f > 1) acc.reset();
            for (int dy = 0; dy < f; ++dy) {
                const int y = ly + j * f + dy;
                rows.read(y);
                accumulate(rows, t.valid.ptr<std::uint8_t>(y) + lx, f, acc);
            }
            finishRow(g, q, acc, j, p.darkOffset * 255.0);
        }
    });
    return q;
}

// Exact Gaussian sum; in int64 when the double sums could exceed 2^53 (very large sigmas).
DoublePlane smooth(const DoublePlane& in, double maxAbs, double sx, double sy) {
    if (gaussianSumIsExact(maxAbs, sx, sy)) return gaussianSum(in, sx, sy);
    IntPlane q(in.w, in.h);
    for (std::size_t k = 0; k < in.size(); ++k) q.v[k] = static_cast<std::int64_t>(in.v[k]);
    const IntPlane s = riskmap::gaussianSum(q, sx, sy);
    DoublePlane out(in.w, in.h);
    for (std::size_t k = 0; k < in.size(); ++k) out.v[k] = static_cast<double>(s.v[k]);
    return out;
}

// The mask sums W (Gaussian) and n (box) of the valid mask. For a fully valid tile they are
// products of two 1-D sums, formed row by row rather than held as two whole planes.
struct MaskSums {
    bool full = false;
    std::vector<double> wx, wy, nx, ny;
    DoublePlane W, n;
    const double* wRow(int y, std::vector<double>& buf) const { return row(W, wx, wy, y, buf); }
    const double* nRow(int y, std::vector<double>& buf) const { return row(n, nx, ny, y, buf); }

private:
    const double* row(const DoublePlane& p, const std::vector<double>& ax, const std::vector<double>& ay, int y,
                      std::vector<double>& buf) const {
        if (!full) return p.row(y);
        buf.resize(ax.size());
        const double f = ay[static_cast<std::size_t>(y)];
        for (std::size_t x = 0; x < ax.size(); ++x) buf[x] = ax[x] * f;
        return buf.data();
    }
};

// Bound of the fixed-point logs: |ln| of display brightness (5.1-260.1) and of its ratios.
constexpr double kMaxFixedLog = 6.0 * kFixedOne;

// The box and Gaussian sums of one fixed-point plane, a row at a time within a band of rows:
// no whole-plane outputs (the sums are exact integers, so streaming them changes no value).
// The Gaussian comes from a plane computed once when double sums would not be exact.
class Sums {
public:
    // gaussPlane: gaussPlaneIfInexact(in, sx, sy), streamed instead when it is empty.
    Sums(const DoublePlane& in, const DoublePlane& gaussPlane, const Grid& g, double sx, double sy,
         int y0)
        : box_(in, g.kx, g.ky, y0), gaussPlane_(gaussPlane.w ? &gaussPlane : nullptr) {
        if (!gaussPlane_) gauss_.emplace(in, sx, sy);
    }
    const double* box() { return box_.next(); }
    const double* gauss(int y) { return gaussPlane_ ? gaussPlane_->row(y) : gauss_->row(y); }

private:
    BoxSumRows box_;
    std::optional<GaussianSumRows> gauss_;
    const DoublePlane* gaussPlane_;
};

// The Gaussian plane of `in` when streamed double sums would not be exact, else an empty one.
DoublePlane gaussPlaneIfInexact(const DoublePlane& in, double sx, double sy) {
    return gaussianSumIsExact(kMaxFixedLog, sx, sy) ? DoublePlane()
                                                    : smooth(in, kMaxFixedLog, sx, sy);
}

// One row of z and zs. Branch-free so that it vectorises (same IEEE operations per pixel;
// invalid pixels' values, possibly x/0, are discarded by the selects).
RISKMAP_VECTOR_CLONES void brightnessRow(int w, const std::uint8_t* valid, const double* qL,
                                         const double* BL, const double* BLL, const double* GL,
                                         const double* W, const double* n, double sdFloor, float* z,
                                         float* zs) {
    for (int x = 0; x < w; ++x) {
        const bool v = valid[x] != 0;
        const double mu = BL[x] / n[x] / kFixedOne;
        const double var = std::max(BLL[x] / n[x] / kFixedOne - mu * mu, 0.0);
        const double sd = std::sqrt(std::max(var, sdFloor * sdFloor));
        const float zx = static_cast<float>((qL[x] / kFixedOne - mu) / sd);
        const float zsx = static_cast<float>((GL[x] / W[x] / kFixedOne - mu) / sd);
        z[x] = v ? zx : 0.0f;
        zs[x] = v ? zsx : -1e9f;
    }
}

// Step 3, colour-free: z = (L - mu) / sd and zs = (Ls - mu) / sd, with mu and sd the mean and
// SD of L over the background box and Ls the masked Gaussian of L at kiln scale.
void brightness(Grid& g, Fixed& q, const MaskSums& m, double sx, double sy, double sdFloor) {
    const DoublePlane gaussPlane = gaussPlaneIfInexact(q.qL, sx, sy);
    g.z.allocate(g.valid.size());
    g.zs.allocate(g.valid.size());
    forRowBands(g.h, [&](int y0, int y1) {
        Sums L(q.qL, gaussPlane, g, sx, sy, y0);
        BoxSumRows LL(q.qLL, g.kx, g.ky, y0);
        std::vector<double> wBuf, nBuf;
        for (int y = y0; y < y1; ++y) {
            const std::size_t k0 = g.idx(0, y);
            const double* BL = L.box();
            brightnessRow(g.w, &g.valid[k0], q.qL.row(y), BL, LL.next(), L.gauss(y),
                          m.wRow(y, wBuf), m.nRow(y, nBuf), sdFloor, &g.z[k0], &g.zs[k0]);
        }
    });
    q.qLL = DoublePlane();
}

// One row of one chroma coordinate: as read, smoothed, and smoothed minus its local mean.
RISKMAP_VECTOR_CLONES void chromaRow(int w, const std::uint8_t* valid, const double* in,
                                     const double* G, const double* B, const double* W,
                                     const double* n, float* raw, float* sm, float* contrast) {
    for (int x = 0; x < w; ++x) {
        const double s = valid[x] ? G[x] / W[x] / kFixedOne : 0.0;
        raw[x] = static_cast<float>(in[x] / kFixedOne);
        sm[x] = static_cast<float>(s);
        contrast[x] = valid[x] ? static_cast<float>(s - B[x] / n[x] / kFixedOne) : 0.0f;
    }
}

// Step 3, colour: chroma smoothed at kiln scale, minus its local mean; cc = |b|, a hue-free
// chroma contrast (a rotation about the grey axis moves every pixel almost rigidly).
void chroma(Grid& g, Fixed& q, const MaskSums& m, double sx, double sy) {
    for (auto* v : {&g.c1, &g.c2, &g.c1s, &g.c2s, &g.b1, &g.b2, &g.cc}) v->allocate(g.valid.size());
    for (int c = 0; c < 2; ++c) {
        DoublePlane& in = c == 0 ? q.q1 : q.q2;
        const DoublePlane gaussPlane = gaussPlaneIfInexact(in, sx, sy);
        Plane<float>& raw = c == 0 ? g.c1 : g.c2;
        Plane<float>& sm = c == 0 ? g.c1s : g.c2s;
        Plane<float>& contrast = c == 0 ? g.b1 : g.b2;
        forRowBands(g.h, [&](int y0, int y1) {
            Sums C(in, gaussPlane, g, sx, sy, y0);
            std::vector<double> wBuf, nBuf;
            for (int y = y0; y < y1; ++y) {
                const std::size_t k0 = g.idx(0, y);
                const double* B = C.box();
                chromaRow(g.w, &g.valid[k0], in.row(y), C.gauss(y), B, m.wRow(y, wBuf),
                          m.nRow(y, nBuf), &raw[k0], &sm[k0], &contrast[k0]);
            }
        });
        in = DoublePlane();
    }
    forRows(g.h, [&](int y0, int y1) {
        // Products of floats are exact in double, so this equals hypot() after rounding to float.
        for (std::size_t k = g.idx(0, y0), e = g.idx(0, y1); k < e; ++k) {
            const double b1 = g.b1[k], b2 = g.b2[k];
            g.cc[k] = g.valid[k] ? static_cast<float>(std::sqrt(b1 * b1 + b2 * b2)) : 0.0f;
        }
    });
}

// The mask sums: for a fully valid tile, products of two 1-D sums (the same integers, cheaply).
MaskSums maskSums(const Grid& g, double sx, double sy) {
    MaskSums m;
    if (std::count(g.valid.begin(), g.valid.end(), 1) == static_cast<std::ptrdiff_t>(g.valid.size())) {
        m.full = true;
        m.wx = gaussianOnesAlong(g.w, sx);
        m.wy = gaussianOnesAlong(g.h, sy);
        m.nx = boxOnesAlong(g.w, g.kx);
        m.ny = boxOnesAlong(g.h, g.ky);
        return m;
    }
    DoublePlane v(g.w, g.h);
    for (std::size_t k = 0; k < v.size(); ++k) v.v[k] = g.valid[k];
    m.W = smooth(v, 1.0, sx, sy);
    m.n = boxSum(v, g.kx, g.ky);
    return m;
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
    const MaskSums m = maskSums(g, sx, sy);
    brightness(g, q, m, sx, sy, p.sdFloor);
    q.qL = DoublePlane();
    // Without chroma (greyscale, or colour off) every chroma term is zero: skip those filters.
    g.colour = p.colour && std::count(q.rowChroma.begin(), q.rowChroma.end(), 1) > 0;
    if (g.colour) chroma(g, q, m, sx, sy);
    return g;
}

}  // namespace riskmap::kiln
