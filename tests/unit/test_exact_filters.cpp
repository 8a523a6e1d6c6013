#include <gtest/gtest.h>

#include <random>

#include "detection/imgproc/ExactFilters.hpp"

using namespace riskmap;

TEST(ExactFilters, BoxSumMatchesBruteForce) {
    std::mt19937 rng(1);
    IntPlane p(23, 17);
    for (std::size_t i = 0; i < p.size(); ++i) p.v[i] = static_cast<std::int64_t>(rng() % 1000) - 500;
    IntPlane s = boxSum(p, 5, 3);
    for (int y = 0; y < p.h; ++y) {
        for (int x = 0; x < p.w; ++x) {
            std::int64_t want = 0;
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -2; dx <= 2; ++dx)
                    if (x + dx >= 0 && y + dy >= 0 && x + dx < p.w && y + dy < p.h) want += p.at(x + dx, y + dy);
            ASSERT_EQ(s.at(x, y), want);
        }
    }
}

TEST(ExactFilters, ResultsDoNotDependOnWhereTheCropStarts) {
    // The property tiling relies on: a pixel far enough from a crop's edge gets the same value
    // in any crop.
    std::mt19937 rng(2);
    IntPlane full(80, 60);
    for (std::size_t i = 0; i < full.size(); ++i) full.v[i] = toFixed((rng() % 2000) / 1000.0 - 1.0);
    const double sigma = 2.2;
    IntPlane g = gaussianSum(full, sigma, sigma);
    const int reach = gaussianReach(sigma);
    for (int ox : {3, 11}) {
        IntPlane crop(50, 40);
        for (int y = 0; y < 40; ++y)
            for (int x = 0; x < 50; ++x) crop.at(x, y) = full.at(x + ox, y + ox);
        IntPlane gc = gaussianSum(crop, sigma, sigma);
        for (int y = reach; y < 40 - reach; ++y)
            for (int x = reach; x < 50 - reach; ++x) ASSERT_EQ(gc.at(x, y), g.at(x + ox, y + ox));
    }
}

TEST(ExactFilters, GaussianWeightsAreSymmetricAndPeaked) {
    auto w = gaussianWeights(2.0);
    ASSERT_EQ(w.size() % 2, 1u);
    EXPECT_EQ(w.size(), 17u);  // OpenCV's support: 8 sigma + 1
    for (std::size_t i = 0; i < w.size() / 2; ++i) EXPECT_EQ(w[i], w[w.size() - 1 - i]);
    EXPECT_EQ(w[w.size() / 2], 4096);
}
