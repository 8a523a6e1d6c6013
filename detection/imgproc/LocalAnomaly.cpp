#include "detection/imgproc/LocalAnomaly.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "core/Error.hpp"
#include "detection/imgproc/ExactFilters.hpp"
#include "detection/imgproc/ExactSums.hpp"

namespace riskmap {

namespace {

using Plane32 = PooledArray<std::int32_t>;

// Channels summed over the disk (0: the mask's count, c > 0: index c - 1 plus kAnomalyOne on
// the mask, so never negative) packed into 63-bit words, as many to a word as their sums fit:
// a disk of n pixels sums the count to n and an index to 2 n kAnomalyOne. Carries never cross
// fields, so the sums stay exact; one disk sum per word instead of one per channel was 15 % of
// clearing's tile time on the real-texture mosaic.
struct DiskPacking {
    int countBits = 0, indexBits = 0;
    std::vector<std::vector<int>> words;  // channels in each word, lowest bits first
};

int bitsFor(double most) { return static_cast<int>(std::floor(std::log2(std::max(most, 1.0)))) + 1; }

DiskPacking diskPacking(std::size_t channels, const AnomalyWindow& win) {
    DiskPacking p;
    const double n = diskPixelCount(win.diskX, win.diskY);
    p.countBits = bitsFor(n), p.indexBits = bitsFor(n * 2 * kAnomalyOne);
    int used = 64;
    for (std::size_t c = 0; c < channels; ++c) {
        const int bits = c == 0 ? p.countBits : p.indexBits;
        if (used + bits > 63) p.words.emplace_back(), used = 0;
        p.words.back().push_back(static_cast<int>(c)), used += bits;
    }
    return p;
}

// Row y of one word: its channels shifted into place. Loops over whole rows, one channel at a
// time, so that they vectorise.
// Only the pixels of `counted` (a subset of the mask) enter the sums.
void packRow(const AnomalyPlanes& in, const std::uint8_t* counted, const DiskPacking& pack, const std::vector<int>& word,
             int y, std::int64_t* row) {
    const std::size_t w = static_cast<std::size_t>(in.w);
    const std::uint8_t* m = counted + static_cast<std::size_t>(y) * w;
    const std::int32_t one = static_cast<std::int32_t>(kAnomalyOne);
    std::fill(row, row + w, 0);
    int shift = 0;
    for (int c : word) {
        if (c == 0) {
            for (std::size_t x = 0; x < w; ++x) row[x] += m[x];
        } else {
            const std::int16_t* v = in.index[static_cast<std::size_t>(c - 1)].get() + static_cast<std::size_t>(y) * w;
            for (std::size_t x = 0; x < w; ++x) row[x] += static_cast<std::int64_t>((v[x] + one) * m[x]) << shift;
        }
        shift += c == 0 ? pack.countBits : pack.indexBits;
    }
}

// Row y of one word's disk sums into its channels' planes, an index's offset taken off again
// (kAnomalyOne per masked pixel: the count is the first word's first channel, so unpacked first).
void unpackRow(const DiskPacking& pack, const std::vector<int>& word, std::size_t k0, std::size_t w, const std::int64_t* row,
               std::vector<Plane32>& out) {
    const std::int64_t one = static_cast<std::int64_t>(kAnomalyOne);
    const std::int32_t* count = out[0].get() + k0;
    int shift = 0;
    for (int c : word) {
        const int bits = c == 0 ? pack.countBits : pack.indexBits;
        const std::int64_t field = (std::int64_t{1} << bits) - 1;
        std::int32_t* dst = out[static_cast<std::size_t>(c)].get() + k0;
        if (c == 0)
            for (std::size_t x = 0; x < w; ++x) dst[x] = static_cast<std::int32_t>(row[x] >> shift & field);
        else
            for (std::size_t x = 0; x < w; ++x) dst[x] = static_cast<std::int32_t>((row[x] >> shift & field) - one * count[x]);
        shift += bits;
    }
}

// Disk sums of the mask and of each index (exact; int32 holds them, checked by the caller), at
// the pixels anomalyRows reads (the area); other pixels hold no meaningful value.
std::vector<Plane32> diskSums(const AnomalyPlanes& in, const AnomalyWindow& win, const std::uint8_t* counted) {
    const DiskPacking pack = diskPacking(in.index.size() + 1, win);
    std::vector<Plane32> out;
    for (std::size_t c = 0; c <= in.index.size(); ++c) out.push_back(pooledArray<std::int32_t>(in.size()));
    const std::size_t w = static_cast<std::size_t>(in.w);
    // The area's rectangle. (Its wanted pixels alone, which creeks cut into short runs, took
    // longer: a run's set-up per chord costs more than a small disk's sums.)
    auto wanted = [&](int y, std::uint8_t* row) {
        std::fill(row, row + w, 0);
        if (y >= win.areaY0 && y < win.areaY1)
            std::fill(row + std::max(0, win.areaX0), row + std::max(0, std::min(in.w, win.areaX1)), 1);
    };
    for (const std::vector<int>& word : pack.words)
        diskSumRows(
            in.w, in.h, win.diskX, win.diskY, [&](int y, std::int64_t* row) { packRow(in, counted, pack, word, y, row); }, wanted,
            [&](int y, const std::int64_t* row) { unpackRow(pack, word, static_cast<std::size_t>(y) * w, w, row, out); });
    return out;
}

// Running column sums over the box's rows of: the mask, each index, each product of two. Acc is
// int32 while a column of products fits (boxes up to 127 rows; 4 lanes per SSE register),
// else int64.
template <typename Acc>
class BoxColumns {
public:
    BoxColumns(const AnomalyPlanes& in, int ry)
        : in_(in), ry_(ry), k_(static_cast<int>(in.index.size())) {
        channels_ = 1 + k_ + k_ * (k_ + 1) / 2;
        col_.assign(static_cast<std::size_t>(channels_) * static_cast<std::size_t>(in.w), 0);
    }
    int channels() const { return channels_; }
    void start(int y) {
        std::fill(col_.begin(), col_.end(), 0);
        for (int r = std::max(0, y - ry_); r <= std::min(in_.h - 1, y + ry_); ++r) update(r, -1);
    }
    void advance(int y) {  // from row y - 1 to row y: one row enters, one leaves
        update(y + ry_ < in_.h ? y + ry_ : -1, y - ry_ - 1);
    }
    const Acc* channel(int c) const { return col_.data() + static_cast<std::size_t>(c) * in_.w; }

private:
    // dst += value(row in) - value(row out), either row absent when -1; no multiplies by flags,
    // so the loops vectorise.
    template <typename V>
    void apply(Acc* dst, int in, int out, V value) const {
        const std::size_t w = static_cast<std::size_t>(in_.w);
        const std::size_t oi = static_cast<std::size_t>(std::max(in, 0)) * w;
        const std::size_t oo = static_cast<std::size_t>(std::max(out, 0)) * w;
        if (in >= 0 && out >= 0)
            for (std::size_t x = 0; x < w; ++x) dst[x] += value(oi + x) - value(oo + x);
        else if (in >= 0)
            for (std::size_t x = 0; x < w; ++x) dst[x] += value(oi + x);
        else if (out >= 0)
            for (std::size_t x = 0; x < w; ++x) dst[x] -= value(oo + x);
    }
    // Adds row `in` and subtracts row `out` in one pass per channel. Index values are 0 off the
    // mask (checked on entry), so only the count needs the mask.
    void update(int in, int out) {
        const std::size_t w = static_cast<std::size_t>(in_.w);
        const std::uint8_t* m = in_.mask.get();
        apply(col_.data(), in, out, [m](std::size_t k) { return static_cast<Acc>(m[k]); });
        int c = 1;
        for (int i = 0; i < k_; ++i, ++c) {
            const std::int16_t* a = in_.index[static_cast<std::size_t>(i)].get();
            apply(col_.data() + static_cast<std::size_t>(c) * w, in, out,
                  [a](std::size_t k) { return static_cast<Acc>(a[k]); });
        }
        for (int i = 0; i < k_; ++i)
            for (int j = i; j < k_; ++j, ++c) {
                const std::int16_t* a = in_.index[static_cast<std::size_t>(i)].get();
                const std::int16_t* b = in_.index[static_cast<std::size_t>(j)].get();
                apply(col_.data() + static_cast<std::size_t>(c) * w, in, out,
                      [a, b](std::size_t k) {
                          return static_cast<Acc>(std::int32_t{a[k]} * std::int32_t{b[k]});
                      });
            }
    }
    const AnomalyPlanes& in_;
    int ry_, k_, channels_ = 0;
    std::vector<Acc> col_;
};

// Box sums along a row from the column sums, for columns [x0, x1): box[c * w + x].
template <typename Acc>
void boxRow(const BoxColumns<Acc>& cols, int w, int rx, int x0, int x1,
            std::vector<std::int64_t>& prefix, std::vector<std::int64_t>& box) {
    const std::size_t uw = static_cast<std::size_t>(w);
    for (int c = 0; c < cols.channels(); ++c) {
        const Acc* col = cols.channel(c);
        prefix[0] = 0;
        for (std::size_t x = 0; x < uw; ++x) prefix[x + 1] = prefix[x] + col[x];
        windowSums(prefix.data(), w, rx, x0, x1, box.data() + static_cast<std::size_t>(c) * uw);
    }
}

// The box's statistics at one pixel: index means and covariance (SD floor on the diagonal),
// and its LDLᵀ factors (no square roots) once a disk needs them, shared by every disk compared
// with that box. Most pixels depart away from bare ground and never need the factors.
class BoxStats {
public:
    BoxStats(const std::int64_t* box, std::size_t w, int n, double floor2) : n_(n) {
        const double one = kAnomalyOne, perBox = 1.0 / (static_cast<double>(box[0]) * one);
        for (int i = 0; i < n; ++i) mean[i] = static_cast<double>(box[static_cast<std::size_t>(1 + i) * w]) * perBox;
        std::size_t c = static_cast<std::size_t>(1 + n);
        for (int i = 0; i < n; ++i)
            for (int j = i; j < n; ++j, ++c)
                cov[i][j] = cov[j][i] = static_cast<double>(box[c * w]) * perBox / one - mean[i] * mean[j];
        for (int i = 0; i < n; ++i) cov[i][i] = std::max(cov[i][i], 0.0) + floor2;
    }
    int n() const { return n_; }
    // false: a pivot was lost to rounding (every z is then 0).
    bool factored() {
        if (state_ == 0) state_ = factor() ? 1 : 2;
        return state_ == 1;
    }
    double mean[4], cov[4][4], l[4][4], inv[4];

private:
    bool factor() {
        double dg[4];
        for (int i = 0; i < n_; ++i) {
            for (int j = 0; j < i; ++j) {
                double s = cov[i][j];
                for (int q = 0; q < j; ++q) s -= l[i][q] * l[j][q] * dg[q];
                l[i][j] = s * inv[j];
            }
            double s = cov[i][i];
            for (int q = 0; q < i; ++q) s -= l[i][q] * l[i][q] * dg[q];
            if (!(s > 0)) return false;
            dg[i] = s, inv[i] = 1.0 / s;
        }
        return true;
    }
    int n_, state_ = 0;
};

// One pixel's z for one disk from the box's statistics; 0 when not towards `toward`.
float pixelZ(BoxStats& b, const std::vector<Plane32>& disk, std::size_t k, const std::vector<int>& toward, double maxWeight) {
    const double m = disk[0][k], perDisk = 1.0 / (m * kAnomalyOne);
    double d[4], along = 0;
    for (int i = 0; i < b.n(); ++i) {
        d[i] = disk[static_cast<std::size_t>(1 + i)][k] * perDisk - b.mean[i];
        along += toward[static_cast<std::size_t>(i)] * d[i] / std::sqrt(b.cov[i][i]);
    }
    if (!(along > 0) || !b.factored()) return 0.0f;
    // The sum of y_i² / D_i with L y = d.
    double y[4], t2 = 0;
    for (int i = 0; i < b.n(); ++i) {
        double r = d[i];
        for (int q = 0; q < i; ++q) r -= b.l[i][q] * y[q];
        y[i] = r;
        t2 += r * r * b.inv[i];
    }
    return static_cast<float>(std::sqrt(std::min(m, maxWeight) * t2));
}

void checkInput(const AnomalyPlanes& in, const AnomalyWindow& win) {
    if (in.index.empty() || in.index.size() > 4 || in.toward.size() != in.index.size())
        throw Error("localAnomaly takes one to four index planes, each with a sign");
    if (!anomalyDiskFits(win.diskX, win.diskY))
        throw UsageError(
            "the anomaly disk holds too many pixels for exact sums: give a smaller radius");
    if (!(win.sdFloor > 0)) throw UsageError("the anomaly's SD floor must be above 0");
    // Flags gathered without a branch, so the loop vectorises (a throw inside it did not: 1.5 %
    // of clearing's time).
    const int one = static_cast<int>(kAnomalyOne);
    for (const auto& plane : in.index) {
        int bad = 0;
        for (std::size_t k = 0; k < in.size(); ++k) {
            const int v = plane[k];
            bad |= (v != 0 && !in.mask[k]) | (v > one) | (v < -one);
        }
        if (bad) throw Error("localAnomaly: index values must lie in [-1, 1] and be 0 off the mask");
    }
}

}  // namespace

AnomalyPlanes::AnomalyPlanes(int width, int height, std::vector<int> signs)
    : w(width), h(height), toward(std::move(signs)), mask(pooledArray<std::uint8_t>(size())) {
    for (std::size_t i = 0; i < toward.size(); ++i)
        index.push_back(pooledArray<std::int16_t>(size()));
}

int diskPixelCount(double diskX, double diskY) {
    const int w = 2 * static_cast<int>(std::floor(diskX)) + 1,
              h = 2 * static_cast<int>(std::floor(diskY)) + 1;
    IntPlane ones(w, h);
    std::fill(ones.v.get(), ones.v.get() + ones.size(), 1);
    return static_cast<int>(diskSum(ones, diskX, diskY).at(w / 2, h / 2));
}

bool anomalyDiskFits(double diskX, double diskY) {
    const double pixels = (2 * std::floor(diskX) + 1) * (2 * std::floor(diskY) + 1);
    return pixels * kAnomalyOne < static_cast<double>(std::numeric_limits<std::int32_t>::max());
}

namespace {

// One disk's sums and output, with what gates it.
struct DiskRun {
    std::vector<Plane32> sums;
    float* z;
    int minPixels;
    double maxWeight;
};

// z over the wanted area for every disk, column sums kept in Acc.
template <typename Acc>
void anomalyRows(const AnomalyPlanes& in, const AnomalyWindow& win, const std::vector<DiskRun>& disks) {
    const int rx = win.boxX / 2, ry = win.boxY / 2;
    const int ax0 = std::max(0, win.areaX0), ax1 = std::min(in.w, win.areaX1);
    const int ay0 = std::max(0, win.areaY0), ay1 = std::min(in.h, win.areaY1);
    if (ax0 >= ax1 || ay0 >= ay1) return;
    const double floor2 = win.sdFloor * win.sdFloor;
    const int n = static_cast<int>(in.toward.size());
    // Each band of rows starts its column sums afresh: exact integers, so any split agrees.
    forRowBands(ay1 - ay0, [&](int b0, int b1) {
        BoxColumns<Acc> cols(in, ry);
        const std::size_t w = static_cast<std::size_t>(in.w);
        std::vector<std::int64_t> prefix(w + 1), box(static_cast<std::size_t>(cols.channels()) * w);
        for (int y = ay0 + b0; y < ay0 + b1; ++y) {
            y == ay0 + b0 ? cols.start(y) : cols.advance(y);
            boxRow(cols, in.w, rx, ax0, ax1, prefix, box);
            for (int x = ax0; x < ax1; ++x) {
                const std::size_t k = static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x);
                if (!in.mask[k] || (in.wanted && !in.wanted[k]) || box[static_cast<std::size_t>(x)] < 1) continue;
                const bool any = std::any_of(disks.begin(), disks.end(), [&](const DiskRun& d) { return d.sums[0][k] >= d.minPixels; });
                if (!any) continue;
                BoxStats stats(box.data() + x, w, n, floor2);
                for (const DiskRun& d : disks)
                    if (d.sums[0][k] >= d.minPixels) d.z[k] = pixelZ(stats, d.sums, k, in.toward, d.maxWeight);
            }
        }
    });
}

}  // namespace

