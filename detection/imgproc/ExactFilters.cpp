#include "detection/imgproc/ExactFilters.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <optional>

namespace riskmap {

namespace {

// Sliding-window sums along rows, zero outside.
IntPlane boxRows(const IntPlane& src, int k) {
    IntPlane out(src.w, src.h);
    const int r = k / 2, n = src.w;
    std::vector<std::int64_t> prefix(static_cast<std::size_t>(n) + 1);
    for (int y = 0; y < src.h; ++y) {
        const std::int64_t* in = src.row(y);
        std::int64_t* o = out.row(y);
        prefix[0] = 0;
        for (int i = 0; i < n; ++i) prefix[static_cast<std::size_t>(i) + 1] = prefix[static_cast<std::size_t>(i)] + in[i];
        windowSums(prefix.data(), n, r, 0, n, o);
    }
    return out;
}

// Sliding-window sums down columns, one running row at a time (cache friendly), zero outside.
IntPlane boxColumns(const IntPlane& src, int k) {
    IntPlane out(src.w, src.h);
    const int r = k / 2, w = src.w, h = src.h;
    std::vector<std::int64_t> acc(static_cast<std::size_t>(w), 0);
    auto row = [&](int y) { return src.row(y); };
    for (int y = 0; y < std::min(r, h); ++y)
        for (int x = 0; x < w; ++x) acc[static_cast<std::size_t>(x)] += row(y)[x];
    for (int y = 0; y < h; ++y) {
        if (y + r < h)
            for (int x = 0; x < w; ++x) acc[static_cast<std::size_t>(x)] += row(y + r)[x];
        if (y - r - 1 >= 0)
            for (int x = 0; x < w; ++x) acc[static_cast<std::size_t>(x)] -= row(y - r - 1)[x];
        std::copy(acc.begin(), acc.end(), out.row(y));
    }
    return out;
}

}  // namespace

IntPlane boxSum(const IntPlane& src, int kx, int ky) { return boxColumns(boxRows(src, kx), ky); }

std::vector<std::int64_t> gaussianWeights(double sigma) {
    // Support as OpenCV's float GaussianBlur (radius ~4 sigma); weights in 1/4096ths.
    const int ksize = (static_cast<int>(std::lround(sigma * 8 + 1))) | 1;
    const int r = ksize / 2;
    std::vector<std::int64_t> w(static_cast<std::size_t>(ksize));
    for (int i = -r; i <= r; ++i)
        w[static_cast<std::size_t>(i + r)] = std::llround(4096.0 * std::exp(-0.5 * i * i / (sigma * sigma)));
    return w;
}

int gaussianReach(double sigma) { return static_cast<int>(gaussianWeights(sigma).size() / 2); }

namespace {

IntPlane convolveRows(const IntPlane& src, const std::vector<std::int64_t>& wt) {
    IntPlane out(src.w, src.h);
    const int r = static_cast<int>(wt.size() / 2), n = src.w;
    for (int y = 0; y < src.h; ++y) {
        const std::int64_t* in = src.row(y);
        std::int64_t* o = out.row(y);
        for (int i = 0; i < n; ++i) {
            std::int64_t sum = 0;
            const int a = std::max(-r, -i), b = std::min(r, n - 1 - i);
            for (int k = a; k <= b; ++k) sum += wt[static_cast<std::size_t>(k + r)] * in[i + k];
            o[i] = sum;
        }
    }
    return out;
}

// Down columns as weighted sums of whole rows, so memory is read in order.
IntPlane convolveColumns(const IntPlane& src, const std::vector<std::int64_t>& wt) {
    IntPlane out(src.w, src.h, true);
    const int r = static_cast<int>(wt.size() / 2), w = src.w, h = src.h;
    for (int y = 0; y < h; ++y) {
        std::int64_t* o = out.row(y);
        for (int k = std::max(-r, -y); k <= std::min(r, h - 1 - y); ++k) {
            const std::int64_t c = wt[static_cast<std::size_t>(k + r)];
            const std::int64_t* in = src.row(y + k);
            for (int x = 0; x < w; ++x) o[x] += c * in[x];
        }
    }
    return out;
}

}  // namespace

IntPlane gaussianSum(const IntPlane& src, double sigmaX, double sigmaY) {
    return convolveColumns(convolveRows(src, gaussianWeights(sigmaX)), gaussianWeights(sigmaY));
}

}  // namespace riskmap

