// The index detector on synthetic scenes: a rule over named bands finds exactly the bare blobs,
// with areas in square metres, and the area gates and morphology act in metres.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/Error.hpp"
#include "detection/detectors/IndexDetector.hpp"
#include "raster/RasterReader.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

std::vector<Detection> detectIn(const SceneSpec& spec, const TempDir& dir, const std::vector<std::string>& sets) {
    const std::string path = writeScene(dir.file("scene.tif"), spec);
    RasterInput in = RasterInput::open(path, InputOptions{});
    OptionValues opts(IndexDetector::describe().options);
    for (const auto& s : sets) opts.setAssignment(s);
    IndexDetector det(opts);
    std::vector<std::string> names;
    for (const auto& b : in.bands()) names.push_back(b.name);
    std::vector<int> bands;
    for (const auto& name : det.bandsFor(names)) bands.push_back(in.bandIndex(name));
    RasterReader reader(in);
    TileImage tile;
    reader.read(in.extent(), in.extent(), bands, tile);
    return det.detect(tile);
}

}  // namespace

TEST(IndexDetector, FindsEachBareBlobOnceWithItsAreaInSquareMetres) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 160;
    s.blobs = {{40, 40, 6, 6, kBareSoil}, {110, 100, 10, 5, kBareSoil}, {120, 30, 4, 4, kWater}};
    auto dets = detectIn(s, dir, {"rule=ndvi < 0.2 and ndwi < 0", "min_area_m2=500"});
    ASSERT_EQ(dets.size(), 2u);
    // 10 m pixels: an ellipse of radii 6 x 6 px covers about pi*36 px = 11310 m2.
    std::vector<double> areas;
    for (const auto& d : dets) areas.push_back(d.geometry.areaPixels() * 100);
    std::sort(areas.begin(), areas.end());
    EXPECT_NEAR(areas[0], 3.14159 * 36 * 100, 1200);
    EXPECT_NEAR(areas[1], 3.14159 * 50 * 100, 1600);
    for (const auto& d : dets) EXPECT_GT(d.score, 0.5);
}

TEST(IndexDetector, AreaGatesAreInSquareMetres) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 120;
    s.blobs = {{60, 60, 6, 6, kBareSoil}};  // ~11300 m2
    EXPECT_EQ(detectIn(s, dir, {"min_area_m2=12000"}).size(), 0u);
    EXPECT_EQ(detectIn(s, dir, {"min_area_m2=10000"}).size(), 1u);
    EXPECT_EQ(detectIn(s, dir, {"max_area_m2=10000"}).size(), 0u);
}

TEST(IndexDetector, RejectsRulesOverUnknownBandsWithTheBandsItHas) {
    OptionValues opts(IndexDetector::describe().options);
    opts.setAssignment("rule=ndvi < 0.2");
    IndexDetector det(opts);
    try {
        det.bandsFor({"red", "green", "blue"});
        FAIL() << "no exception";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("nir"), std::string::npos) << e.what();
    }
}

// A class with a NUL or newline was kept by GeoJSON and cut by GeoPackage (an audit): refused.
TEST(IndexDetector, AClassWithAControlCharacterIsRefused) {
    for (const std::string& cls : {std::string("a\nb"), std::string("a\tb"), std::string("a\0b", 3)}) {
        OptionValues opts(IndexDetector::describe().options);
        opts.setAssignment("class=" + cls);
        EXPECT_THROW(IndexDetector{opts}, UsageError) << cls;
    }
    OptionValues opts(IndexDetector::describe().options);
    opts.setAssignment("class=brick kiln (unverified)");
    EXPECT_NO_THROW(IndexDetector{opts});
}
