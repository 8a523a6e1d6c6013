// Scans of real imagery from ../shared; skipped when it is absent.
#include <gtest/gtest.h>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

std::vector<std::string> sundarbansBands() {
    std::string d = sharedData("sundarbans-s2-l2a-2020-01-27/Sentinel-2_L2A_");
    return {"--band", "green=" + d + "B03_Raw.tiff", "--band", "red=" + d + "B04_Raw.tiff",
            "--band", "nir=" + d + "B08_Raw.tiff",   "--band", "swir1=" + d + "B11_Raw.tiff"};
}

}  // namespace

TEST(RealScene, SundarbansBandFilesHonourDataMaskAndTileInvariance) {
    if (!sharedDataAvailable()) GTEST_SKIP() << "../shared/data is absent";
    TempDir dir;
    auto run = [&](const std::string& name, const std::string& tile) {
        std::vector<std::string> args{"scan", "-o", dir.file(name), "-q", "--tile-size", tile,
                                      "--set", "rule=ndvi < 0.25 and mndwi < 0", "--set", "close_radius_m=20",
                                      "--set", "min_area_m2=2000"};
        auto b = sundarbansBands();
        args.insert(args.end(), b.begin(), b.end());
        auto r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
    };
    run("a.gpkg", "64");
    run("b.gpkg", "4096");
    LayerDump a = readLayer(dir.file("a.gpkg")), b = readLayer(dir.file("b.gpkg"));
    EXPECT_GT(a.features.size(), 10u);  // villages, roads and mud flats in the farmed north
    EXPECT_EQ(compareLayers(a, b, 0, 0), "");

    // The scene's no-data margin (dataMask = 0) holds no detection: check with the info footprint
    // of the valid data by scanning a rule every valid pixel passes.
    std::vector<std::string> args{"scan", "-o", dir.file("all.geojson"), "-q", "--set", "rule=red >= 0",
                                  "--set", "min_area_m2=0", "--set", "max_area_m2=1e12", "--set",
                                  "max_length_m=30000"};
    auto bands = sundarbansBands();
    args.insert(args.end(), bands.begin(), bands.end());
    auto r = runRiskmap(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json m = parseJsonFile(dir.file("all.geojson") + ".manifest.json");
    LayerDump all = readLayer(dir.file("all.geojson"));
    double area = 0;
    for (const auto& f : all.features)
        for (const auto& rp : f.reals)
            if (rp.first == "area_m2") area += rp.second;
    // 298 x 954 px of ~18.5 m is 97.1 km2, of which the dataMask marks 20316 px as no data.
    double validKm2 = (298.0 * 954.0 - 20316.0) / (298.0 * 954.0) * 97.125;
    EXPECT_NEAR(area / 1e6, validKm2, 0.5);
}
