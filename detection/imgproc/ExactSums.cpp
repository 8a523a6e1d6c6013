#include "detection/imgproc/ExactSums.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/VectorClones.hpp"
#include "detection/imgproc/ExactFilters.hpp"

namespace riskmap {

namespace {

constexpr double kExactLimit = 9007199254740992.0;  // 2^53
constexpr std::size_t kRowsPerTask = 16;

double weightSum(const std::vector<std::int64_t>& w) {
    double s = 0;
    for (auto x : w) s += static_cast<double>(x);
    return s;
}

// Row pass of a symmetric kernel: out[x] = sum_k w[k] in[x + k], zero outside. The row is
// copied into a zero-padded buffer so that the loop over x has no edge cases and vectorises.
RISKMAP_VECTOR_CLONES void convolveRow(const double* in, int n, const std::vector<double>& w, std::vector<double>& pad, double* out) {
    const int r = static_cast<int>(w.size() / 2);
    std::fill(pad.begin(), pad.end(), 0.0);
    std::copy(in, in + n, pad.begin() + r);
    const double* c = pad.data() + r;
    const double w0 = w[static_cast<std::size_t>(r)];
    for (int x = 0; x < n; ++x) out[x] = w0 * c[x];
    for (int k = 1; k <= r; ++k) {
        const double wk = w[static_cast<std::size_t>(r + k)];
        for (int x = 0; x < n; ++x) out[x] += wk * (c[x - k] + c[x + k]);
    }
}

// Column pass for output row y: out = sum_k w[k] rows[y + k], zero outside.
RISKMAP_VECTOR_CLONES void convolveColumn(const DoublePlane& src, int y, const std::vector<double>& w, double* out) {
    // Symmetric taps in pairs: half the passes over `out` (integer sums are exact in any order).
    const int r = static_cast<int>(w.size() / 2), n = src.w;
    const double* mid = src.row(y);
    const double w0 = w[static_cast<std::size_t>(r)];
    for (int x = 0; x < n; ++x) out[x] = w0 * mid[x];
    for (int k = 1; k <= r; ++k) {
        const double wk = w[static_cast<std::size_t>(r + k)];
        const double* up = y - k >= 0 ? src.row(y - k) : nullptr;
        const double* down = y + k < src.h ? src.row(y + k) : nullptr;
        if (up && down)
            for (int x = 0; x < n; ++x) out[x] += wk * (up[x] + down[x]);
        else if (up || down) {
            const double* in = up ? up : down;
            for (int x = 0; x < n; ++x) out[x] += wk * in[x];
        }
    }
}

std::vector<double> weights(double sigma) {
    std::vector<double> w;
    for (auto x : gaussianWeights(sigma)) w.push_back(static_cast<double>(x));
    return w;
}

// dst = prev - rows[leave] + rows[enter], where rows outside the plane count as zero.
RISKMAP_VECTOR_CLONES void slide(const DoublePlane& rows, int leave, int enter, const double* prev, double* dst) {
    const std::size_t w = static_cast<std::size_t>(rows.w);
    const double* out = leave >= 0 ? rows.row(leave) : nullptr;
    const double* in = enter < rows.h ? rows.row(enter) : nullptr;
    if (out && in)
        for (std::size_t x = 0; x < w; ++x) dst[x] = prev[x] - out[x] + in[x];
    else if (out)
        for (std::size_t x = 0; x < w; ++x) dst[x] = prev[x] - out[x];
    else if (in)
        for (std::size_t x = 0; x < w; ++x) dst[x] = prev[x] + in[x];
    else
        std::copy(prev, prev + w, dst);
}

template <class F>
void forRows(int h, F f) {
    tbb::parallel_for(tbb::blocked_range<int>(0, h, kRowsPerTask), [&](const tbb::blocked_range<int>& r) { f(r.begin(), r.end()); });
}

// Sum over a window of `k` along one axis of a plane of ones, for every position: the part of
// the window inside [0, n).
std::vector<double> onesAlong(int n, const std::vector<double>& w) {
    const int r = static_cast<int>(w.size() / 2);
    std::vector<double> out(static_cast<std::size_t>(n), 0.0);
    for (int i = 0; i < n; ++i)
        for (int k = std::max(-r, -i); k <= std::min(r, n - 1 - i); ++k) out[static_cast<std::size_t>(i)] += w[static_cast<std::size_t>(r + k)];
    return out;
}

DoublePlane outer(const std::vector<double>& ax, const std::vector<double>& ay) {
    DoublePlane out(static_cast<int>(ax.size()), static_cast<int>(ay.size()));
    for (std::size_t y = 0; y < ay.size(); ++y)
        for (std::size_t x = 0; x < ax.size(); ++x) out.v[y * ax.size() + x] = ax[x] * ay[y];
    return out;
}

}  // namespace

bool gaussianSumIsExact(double maxAbs, double sigmaX, double sigmaY) {
    return maxAbs * weightSum(gaussianWeights(sigmaX)) * weightSum(gaussianWeights(sigmaY)) < kExactLimit;
}

// The whole planes are the row streams below, row after row: one implementation of each sum.
DoublePlane gaussianSum(const DoublePlane& src, double sigmaX, double sigmaY) {
    DoublePlane out(src.w, src.h);
    forRows(src.h, [&](int y0, int y1) {
        GaussianSumRows rows(src, sigmaX, sigmaY);
        for (int y = y0; y < y1; ++y) {
            const double* r = rows.row(y);
            std::copy(r, r + src.w, out.row(y));
        }
    });
    return out;
}

DoublePlane boxSum(const DoublePlane& src, int kx, int ky) {
    DoublePlane out(src.w, src.h);
    forRowBands(src.h, [&](int y0, int y1) {
        BoxSumRows rows(src, kx, ky, y0);
        for (int y = y0; y < y1; ++y) {
            const double* r = rows.next();
            std::copy(r, r + src.w, out.row(y));
        }
    });
    return out;
}

BoxSumRows::BoxSumRows(const DoublePlane& src, int kx, int ky, int y0)
    : src_(src),
      rx_(kx / 2),
      ry_(ky / 2),
      y_(y0),
      column_(static_cast<std::size_t>(src.w), 0.0),
      prefix_(static_cast<std::size_t>(src.w) + 1, 0.0),
      out_(static_cast<std::size_t>(src.w)) {}

const double* BoxSumRows::next() {
    const auto w = static_cast<std::size_t>(src_.w);
    if (!started_) {
        for (int y = std::max(0, y_ - ry_); y <= std::min(src_.h - 1, y_ + ry_); ++y) {
            const double* in = src_.row(y);
            for (std::size_t x = 0; x < w; ++x) column_[x] += in[x];
        }
        started_ = true;
    } else {
        ++y_;
        slide(src_, y_ - ry_ - 1, y_ + ry_, column_.data(), column_.data());
    }
    for (std::size_t i = 0; i < w; ++i) prefix_[i + 1] = prefix_[i] + column_[i];
    for (int i = 0; i < src_.w; ++i)
        out_[static_cast<std::size_t>(i)] =
            prefix_[static_cast<std::size_t>(std::min(src_.w, i + rx_ + 1))] -
            prefix_[static_cast<std::size_t>(std::max(0, i - rx_))];
    return out_.data();
}

GaussianSumRows::GaussianSumRows(const DoublePlane& src, double sigmaX, double sigmaY)
    : src_(src), wx_(weights(sigmaX)), wy_(weights(sigmaY)), out_(static_cast<std::size_t>(src.w)) {
    pad_.assign(static_cast<std::size_t>(src.w) + wx_.size(), 0.0);
}

const double* GaussianSumRows::row(int y) {
    convolveColumn(src_, y, wy_, out_.data());
    convolveRow(out_.data(), src_.w, wx_, pad_, out_.data());
    return out_.data();
}

std::vector<double> gaussianOnesAlong(int n, double sigma) { return onesAlong(n, weights(sigma)); }

std::vector<double> boxOnesAlong(int n, int k) { return onesAlong(n, std::vector<double>(static_cast<std::size_t>(k), 1.0)); }

DoublePlane gaussianSumOfOnes(int w, int h, double sigmaX, double sigmaY) {
    return outer(onesAlong(w, weights(sigmaX)), onesAlong(h, weights(sigmaY)));
}

DoublePlane boxSumOfOnes(int w, int h, int kx, int ky) {
    return outer(onesAlong(w, std::vector<double>(static_cast<std::size_t>(kx), 1.0)),
                 onesAlong(h, std::vector<double>(static_cast<std::size_t>(ky), 1.0)));
}

}  // namespace riskmap
