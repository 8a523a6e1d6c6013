// The camp-scale multi-index anomaly (RX): brute force, tiling, the one-index case, whitening.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/Error.hpp"
#include "detection/imgproc/LocalAnomaly.hpp"

using namespace riskmap;

namespace {

std::int16_t fixedOf(double v) {
    return static_cast<std::int16_t>(std::lround(v * kAnomalyOne));
}

AnomalyPlanes randomPlanes(int w, int h, int k, unsigned seed, double maskShare = 0.85) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-0.3, 0.3), m(0, 1);
    std::vector<int> toward;
    for (int i = 0; i < k; ++i) toward.push_back(i % 2 ? 1 : -1);
    AnomalyPlanes p(w, h, toward);
    for (std::size_t j = 0; j < p.size(); ++j) {
        p.mask[j] = m(rng) < maskShare;
        const double common = u(rng);
        for (auto& plane : p.index)
            plane[j] = p.mask[j] ? fixedOf(0.5 * common + 0.5 * u(rng)) : 0;  // correlated indices
    }
    return p;
}

// The definition, summed pixel by pixel in double.
// `counted` (optional) limits the disk's pixels; the box takes the whole mask.
float bruteZ(const AnomalyPlanes& p, const AnomalyWindow& win, int x, int y, const std::uint8_t* counted = nullptr) {
    const int k = static_cast<int>(p.index.size());
    auto at = [&](int i, int xx, int yy) {
        return p.index[static_cast<std::size_t>(i)][static_cast<std::size_t>(yy * p.w + xx)] /
               kAnomalyOne;
    };
    auto in = [&](int xx, int yy) {
        return xx >= 0 && yy >= 0 && xx < p.w && yy < p.h &&
               p.mask[static_cast<std::size_t>(yy * p.w + xx)];
    };
    if (!in(x, y)) return 0.0f;
    double n = 0, m = 0, s[4] = {}, q[4][4] = {}, ds[4] = {};
    for (int yy = y - win.boxY / 2; yy <= y + win.boxY / 2; ++yy)
        for (int xx = x - win.boxX / 2; xx <= x + win.boxX / 2; ++xx) {
            if (!in(xx, yy)) continue;
            n += 1;
            for (int i = 0; i < k; ++i) {
                s[i] += at(i, xx, yy);
                for (int j = 0; j < k; ++j) q[i][j] += at(i, xx, yy) * at(j, xx, yy);
            }
            const double ex = (xx - x) / win.diskX, ey = (yy - y) / win.diskY;
            const bool take = !counted || counted[static_cast<std::size_t>(yy * p.w + xx)];
            if (take && std::abs(xx - x) <= win.diskX && std::abs(yy - y) <= win.diskY &&
                ex * ex + ey * ey <= 1.0 + 1e-12) {
                m += 1;
                for (int i = 0; i < k; ++i) ds[i] += at(i, xx, yy);
            }
        }
    if (m < win.minDiskPixels) return 0.0f;
    double d[4], c[4][4], along = 0;
    for (int i = 0; i < k; ++i) d[i] = ds[i] / m - s[i] / n;
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j)
            c[i][j] = q[i][j] / n - s[i] / n * s[j] / n + (i == j ? win.sdFloor * win.sdFloor : 0);
    for (int i = 0; i < k; ++i)
        along += p.toward[static_cast<std::size_t>(i)] * d[i] / std::sqrt(c[i][i]);
    if (along <= 0) return 0.0f;
    // Gauss-Jordan solve of c x = d.
    double a[4][5];
    for (int i = 0; i < k; ++i) {
        for (int j = 0; j < k; ++j) a[i][j] = c[i][j];
        a[i][k] = d[i];
    }
    for (int i = 0; i < k; ++i)
        for (int r = 0; r < k; ++r) {
            if (r == i) continue;
            const double f = a[r][i] / a[i][i];
            for (int j = i; j <= k; ++j) a[r][j] -= f * a[i][j];
        }
    double t2 = 0;
    for (int i = 0; i < k; ++i) t2 += d[i] * a[i][k] / a[i][i];
    return static_cast<float>(std::sqrt(m * t2));
}

}  // namespace

