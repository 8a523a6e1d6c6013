#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "detection/imgproc/PixelOutline.hpp"
#include "support/GeosCheck.hpp"

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
    // the other: each must start with nothing of an earlier walk remembered. Traced round
    // diagonal neighbours, the enclosed background pixels would be holes touching the outer ring
    // and each other at every corner (an interior cut into pieces, invalid), so the region is
    // traced 4-connected: every pixel is a part of its own.
    const std::vector<std::string> rows = {"#.#.#.", ".#.#.#", "#.#.#.", ".#.#.#", "#.#.#."};
    const MultiPolygon mp = traceOutline(maskFrom(rows), {100, 200});
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 15.0);
    ASSERT_EQ(mp.parts.size(), 15u);
    for (const auto& p : mp.parts) {
        EXPECT_EQ(p.outer.size(), 4u);
        EXPECT_TRUE(p.holes.empty());
    }
    EXPECT_EQ(geosInvalidReason(mp), "");
    const MultiPolygon again = traceOutline(maskFrom(rows), {100, 200});
    ASSERT_EQ(again.parts.size(), mp.parts.size());
    for (std::size_t i = 0; i < mp.parts.size(); ++i)
        EXPECT_EQ(again.parts[i].outer, mp.parts[i].outer);
}

TEST(PixelOutline, FourPixelsRoundAnEmptyOneAreFourParts) {
    // Found by an audit: GDAL/GEOS said "Interior is disconnected" of the ring of four pixels
    // that meet only at corners round an empty centre, written as one polygon whose hole touched
    // its outer ring four times.
    const MultiPolygon mp = traceOutline(maskFrom({".#.", "#.#", ".#."}), {0, 0});
    EXPECT_EQ(geosInvalidReason(mp), "");
    ASSERT_EQ(mp.parts.size(), 4u);
    for (const auto& p : mp.parts) EXPECT_TRUE(p.holes.empty());
    EXPECT_DOUBLE_EQ(mp.areaPixels(), 4.0);
    // One touch between a hole and the outer ring leaves the interior connected: kept as it was.
    const MultiPolygon one = traceOutline(maskFrom({"####", "#.##", "##.#", "####"}), {0, 0});
    ASSERT_EQ(one.parts.size(), 1u);
    EXPECT_EQ(geosInvalidReason(one), "");
}

TEST(PixelOutline, NoisyMasksGiveValidPolygonsThatCoverTheirPixels) {
    // Speckled masks of every density, as an index rule gives on real texture: each 8-connected
    // region's outline must be valid to GEOS and hold exactly its pixels.
    cv::RNG rng(7);
    int regions = 0;
    for (int trial = 0; trial < 60; ++trial) {
        cv::Mat noise(24, 24, CV_32F), mask;
        rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
        cv::compare(noise, cv::Scalar(0.3 + 0.005 * trial), mask, cv::CMP_LT);
        cv::Mat labels;
        const int n = cv::connectedComponents(mask, labels, 8, CV_32S);
        for (int l = 1; l < n; ++l, ++regions) {
            const cv::Mat region = labels == l;
            const MultiPolygon mp = traceOutline(region, {0, 0});
            ASSERT_EQ(geosInvalidReason(mp), "") << "trial " << trial << " region " << l;
            ASSERT_DOUBLE_EQ(mp.areaPixels(), cv::countNonZero(region));
        }
    }
    EXPECT_GT(regions, 500);
}
