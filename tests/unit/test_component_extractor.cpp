#include <gtest/gtest.h>

#include <limits>

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "core/Error.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"

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

// For --explain, components failing a limit are set aside with the reason; too long only up to
// explainExtent (a detector's halo sees no longer ones whole), and never instead of kept ones.
TEST(ComponentExtractor, SetsAsideWhatFailsALimitWithTheReason) {
    using R = Component::Rejected;
    TileImage t = tileAt({0, 0, 64, 64}, {0, 0, 64, 64}, 64, 64);
    cv::Mat m(64, 64, CV_8U, cv::Scalar(0));
    m(cv::Rect(5, 5, 2, 2)).setTo(255);     // 4 px: too small
    m(cv::Rect(20, 20, 10, 3)).setTo(255);  // 10 wide: kept
    m(cv::Rect(2, 40, 16, 2)).setTo(255);   // 16 wide: too long, within explainExtent
    m(cv::Rect(2, 50, 30, 1)).setTo(255);   // 30 wide: beyond it
    ComponentExtractor cc(m);
    ComponentExtractor::Limits lim;
    lim.minPixels = 5;
    lim.maxExtentX = lim.maxExtentY = 12;
    lim.explainExtentX = lim.explainExtentY = 24;
    std::vector<Component> aside;
    const auto kept = cc.complete(t, lim, &aside);
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].box.width, 10);
    ASSERT_EQ(aside.size(), 2u);
    EXPECT_EQ(aside[0].rejected, R::TooSmall);
    EXPECT_EQ(aside[1].rejected, R::TooLong);
    EXPECT_EQ(aside[1].box.width, 16);
    lim.explainExtentX = lim.explainExtentY = 0;  // the default: nothing too long is listed
    aside.clear();
    cc.complete(t, lim, &aside);
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_EQ(aside[0].rejected, R::TooSmall);
}

namespace {

// Random blobs and specks with long runs, diagonal contacts and runs touching both edges.
cv::Mat randomMask(int w, int h, unsigned seed) {
    cv::RNG rng(seed);
    cv::Mat m(h, w, CV_8U, cv::Scalar(0));
    for (int i = 0; i < 60; ++i) {
        cv::Rect r(rng.uniform(-5, w), rng.uniform(-5, h), rng.uniform(1, 25), rng.uniform(1, 9));
        m(r & cv::Rect(0, 0, w, h)).setTo(rng.uniform(1, 256));
    }
    for (int i = 0; i < 400; ++i) m.at<std::uint8_t>(rng.uniform(0, h), rng.uniform(0, w)) = 255;
    return m;
}

}  // namespace

TEST(ComponentExtractor, MatchesOpenCvEightConnectedLabelling) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
        const int w = 37 + static_cast<int>(seed) * 13, h = 23 + static_cast<int>(seed) * 5;
        cv::Mat m = randomMask(w, h, seed);
        cv::Mat labels, stats, centroids;
        const int n = cv::connectedComponentsWithStats(m, labels, stats, centroids, 8, CV_32S);
        ComponentExtractor cc(m);
        ASSERT_EQ(cc.count(), n - 1) << "seed " << seed;
        TileImage t = tileAt({0, 0, w, h}, {0, 0, w, h}, w, h);
        ComponentExtractor::Limits lim;
        auto comps = cc.complete(t, lim);
        ASSERT_EQ(static_cast<int>(comps.size()), n - 1);
        std::vector<bool> matched(static_cast<std::size_t>(n), false);
        for (const Component& c : comps) {
            // Same pixel set as one OpenCV label, found through any of its pixels.
            const PixelRun* first = cc.runsBegin(c);
            const int l = labels.at<int>(first->y, first->x0);
            ASSERT_GT(l, 0);
            EXPECT_FALSE(matched[static_cast<std::size_t>(l)]);
            matched[static_cast<std::size_t>(l)] = true;
            EXPECT_EQ(c.pixels, stats.at<int>(l, cv::CC_STAT_AREA));
            EXPECT_EQ(c.box, cv::Rect(stats.at<int>(l, cv::CC_STAT_LEFT), stats.at<int>(l, cv::CC_STAT_TOP),
                                      stats.at<int>(l, cv::CC_STAT_WIDTH), stats.at<int>(l, cv::CC_STAT_HEIGHT)));
            cv::Mat expected = labels(c.box) == l;
            EXPECT_EQ(cv::countNonZero(expected != cc.componentMask(c)), 0);
            EXPECT_NEAR(c.centroid().x - 0.5, centroids.at<double>(l, 0), 1e-9);
            EXPECT_NEAR(c.centroid().y - 0.5, centroids.at<double>(l, 1), 1e-9);
        }
    }
}

