// The kiln detector on synthetic true-colour scenes: kilns of each kind found, look-alikes
// (roads, ponds, red roofs, brown fields) rejected, shapes measured in metres.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "core/Error.hpp"
#include "detection/DetectorRegistry.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "raster/RasterReader.hpp"
#include "scan/ScanJob.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const Rgb kKiln{205, 140, 112};   // fired brick: orange-pink
const Rgb kYard{165, 160, 150};   // pale drying yard
const Rgb kRoad{125, 105, 85};
const Rgb kPond{28, 46, 58};
const Rgb kRoof{185, 80, 70};
const Rgb kBrownField{135, 105, 80};

std::vector<Detection> detectIn(const RgbSceneSpec& spec, const TempDir& dir, std::vector<std::string> sets = {}) {
    std::string path = writeRgbScene(dir.file("scene.tif"), spec);
    RasterInput in = RasterInput::open(path, InputOptions{});
    OptionValues opts(KilnDetector::describe().options);
    for (const auto& s : sets) opts.setAssignment(s);
    KilnDetector det(opts);
    RasterReader reader(in);
    TileImage tile;
    std::vector<int> bands{in.bandIndex("red"), in.bandIndex("green"), in.bandIndex("blue")};
    reader.read(in.extent(), in.extent(), bands, tile);
    return det.detect(tile);
}

std::string attr(const Detection& d, std::size_t i) { return std::get<std::string>(d.attributes[i]); }
double num(const Detection& d, std::size_t i) { return std::get<double>(d.attributes[i]); }

}  // namespace

TEST(KilnShape, EllipseAxesInMetres) {
    // A 12 x 5 pixel ellipse at 10 m: moment length and width near 120 m and 50 m.
    std::vector<cv::Point> pts;
    for (int y = -10; y <= 10; ++y)
        for (int x = -10; x <= 10; ++x)
            if ((x * x) / 36.0 + (y * y) / 6.25 <= 1) pts.emplace_back(x, y);
    auto s = KilnDetector::measureShape(pts, 10, 10);
    EXPECT_NEAR(s.length, 120, 12);
    EXPECT_NEAR(s.width, 50, 8);
    EXPECT_NEAR(std::fmod(s.angle + M_PI, M_PI), 0, 0.05);
    EXPECT_NEAR(s.area, static_cast<double>(pts.size()) * 100, 1e-9);
}

TEST(KilnShape, RectangleFillsItsBoxAndTypesAsZigzagAtFineGsd) {
    std::vector<cv::Point> rect, oval;
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 130; ++x) rect.emplace_back(x, y);
    // An oval (bull's trench kiln) of the same size at 1 m.
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 130; ++x)
            if ((x - 64.5) * (x - 64.5) / (65.0 * 65.0) + (y - 24.5) * (y - 24.5) / (25.0 * 25.0) <= 1) oval.emplace_back(x, y);
    auto r = KilnDetector::measureShape(rect, 1, 1);
    auto o = KilnDetector::measureShape(oval, 1, 1);
    EXPECT_GT(r.fill, 0.95);
    EXPECT_LT(o.fill, 0.93);
    EXPECT_EQ(KilnDetector::classify(r, 1.0, false, 5).first, "zigzag");
    EXPECT_EQ(KilnDetector::classify(o, 1.0, false, 5).first, "fcbk");
    // At 10 m an elongated body cannot be typed, and an edge-cut one never.
    EXPECT_EQ(KilnDetector::classify(o, 10.0, false, 5).first, "unknown");
    EXPECT_EQ(KilnDetector::classify(r, 1.0, true, 5).first, "unknown");
}

TEST(KilnShape, DiscIsCircular) {
    std::vector<cv::Point> disc;
    for (int y = -40; y <= 40; ++y)
        for (int x = -40; x <= 40; ++x)
            if (x * x + y * y <= 40 * 40) disc.emplace_back(x, y);
    auto s = KilnDetector::measureShape(disc, 1, 1);
    EXPECT_NEAR(s.length / s.width, 1.0, 0.02);
    EXPECT_EQ(KilnDetector::classify(s, 1.0, false, 5).first, "circular");
}

