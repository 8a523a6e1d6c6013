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

// Disk sums of the mask and of each index (exact; int32 holds them, checked by the caller).
std::vector<Plane32> diskSums(const AnomalyPlanes& in, const AnomalyWindow& win) {
    std::vector<Plane32> out;
    for (std::size_t c = 0; c <= in.index.size(); ++c)
        out.push_back(pooledArray<std::int32_t>(in.size()));
    for (std::size_t c = 0; c < out.size(); ++c) {
        diskSumRows(
            in.w, in.h, win.diskX, win.diskY,
            [&](int y, std::int64_t* row) {
                const std::size_t k0 = static_cast<std::size_t>(y) * static_cast<std::size_t>(in.w);
                for (int x = 0; x < in.w; ++x) {
                    const std::size_t k = k0 + static_cast<std::size_t>(x);
                    row[x] = in.mask[k] ? (c == 0 ? 1 : in.index[c - 1][k]) : 0;
                }
            },
            [&](int y, const std::int64_t* row) {
                std::int32_t* dst =
                    out[c].get() + static_cast<std::size_t>(y) * static_cast<std::size_t>(in.w);
                for (int x = 0; x < in.w; ++x) dst[x] = static_cast<std::int32_t>(row[x]);
            });
    }
    return out;
}

// Running column sums over the box's rows of: the mask, each index, each product of two.
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
    const std::int64_t* channel(int c) const {
        return col_.data() + static_cast<std::size_t>(c) * in_.w;
    }

private:
    // Adds row `in` and subtracts row `out` (-1: none) in one pass per channel. Index values
    // are 0 off the mask (checked on entry), so only the count needs the mask.
    void update(int in, int out) {
        const std::size_t w = static_cast<std::size_t>(in_.w);
        const std::size_t oi = static_cast<std::size_t>(std::max(in, 0)) * w,
                          oo = static_cast<std::size_t>(std::max(out, 0)) * w;
        const std::int64_t fi = in >= 0, fo = out >= 0;  // whether each row counts
        std::int64_t* dst = col_.data();
        const std::uint8_t* m = in_.mask.get();
        for (std::size_t x = 0; x < w; ++x) dst[x] += fi * m[oi + x] - fo * m[oo + x];
        int c = 1;
        for (int i = 0; i < k_; ++i, ++c) {
            const std::int16_t* a = in_.index[static_cast<std::size_t>(i)].get();
            dst = col_.data() + static_cast<std::size_t>(c) * w;
            for (std::size_t x = 0; x < w; ++x) dst[x] += fi * a[oi + x] - fo * a[oo + x];
        }
        for (int i = 0; i < k_; ++i)
            for (int j = i; j < k_; ++j, ++c) {
                const std::int16_t* a = in_.index[static_cast<std::size_t>(i)].get();
                const std::int16_t* b = in_.index[static_cast<std::size_t>(j)].get();
                dst = col_.data() + static_cast<std::size_t>(c) * w;
                for (std::size_t x = 0; x < w; ++x) {
                    const std::int32_t pin = std::int32_t{a[oi + x]} * b[oi + x],
                                       pout = std::int32_t{a[oo + x]} * b[oo + x];
                    dst[x] += fi * pin - fo * pout;
                }
            }
    }
    const AnomalyPlanes& in_;
    int ry_, k_, channels_ = 0;
    std::vector<std::int64_t> col_;
};

// Box sums along a row from the column sums: box[c * w + x].
void boxRow(const BoxColumns& cols, int w, int rx, std::vector<std::int64_t>& prefix,
            std::vector<std::int64_t>& box) {
    const std::size_t uw = static_cast<std::size_t>(w);
    for (int c = 0; c < cols.channels(); ++c) {
        const std::int64_t* col = cols.channel(c);
        prefix[0] = 0;
        for (std::size_t x = 0; x < uw; ++x) prefix[x + 1] = prefix[x] + col[x];
        std::int64_t* out = box.data() + static_cast<std::size_t>(c) * uw;
        for (int x = 0; x < w; ++x)
            out[x] = prefix[static_cast<std::size_t>(std::min(w, x + rx + 1))] -
                     prefix[static_cast<std::size_t>(std::max(0, x - rx))];
    }
}

