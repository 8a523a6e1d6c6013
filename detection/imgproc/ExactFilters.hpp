#pragma once
// Neighbourhood filters in exact integer arithmetic. Float box and Gaussian filters give results
// that depend on where a pixel sits in the buffer (running sums, SIMD tails), so a pixel could
// differ in its last bit between two tilings and flip a threshold. Sums of fixed-point integers
// are exact in any order, so these filters give the same value for a pixel in every tile.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

namespace riskmap {

// A plane of 64-bit integers (OpenCV 4.6 has no 64-bit integer Mat). Its contents start
// undefined unless zeroed: filters write every value, and skipping the memset matters.
struct IntPlane {
    int w = 0;
    int h = 0;
    std::unique_ptr<std::int64_t[]> v;

    IntPlane() = default;
    IntPlane(int width, int height, bool zero = false)
        : w(width), h(height), v(new std::int64_t[static_cast<std::size_t>(width) * height]) {
        if (zero) std::fill(v.get(), v.get() + size(), 0);
    }
    std::size_t size() const { return static_cast<std::size_t>(w) * h; }
    std::int64_t& at(int x, int y) { return v[static_cast<std::size_t>(y) * w + x]; }
    std::int64_t at(int x, int y) const { return v[static_cast<std::size_t>(y) * w + x]; }
    std::int64_t* row(int y) { return v.get() + static_cast<std::size_t>(y) * w; }
    const std::int64_t* row(int y) const { return v.get() + static_cast<std::size_t>(y) * w; }
};

// Fixed point with 16 fractional bits: plenty for log-ratios and indices (|v| < 1e4).
constexpr double kFixedOne = 65536.0;
inline std::int64_t toFixed(double v) {
    // Round half away from zero, as llround, without the libm call.
    const double s = v * kFixedOne;
    return static_cast<std::int64_t>(s >= 0 ? s + 0.5 : s - 0.5);
}
// static_cast<double>(toFixed(v)), branch-free so that loops of it vectorise: trunc of s +- 0.5
// is the integer the int64 conversion gives, and + 0.0 turns trunc's -0 into its 0.
inline double toFixedDouble(double v) {
    const double s = v * kFixedOne;
    return std::trunc(s >= 0 ? s + 0.5 : s - 0.5) + 0.0;
}

// Sum over a kx x ky box centred on each pixel (kx, ky odd); outside the plane counts as 0.
IntPlane boxSum(const IntPlane& src, int kx, int ky);

// Sums over [x - r, x + r] (clamped to the row) for x in [x0, x1), from a row's prefix sums
// (n + 1 values, prefix[0] = 0). The clamps only at the row's ends, so the interior vectorises
// (clamped everywhere, the loop compiled as a gather: half of the anomaly's box time).
inline void windowSums(const std::int64_t* prefix, int n, int r, int x0, int x1, std::int64_t* out) {
    auto clamped = [&](int x) { out[x] = prefix[std::min(n, x + r + 1)] - prefix[std::max(0, x - r)]; };
    const int a = std::clamp(r, x0, std::max(x0, x1)), b = std::clamp(n - r, a, std::max(a, x1));
    for (int x = x0; x < a; ++x) clamped(x);
    for (int x = a; x < b; ++x) out[x] = prefix[x + r + 1] - prefix[x - r];
    for (int x = b; x < x1; ++x) clamped(x);
}

// Separable Gaussian-weighted sum with integer weights (sigma in pixels per axis, support about
// 4 sigma as OpenCV's float GaussianBlur). Outside the plane counts as 0. Normalise by the same
// filter applied to a mask to get a masked mean.
IntPlane gaussianSum(const IntPlane& src, double sigmaX, double sigmaY);

// The integer weights (1/4096ths) of one axis, and how far they reach (pixels).
std::vector<std::int64_t> gaussianWeights(double sigma);
int gaussianReach(double sigma);

}  // namespace riskmap

namespace riskmap {

// Sum of `src` over an ellipse of radii (rx, ry) pixels around each pixel (a disk in metres on
// anisotropic pixels), computed row by row from prefix sums (chords). Outside counts as 0.
IntPlane diskSum(const IntPlane& src, double rx, double ry);
// The same, streamed: source(y, row) fills input row y, sink(y, sums) takes output row y; only
// the disk's height of prefix rows per band of rows is held (no whole-plane buffers). Bands run
// in parallel: source and sink are called from several threads at once, a row's source may be
// called more than once, and sinks arrive in no particular order. A sink must not change what a
// source reads.
void diskSumRows(int w, int h, double rx, double ry, const std::function<void(int, std::int64_t*)>& source,
                 const std::function<void(int, const std::int64_t*)>& sink);
// The same where wanted(y, row) sets row[x] to 1 for the pixels whose sums are needed: the sink
// gets 0 elsewhere. The chords are summed over the wanted runs only (where a 500 m disk's 101
// chords a pixel are spent on forest and water that no test reads).
void diskSumRows(int w, int h, double rx, double ry, const std::function<void(int, std::int64_t*)>& source,
                 const std::function<void(int, std::uint8_t*)>& wanted,
                 const std::function<void(int, const std::int64_t*)>& sink);

// Three 0/1 planes packed 21 bits each into one 64-bit value are disk-summed in one pass: exact
// while no sum reaches 2^21 (diskSumPackable), as every field only adds.
constexpr int kPackBits = 21;
constexpr std::int64_t kPackMask = (std::int64_t{1} << kPackBits) - 1;
bool diskSumPackable(int w, int h, double rx, double ry);
inline std::int64_t packedField(std::int64_t v, int i) { return v >> (kPackBits * i) & kPackMask; }

// diskSum of three 0/1 planes, packed when it fits, else in three passes. Same results as three
// diskSum calls.
void diskSums3(const IntPlane& a, const IntPlane& b, const IntPlane& c, double rx, double ry, IntPlane& sa, IntPlane& sb,
               IntPlane& sc);

// Squared Euclidean distance to the nearest non-zero pixel of `features`, with pixel spacing
// (sx, sy) metres, in exact integer arithmetic (Felzenszwalb & Huttenlocher 2012 with rational
// envelope tests). Spacings are quantised to 1/1024 of the finer one squared; the result is in
// those units: metres = sqrt(value / scale). Pixels with no feature in the plane get INT64_MAX.
struct DistancePlane {
    IntPlane squared;  // over `area` only
    cv::Rect area;     // the pixels computed (need); metres() is infinite elsewhere
    int width = 0;     // of the whole plane, for metres(k)
    double scale = 1;  // squared units per square metre
    double metres(int x, int y) const;
    double metres(std::size_t k) const;  // k = y * width + x
};
// Only pixels inside `need` (all when empty) are computed and stored.
DistancePlane distanceTransform(const std::vector<std::uint8_t>& features, int w, int h, double sx, double sy,
                                cv::Rect need = {});

}  // namespace riskmap
