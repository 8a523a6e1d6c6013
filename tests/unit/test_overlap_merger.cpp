#include <gtest/gtest.h>

#include "features/OverlapMerger.hpp"

using namespace riskmap;

namespace {

FeatureRecord square(double x, double y, double side, std::size_t input, double score, const char* source) {
    FeatureRecord f;
    f.detector = "kiln";
    f.cls = "kiln";
    f.score = score;
    f.source = source;
    f.sources = {source};
    f.inputIndex = input;
    f.parts = {{{{x, y}, {x + side, y}, {x + side, y + side}, {x, y + side}}}};
    return f;
}

}  // namespace

TEST(OverlapMerger, SameObjectInTwoScenesIsReportedOnceWithBothSources) {
    std::vector<FeatureRecord> f{square(0, 0, 10, 0, 0.7, "a.tif"), square(100, 100, 10, 0, 0.9, "a.tif"),
                                 square(1, 1, 10, 1, 0.8, "b.tif")};
    EXPECT_EQ(OverlapMerger(0.3).merge(f), 1u);
    ASSERT_EQ(f.size(), 2u);
    // The better score (b.tif's) is kept, in output order, with both scenes listed in input order.
    EXPECT_DOUBLE_EQ(f[1].score, 0.8);
    EXPECT_EQ(f[1].sources, (std::vector<std::string>{"a.tif", "b.tif"}));
    EXPECT_EQ(f[0].sources, (std::vector<std::string>{"a.tif"}));
}

TEST(OverlapMerger, SmallOverlapsAndSameSceneNeighboursStay) {
    // 5 % overlap between scenes: different objects.
    std::vector<FeatureRecord> f{square(0, 0, 10, 0, 0.7, "a"), square(9.5, 0, 10, 1, 0.8, "b")};
    EXPECT_EQ(OverlapMerger(0.3).merge(f), 0u);
    // Within one scene tiles never duplicate, so overlapping features of one input are distinct.
    std::vector<FeatureRecord> g{square(0, 0, 10, 0, 0.7, "a"), square(1, 1, 10, 0, 0.8, "a")};
    EXPECT_EQ(OverlapMerger(0.3).merge(g), 0u);
    EXPECT_NEAR(OverlapMerger::overlapOfSmaller(g[0], g[1]), 0.81, 1e-9);
}

TEST(OverlapMerger, TiesGoToTheEarlierInput) {
    std::vector<FeatureRecord> f{square(0, 0, 10, 1, 0.8, "b"), square(0, 0, 10, 0, 0.8, "a")};
    OverlapMerger(0.3).merge(f);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].source, "a");
    EXPECT_EQ(f[0].sources, (std::vector<std::string>{"a", "b"}));
}
