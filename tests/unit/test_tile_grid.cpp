#include <gtest/gtest.h>

#include <vector>

#include "core/Error.hpp"
#include "tiling/TileGrid.hpp"

using namespace riskmap;

TEST(TileGrid, CoresCoverEveryPixelExactlyOnce) {
    for (int ts : {16, 37, 100, 256, 5000}) {
        TileGrid g(301, 199, ts, 7, 5);
        std::vector<int> hits(301 * 199, 0);
        for (std::size_t i = 0; i < g.size(); ++i) {
            Tile t = g.tile(i);
            for (int y = t.core.y; y < t.core.bottom(); ++y)
                for (int x = t.core.x; x < t.core.right(); ++x) hits[static_cast<std::size_t>(y * 301 + x)]++;
        }
        for (int h : hits) ASSERT_EQ(h, 1) << "tile size " << ts;
    }
}

TEST(TileGrid, HaloIsClippedToTheRaster) {
    TileGrid g(1000, 800, 256, 40, 30, 0, 0);
    Tile first = g.tile(0);
    EXPECT_EQ(first.window.x, 0);
    EXPECT_EQ(first.window.y, 0);
    EXPECT_EQ(first.window.w, 256 + 40);
    EXPECT_EQ(first.window.h, 256 + 30);
    Tile mid = g.tile(g.columns() + 1);
    EXPECT_EQ(mid.window.x, mid.core.x - 40);
    EXPECT_EQ(mid.window.w, mid.core.w + 80);
    Tile last = g.tile(g.size() - 1);
    EXPECT_EQ(last.window.right(), 1000);
    EXPECT_EQ(last.window.bottom(), 800);
    EXPECT_TRUE(last.window.containsWindow(last.core));
}

TEST(TileGrid, OwnerOfMatchesCores) {
    TileGrid g(500, 430, 64, 3, 3);
    for (int y = 0; y < 430; y += 7) {
        for (int x = 0; x < 500; x += 11) {
            Tile t = g.tile(g.ownerOf(x, y));
            EXPECT_TRUE(t.core.contains(x, y));
        }
    }
    EXPECT_THROW(g.ownerOf(500, 0), Error);
}

TEST(TileGrid, AlignsToBlocks) {
    // 256-pixel blocks: a 1000-pixel request becomes 4 blocks, a 300 request one block.
    EXPECT_EQ(TileGrid::alignedSize(1000, 256, 10000), 1024);
    EXPECT_EQ(TileGrid::alignedSize(300, 256, 10000), 256);
    // Strips and blocks larger than the request cannot be aligned to.
    EXPECT_EQ(TileGrid::alignedSize(300, 10000, 10000), 300);
    EXPECT_EQ(TileGrid::alignedSize(100, 256, 10000), 100);
    // A request covering the raster gives one tile.
    EXPECT_EQ(TileGrid::alignedSize(20000, 256, 10000), 10000);
    TileGrid g(10000, 10000, 1000, 10, 10, 256, 256);
    EXPECT_EQ(g.tileWidth() % 256, 0);
    for (std::size_t i = 0; i + 1 < static_cast<std::size_t>(g.columns()); ++i) EXPECT_EQ(g.tile(i).core.x % 256, 0);
}

TEST(TileGrid, RejectsTinyTiles) { EXPECT_THROW(TileGrid(100, 100, 8, 0, 0), UsageError); }
