#include <gtest/gtest.h>

#include <random>

#include "tiling/SeamMerge.hpp"
#include "tiling/TileGrid.hpp"

using namespace riskmap;

namespace {

Detection at(int x, int y) {
    Detection d;
    d.anchor = {x, y};
    return d;
}

}  // namespace

TEST(SeamMerge, KeepsOnlyAnchorsInTheCore) {
    Window core{100, 100, 50, 50};
    std::vector<Detection> dets{at(100, 100), at(149, 149), at(150, 120), at(99, 120), at(120, 150)};
    EXPECT_EQ(SeamMerge::keepOwned(core, dets), 3u);
    ASSERT_EQ(dets.size(), 2u);
    EXPECT_EQ(dets[0].anchor, cv::Point(100, 100));
    EXPECT_EQ(dets[1].anchor, cv::Point(149, 149));
}

TEST(SeamMerge, EveryObjectIsKeptExactlyOnceForAnyTiling) {
    // Objects straddle seams; each tile sees all objects in its window and keeps owned ones.
    std::mt19937 rng(7);
    std::vector<cv::Point> anchors;
    for (int i = 0; i < 500; ++i) anchors.emplace_back(static_cast<int>(rng() % 1200), static_cast<int>(rng() % 900));
    for (int ts : {64, 100, 257, 1200}) {
        TileGrid g(1200, 900, ts, 30, 30);
        std::vector<int> count(anchors.size(), 0);
        for (std::size_t t = 0; t < g.size(); ++t) {
            Tile tile = g.tile(t);
            std::vector<Detection> seen;
            std::vector<std::size_t> ids;
            for (std::size_t i = 0; i < anchors.size(); ++i) {
                if (tile.window.contains(anchors[i].x, anchors[i].y)) {
                    seen.push_back(at(anchors[i].x, anchors[i].y));
                    seen.back().score = static_cast<double>(i);  // carry the id
                }
            }
            SeamMerge::keepOwned(tile.core, seen);
            for (const auto& d : seen) count[static_cast<std::size_t>(d.score)]++;
        }
        for (int c : count) ASSERT_EQ(c, 1) << "tile size " << ts;
    }
}
