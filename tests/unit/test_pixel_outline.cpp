#include <gtest/gtest.h>

#include "detection/imgproc/PixelOutline.hpp"

using namespace riskmap;

namespace {

cv::Mat maskFrom(const std::vector<std::string>& rows) {
    cv::Mat m(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()), CV_8U, cv::Scalar(0));
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) m.at<uchar>(y, x) = rows[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] == '#' ? 255 : 0;
    return m;
}

}  // namespace

TEST(PixelOutline, SquareHasFourCorners) {
    MultiPolygon mp = traceOutline(maskFrom({"##", "##"}), {10, 20});
    ASSERT_EQ(mp.parts.size(), 1u);
    ASSERT_EQ(mp.parts[0].outer.size(), 4u);
    EXPECT_EQ(mp.parts[0].outer[0], cv::Point2d(10, 20));
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 4.0);
    EXPECT_TRUE(mp.parts[0].holes.empty());
}

TEST(PixelOutline, AreaEqualsPixelCountForAnLShape) {
    MultiPolygon mp = traceOutline(maskFrom({"#..", "#..", "###"}), {0, 0});
    ASSERT_EQ(mp.parts.size(), 1u);
    EXPECT_EQ(mp.parts[0].outer.size(), 6u);
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 5.0);
}

TEST(PixelOutline, RingHasAHole) {
    MultiPolygon mp = traceOutline(maskFrom({"###", "#.#", "###"}), {0, 0});
    ASSERT_EQ(mp.parts.size(), 1u);
    ASSERT_EQ(mp.parts[0].holes.size(), 1u);
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 8.0);
}

TEST(PixelOutline, DiagonalPixelsBecomeTouchingParts) {
    // 8-connected pixels meeting at a corner: two simple rings, not one self-touching ring.
    MultiPolygon mp = traceOutline(maskFrom({"#.", ".#"}), {0, 0});
    ASSERT_EQ(mp.parts.size(), 2u);
    EXPECT_EQ(mp.parts[0].outer.size(), 4u);
    EXPECT_EQ(mp.parts[1].outer.size(), 4u);
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 2.0);
}

TEST(PixelOutline, HoleTouchingItselfIsSplit) {
    // Two background pockets joined at a corner inside a solid block.
    MultiPolygon mp = traceOutline(maskFrom({"####", "#.##", "##.#", "####"}), {0, 0});
    ASSERT_EQ(mp.parts.size(), 1u);
    EXPECT_EQ(mp.parts[0].holes.size(), 2u);
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 14.0);
}

TEST(PixelOutline, IslandTouchingAHoleCornerIsItsOwnPart) {
    // The centre pixel meets the ring only at a corner: it becomes a second part lying in the
    // ring's hole, and the hole goes to the ring, not to the island.
    MultiPolygon mp = traceOutline(maskFrom({"#####", "##..#", "#.#.#", "#...#", "#####"}), {0, 0});
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 18.0);
    ASSERT_EQ(mp.parts.size(), 2u);
    std::size_t holes = 0;
    for (const auto& p : mp.parts) holes += p.holes.size();
    EXPECT_EQ(holes, 1u);
    const Polygon& island = std::fabs(mp.parts[0].areaPixels() - 1.0) < 1e-9 ? mp.parts[0] : mp.parts[1];
    EXPECT_TRUE(island.holes.empty());
}

TEST(PixelOutline, CheckerboardSplitsEveryWalkAlike) {
    // Every inner vertex is a saddle, so every walk is split at repeated vertices, one walk after
    // the other: each must start with nothing of an earlier walk remembered. The corner pixels
    // that touch the rest at one corner only are parts of their own; the rest is one part with
    // the six enclosed background pixels as holes.
    const std::vector<std::string> rows = {"#.#.#.", ".#.#.#", "#.#.#.", ".#.#.#", "#.#.#."};
    const MultiPolygon mp = traceOutline(maskFrom(rows), {100, 200});
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 15.0);
    ASSERT_EQ(mp.parts.size(), 3u);
    EXPECT_DOUBLE_EQ(mp.parts[1].areaPixels(), 13.0);
    EXPECT_EQ(mp.parts[1].outer.size(), 28u);
    EXPECT_EQ(mp.parts[1].holes.size(), 6u);
    for (const auto& h : mp.parts[1].holes) EXPECT_EQ(h.size(), 4u);
    EXPECT_EQ(mp.parts[0].outer.front(), cv::Point2d(101, 204));
    EXPECT_EQ(mp.parts[2].outer.front(), cv::Point2d(100, 200));
    const MultiPolygon again = traceOutline(maskFrom(rows), {100, 200});
    ASSERT_EQ(again.parts.size(), mp.parts.size());
    for (std::size_t i = 0; i < mp.parts.size(); ++i)
        EXPECT_EQ(again.parts[i].outer, mp.parts[i].outer);
}
