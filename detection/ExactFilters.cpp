#include "detection/ExactFilters.hpp"

#include <cmath>

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
        for (int i = 0; i < n; ++i)
            o[i] = prefix[static_cast<std::size_t>(std::min(n, i + r + 1))] - prefix[static_cast<std::size_t>(std::max(0, i - r))];
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