// One pixel's z from its box sums (channel stride w) and disk sums; 0 when not towards `toward`.
float pixelZ(const std::int64_t* box, std::size_t w, const std::vector<Plane32>& disk,
             std::size_t k, const std::vector<int>& toward, double floor2) {
    const int n = static_cast<int>(toward.size());
    const double cnt = static_cast<double>(box[0]), m = disk[0][k], one = kAnomalyOne;
    double mean[4], d[4], cov[4][4];
    for (int i = 0; i < n; ++i) {
        mean[i] = static_cast<double>(box[static_cast<std::size_t>(1 + i) * w]) / cnt / one;
        d[i] = disk[static_cast<std::size_t>(1 + i)][k] / m / one - mean[i];
    }
    std::size_t c = static_cast<std::size_t>(1 + n);
    for (int i = 0; i < n; ++i)
        for (int j = i; j < n; ++j, ++c)
            cov[i][j] = cov[j][i] =
                static_cast<double>(box[c * w]) / cnt / (one * one) - mean[i] * mean[j];
    double along = 0;
    for (int i = 0; i < n; ++i) {
        cov[i][i] = std::max(cov[i][i], 0.0) + floor2;
        along += toward[static_cast<std::size_t>(i)] * d[i] / std::sqrt(cov[i][i]);
    }
    if (!(along > 0)) return 0.0f;
    // Cholesky, then |L⁻¹ d|²; a pivot lost to rounding leaves the pixel at 0.
    double l[4][4] = {}, y[4], t2 = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j <= i; ++j) {
            double s = cov[i][j];
            for (int q = 0; q < j; ++q) s -= l[i][q] * l[j][q];
            if (i == j) {
                if (!(s > 0)) return 0.0f;
                l[i][i] = std::sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
        double s = d[i];
        for (int q = 0; q < i; ++q) s -= l[i][q] * y[q];
        y[i] = s / l[i][i];
        t2 += y[i] * y[i];
    }
    return static_cast<float>(std::sqrt(m * t2));
}

void checkInput(const AnomalyPlanes& in, const AnomalyWindow& win) {
    if (in.index.empty() || in.index.size() > 4 || in.toward.size() != in.index.size())
        throw Error("localAnomaly takes one to four index planes, each with a sign");
    if (!anomalyDiskFits(win.diskX, win.diskY))
        throw UsageError(
            "the anomaly disk holds too many pixels for exact sums: give a smaller radius");
    if (!(win.sdFloor > 0)) throw UsageError("the anomaly's SD floor must be above 0");
    for (const auto& plane : in.index)
        for (std::size_t k = 0; k < in.size(); ++k)
            if (plane[k] != 0 && !in.mask[k])
                throw Error("localAnomaly: an index value off the mask must be 0");
}

}  // namespace

AnomalyPlanes::AnomalyPlanes(int width, int height, std::vector<int> signs)
    : w(width), h(height), toward(std::move(signs)), mask(pooledArray<std::uint8_t>(size())) {
    for (std::size_t i = 0; i < toward.size(); ++i)
        index.push_back(pooledArray<std::int16_t>(size()));
}

bool anomalyDiskFits(double diskX, double diskY) {
    const double pixels = (2 * std::floor(diskX) + 1) * (2 * std::floor(diskY) + 1);
    return pixels * kAnomalyOne < static_cast<double>(std::numeric_limits<std::int32_t>::max());
}

PooledArray<float> localAnomaly(const AnomalyPlanes& in, const AnomalyWindow& win) {
    checkInput(in, win);
    const std::vector<Plane32> disk = diskSums(in, win);
    PooledArray<float> z = pooledArray<float>(in.size());
    const int rx = win.boxX / 2, ry = win.boxY / 2;
    const double floor2 = win.sdFloor * win.sdFloor;
    // Each band of rows starts its column sums afresh: exact integers, so any split agrees.
    forRowBands(in.h, [&](int y0, int y1) {
        BoxColumns cols(in, ry);
        const std::size_t w = static_cast<std::size_t>(in.w);
        std::vector<std::int64_t> prefix(w + 1), box(static_cast<std::size_t>(cols.channels()) * w);
        for (int y = y0; y < y1; ++y) {
            y == y0 ? cols.start(y) : cols.advance(y);
            boxRow(cols, in.w, rx, prefix, box);
            for (std::size_t x = 0; x < w; ++x) {
                const std::size_t k = static_cast<std::size_t>(y) * w + x;
                z[k] = 0.0f;
                if (!in.mask[k] || disk[0][k] < win.minDiskPixels || box[x] < 1) continue;
                z[k] = pixelZ(box.data() + x, w, disk, k, in.toward, floor2);
            }
        }
    });
    return z;
}

}  // namespace riskmap