TEST(KilnDetector, FindsKilnsBesideYardsAt10m) {
    TempDir dir;
    RgbSceneSpec s;
    for (auto [x, y, a] : {std::tuple{300.0, 300.0, 0.0}, std::tuple{900.0, 350.0, 60.0}, std::tuple{600.0, 950.0, 120.0}}) {
        s.shapes.push_back({RgbShape::Rectangle, x + 90, y, 220, 160, a, kYard});
        s.shapes.push_back({RgbShape::Ellipse, x, y, 120, 50, a, kKiln});
    }
    auto dets = detectIn(s, dir);
    ASSERT_EQ(dets.size(), 3u);
    for (const auto& d : dets) {
        EXPECT_GT(d.score, 0.5);
        EXPECT_EQ(d.cls, "kiln");
        const double length = num(d, 2), width = num(d, 3);
        EXPECT_GT(length, 80);
        EXPECT_LT(length, 200);
        EXPECT_LT(width, 110);
        EXPECT_EQ(d.geometry.parts.size(), 1u);
        EXPECT_EQ(d.geometry.parts[0].outer.size(), 4u);  // the oriented outline
    }
}

TEST(KilnDetector, RejectsRoadsPondsRoofsAndBrownFields) {
    TempDir dir;
    RgbSceneSpec s;
    s.shapes = {
        {RgbShape::Rectangle, 640, 200, 1100, 12, 10, kRoad},       // a road
        {RgbShape::Ellipse, 300, 700, 150, 90, 0, kPond},           // a pond
        {RgbShape::Rectangle, 900, 700, 9, 9, 0, kRoof},            // a red roof
        {RgbShape::Rectangle, 1000, 700, 9, 9, 0, kRoof},
        {RgbShape::Rectangle, 600, 1050, 320, 220, 20, kBrownField},  // bare brown field
    };
    auto dets = detectIn(s, dir);
    EXPECT_TRUE(dets.empty()) << dets.size() << " false detection(s), first score " << dets.front().score;
}

TEST(KilnDetector, RingKilnAtFineResolutionIsTyped) {
    // A 2 m scene: an oval ring wall (bull's trench) and a sharp rectangle (zigzag), with yards.
    TempDir dir;
    RgbSceneSpec s;
    s.gsd = 2;
    s.widthM = s.heightM = 1200;
    s.shapes = {{RgbShape::Rectangle, 420, 400, 240, 170, 0, kYard},
                {RgbShape::Ellipse, 340, 400, 130, 55, 0, kKiln},
                {RgbShape::Rectangle, 820, 820, 240, 170, 0, kYard},
                {RgbShape::Rectangle, 740, 820, 130, 55, 0, kKiln}};
    auto dets = detectIn(s, dir);
    ASSERT_EQ(dets.size(), 2u);
    // Sorted by the detector's scan order: the oval kiln is above the rectangular one.
    const Detection& oval = dets[0].anchor.y < dets[1].anchor.y ? dets[0] : dets[1];
    const Detection& rect = dets[0].anchor.y < dets[1].anchor.y ? dets[1] : dets[0];
    EXPECT_EQ(attr(oval, 0), "fcbk");
    EXPECT_EQ(attr(rect, 0), "zigzag");
    EXPECT_NEAR(num(rect, 2), 130, 25);  // measured at native resolution
}

TEST(KilnDetector, RefusesPixelsTooCoarse) {
    OptionValues opts(KilnDetector::describe().options);
    KilnDetector det(opts);
    EXPECT_FALSE(det.inputWarning(28.5, 28.5).empty());
    EXPECT_TRUE(det.inputWarning(10, 10).empty());
    EXPECT_GE(det.haloMetres(), 200 + 80 + 150);
}

TEST(KilnDetector, NeedsRgbBands) {
    OptionValues opts(KilnDetector::describe().options);
    KilnDetector det(opts);
    EXPECT_THROW(det.bandsFor({"red", "nir"}), UsageError);
    EXPECT_EQ(det.bandsFor({"blue", "green", "red", "nir"}).size(), 4u);
}