TEST(LocalAnomaly, MatchesTheDefinitionSummedPixelByPixel) {
    for (int k = 1; k <= 4; ++k) {
        const AnomalyPlanes p = randomPlanes(37, 29, k, 7u + static_cast<unsigned>(k));
        AnomalyWindow win;
        win.boxX = 9, win.boxY = 7, win.diskX = 2.0, win.diskY = 1.6, win.sdFloor = 0.005;
        const PooledArray<float> z = localAnomaly(p, win);
        int positive = 0;
        for (int y = 0; y < p.h; ++y)
            for (int x = 0; x < p.w; ++x) {
                const float want = bruteZ(p, win, x, y),
                            got = z[static_cast<std::size_t>(y * p.w + x)];
                ASSERT_NEAR(got, want, 1e-3 * std::max(1.0f, want))
                    << "k " << k << " at " << x << "," << y;
                positive += got > 0;
            }
        EXPECT_GT(positive, 100) << "some departures point the counted way";
    }
}

TEST(LocalAnomaly, TallBoxesSumInSixtyFourBits) {
    // A box of 131 rows of values near +-1 passes what int32 column sums hold (127 rows of 4096²):
    // the int64 path must give the definition too (PlanetScope at 3 m has 301-row boxes).
    std::mt19937 rng(9);
    std::uniform_real_distribution<double> u(0.85, 1.0);
    AnomalyPlanes p(12, 150, {1, -1, 1});
    for (std::size_t j = 0; j < p.size(); ++j) {
        p.mask[j] = 1;
        p.index[0][j] = fixedOf(u(rng)), p.index[1][j] = fixedOf(-u(rng)),
        p.index[2][j] = fixedOf(u(rng));
    }
    AnomalyWindow win;
    win.boxX = 5, win.boxY = 131, win.diskX = win.diskY = 1.5, win.sdFloor = 0.005;
    const PooledArray<float> z = localAnomaly(p, win);
    int positive = 0;
    for (int y = 0; y < p.h; y += 7)
        for (int x = 0; x < p.w; ++x) {
            const float want = bruteZ(p, win, x, y);
            ASSERT_NEAR(z[static_cast<std::size_t>(y * p.w + x)], want, 1e-3 * std::max(1.0f, want))
                << x << "," << y;
            positive += want > 0;
        }
    EXPECT_GT(positive, 20);
}

TEST(LocalAnomaly, PackedDiskSumsHoldTheirLargestValues) {
    // The disk sums pack the count and the indices into shared 64-bit words, each field as wide
    // as its largest sum: a disk all at +1 fills an index's field, one at -1 empties it. Columns
    // of +1, -1 and noise put both extremes in every field. The plane is 5000 px wide, so a
    // row's prefix sums of the packed words pass 2^63 (exact modulo 2^64; UBSan checks that no
    // signed sum overflows).
    for (const int w : {61, 5000}) {
        AnomalyPlanes p = randomPlanes(w, 9, 4, 21, 1.0);
        for (int y = 0; y < p.h; ++y)
            for (int x = 0; x < p.w; ++x) {
                const std::size_t j = static_cast<std::size_t>(y * p.w + x);
                const int band = (x / 12) % 3;  // 12 px of +1, 12 of -1, 12 of noise
                for (auto& plane : p.index)
                    if (band < 2) plane[j] = fixedOf(band == 0 ? 1.0 : -1.0);
            }
        AnomalyWindow win;
        win.boxX = 31, win.boxY = 7, win.diskX = win.diskY = 3.0, win.sdFloor = 0.005;
        const PooledArray<float> z = localAnomaly(p, win);
        int positive = 0;
        for (int y = 0; y < p.h; ++y)
            for (int x = 0; x < std::min(p.w, 400); ++x) {
                const float want = bruteZ(p, win, x, y);
                ASSERT_NEAR(z[static_cast<std::size_t>(y * p.w + x)], want, 1e-3 * std::max(1.0f, want))
                    << "width " << w << " at " << x << "," << y;
                positive += want > 0;
            }
        EXPECT_GT(positive, 50);
        // The far end of the wide rows, where the prefix sums are largest.
        for (int x = p.w - 40; x < p.w; ++x) {
            const float want = bruteZ(p, win, x, 4);
            ASSERT_NEAR(z[static_cast<std::size_t>(4 * p.w + x)], want, 1e-3 * std::max(1.0f, want)) << x;
        }
    }
}

