#include <gtest/gtest.h>

#include "detection/ComponentExtractor.hpp"

using namespace riskmap;

namespace {

TileImage tileAt(Window window, Window core, int rw, int rh) {
    TileImage t;
    t.window = window;
    t.core = core;
    t.rasterWidth = rw;
    t.rasterHeight = rh;
    t.gsdX = t.gsdY = 10;
    return t;
}

}  // namespace

TEST(ComponentExtractor, DropsComponentsNearCutEdgesButNotRasterEdges) {
    // Window x 100..199 of a 300-wide raster: left and right edges are cuts, top is the raster edge.
    TileImage t = tileAt({100, 0, 100, 50}, {120, 0, 60, 50}, 300, 200);
    cv::Mat m(50, 100, CV_8U, cv::Scalar(0));
    m(cv::Rect(2, 10, 3, 3)).setTo(255);    // within the 5-pixel margin of the cut left edge
    m(cv::Rect(40, 0, 4, 4)).setTo(255);    // touches the raster's top edge: fine
    m(cv::Rect(60, 20, 5, 5)).setTo(255);   // well inside
    m(cv::Rect(93, 20, 3, 3)).setTo(255);   // near the cut right edge
    ComponentExtractor cc(m);
    ComponentExtractor::Limits lim;
    lim.marginX = lim.marginY = 5;
    lim.ownedOnly = false;
    auto comps = cc.complete(t, lim);
    ASSERT_EQ(comps.size(), 2u);
    EXPECT_EQ(comps[0].anchor, cv::Point(100 + 42, 2));
    EXPECT_EQ(comps[1].anchor, cv::Point(100 + 62, 22));
}

TEST(ComponentExtractor, AnchorIsTheCentroidPixelAndDecidesOwnership) {
    TileImage t = tileAt({0, 0, 64, 64}, {0, 0, 32, 64}, 64, 64);
    cv::Mat m(64, 64, CV_8U, cv::Scalar(0));
    // Columns 28..33, rows 10..11: the centroid is the corner point (31, 11), which lies in
    // pixel (31, 11), owned by the core x < 32.
    m(cv::Rect(28, 10, 6, 2)).setTo(255);
    m(cv::Rect(30, 30, 6, 2)).setTo(255);  // centroid x 33: the next tile owns it
    ComponentExtractor cc(m);
    ComponentExtractor::Limits lim;
    auto comps = cc.complete(t, lim);
    ASSERT_EQ(comps.size(), 1u);
    EXPECT_EQ(comps[0].anchor, cv::Point(31, 11));
    EXPECT_EQ(comps[0].pixels, 12);
    MultiPolygon mp = cc.outline(comps[0], t);
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 12.0);
}

TEST(ComponentExtractor, SizeLimits) {
    TileImage t = tileAt({0, 0, 64, 64}, {0, 0, 64, 64}, 64, 64);
    cv::Mat m(64, 64, CV_8U, cv::Scalar(0));
    m(cv::Rect(5, 5, 2, 2)).setTo(255);     // 4 px
    m(cv::Rect(20, 20, 10, 3)).setTo(255);  // 30 px, 10 wide
    ComponentExtractor cc(m);
    ComponentExtractor::Limits lim;
    lim.minPixels = 5;
    EXPECT_EQ(cc.complete(t, lim).size(), 1u);
    lim.minPixels = 1;
    lim.maxExtentX = 9;
    EXPECT_EQ(cc.complete(t, lim).size(), 1u);
    lim.maxExtentX = 64;
    lim.maxPixels = 29;
    EXPECT_EQ(cc.complete(t, lim).size(), 1u);
}
