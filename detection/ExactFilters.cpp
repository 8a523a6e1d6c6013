#include "detection/ExactFilters.hpp"

#include <cmath>

namespace riskmap {

namespace {

// Sliding-window sums along rows (horizontal) or columns, zero outside.
IntPlane boxPass(const IntPlane& src, int k, bool horizontal) {
    IntPlane out(src.w, src.h);
    const int r = k / 2;
    const int n = horizontal ? src.w : src.h;
    const int lines = horizontal ? src.h : src.w;
    std::vector<std::int64_t> prefix(static_cast<std::size_t>(n) + 1);
    for (int l = 0; l < lines; ++l) {
        prefix[0] = 0;
        for (int i = 0; i < n; ++i)
            prefix[static_cast<std::size_t>(i) + 1] =
                prefix[static_cast<std::size_t>(i)] + (horizontal ? src.at(i, l) : src.at(l, i));
        for (int i = 0; i < n; ++i) {
            int a = std::max(0, i - r), b = std::min(n, i + r + 1);
            std::int64_t s = prefix[static_cast<std::size_t>(b)] - prefix[static_cast<std::size_t>(a)];
            if (horizontal)
                out.at(i, l) = s;
            else
                out.at(l, i) = s;
        }
    }
    return out;
}

}  // namespace

IntPlane boxSum(const IntPlane& src, int kx, int ky) {
    return boxPass(boxPass(src, kx, true), ky, false);
}

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

IntPlane convolvePass(const IntPlane& src, const std::vector<std::int64_t>& w, bool horizontal) {
    IntPlane out(src.w, src.h);
    const int r = static_cast<int>(w.size() / 2);
    const int n = horizontal ? src.w : src.h;
    const int lines = horizontal ? src.h : src.w;
    for (int l = 0; l < lines; ++l) {
        for (int i = 0; i < n; ++i) {
            std::int64_t s = 0;
            const int a = std::max(-r, -i), b = std::min(r, n - 1 - i);
            for (int k = a; k <= b; ++k)
                s += w[static_cast<std::size_t>(k + r)] * (horizontal ? src.at(i + k, l) : src.at(l, i + k));
            if (horizontal)
                out.at(i, l) = s;
            else
                out.at(l, i) = s;
        }
    }
    return out;
}

}  // namespace

IntPlane gaussianSum(const IntPlane& src, double sigmaX, double sigmaY) {
    return convolvePass(convolvePass(src, gaussianWeights(sigmaX), true), gaussianWeights(sigmaY), false);
}

}  // namespace riskmap
