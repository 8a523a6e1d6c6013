// The clearing detector on small synthetic grids: enclosure, remoteness, shape, and the exact
// disk sums and distance transform underneath.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/Error.hpp"
#include "detection/detectors/ClearingDetector.hpp"
#include "detection/imgproc/ExactFilters.hpp"

using namespace riskmap;

namespace {

struct Cover {
    float blue, green, red, nir, swir1;
};
// Median reflectances measured in the Sundarbans scene (mangrove, river, bare farmland).
constexpr Cover kForest{0.020f, 0.051f, 0.030f, 0.295f, 0.115f};
constexpr Cover kWater{0.075f, 0.096f, 0.077f, 0.032f, 0.012f};
constexpr Cover kBare{0.082f, 0.112f, 0.143f, 0.235f, 0.307f};

// A whole-raster tile at `gsd` metres painted by `paint(x, y)`.
template <typename F>
TileImage scene(int w, int h, double gsd, F paint) {
    TileImage t;
    t.window = {0, 0, w, h};
    t.core = t.window;
    t.rasterWidth = w;
    t.rasterHeight = h;
    t.gsdX = t.gsdY = gsd;
    const char* names[] = {"blue", "green", "red", "nir", "swir1"};
    for (const char* n : names) {
        t.names.push_back(n);
        t.planes.emplace_back(h, w, CV_32F);
        t.display.push_back(false);
    }
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            Cover c = paint(x, y);
            const float v[] = {c.blue, c.green, c.red, c.nir, c.swir1};
            for (int b = 0; b < 5; ++b) t.planes[static_cast<std::size_t>(b)].at<float>(y, x) = v[b];
        }
    }
    t.valid = cv::Mat(h, w, CV_8U, cv::Scalar(255));
    t.validCount = static_cast<std::size_t>(w) * h;
    return t;
}

bool inRect(int x, int y, int x0, int y0, int w, int h) { return x >= x0 && y >= y0 && x < x0 + w && y < y0 + h; }

std::vector<Detection> run(const TileImage& t) {
    OptionValues o(ClearingDetector::describe().options);
    return ClearingDetector(o).detect(t);
}

double attr(const Detection& d, std::size_t i) { return std::get<double>(d.attributes[i]); }

}  // namespace

TEST(ClearingDetector, FindsAnEnclosedRemoteClearing) {
    // 6 x 6 km of forest at 20 m with a 1.2 ha bare patch in the middle.
    auto t = scene(300, 300, 20, [](int x, int y) { return inRect(x, y, 147, 147, 6, 5) ? kBare : kForest; });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NEAR(attr(d[0], 0), 1.0, 1e-9);     // enclosure: all forest
    EXPECT_DOUBLE_EQ(attr(d[0], 1), 2000.0);   // no open land anywhere: the capped distance
    EXPECT_DOUBLE_EQ(attr(d[0], 2), 2000.0);   // no water either
    EXPECT_NEAR(attr(d[0], 3), 30 * 400.0, 1e-6);  // every pixel is clearly bare
    EXPECT_GT(d[0].score, 0.8);
    EXPECT_DOUBLE_EQ(d[0].geometry.areaPixels(), 30.0);
}

TEST(ClearingDetector, NearFarmlandIsNotRemote) {
    // Farmland (open land) covers the top 2 km; one patch 600 m below it, one 2.4 km below it.
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (y < 100) return kBare;
        if (inRect(x, y, 100, 130, 6, 5) || inRect(x, y, 200, 220, 6, 5)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);  // only the far one
    // 2.4 km from the farmland, beyond the 2 km cap: the capped distance is reported.
    EXPECT_DOUBLE_EQ(attr(d[0], 1), 2000.0);
}

