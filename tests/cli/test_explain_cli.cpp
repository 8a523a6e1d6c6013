// scan --explain: every candidate a detector turned down, with the gate and its measured value,
// exactly once and identically for any tiling, through resume and merge too.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

// Bare blobs of known size at 10 m: two too small for min_area_m2 = 2000, three large enough.
std::string scene(const TempDir& dir) {
    SceneSpec s;
    s.width = s.height = 400;
    s.blobs = {{50, 50, 1.5, 1.5, kBareSoil},   {300, 60, 2, 2, kBareSoil},     {100, 250, 6, 6, kBareSoil},
               {250, 250, 8, 5, kBareSoil},     {340, 340, 7, 7, kBareSoil}};
    return writeScene(dir.file("scene.tif"), s);
}

std::map<std::string, int> gates(const Json& fc) {
    std::map<std::string, int> n;
    for (const auto& f : fc.at("features")) n[f.at("properties").at("rejected_by").get<std::string>()]++;
    return n;
}

}  // namespace

TEST(CliExplain, RejectedCandidatesCarryTheGateAndItsValue) {
    TempDir dir;
    const std::string in = scene(dir);
    auto r = runRiskmap({"scan", in, "-o", dir.file("out.geojson"), "-q", "--set", "min_area_m2=2000", "--explain",
                         dir.file("why.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json out = parseJsonFile(dir.file("out.geojson"));
    const Json why = parseJsonFile(dir.file("why.geojson"));
    EXPECT_EQ(out.at("features").size(), 3u);
    ASSERT_EQ(gates(why)["min_area_m2"], 2) << dumpJson(why);
    for (const auto& f : why.at("features")) {
        const Json& p = f.at("properties");
        EXPECT_LT(p.at("value").get<double>(), 2000.0);
        EXPECT_EQ(p.at("limit").get<double>(), 2000.0);
        EXPECT_NEAR(p.at("value").get<double>(), p.at("area_m2").get<double>(), 50);
    }
    // Raising the bar moves the detections to the explain layer, each with the gate that did it.
    r = runRiskmap({"scan", in, "-o", dir.file("out2.geojson"), "-q", "--set", "min_area_m2=2000", "--set", "min_score=1.01",
                    "--explain", dir.file("why2.geojson")});
    EXPECT_EQ(r.exitCode, 2) << "min_score above 1 must be refused: " << r.err;
    r = runRiskmap({"scan", in, "-o", dir.file("out3.geojson"), "-q", "--set", "min_area_m2=2000", "--set", "max_area_m2=15000",
                    "--explain", dir.file("why3.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto g = gates(parseJsonFile(dir.file("why3.geojson")));
    EXPECT_EQ(g.at("min_area_m2"), 2);
    EXPECT_EQ(g.at("max_area_m2"), 1) << "the 7 x 7 px blob (~15400 m2)";
    const Json m = parseJsonFile(dir.file("out3.geojson.manifest.json"));
    EXPECT_EQ(m.at("explain").at("rejected").get<int>(), 3);
}

TEST(CliExplain, IdenticalForAnyTilingAndThroughMerge) {
    TempDir dir;
    const std::string in = scene(dir);
    auto scan = [&](const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args{"scan", in, "-o", dir.file(name + ".geojson"), "-q", "--set", "min_area_m2=2000",
                                      "--explain", dir.file(name + ".why.geojson")};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
    };
    scan("a", {"--tile-size", "4096"});
    scan("b", {"--tile-size", "64", "--threads", "2"});
    EXPECT_EQ(readFile(dir.file("a.why.geojson")), readFile(dir.file("b.why.geojson")));
    scan("s1", {"--tile-size", "64", "--shard", "1/2"});
    scan("s2", {"--tile-size", "64", "--shard", "2/2"});
    auto r = runRiskmap({"merge", dir.file("s1.geojson"), dir.file("s2.geojson"), "-o", dir.file("m.geojson"), "-q",
                         "--explain", dir.file("m.why.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(dir.file("b.why.geojson")), readFile(dir.file("m.why.geojson")));
}

// Bug: a GeoPackage or FlatGeobuf scan with a GeoJSON explain file wrote projected coordinates
// into the GeoJSON and failed ("a coordinate is not a longitude or latitude"). Each file follows
// its own format, in both directions.
TEST(CliExplain, ExplainFileFollowsItsOwnFormat) {
    TempDir dir;
    const std::string in = scene(dir);
    for (const auto& [main, why] : std::vector<std::pair<std::string, std::string>>{
             {"out.gpkg", "why.geojson"}, {"out.fgb", "why2.geojson"}, {"out3.geojson", "why3.gpkg"}}) {
        auto r = runRiskmap({"scan", in, "-o", dir.file(main), "-q", "--set", "min_area_m2=2000", "--explain", dir.file(why)});
        ASSERT_EQ(r.exitCode, 0) << main << " + " << why << ": " << r.err;
    }
    for (const char* why : {"why.geojson", "why2.geojson"}) {
        const Json fc = parseJsonFile(dir.file(why));
        ASSERT_EQ(gates(fc)["min_area_m2"], 2) << why;
        const Json* c = &fc.at("features").at(0).at("geometry").at("coordinates");
        while (c->is_array()) c = &c->at(0);  // Polygon or MultiPolygon: the first longitude
        const double lon = c->get<double>();
        EXPECT_LE(std::abs(lon), 180.0) << why << " must be lon/lat";
    }
}

// Bug: an object longer than max_length_m left both layers without a word: the extractor
// dropped it before --explain saw it. Objects up to twice the limit are now listed (the halo
// under --explain holds them whole, so the list does not depend on the tiling); longer ones,
// which no bounded halo can see whole, are not.
TEST(CliExplain, ObjectsTooLongAreListedUpToTwiceTheLimit) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 400;
    s.blobs = {{100, 100, 6, 6, kBareSoil},    // kept: 130 m across
               {200, 200, 35, 4, kBareSoil},   // ~700 m long: listed
               {200, 320, 65, 4, kBareSoil},   // ~1300 m long: beyond twice the limit
               // ~910 m: a wide head and a thin tail, whose centroid lies in the head, so the
               // tail reaches ~750 m beyond it: seen whole only within the wider halo.
               {100, 60, 12, 12, kBareSoil},
               {140, 60, 45, 1, kBareSoil}};
    s.blockX = s.blockY = 16;  // tiles of 16 px: many cores, one of them the head's
    const std::string in = writeScene(dir.file("scene.tif"), s);
    auto scan = [&](const std::string& name, const std::string& tile) {
        auto r = runRiskmap({"scan", in, "-o", dir.file(name + ".geojson"), "-q", "--set", "max_length_m=500",
                             "--tile-size", tile, "--explain", dir.file(name + ".why.geojson")});
        EXPECT_EQ(r.exitCode, 0) << r.err;
    };
    scan("a", "4096");
    scan("b", "16");
    EXPECT_EQ(parseJsonFile(dir.file("a.geojson")).at("features").size(), 1u);
    const Json why = parseJsonFile(dir.file("a.why.geojson"));
    ASSERT_EQ(gates(why)["max_length_m"], 2) << dumpJson(why);
    for (const auto& f : why.at("features")) {
        const Json& p = f.at("properties");
        if (p.at("rejected_by") != "max_length_m") continue;
        EXPECT_GT(p.at("value").get<double>(), 650);
        EXPECT_LT(p.at("value").get<double>(), 1000);
        EXPECT_EQ(p.at("limit").get<double>(), 500.0);
    }
    EXPECT_EQ(readFile(dir.file("a.why.geojson")), readFile(dir.file("b.why.geojson")));
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("b.geojson")));
}