TEST(LocalAnomaly, BoxesWiderThanThePlaneAndPartAreasMatchTheDefinition) {
    // The box sums along a row clamp at the plane's edges and skip the clamps inside: a plane
    // narrower than the box (no inside), and an area that starts and ends near either edge.
    struct Case {
        int w, boxX, x0, x1;
    };
    for (const Case& c : std::vector<Case>{{7, 11, 0, 7}, {40, 9, 2, 39}, {40, 9, 6, 30}, {23, 21, 1, 22}}) {
        const AnomalyPlanes p = randomPlanes(c.w, 20, 3, 31u + static_cast<unsigned>(c.w + c.x0));
        AnomalyWindow win;
        win.boxX = c.boxX, win.boxY = 7, win.diskX = win.diskY = 1.5, win.sdFloor = 0.005;
        win.areaX0 = c.x0, win.areaX1 = c.x1;
        const PooledArray<float> z = localAnomaly(p, win);
        for (int y = 0; y < p.h; ++y)
            for (int x = 0; x < p.w; ++x) {
                const float want = x >= c.x0 && x < c.x1 ? bruteZ(p, win, x, y) : 0.0f;
                ASSERT_NEAR(z[static_cast<std::size_t>(y * p.w + x)], want, 1e-3 * std::max(1.0f, want))
                    << c.w << " px, box " << c.boxX << ", area " << c.x0 << "-" << c.x1 << " at " << x << "," << y;
            }
    }
}

TEST(LocalAnomaly, APixelsValueDoesNotDependOnTheWindowAroundIt) {
    // Tiles see different crops of a scene; a pixel whose box lies inside both gets the same bits.
    const AnomalyPlanes whole = randomPlanes(300, 140, 4, 3);
    AnomalyWindow win;
    win.boxX = win.boxY = 21, win.diskX = win.diskY = 2.0, win.sdFloor = 0.005;
    const PooledArray<float> zWhole = localAnomaly(whole, win);
    const int x0 = 37, y0 = 11, w = 190, h = 117;
    AnomalyPlanes crop(w, h, whole.toward);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const std::size_t src = static_cast<std::size_t>((y + y0) * whole.w + x + x0),
                              dst = static_cast<std::size_t>(y * w + x);
            crop.mask[dst] = whole.mask[src];
            for (std::size_t i = 0; i < whole.index.size(); ++i)
                crop.index[i][dst] = whole.index[i][src];
        }
    const PooledArray<float> zCrop = localAnomaly(crop, win);
    for (int y = 10; y < h - 10; ++y)
        for (int x = 10; x < w - 10; ++x)
            ASSERT_EQ(zCrop[static_cast<std::size_t>(y * w + x)],
                      zWhole[static_cast<std::size_t>((y + y0) * whole.w + x + x0)])
                << x << "," << y;
}

TEST(LocalAnomaly, PixelsNotWantedAreZeroAndTheRestKeepTheirBits) {
    // The clearing detector skips pixels that are already clearly bare: every other pixel's z
    // must be the bits it gets when all are computed (the sums still take every masked pixel).
    AnomalyPlanes p = randomPlanes(120, 90, 3, 11);
    AnomalyWindow win;
    win.boxX = win.boxY = 15, win.diskX = win.diskY = 2.0, win.sdFloor = 0.005;
    const PooledArray<float> all = localAnomaly(p, win);
    p.wanted = pooledArray<std::uint8_t>(p.size());
    for (std::size_t k = 0; k < p.size(); ++k) p.wanted[k] = (k * 7919) % 3 != 0;
    const PooledArray<float> some = localAnomaly(p, win);
    int computed = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        ASSERT_EQ(some[k], p.wanted[k] ? all[k] : 0.0f) << k;
        computed += p.wanted[k] && all[k] > 0;
    }
    EXPECT_GT(computed, 1000);
}

