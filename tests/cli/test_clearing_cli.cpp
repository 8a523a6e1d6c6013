// The clearing detector on the real Sundarbans scene (bundled in data/): planted-camp recall,
// false alarms in the unmodified reserve and the farmed north, tiling, and coarse Landsat.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/Json.hpp"
#include "support/CampPlanter.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kScene = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27";

std::vector<std::string> bandArgs(const std::string& dir) {
    std::string p = dir + "/Sentinel-2_L2A_";
    // EO Browser exports hold reflectance x 65535.
    return {"--scale", "1.5259e-5", "--band", "blue=" + p + "B02_Raw.tiff", "--band", "green=" + p + "B03_Raw.tiff",
            "--band", "red=" + p + "B04_Raw.tiff", "--band", "nir=" + p + "B08_Raw.tiff",
            "--band", "swir1=" + p + "B11_Raw.tiff"};
}

CliResult scanClearing(const std::string& dir, const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"scan", "--detector", "clearing", "-o", out, "-q", "--overwrite"};
    auto b = bandArgs(dir);
    args.insert(args.end(), b.begin(), b.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return runRiskmap(args);
}

}  // namespace

TEST(CliClearing, PlantedCampsOfAtLeastTwoTenthsOfAHectareAreFound) {
    std::size_t tp = 0, fn = 0, fp = 0;
    for (std::uint64_t seed : {200, 201, 202, 203}) {
        TempDir dir;
        PlantOptions o;
        o.seed = seed;
        o.camps = 15;
        auto camps = plantCamps(kScene, dir.path(), o);
        ASSERT_GE(camps.size(), 10u);
        // Camps under 0.2 ha are don't-care: the target is recall for 0.2 ha and more.
        writeCampTruth(dir.file("truth.geojson"), camps, 2000.0);
        auto r = scanClearing(dir.path(), dir.file("det.geojson"));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        auto e = runRiskmap({"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file("det.geojson"),
                             "--radius-m", "100", "--json"});
        ASSERT_EQ(e.exitCode, 0) << e.err;
        Json o2 = *parseJson(e.out, "eval").find("overall");
        tp += static_cast<std::size_t>(o2.at("tp").get<std::int64_t>());
        fn += static_cast<std::size_t>(o2.at("fn").get<std::int64_t>());
        fp += static_cast<std::size_t>(o2.at("fp").get<std::int64_t>());
    }
    ASSERT_GT(tp + fn, 30u);
    EXPECT_GE(static_cast<double>(tp) / static_cast<double>(tp + fn), 0.95) << tp << " of " << tp + fn;
    EXPECT_LE(fp, 2u);  // no natural false alarms; a camp split by a creek may count twice
}

TEST(CliClearing, UnmodifiedReserveAndFarmedNorthStayDark) {
    TempDir dir;
    auto r = scanClearing(kScene, dir.file("clearings.geojson"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // 27 km2 of reserve land and 42 km2 of farms, villages and ponds: at most 1 false detection
    // per 100 km2 of reserve means none here, and the farmed north must not light up.
    EXPECT_EQ(readLayer(dir.file("clearings.geojson")).features.size(), 0u);
    Json m = parseJsonFile(dir.file("clearings.geojson") + ".manifest.json");
    EXPECT_DOUBLE_EQ(m.at("detector").at("halo_m").get<double>(), 3760.0);
}

TEST(CliClearing, SameCampsForAnyTileSize) {
    TempDir dir;
    PlantOptions o;
    o.seed = 104;
    plantCamps(kScene, dir.path(), o);
    std::vector<std::string> outputs;
    for (const char* tile : {"48", "150", "4096"}) {
        std::filesystem::create_directory(dir.file(tile));
        auto r = scanClearing(dir.path(), dir.file(tile) + "/c.geojson", {"--tile-size", tile});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        outputs.push_back(readFile(dir.file(tile) + "/c.geojson"));
    }
    ASSERT_NE(outputs[0].find("enclosure"), std::string::npos);
    EXPECT_EQ(outputs[0], outputs[2]);
    EXPECT_EQ(outputs[1], outputs[2]);
}

TEST(CliClearing, CoarseLandsatRunsToTheEnd) {
    TempDir dir;
    std::string olinda = std::string(RISKMAP_SOURCE_DIR) + "/data/landsat7-olinda/L7_ETMs.tif";
    auto r = runRiskmap({"scan", olinda, "--sensor", "landsat7", "--detector", "clearing", "-o", dir.file("c.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(fileExists(dir.file("c.geojson")));
}
