#include <gtest/gtest.h>

#include <random>

#include "detection/imgproc/BufferPool.hpp"
#include "detection/imgproc/ExactFilters.hpp"
#include "detection/imgproc/ExactSums.hpp"

using namespace riskmap;

namespace {

// The same random fixed-point values as an int64 plane and as a double plane.
void fill(IntPlane& a, DoublePlane& b, unsigned seed) {
    std::mt19937 rng(seed);
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.v[i] = toFixed((rng() % 20001) / 1000.0 - 10.0);
        b.v[i] = static_cast<double>(a.v[i]);
    }
}

}  // namespace

// The double sums must equal the int64 ones bit for bit, also where the kernel is taller than
// the plane (rows above and below missing on both sides) and on recycled, dirty buffers.
TEST(ExactSums, EqualTheIntegerFilters) {
    for (auto [w, h] : {std::pair{37, 29}, std::pair{40, 5}, std::pair{3, 41}, std::pair{300, 300}}) {
        for (int round = 0; round < 2; ++round) {
            IntPlane a(w, h);
            DoublePlane b(w, h);
            fill(a, b, static_cast<unsigned>(w * 7 + h + round));
            for (double sigma : {0.7, 2.0, 3.3}) {
                const IntPlane gi = gaussianSum(a, sigma, sigma * 1.3);
                const DoublePlane gd = gaussianSum(b, sigma, sigma * 1.3);
                for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(gd.v[i], static_cast<double>(gi.v[i])) << w << "x" << h << " sigma " << sigma;
            }
            const IntPlane bi = boxSum(a, 9, 5);
            const DoublePlane bd = boxSum(b, 9, 5);
            for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(bd.v[i], static_cast<double>(bi.v[i]));
        }
    }
}

// Streamed rows equal the whole-plane sums from any starting row, with kernels taller than the
// plane too: the kiln detector's fused passes rely on it.
TEST(ExactSums, RowStreamsEqualThePlanes) {
    for (auto [w, h] : {std::pair{37, 29}, std::pair{40, 5}, std::pair{120, 90}}) {
        IntPlane a(w, h);
        DoublePlane b(w, h);
        fill(a, b, static_cast<unsigned>(w + 3 * h));
        const DoublePlane box = boxSum(b, 9, 13), gauss = gaussianSum(b, 2.0, 2.6);
        for (int y0 : {0, 1, h / 2, h - 1}) {
            BoxSumRows rows(b, 9, 13, y0);
            GaussianSumRows grows(b, 2.0, 2.6);
            for (int y = y0; y < h; ++y) {
                const double* r = rows.next();
                const double* g = grows.row(y);
                for (int x = 0; x < w; ++x) {
                    ASSERT_EQ(r[x], box.row(y)[x])
                        << w << "x" << h << " from row " << y0 << " at " << x << "," << y;
                    ASSERT_EQ(g[x], gauss.row(y)[x]) << w << "x" << h << " at " << x << "," << y;
                }
            }
        }
    }
}

TEST(BufferPool, ReusesFreedBuffersAndDropsOnesThatDoNotFit) {
    // An unusual size, so that buffers other tests left in the pool do not fit it more closely.
    const std::size_t n = pool::kMinPooledBytes / sizeof(double) * 4 + 3;
    double* first = nullptr;
    std::size_t before = 0;
    {
        PooledArray<double> a = pooledArray<double>(n);
        before = pool::cachedBytes();  // after any cached buffer too small for it was dropped
        first = a.get();
        a[0] = 42;
    }
    // Freed into the pool, not to the heap.
    EXPECT_EQ(pool::cachedBytes(), before + n * sizeof(double));
    {
        // The freed buffer comes back (undefined contents: here still the old value).
        PooledArray<double> b = pooledArray<double>(n);
        EXPECT_EQ(b.get(), first);
        EXPECT_EQ(b[0], 42);
        // A second request while the first is live gets another buffer.
        EXPECT_EQ(pool::cachedBytes(), before);
        PooledArray<double> c = pooledArray<double>(n);
        EXPECT_NE(c.get(), first);
    }
    EXPECT_GE(pool::cachedBytes(), 2 * n * sizeof(double));
    {
        // Small arrays bypass the pool.
        PooledArray<float> s = pooledArray<float>(16);
        s[15] = 1;
        EXPECT_EQ(s.get_deleter().capacity, 0u);
    }
}
