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
