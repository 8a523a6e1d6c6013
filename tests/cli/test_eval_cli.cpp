// riskmap eval as researchers use it: curves, AP, groups, intervals, plots.
#include <gtest/gtest.h>

#include <set>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

// Research-grade eval on the dev set: the precision-recall curve, AP, best F1, per-district table,
// bootstrap intervals in --json, and the PR plot.
TEST(CliEval, CurveGroupsIntervalsAndPlot) {
    TempDir dir;
    const std::string chips = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/chips";
    ASSERT_EQ(runRiskmap({"scan", chips, "--detector", "kiln", "-o", dir.file("k.geojson"), "-q"}).exitCode, 0);
    auto r = runRiskmap({"eval", "--truth", std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/labels.geojson",
                         "--detections", dir.file("k.geojson"), "--truth-source-field", "chip", "--group-field", "district",
                         "--json", "--plot", dir.file("pr.png")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json j = parseJson(r.out, "stdout");
    const Json& pr = j.at("pr_curve");
    EXPECT_EQ(pr.at("positives").get<int>(), 41);
    const double ap = pr.at("average_precision").get<double>();
    EXPECT_GT(ap, 0.5);
    EXPECT_LE(ap, 1.0);
    EXPECT_GE(pr.at("bootstrap").at("average_precision_95")[1].get<double>(), ap - 1e-9);
    EXPECT_LE(pr.at("bootstrap").at("average_precision_95")[0].get<double>(), ap + 1e-9);
    ASSERT_EQ(j.at("groups").size(), 3u);
    std::set<std::string> districts;
    int truthTotal = 0;
    for (const auto& g : j.at("groups")) {
        districts.insert(g.at("group").get<std::string>());
        truthTotal += g.at("tp").get<int>() + g.at("fn").get<int>();
    }
    EXPECT_EQ(districts, (std::set<std::string>{"jessore", "manikganj", "tangail"}));
    EXPECT_EQ(truthTotal, 41);
    // The curve is monotone in recall, and the best F1 is one of its points.
    double lastRecall = 0;
    bool bestOnCurve = false;
    for (const auto& p : pr.at("points")) {
        EXPECT_GE(p.at("recall").get<double>(), lastRecall);
        lastRecall = p.at("recall").get<double>();
        bestOnCurve |= p.at("threshold") == pr.at("best_f1").at("threshold");
    }
    EXPECT_TRUE(bestOnCurve);
    EXPECT_EQ(readFile(dir.file("pr.png")).rfind("\x89PNG", 0), 0u);
}

// An audit: one source gave zero-width "95 %" intervals, --bootstrap 1 was taken, and with no
// hit at any score a best-F1 threshold was still named. Now: no interval, with the reason; too
// few resamples refused; no best F1.
TEST(CliEval, IntervalsAndBestF1AreWithheldWhereTheyMeanNothing) {
    TempDir dir;
    const std::string set = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/";
    const std::string chip = set + "chips/jessore_demo_tile_01.tif";  // one source
    ASSERT_EQ(runRiskmap({"scan", chip, "--detector", "kiln", "-o", dir.file("k.geojson"), "-q"})
                  .exitCode,
              0);
    const std::vector<std::string> base{"eval",
                                        "--truth",
                                        set + "labels.geojson",
                                        "--detections",
                                        dir.file("k.geojson"),
                                        "--truth-source-field",
                                        "chip",
                                        "--json"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        return runRiskmap(a);
    };
    CliResult r = with({"--bootstrap", "1000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json b = parseJson(r.out, "stdout").at("pr_curve").at("bootstrap");
    EXPECT_TRUE(b.at("precision_95").is_null()) << dumpJson(b);
    EXPECT_TRUE(b.at("average_precision_95").is_null()) << dumpJson(b);
    EXPECT_NE(b.at("withheld").get<std::string>().find("one source"), std::string::npos);
    r = with({"--bootstrap", "1"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("at least 100"), std::string::npos) << r.err;
    // A radius no detection can meet: detections, but no hit.
    r = with({"--bootstrap", "0", "--radius-m", "0.001"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(parseJson(r.out, "stdout").at("pr_curve").at("best_f1").is_null()) << r.out;
    std::vector<std::string> text = base;
    text.pop_back();  // no --json
    text.insert(text.end(), {"--radius-m", "0.001"});
    r = runRiskmap(text);
    EXPECT_NE(r.out.find("best F1: none"), std::string::npos) << r.out;
}

// A truth field that names no scanned source (a --band scene is named after its folder; a field
// of districts instead of chips) gave 0 found and 1 false alarm with no reason. Refused, naming
// both sides; truth that names some scanned source still runs.
TEST(CliEval, TruthSourceFieldNamingNoScannedSourceIsRefused) {
    TempDir dir;
    const std::string set = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/";
    ASSERT_EQ(runRiskmap({"scan", set + "chips/jessore_demo_tile_01.tif", "--detector", "kiln", "-o", dir.file("k.geojson"), "-q"}).exitCode, 0);
    auto r = runRiskmap({"eval", "--truth", set + "labels.geojson", "--detections", dir.file("k.geojson"), "--truth-source-field", "district"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("'jessore'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'jessore_demo_tile_01.tif'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--truth-source-field 'district'"), std::string::npos) << r.err;
    r = runRiskmap({"eval", "--truth", set + "labels.geojson", "--detections", dir.file("k.geojson"), "--truth-source-field", "chip"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}
