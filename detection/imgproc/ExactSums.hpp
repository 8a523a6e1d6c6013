#pragma once
// The box and Gaussian sums of ExactFilters on integer-valued planes held as doubles. A double
// holds every integer below 2^53 exactly, so while every partial sum stays below that bound the
// sums are exact in any order and equal ExactFilters' int64 results bit for bit, which keeps a
// pixel's value independent of the tiling. In double the loops vectorise (AVX2 has no 64-bit
// integer multiply) and run in parallel over rows (TBB), which matters when memory allows only
// one tile in flight.
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "detection/imgproc/BufferPool.hpp"

namespace riskmap {

// A plane of integer values held as doubles. Its contents start undefined: filters write every
// value, and not zeroing ~14 MB per plane and tile matters. Its memory is recycled (BufferPool).
struct DoublePlane {
    int w = 0, h = 0;
    PooledArray<double> v;
    DoublePlane() = default;
    DoublePlane(int width, int height)
        : w(width), h(height), v(pooledArray<double>(static_cast<std::size_t>(width) * static_cast<std::size_t>(height))) {}
    std::size_t size() const { return static_cast<std::size_t>(w) * static_cast<std::size_t>(h); }
    double* row(int y) { return v.get() + static_cast<std::size_t>(y) * static_cast<std::size_t>(w); }
    const double* row(int y) const { return v.get() + static_cast<std::size_t>(y) * static_cast<std::size_t>(w); }
};

// f(y0, y1) over bands of rows in parallel, about two per thread and at least 64 rows each: for
// passes whose tasks each pay a start-up of many rows (a running box sum starts with ky rows).
template <class F>
void forRowBands(int h, F f) {
    const int threads = static_cast<int>(
        tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
    const int grain = std::max(64, h / (2 * std::max(1, threads)));
    tbb::parallel_for(
        tbb::blocked_range<int>(0, h, grain),
        [&](const tbb::blocked_range<int>& r) { f(r.begin(), r.end()); },
        tbb::simple_partitioner());
}

// Whether gaussianSum of a plane with |values| <= maxAbs stays exact in double.
bool gaussianSumIsExact(double maxAbs, double sigmaX, double sigmaY);

// As ExactFilters' boxSum (kx, ky odd; outside counts as 0). Exact when |values| * kx * ky < 2^53.
DoublePlane boxSum(const DoublePlane& src, int kx, int ky);

// As ExactFilters' gaussianSum (same integer weights and support); requires gaussianSumIsExact.
DoublePlane gaussianSum(const DoublePlane& src, double sigmaX, double sigmaY);

// The rows of boxSum(src, kx, ky) from row y0 on, one at a time, with no output plane: the
// column sums run down from y0 and each row is summed along. The same exact integers as
// boxSum. `src` must outlive it.
class BoxSumRows {
public:
    BoxSumRows(const DoublePlane& src, int kx, int ky, int y0);
    const double* next();  // row y0, then y0 + 1, ...

private:
    const DoublePlane& src_;
    int rx_, ry_, y_;
    bool started_ = false;
    std::vector<double> column_, prefix_, out_;
};

// The rows of gaussianSum(src, sigmaX, sigmaY), any row on demand; requires gaussianSumIsExact.
class GaussianSumRows {
public:
    GaussianSumRows(const DoublePlane& src, double sigmaX, double sigmaY);
    const double* row(int y);

private:
    const DoublePlane& src_;
    std::vector<double> wx_, wy_, pad_, out_;
};

// The sums of a plane of ones: what gaussianSum / boxSum give for a fully valid mask.
DoublePlane gaussianSumOfOnes(int w, int h, double sigmaX, double sigmaY);
DoublePlane boxSumOfOnes(int w, int h, int kx, int ky);
// Their factors along one axis of n pixels: the plane is ax[x] * ay[y], computed on the fly by
// callers that do not need the whole plane.
std::vector<double> gaussianOnesAlong(int n, double sigma);
std::vector<double> boxOnesAlong(int n, int k);

}  // namespace riskmap