TEST(ClearingDetector, RiverBankCampIsEnclosedByForestAndWater) {
    // A river 10 px wide at x = 140..149; a camp on its east bank, touching the water.
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (x >= 140 && x < 150) return kWater;
        if (inRect(x, y, 150, 150, 5, 6)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NEAR(attr(d[0], 0), 1.0, 1e-9);  // water counts towards enclosure
    EXPECT_LE(attr(d[0], 2), 20.0);         // distance to water: adjacent pixel centres
}

TEST(ClearingDetector, RejectsCreekChainsOpenPatchesAndLargeFields) {
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (y == 150 && x >= 100 && x < 130) return kBare;     // a 1-pixel chain: too thin
        if (inRect(x, y, 200, 200, 40, 40)) return kBare;     // 64 ha: too large
        // A clearly bare patch ringed by mixed ground that is neither forest nor water nor bare:
        // not enclosed.
        if (inRect(x, y, 60, 230, 6, 5)) return kBare;
        if (inRect(x, y, 57, 227, 12, 11)) return Cover{0.05f, 0.08f, 0.10f, 0.16f, 0.08f};
        // The recall half: a true 1.2 ha camp in the same forest, 2.9 km from the large field,
        // which must be found (a detector that finds nothing fails here).
        if (inRect(x, y, 230, 50, 6, 5)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u) << "only the camp";
    EXPECT_DOUBLE_EQ(d[0].geometry.areaPixels(), 30.0);
    EXPECT_TRUE(inRect(d[0].anchor.x, d[0].anchor.y, 230, 50, 6, 5)) << d[0].anchor;
}

TEST(ClearingDetector, PixelClasses) {
    auto t = scene(4, 1, 20, [](int x, int) { return x == 0 ? kForest : x == 1 ? kWater : x == 2 ? kBare : Cover{0.05f, 0.08f, 0.10f, 0.16f, 0.13f}; });
    OptionValues o(ClearingDetector::describe().options);
    ClearingDetector det(o);
    auto c = det.classify(t);
    EXPECT_TRUE(c[0] & ClearingDetector::kVegetation);
    EXPECT_TRUE(c[1] & ClearingDetector::kWater);
    EXPECT_TRUE(c[2] & ClearingDetector::kCore);
    // Neither vegetation nor water, some bare evidence (NDBI -0.10), not clearly bare.
    EXPECT_TRUE(c[3] & ClearingDetector::kBare);
    EXPECT_FALSE(c[3] & ClearingDetector::kCore);
}

TEST(ClearingDetector, HaloCoversExtentAndDistances) {
    OptionValues o(ClearingDetector::describe().options);
    EXPECT_DOUBLE_EQ(ClearingDetector(o).haloMetres(), 600 + 2000 + 500);
    o.setAssignment("remote_min_m=3000");
    EXPECT_THROW(ClearingDetector{o}, UsageError);
}

TEST(ExactFilters, DiskSumMatchesBruteForceOnAnisotropicPixels) {
    std::mt19937 rng(4);
    IntPlane p(40, 30);
    for (std::size_t i = 0; i < p.size(); ++i) p.v[i] = rng() % 2;
    const double rx = 5.3, ry = 3.7;
    IntPlane s = diskSum(p, rx, ry);
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            std::int64_t want = 0;
            for (int dy = -4; dy <= 4; ++dy)
                for (int dx = -6; dx <= 6; ++dx)
                    if ((dx / rx) * (dx / rx) + (dy / ry) * (dy / ry) <= 1.0 + 1e-12 && x + dx >= 0 && y + dy >= 0 &&
                        x + dx < p.w && y + dy < p.h)
                        want += p.at(x + dx, y + dy);
            ASSERT_EQ(s.at(x, y), want) << x << "," << y;
        }
}

TEST(ExactFilters, DistanceTransformMatchesBruteForce) {
    std::mt19937 rng(5);
    const int w = 37, h = 23;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w) * h, 0);
    for (int i = 0; i < 12; ++i) f[rng() % f.size()] = 1;
    const double sx = 18.53, sy = 18.44;
    DistancePlane d = distanceTransform(f, w, h, sx, sy);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            double best = 1e300;
            for (int yy = 0; yy < h; ++yy)
                for (int xx = 0; xx < w; ++xx)
                    if (f[static_cast<std::size_t>(yy) * w + xx]) best = std::min(best, std::hypot((x - xx) * sx, (y - yy) * sy));
            ASSERT_NEAR(d.metres(static_cast<std::size_t>(y) * w + x), best, best * 1e-3 + 1e-9);
        }
    std::vector<std::uint8_t> none(16, 0);
    EXPECT_GT(distanceTransform(none, 4, 4, 10, 10).metres(5), 1e100);
}