namespace riskmap {

namespace {

// Half-width of the chord at each row offset -iry..iry, from (dx/rx)^2 + (dy/ry)^2 <= 1. Kept out
// of the SIMD clones below: an FMA-capable clone could contract rx * sqrt(t) + 1e-9 and round
// a chord differently on another machine.
std::vector<int> chordHalves(double rx, double ry) {
    const int iry = static_cast<int>(std::floor(ry));
    std::vector<int> half(static_cast<std::size_t>(2 * iry + 1));
    for (int dy = -iry; dy <= iry; ++dy) {
        double t = 1.0 - (ry > 0 ? (dy / ry) * (dy / ry) : 0.0);
        half[static_cast<std::size_t>(dy + iry)] = t < 0 ? -1 : static_cast<int>(std::floor(rx * std::sqrt(t) + 1e-9));
    }
    return half;
}

// The disk sums are a third of the clearing detector's time (a 500 m disk is 101 chords a pixel).
// The baseline x86-64 build adds two int64 lanes at a time; AVX2 adds four and AVX-512 eight,
// chosen when the process starts: clearing 7.6 -> 6.5 CPU-s on the real-texture mosaic. Integer
// only, so every clone gives the same bytes. (uint32/uint16 planes were tried: no faster.)
// Output rows y0 .. y1 - 1; the band reads its own prefix rows, from y0 minus the disk's reach.
constexpr int kRunGap = 16;  // px: wanted runs closer than this are summed as one

// The runs of row y's wanted pixels, [start, end), runs closer than kRunGap joined.
void wantedRuns(const std::function<void(int, std::uint8_t*)>& wanted, int y, std::vector<std::uint8_t>& want,
                std::vector<std::pair<int, int>>& runs) {
    const int w = static_cast<int>(want.size());
    wanted(y, want.data());
    runs.clear();
    for (int x = 0; x < w;) {
        if (!want[static_cast<std::size_t>(x)]) {
            ++x;
            continue;
        }
        const int s = x;
        while (x < w && want[static_cast<std::size_t>(x)]) ++x;
        // A short gap costs less summed than a run's set-up for every chord.
        if (!runs.empty() && s - runs.back().second < kRunGap)
            runs.back().second = x;
        else
            runs.emplace_back(s, x);
    }
}

// Output rows y0 .. y1 - 1 (see above); with `wanted`, only over the runs of wanted pixels of
// each output row (0 elsewhere).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RISKMAP_WIDE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define RISKMAP_WIDE_CLONES
#endif
RISKMAP_WIDE_CLONES
void sumChordBand(int w, int h, const std::vector<int>& half, int y0, int y1,
                  const std::function<void(int, std::int64_t*)>& source,
                  const std::function<void(int, std::uint8_t*)>* wanted,
                  const std::function<void(int, const std::int64_t*)>& sink) {
    const int iry = static_cast<int>(half.size() / 2);
    // Prefix sums of the rows a disk spans, in a ring: the plane's prefix sums never exist at once.
    const std::size_t ringRows = half.size(), pw = static_cast<std::size_t>(w) + 1;
    // Unsigned: a row's prefix sums of packed fields (LocalAnomaly) pass 2^63; modulo 2^64 every
    // chord difference, and so every disk sum that fits in int64, is still exact.
    std::vector<std::uint64_t> ring(ringRows * pw), o(static_cast<std::size_t>(w));
    std::vector<std::int64_t> in(static_cast<std::size_t>(w));
    std::vector<std::uint8_t> want(wanted ? static_cast<std::size_t>(w) : 0);
    std::vector<std::pair<int, int>> runs{{0, w}};
    auto prefixRow = [&](int y) { return ring.data() + static_cast<std::size_t>(y) % ringRows * pw; };
    int next = std::max(0, y0 - iry);  // first row whose prefix sums are not yet in the ring
    for (int y = y0; y < y1; ++y) {
        for (; next <= std::min(h - 1, y + iry); ++next) {
            source(next, in.data());
            std::uint64_t* p = prefixRow(next);
            p[0] = 0;
            for (int x = 0; x < w; ++x) p[x + 1] = p[x] + static_cast<std::uint64_t>(in[static_cast<std::size_t>(x)]);
        }
        if (wanted) wantedRuns(*wanted, y, want, runs);
        std::fill(o.begin(), o.end(), 0);
        for (int dy = std::max(-iry, -y); dy <= std::min(iry, h - 1 - y); ++dy) {
            const int hw = half[static_cast<std::size_t>(dy + iry)];
            if (hw < 0) continue;
            const std::uint64_t* p = prefixRow(y + dy);
            for (const auto& [s, e] : runs) {
                // Clamped chords at both ends; the interior without clamps, so the loop vectorises.
                const int a = std::clamp(std::min(w, hw), s, e), b = std::clamp(std::max(std::min(w, hw), w - hw), a, e);
                for (int x = s; x < a; ++x) o[static_cast<std::size_t>(x)] += p[std::min(w, x + hw + 1)] - p[std::max(0, x - hw)];
                for (int x = a; x < b; ++x) o[static_cast<std::size_t>(x)] += p[x + hw + 1] - p[x - hw];
                for (int x = b; x < e; ++x) o[static_cast<std::size_t>(x)] += p[std::min(w, x + hw + 1)] - p[std::max(0, x - hw)];
            }
        }
        // Two's complement: the same bits read as int64 are the (fitting) signed sums.
        sink(y, reinterpret_cast<const std::int64_t*>(o.data()));
    }
}

// A large disk as a box, the rows above and below it (row chords) and the columns either side of
// it (column chords): a 500 m disk at 10 m is one box, 30 row and 30 column chords a pixel against
// 101 row chords. Exact integer sums either way.
struct BoxSplit {
    int sx = 0, sy = 0;           // the box's half sides, px
    std::vector<int> columnHalf;  // column sx + 1 + k: its chord's half height
};

// The split with the fewest passes a pixel, if it saves a quarter of the row chords.
std::optional<BoxSplit> boxSplit(const std::vector<int>& half) {
    const int iry = static_cast<int>(half.size() / 2), hw0 = half[static_cast<std::size_t>(iry)];
    int best = -1;
    double bestCost = 0.75 * static_cast<double>(half.size());
    for (int sy = 0; sy <= iry; ++sy) {
        const int sx = half[static_cast<std::size_t>(iry + sy)];
        const double cost = 4 + 2.0 * (iry - sy) + 2.0 * (hw0 - sx);  // the box reads four rows
        if (sx >= 0 && cost < bestCost) bestCost = cost, best = sy;
    }
    if (best < 0) return std::nullopt;
    BoxSplit b;
    b.sy = best, b.sx = half[static_cast<std::size_t>(iry + best)];
    // Rows |dy| <= v reach column dx (chords shorten away from the centre row); rows past sy are
    // the row chords'.
    for (int dx = b.sx + 1; dx <= hw0; ++dx) {
        int v = 0;
        while (v + 1 <= b.sy && half[static_cast<std::size_t>(iry + v + 1)] >= dx) ++v;
        b.columnHalf.push_back(v);
    }
    return b;
}

// Prefix rows of the box split, padded by `pad` zero columns each side so that no chord clamps:
// row prefix sums (P), column prefix sums down the band (C) and their 2-D prefix (I), in a ring.
// Row y' >= r0 - 1 sits at slot y' + 1 (mod rows); r0 - 1 is the zero row the band starts from.
struct BoxRing {
    std::size_t pw, rows;
    int pad, w;
    std::vector<std::uint64_t> p, c, i;
    BoxRing(int width, int padding, int ringRows)
        : pw(static_cast<std::size_t>(width + 2 * padding + 1)), rows(static_cast<std::size_t>(ringRows)), pad(padding), w(width),
          p(rows * pw), c(rows * pw), i(rows * pw) {}
    std::uint64_t* at(std::vector<std::uint64_t>& a, int y) { return a.data() + static_cast<std::size_t>(y + 1) % rows * pw; }
    void zero(int y) { std::fill_n(at(c, y), pw, 0), std::fill_n(at(i, y), pw, 0); }  // the band's first
    // Row y from its values `in` (row y - 1 must be in the ring).
    RISKMAP_WIDE_CLONES void add(int y, const std::int64_t* in) {
        std::uint64_t *py = at(p, y), *cy = at(c, y), *iy = at(i, y);
        const std::uint64_t *c0 = at(c, y - 1), *i0 = at(i, y - 1);
        const std::size_t a = static_cast<std::size_t>(pad), n = static_cast<std::size_t>(w);
        std::fill_n(py, a + 1, 0);
        for (std::size_t x = 0; x < n; ++x) py[a + x + 1] = py[a + x] + static_cast<std::uint64_t>(in[x]);
        std::fill(py + a + n + 1, py + pw, py[a + n]);
        // C's padding columns stay 0 in every slot (allocated zero, never written).
        for (std::size_t x = 0; x < n; ++x) cy[a + x] = c0[a + x] + static_cast<std::uint64_t>(in[x]);
        for (std::size_t j = 0; j < pw; ++j) iy[j] = i0[j] + py[j];
    }
};

// As sumChordBand, by the box split (columns [s, e) of row y into o).
RISKMAP_WIDE_CLONES
void boxSplitRow(BoxRing& r, const std::vector<int>& half, const BoxSplit& b, int h, int y, int s, int e, std::uint64_t* o) {
    const int iry = static_cast<int>(half.size() / 2);
    const std::uint64_t *it = r.at(r.i, std::min(h - 1, y + b.sy)) + r.pad, *ib = r.at(r.i, std::max(-1, y - b.sy - 1)) + r.pad;
    for (int x = s; x < e; ++x) o[x] += it[x + b.sx + 1] - it[x - b.sx] - ib[x + b.sx + 1] + ib[x - b.sx];
    for (int dy = -iry; dy <= iry; ++dy) {
        const int hw = half[static_cast<std::size_t>(dy + iry)];
        if (std::abs(dy) <= b.sy || hw < 0 || y + dy < 0 || y + dy >= h) continue;
        const std::uint64_t* p = r.at(r.p, y + dy) + r.pad;
        for (int x = s; x < e; ++x) o[x] += p[x + hw + 1] - p[x - hw];
    }
    for (std::size_t k = 0; k < b.columnHalf.size(); ++k) {
        const int dx = b.sx + 1 + static_cast<int>(k), v = b.columnHalf[k];
        const std::uint64_t *ct = r.at(r.c, std::min(h - 1, y + v)) + r.pad, *cb = r.at(r.c, std::max(-1, y - v - 1)) + r.pad;
        for (int x = s; x < e; ++x) o[x] += ct[x + dx] - cb[x + dx] + ct[x - dx] - cb[x - dx];
    }
}

// sumChordBand by the box split.
void sumBoxBand(int w, int h, const std::vector<int>& half, const BoxSplit& b, int y0, int y1,
                const std::function<void(int, std::int64_t*)>& source, const std::function<void(int, std::uint8_t*)>* wanted,
                const std::function<void(int, const std::int64_t*)>& sink) {
    const int iry = static_cast<int>(half.size() / 2);
    BoxRing ring(w, half[static_cast<std::size_t>(iry)] + 1, 2 * iry + 3);
    std::vector<std::int64_t> in(static_cast<std::size_t>(w));
    std::vector<std::uint64_t> o(static_cast<std::size_t>(w));
    std::vector<std::uint8_t> want(wanted ? static_cast<std::size_t>(w) : 0);
    std::vector<std::pair<int, int>> runs{{0, w}};
    int next = std::max(0, y0 - iry);  // first row not yet in the ring
    ring.zero(next - 1);
    for (int y = y0; y < y1; ++y) {
        for (; next <= std::min(h - 1, y + iry); ++next) source(next, in.data()), ring.add(next, in.data());
        if (wanted) wantedRuns(*wanted, y, want, runs);
        std::fill(o.begin(), o.end(), 0);
        for (const auto& [s, e] : runs) boxSplitRow(ring, half, b, h, y, s, e, o.data());
        sink(y, reinterpret_cast<const std::int64_t*>(o.data()));
    }
}

// Bands of rows in parallel, so that one tile uses every thread (the planner then prefers one
// large tile, with less halo, to several small ones). A band re-reads the disk's reach of rows
// above it: 2 x 50 prefix rows against 64 x 101 chord rows for a 500 m disk at 10 m. The box
// split builds three prefix rows a row, so its bands are longer (256 rows: clearing 3.5 s on the
// real-texture mosaic, 3.6 s at 128).
void sumChords(int w, int h, const std::vector<int>& half,
               const std::function<void(int, std::int64_t*)>& source,
               const std::function<void(int, std::uint8_t*)>* wanted,
               const std::function<void(int, const std::int64_t*)>& sink) {
    const std::optional<BoxSplit> box = boxSplit(half);
    tbb::parallel_for(tbb::blocked_range<int>(0, h, box ? 256 : 64), [&](const tbb::blocked_range<int>& r) {
        if (box)
            sumBoxBand(w, h, half, *box, r.begin(), r.end(), source, wanted, sink);
        else
            sumChordBand(w, h, half, r.begin(), r.end(), source, wanted, sink);
    });
}

}  // namespace

void diskSumRows(int w, int h, double rx, double ry, const std::function<void(int, std::int64_t*)>& source,
                 const std::function<void(int, const std::int64_t*)>& sink) {
    sumChords(w, h, chordHalves(rx, ry), source, nullptr, sink);
}

void diskSumRows(int w, int h, double rx, double ry, const std::function<void(int, std::int64_t*)>& source,
                 const std::function<void(int, std::uint8_t*)>& wanted,
                 const std::function<void(int, const std::int64_t*)>& sink) {
    sumChords(w, h, chordHalves(rx, ry), source, &wanted, sink);
}

IntPlane diskSum(const IntPlane& src, double rx, double ry) {
    IntPlane out(src.w, src.h);
    diskSumRows(
        src.w, src.h, rx, ry, [&](int y, std::int64_t* row) { std::copy(src.row(y), src.row(y) + src.w, row); },
        [&](int y, const std::int64_t* row) { std::copy(row, row + src.w, out.row(y)); });
    return out;
}

bool diskSumPackable(int w, int h, double rx, double ry) {
    // Prefix sums reach w; a disk sum reaches the smaller of the disk's bounding box and the plane.
    const double chords = (2 * std::floor(rx) + 1) * (2 * std::floor(ry) + 1);
    const double most = std::min(chords, static_cast<double>(w) * h);
    return w + 1 < kPackMask && most < static_cast<double>(kPackMask);
}

void diskSums3(const IntPlane& a, const IntPlane& b, const IntPlane& c, double rx, double ry, IntPlane& sa, IntPlane& sb,
               IntPlane& sc) {
    bool packable = diskSumPackable(a.w, a.h, rx, ry);
    for (std::size_t k = 0; packable && k < a.size(); ++k) packable = (a.v[k] | b.v[k] | c.v[k]) >> 1 == 0;
    if (!packable) {
        sa = diskSum(a, rx, ry), sb = diskSum(b, rx, ry), sc = diskSum(c, rx, ry);
        return;
    }
    IntPlane packed(a.w, a.h);
    for (std::size_t k = 0; k < a.size(); ++k) packed.v[k] = a.v[k] | b.v[k] << kPackBits | c.v[k] << (2 * kPackBits);
    const IntPlane s = diskSum(packed, rx, ry);
    sa = IntPlane(a.w, a.h), sb = IntPlane(a.w, a.h), sc = IntPlane(a.w, a.h);
    for (std::size_t k = 0; k < a.size(); ++k) sa.v[k] = packedField(s.v[k], 0), sb.v[k] = packedField(s.v[k], 1), sc.v[k] = packedField(s.v[k], 2);
}

namespace {

__extension__ using i128 = __int128;  // exact envelope tests; GCC and Clang have it
constexpr std::int64_t kFar = INT64_MAX;

// 1-D exact squared distance transform: d(q) = min_p weight * (q - p)^2 + f(p), for f(p) < kFar.
// I holds the envelope's exact fractions: int64 when they cannot overflow, else __int128.
template <typename I>
void edt1d(const std::int64_t* f, std::int64_t* d, int n, std::int64_t weight, std::vector<int>& v,
           std::vector<std::pair<I, I>>& z, int q0, int q1) {
    // Envelope of parabolas; boundaries z[k] kept as exact fractions num/den (den > 0).
    int k = -1;
    v.resize(static_cast<std::size_t>(n));
    z.resize(static_cast<std::size_t>(n) + 1);
    auto inter = [&](int p, int q) {
        // Where the parabolas from p and q (p < q) meet.
        I num = (static_cast<I>(f[q]) + static_cast<I>(weight) * q * q) - (static_cast<I>(f[p]) + static_cast<I>(weight) * p * p);
        I den = static_cast<I>(2) * weight * (q - p);
        return std::make_pair(num, den);
    };
    auto leq = [](const std::pair<I, I>& a, const std::pair<I, I>& b) { return a.first * b.second <= b.first * a.second; };
    for (int q = 0; q < n; ++q) {
        if (f[q] == kFar) continue;
        if (k < 0) {
            k = 0;
            v[0] = q;
            continue;
        }
        std::pair<I, I> s = inter(v[static_cast<std::size_t>(k)], q);
        while (k > 0 && leq(s, z[static_cast<std::size_t>(k)])) {
            --k;
            s = inter(v[static_cast<std::size_t>(k)], q);
        }
        ++k;
        v[static_cast<std::size_t>(k)] = q;
        z[static_cast<std::size_t>(k)] = s;
    }
    if (k < 0) {
        for (int q = q0; q < q1; ++q) d[q] = kFar;
        return;
    }
    int j = 0;
    for (int q = q0; q < q1; ++q) {
        // Advance while the next boundary lies at or left of q: boundary <= q.
        while (j < k && z[static_cast<std::size_t>(j) + 1].first <= static_cast<I>(q) * z[static_cast<std::size_t>(j) + 1].second) ++j;
        const std::int64_t dq = q - v[static_cast<std::size_t>(j)];
        d[q] = weight * dq * dq + f[v[static_cast<std::size_t>(j)]];
    }
}

// Whether every product of the envelope test fits in int64: |num| <= fMax + weight (n-1)^2,
// den <= 2 weight (n-1), and a product of those stays below 2^62.
bool envelopeFitsInt64(std::int64_t fMax, std::int64_t weight, int n) {
    const double m = n > 1 ? n - 1.0 : 1.0;
    const double num = static_cast<double>(fMax) + static_cast<double>(weight) * m * m, den = 2.0 * static_cast<double>(weight) * m;
    return num * den < 4.0e18 && num * m < 4.0e18;
}

// Squared distance along each column of a 0/1 mask to the nearest feature in that column (the
// parabola envelope of binary input is that nearest feature), by two sweeps over the rows; kept
// for rows y0 .. y0 + cols.h only.
// Columns x0 .. x1 - 1 only, so that bands of columns run in parallel.
// Selects instead of branches, in clones for AVX2 and AVX-512 (64-bit multiplies), so that the
// loops vectorise: integer results, the same bytes from every clone.
RISKMAP_WIDE_CLONES
void nearestInColumns(const std::vector<std::uint8_t>& features, int w, int h, std::int64_t weight,
                      int y0, int x0, int x1, IntPlane& cols) {
    std::vector<std::int64_t> last(static_cast<std::size_t>(w), -1);
    const int y1 = y0 + cols.h;
    for (int y = 0; y < y1; ++y) {
        const std::uint8_t* in = features.data() + static_cast<std::size_t>(y) * w;
        for (int x = x0; x < x1; ++x) last[static_cast<std::size_t>(x)] = in[x] ? y : last[static_cast<std::size_t>(x)];
        if (y < y0) continue;
        std::int64_t* o = cols.row(y - y0);
        for (int x = x0; x < x1; ++x) {
            const std::int64_t l = last[static_cast<std::size_t>(x)], dy = y - l;
            o[x] = l < 0 ? kFar : weight * dy * dy;
        }
    }
    std::fill(last.begin(), last.end(), -1);
    for (int y = h - 1; y >= y0; --y) {
        const std::uint8_t* in = features.data() + static_cast<std::size_t>(y) * w;
        for (int x = x0; x < x1; ++x) last[static_cast<std::size_t>(x)] = in[x] ? y : last[static_cast<std::size_t>(x)];
        if (y >= y1) continue;
        std::int64_t* o = cols.row(y - y0);
        for (int x = x0; x < x1; ++x) {
            const std::int64_t l = last[static_cast<std::size_t>(x)], dy = l - y;
            o[x] = l >= 0 ? std::min(o[x], weight * dy * dy) : o[x];
        }
    }
}

}  // namespace

double DistancePlane::metres(std::size_t k) const {
    return metres(static_cast<int>(k % static_cast<std::size_t>(width)), static_cast<int>(k / static_cast<std::size_t>(width)));
}

double DistancePlane::metres(int x, int y) const {
    if (!area.contains({x, y})) return 1e300;
    const std::int64_t v = squared.at(x - area.x, y - area.y);
    return v == kFar ? 1e300 : std::sqrt(static_cast<double>(v) / scale);
}

DistancePlane distanceTransform(const std::vector<std::uint8_t>& features, int w, int h, double sx, double sy, cv::Rect need) {
    DistancePlane out;
    const double fine = std::min(sx, sy);
    out.scale = 1024.0 / (fine * fine);
    out.width = w;
    out.area = need.empty() ? cv::Rect(0, 0, w, h) : need & cv::Rect(0, 0, w, h);
    const std::int64_t wx = std::max<std::int64_t>(1, std::llround(sx * sx * out.scale));
    const std::int64_t wy = std::max<std::int64_t>(1, std::llround(sy * sy * out.scale));
    // Column distances for the rows asked for, then the row envelopes at the columns asked for:
    // the clearing detector reads about half its window, and the planes are most of its faults.
    // Columns, then rows, each in parallel bands: every row and column is computed alone.
    IntPlane cols(w, out.area.height);
    tbb::parallel_for(tbb::blocked_range<int>(0, w, 128), [&](const tbb::blocked_range<int>& r) {
        nearestInColumns(features, w, h, wy, out.area.y, r.begin(), r.end(), cols);
    });
    out.squared = IntPlane(out.area.width, out.area.height);
    const std::int64_t fMax = h > 1 ? wy * static_cast<std::int64_t>(h - 1) * (h - 1) : 0;
    auto rows = [&](auto z, int y0, int y1) {
        std::vector<int> v;
        std::vector<std::int64_t> row(static_cast<std::size_t>(w));
        for (int y = y0; y < y1; ++y) {
            edt1d(cols.row(y), row.data(), w, wx, v, z, out.area.x, out.area.x + out.area.width);
            std::copy(row.begin() + out.area.x, row.begin() + out.area.x + out.area.width, out.squared.row(y));
        }
    };
    const bool narrow = envelopeFitsInt64(fMax, wx, w);
    tbb::parallel_for(
        tbb::blocked_range<int>(0, out.area.height, 16), [&](const tbb::blocked_range<int>& r) {
            if (narrow)
                rows(std::vector<std::pair<std::int64_t, std::int64_t>>(), r.begin(), r.end());
            else
                rows(std::vector<std::pair<i128, i128>>(), r.begin(), r.end());
        });
    return out;
}

}  // namespace riskmap