std::vector<PooledArray<float>> localAnomalies(const AnomalyPlanes& in, const AnomalyWindow& win,
                                               const std::vector<AnomalyDisk>& more) {
    std::vector<PooledArray<float>> z;
    std::vector<DiskRun> disks;
    auto add = [&](const AnomalyWindow& v, const std::uint8_t* counted) {
        checkInput(in, v);
        int outside = 0;
        if (counted != in.mask.get())
            for (std::size_t k = 0; k < in.size(); ++k) outside |= counted[k] & ~in.mask[k];
        if (outside) throw Error("localAnomalies: a disk counts pixels off the mask");
        z.push_back(pooledArray<float>(in.size()));
        std::fill(z.back().get(), z.back().get() + in.size(), 0.0f);
        disks.push_back({diskSums(in, v, counted), z.back().get(), v.minDiskPixels, v.maxDiskWeight});
    };
    add(win, in.mask.get());
    for (const AnomalyDisk& d : more) {
        AnomalyWindow v = win;
        v.diskX = d.diskX, v.diskY = d.diskY, v.maxDiskWeight = d.maxDiskWeight;
        add(v, d.counted ? d.counted : in.mask.get());
    }
    // A column holds at most boxY rows of products up to 4096².
    const double most = static_cast<double>(win.boxY) * kAnomalyOne * kAnomalyOne;
    if (most < static_cast<double>(std::numeric_limits<std::int32_t>::max()))
        anomalyRows<std::int32_t>(in, win, disks);
    else
        anomalyRows<std::int64_t>(in, win, disks);
    return z;
}

PooledArray<float> localAnomaly(const AnomalyPlanes& in, const AnomalyWindow& win) {
    return std::move(localAnomalies(in, win, {}).front());
}

}  // namespace riskmap
