// The kiln detector and riskmap eval on real Sentinel-2 chips and kiln-free real scenes.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

// The dev chips from ../shared when present, else the copy bundled in data/ (same files).
std::string devSet() {
    if (sharedDataAvailable()) return sharedData("kilns-s2-bd-dev");
    return std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev";
}

std::vector<std::string> chips(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/chips"))
        if (e.path().extension() == ".tif") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(CliKiln, DevChipsReachThePrecisionAndRecallFloor) {
    TempDir dir;
    std::string set = devSet();
    std::vector<std::string> args{"scan", "--detector", "kiln", "-o", dir.file("kilns.geojson"), "-q"};
    auto c = chips(set);
    ASSERT_EQ(c.size(), 30u);
    args.insert(args.begin() + 1, c.begin(), c.end());
    auto r = runRiskmap(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto e = runRiskmap({"eval", "--truth", set + "/labels.geojson", "--detections", dir.file("kilns.geojson"),
                         "--truth-source-field", "chip", "--radius-m", "60", "--json"});
    ASSERT_EQ(e.exitCode, 0) << e.err;
    Json rep = parseJson(e.out, "eval");
    const Json& o = rep.at("overall");
    EXPECT_GE(o.at("precision").get<double>(), 0.9) << e.out;
    EXPECT_GE(o.at("recall").get<double>(), 0.9) << e.out;
    EXPECT_EQ(o.at("tp").get<std::int64_t>() + o.at("fn").get<std::int64_t>(), 41);  // the 41 certain kilns
    EXPECT_EQ(rep.at("sources").size(), 30u);
    // Every kiln carries its measurements.
    LayerDump d = readLayer(dir.file("kilns.geojson"));
    ASSERT_FALSE(d.features.empty());
    std::vector<std::string> names;
    for (const auto& t : d.features[0].text) names.push_back(t.first);
    for (const auto& t : d.features[0].reals) names.push_back(t.first);
    for (const char* p : {"kiln_type", "length_m", "width_m", "orientation_deg", "score"})
        EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << p;
}

TEST(CliKiln, SameKilnsForAnyTileSize) {
    TempDir dir;
    auto c = chips(devSet());
    std::vector<std::string> some{c[10], c[15], c[26]};  // manikganj 1 and 6, tangail 7
    auto run = [&](const std::string& tile, const std::string& sub) {
        std::filesystem::create_directory(dir.file(sub));
        std::vector<std::string> args{"scan", "--detector", "kiln", "-o", dir.file(sub) + "/k.geojson", "-q", "--tile-size", tile};
        args.insert(args.begin() + 1, some.begin(), some.end());
        auto r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return readFile(dir.file(sub) + "/k.geojson");
    };
    std::string whole = run("4096", "a"), small = run("24", "b"), mid = run("50", "c");
    ASSERT_NE(whole.find("kiln_type"), std::string::npos);
    EXPECT_EQ(small, whole);
    EXPECT_EQ(mid, whole);
}

TEST(CliKiln, FewFalseAlarmsOnTheKilnFreeSundarbans) {
    TempDir dir;
    std::string s2 = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27/Sentinel-2_L2A_";
    auto r = runRiskmap({"scan", "--detector", "kiln", "-o", dir.file("k.geojson"), "-q", "--scale", "1.5259e-5",
                         "--band", "red=" + s2 + "B04_Raw.tiff", "--band", "green=" + s2 + "B03_Raw.tiff",
                         "--band", "blue=" + s2 + "B02_Raw.tiff", "--band", "nir=" + s2 + "B08_Raw.tiff"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump d = readLayer(dir.file("k.geojson"));
    // 90 km2 of valid mangrove, rivers and farmland, no kilns: at most 0.05 per km2.
    EXPECT_LE(d.features.size(), 4u);
}

TEST(CliKiln, CoarseLandsatIsRefusedWithAWarning) {
    TempDir dir;
    std::string olinda = std::string(RISKMAP_SOURCE_DIR) + "/data/landsat7-olinda/L7_ETMs.tif";
    auto r = runRiskmap({"scan", olinda, "--sensor", "landsat7", "--detector", "kiln", "-o", dir.file("k.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("cannot resolve"), std::string::npos) << r.err;
    EXPECT_TRUE(readLayer(dir.file("k.geojson")).features.empty());
    Json m = parseJsonFile(dir.file("k.geojson") + ".manifest.json");
    EXPECT_EQ(m.at("warnings").size(), 1u);
}

TEST(CliEval, HelpAndErrors) {
    auto h = runRiskmap({"eval", "--help"});
    EXPECT_EQ(h.exitCode, 0);
    for (const char* s : {"--truth", "--detections", "--radius-m", "--aoi", "--inputs", "--method"})
        EXPECT_NE(h.out.find(s), std::string::npos) << s;
    EXPECT_EQ(runRiskmap({"eval", "--truth", "x.geojson"}).exitCode, 2);
    auto missing = runRiskmap({"eval", "--truth", "/no/t.geojson", "--detections", "/no/d.geojson", "--aoi", "/no/a.geojson"});
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_NE(missing.err.find("/no/a.geojson"), std::string::npos);
    auto method = runRiskmap({"eval", "--truth", "t", "--detections", "d", "--method", "best"});
    EXPECT_EQ(method.exitCode, 2);
}