TEST(ComponentExtractor, LabelsFollowFirstPixelInRowMajorOrder) {
    cv::Mat m(6, 10, CV_8U, cv::Scalar(0));
    m.at<std::uint8_t>(1, 8) = 255;           // first in row-major order
    m(cv::Rect(0, 2, 3, 3)).setTo(255);       // second
    m.at<std::uint8_t>(0, 9) = 255;           // diagonal to (1, 8): same component as it
    ComponentExtractor cc(m);
    ASSERT_EQ(cc.count(), 2);
    TileImage t = tileAt({0, 0, 10, 6}, {0, 0, 10, 6}, 10, 6);
    auto comps = cc.complete(t, {});
    ASSERT_EQ(comps.size(), 2u);
    EXPECT_EQ(comps[0].box, cv::Rect(8, 0, 2, 2));
    EXPECT_EQ(comps[0].pixels, 2);
    EXPECT_EQ(comps[1].box, cv::Rect(0, 2, 3, 3));
}

TEST(ComponentExtractor, RowByRowEqualsWholeMaskAndMasksClipToAnyArea) {
    cv::Mat m = randomMask(150, 90, 77);
    ComponentExtractor whole(m), rows(m.cols, m.rows);
    for (int y = 0; y < m.rows; ++y) rows.addRow(y, m.ptr<std::uint8_t>(y));
    rows.finish();
    TileImage t = tileAt({0, 0, 150, 90}, {0, 0, 150, 90}, 150, 90);
    auto a = whole.complete(t, {}), b = rows.complete(t, {});
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].box, b[i].box);
        EXPECT_EQ(a[i].sumX, b[i].sumX);
        EXPECT_EQ(a[i].sumY, b[i].sumY);
    }
    // A mask over a padded area holds the component's pixels, clipped to the area.
    const Component& c = *std::max_element(a.begin(), a.end(), [](const Component& p, const Component& q) {
        return p.pixels < q.pixels;
    });
    ASSERT_GT(c.box.width, 2);
    // Reaches past the tile's top-left and cuts off the component's last column.
    cv::Rect area(c.box.x - 3, c.box.y - 2, c.box.width + 2, c.box.height + 2);
    cv::Mat clipped = whole.componentMask(c, area);
    cv::Rect inside = area & c.box;
    EXPECT_EQ(cv::countNonZero(clipped(inside - area.tl())),
              cv::countNonZero(whole.componentMask(c)(inside - c.box.tl())));
    EXPECT_EQ(cv::countNonZero(clipped), cv::countNonZero(clipped(inside - area.tl())));
}

TEST(ComponentExtractor, RejectsRowsOutOfOrder) {
    ComponentExtractor cc(8, 3);
    std::uint8_t row[8] = {0};
    cc.addRow(0, row);
    EXPECT_THROW(cc.addRow(2, row), Error);
    EXPECT_THROW(cc.finish(), Error);
}

// A sweep of every option: max_area_m2=1e25 was cast past int64 (undefined behaviour) and the
// index scan reported nothing, exit 0; min_area_m2=1e21 of the ONNX segment head let every region
// through. Counts saturate now.
TEST(ComponentExtractor, AreaLimitsSaturateInsteadOfOverflowing) {
    using L = ComponentExtractor::Limits;
    EXPECT_EQ(L::pixelsAtMost(1e25, 100.0), INT64_MAX);
    EXPECT_EQ(L::pixelsAtMost(1e300, 100.0), INT64_MAX);
    EXPECT_EQ(L::pixelsAtMost(std::numeric_limits<double>::infinity(), 100.0), INT64_MAX);
    EXPECT_EQ(L::pixelsAtLeast(1e21, 100.0), INT64_MAX);
    EXPECT_EQ(L::pixelsAtMost(250.0, 100.0), 2);
    EXPECT_EQ(L::pixelsAtLeast(250.0, 100.0), 3);
    EXPECT_EQ(L::pixelsAtLeast(200.0, 100.0), 2);
    EXPECT_EQ(L::pixelsAtLeast(0.0, 100.0), 1);
    EXPECT_EQ(L::pixelsAtMost(0.0, 100.0), 0);
}