TEST(LocalAnomaly, OneIndexIsTheStandardisedDepartureOfTheDiskMean) {
    // Forest at 0.70 with a +-0.02 checkerboard (SD 0.02); a 3 x 3 disk-sized patch at 0.50.
    AnomalyPlanes p(41, 41, {-1});
    std::fill(p.mask.get(), p.mask.get() + p.size(), 1);
    for (int y = 0; y < 41; ++y)
        for (int x = 0; x < 41; ++x)
            p.index[0][static_cast<std::size_t>(y * 41 + x)] = fixedOf(
                std::abs(x - 20) <= 1 && std::abs(y - 20) <= 1 ? 0.5 : ((x + y) % 2 ? 0.72 : 0.68));
    AnomalyWindow win;
    win.boxX = win.boxY = 41, win.diskX = win.diskY = 1.5,
    win.sdFloor = 0.001;  // disk: the 3 x 3 block
    const PooledArray<float> z = localAnomaly(p, win);
    const float centre = z[20 * 41 + 20];
    EXPECT_NEAR(centre, bruteZ(p, win, 20, 20), 1e-3);
    EXPECT_GT(centre, 20.0f);
    p.toward = {1};  // the same patch does not count when only a rise counts
    EXPECT_EQ(localAnomaly(p, win)[20 * 41 + 20], 0.0f);
}

TEST(LocalAnomaly, DepartureAcrossTheTexturesCorrelationCountsMoreThanAlongIt) {
    // Two indices that vary together in the texture. A disk shifted along that direction is
    // ordinary; the same shift across it is not (what one index at a time cannot tell).
    std::mt19937 rng(5);
    std::normal_distribution<double> g(0, 0.03), e(0, 0.005);
    auto make = [&](double da, double db) {
        AnomalyPlanes p(61, 61, {1, 1});
        std::fill(p.mask.get(), p.mask.get() + p.size(), 1);
        rng.seed(5);
        for (int y = 0; y < 61; ++y)
            for (int x = 0; x < 61; ++x) {
                const bool disk = std::abs(x - 30) <= 1 && std::abs(y - 30) <= 1;
                const double t = g(rng);
                p.index[0][static_cast<std::size_t>(y * 61 + x)] =
                    fixedOf(0.2 + t + e(rng) + (disk ? da : 0));
                p.index[1][static_cast<std::size_t>(y * 61 + x)] =
                    fixedOf(0.1 + t + e(rng) + (disk ? db : 0));
            }
        AnomalyWindow win;
        win.boxX = win.boxY = 61, win.diskX = win.diskY = 1.5, win.sdFloor = 0.001;
        return localAnomaly(p, win)[30 * 61 + 30];
    };
    const float along = make(0.04, 0.04), across = make(0.06, -0.02);  // same sum of departures
    EXPECT_GT(across, 3 * along) << "along " << along << " across " << across;
}

TEST(LocalAnomaly, TheDiskCountsAtMostItsGrainOfEvidence) {
    const AnomalyPlanes p = randomPlanes(60, 40, 3, 11);
    AnomalyWindow win;
    win.boxX = win.boxY = 15, win.diskX = win.diskY = 3.0, win.sdFloor = 0.005;
    const PooledArray<float> all = localAnomaly(p, win);
    win.maxDiskWeight = 5;
    const PooledArray<float> capped = localAnomaly(p, win);
    int checked = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        if (all[k] == 0.0f) continue;
        // z scales with the square root of the pixels counted: sqrt(5 / n) with n >= 5 here.
        EXPECT_LE(capped[k], all[k] * (1 + 1e-6f));
        EXPECT_GE(capped[k], all[k] * std::sqrt(5.0f / 29.0f) * (1 - 1e-6f));
        ++checked;
    }
    EXPECT_GT(checked, 500);
    // The cap bites: a full disk of 29 pixels counts 5 of them.
    int smaller = 0;
    for (std::size_t k = 0; k < p.size(); ++k)
        smaller += all[k] > 0.0f && capped[k] < 0.9f * all[k];
    EXPECT_GT(smaller, 100);
    EXPECT_EQ(diskPixelCount(2.0, 2.0), 13) << "a 37 m disk at 18.5 m";
    EXPECT_EQ(diskPixelCount(3.0, 3.0), 29);
}

TEST(LocalAnomaly, RefusesWhatItCannotSumExactly) {
    AnomalyPlanes p = randomPlanes(8, 8, 2, 1);
    AnomalyWindow win;
    win.sdFloor = 0;
    EXPECT_THROW(localAnomaly(p, win), UsageError);
    win.sdFloor = 0.01, win.diskX = win.diskY = 400;
    EXPECT_THROW(localAnomaly(p, win), UsageError);
    win.diskX = win.diskY = 1;
    std::size_t off = 0;
    while (p.mask[off]) ++off;
    p.index[0][off] = 7;  // a value off the mask would enter the box sums
    EXPECT_THROW(localAnomaly(p, win), Error);
    p.index[0][off] = 0;
    p.index[0][0] = p.mask[0] ? 4097 : 0;  // outside [-1, 1]
    if (p.mask[0]) {
        EXPECT_THROW(localAnomaly(p, win), Error);
    }
    p.index[0][0] = 0;
    p.toward.pop_back();
    win.diskX = win.diskY = 1;
    EXPECT_THROW(localAnomaly(p, win), Error);
}

TEST(LocalAnomaly, SeveralDisksAgainstOneBoxGiveEachDisksOwnBits) {
    // The clearing detector tests a 37 m and a 74 m disk against the same box; sharing the box
    // sums and the covariance's factors must not change a bit of either.
    AnomalyPlanes p = randomPlanes(160, 120, 4, 17);
    AnomalyWindow win;
    win.boxX = win.boxY = 31, win.diskX = win.diskY = 2.0, win.sdFloor = 0.005, win.maxDiskWeight = 13;
    AnomalyWindow wide = win;
    wide.diskX = 4.0, wide.diskY = 3.5, wide.maxDiskWeight = 40;
    const std::vector<PooledArray<float>> both =
        localAnomalies(p, win, {AnomalyDisk{wide.diskX, wide.diskY, wide.maxDiskWeight}});
    ASSERT_EQ(both.size(), 2u);
    const PooledArray<float> small = localAnomaly(p, win), large = localAnomaly(p, wide);
    int differ = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        ASSERT_EQ(both[0][k], small[k]) << k;
        ASSERT_EQ(both[1][k], large[k]) << k;
        differ += small[k] != large[k];
    }
    EXPECT_GT(differ, 5000) << "the two disks must give different values for the test to mean anything";
}

TEST(LocalAnomaly, ADiskThatCountsASubsetMatchesTheDefinition) {
    // The clearing detector's wide disk sums only land that is not bare yet; its box takes all
    // the land. Checked against the definition summed pixel by pixel, and a subset that leaves
    // the mask is refused.
    AnomalyPlanes p = randomPlanes(41, 33, 4, 23);
    std::vector<std::uint8_t> counted(p.size());
    for (std::size_t k = 0; k < p.size(); ++k) counted[k] = p.mask[k] && (k * 2654435761u) % 5 != 0;
    AnomalyWindow win;
    win.boxX = 11, win.boxY = 9, win.diskX = 1.5, win.diskY = 1.5, win.sdFloor = 0.005;
    AnomalyWindow wide = win;
    wide.diskX = 3.0, wide.diskY = 2.5;
    const std::vector<PooledArray<float>> z = localAnomalies(p, win, {AnomalyDisk{wide.diskX, wide.diskY, 1e300, counted.data()}});
    int positive = 0, differ = 0;
    const PooledArray<float> all = localAnomaly(p, wide);
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            const std::size_t k = static_cast<std::size_t>(y * p.w + x);
            const float want = bruteZ(p, wide, x, y, counted.data());
            ASSERT_NEAR(z[1][k], want, 1e-3 * std::max(1.0f, want)) << x << "," << y;
            positive += want > 0;
            differ += std::abs(all[k] - z[1][k]) > 1e-3f;
        }
    EXPECT_GT(positive, 100);
    EXPECT_GT(differ, 100) << "the subset must change the sums for the test to mean anything";
    std::vector<std::uint8_t> outside(p.size(), 1);
    EXPECT_THROW(localAnomalies(p, win, {AnomalyDisk{wide.diskX, wide.diskY, 1e300, outside.data()}}), Error);
}
