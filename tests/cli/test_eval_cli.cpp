// riskmap eval as researchers use it: curves, AP, groups, intervals, plots.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
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
    // Truth without a value in the field was dropped, and the detection on it became a false
    // alarm (a hostile-input sweep). It goes to the scenes whose footprint holds it, and is said.
    ASSERT_EQ(runRiskmap({"scan", set + "chips", "--detector", "kiln", "-o", dir.file("all.geojson"), "-q"}).exitCode, 0);
    Json truth = parseJsonFile(set + "labels.geojson");
    int nulls = 0;
    for (std::size_t i = 1; i < truth.at("features").size(); i += 2, ++nulls) truth.at("features")[i].at("properties")["chip"] = nullptr;
    std::ofstream(dir.file("half.geojson")) << dumpJson(truth);
    auto overall = [&](const std::string& truthPath) {
        auto e = runRiskmap({"eval", "--truth", truthPath, "--detections", dir.file("all.geojson"), "--truth-source-field", "chip",
                             "--json", "--bootstrap", "0"});
        EXPECT_EQ(e.exitCode, 0) << e.err;
        return parseJson(e.out, "eval");
    };
    const Json whole = overall(set + "labels.geojson"), half = overall(dir.file("half.geojson"));
    EXPECT_EQ(half.at("overall").at("tp"), whole.at("overall").at("tp")) << half.at("overall").dump();
    EXPECT_EQ(half.at("overall").at("fp"), whole.at("overall").at("fp")) << half.at("overall").dump();
    EXPECT_EQ(half.at("truth_without_source").get<int>(), nulls);
}

// Bug: truth under a cloud mask or a nodata block counted as missed, though the scan never saw
// it (recall of a cloudy scene fell for nothing the detector did). With the footprint from the
// manifest, truth in the scan's nodata gaps is now left out and counted apart; --inputs has no
// gaps, and a scan copied without its gap layer says so.
TEST(CliEval, TruthInTheScansNodataGapsIsNotCounted) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 400;  // 4 x 4 km at 10 m, EPSG:32645 from (500000, 2500000)
    s.nodata = true;
    s.nodataRect = {207, 0, 193, 400};  // the east holds no data
    // The second object lies on the last valid pixels, in the 32 px coverage cell from 192 px,
    // 15 of 32 columns valid: a gap cell. It lies 110 m inside it, beyond the 60 m match radius,
    // but next to seen ground, so it and its truth count.
    s.blobs = {{100, 100, 6, 6, kBareSoil}, {203, 300, 3, 3, kBareSoil}};
    const std::string scene = writeScene(dir.file("half.tif"), s);
    ASSERT_EQ(runRiskmap({"scan", scene, "-o", dir.file("e.geojson"), "-q"}).exitCode, 0);
    // Pixel centres: the objects (found), bare-free valid ground (missed), deep in the gap, outside.
    auto point = [](double px, double py) {
        return "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[" +
               std::to_string(500005 + 10 * px) + "," + std::to_string(2499995 - 10 * py) + "]}}";
    };
    std::ofstream(dir.file("truth.geojson")) <<
              ("{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
              "\"urn:ogc:def:crs:EPSG::32645\"}},\"features\":[" +
                  point(100, 100) + "," + point(203, 300) + "," + point(100, 300) + "," + point(300, 200) + "," +
                  point(600, 200) + "]}");
    auto eval = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file("e.geojson"),
                                      "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CliResult r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return parseJson(r.out, "stdout");
    };
    Json j = eval({});
    EXPECT_EQ(j.at("overall").at("tp").get<int>(), 2);
    EXPECT_EQ(j.at("overall").at("fp").get<int>(), 0);
    EXPECT_EQ(j.at("overall").at("fn").get<int>(), 1);
    EXPECT_EQ(j.at("truth_in_nodata_gaps").get<int>(), 1);
    EXPECT_EQ(j.at("detections_in_nodata_gaps").get<int>(), 0);
    EXPECT_EQ(j.at("truth_outside_footprint").get<int>(), 1);
    EXPECT_TRUE(j.at("notes").empty());
    const CliResult text = runRiskmap({"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file("e.geojson")});
    EXPECT_NE(text.out.find("1 truth object(s) and 0 detection(s) deep in the scan's nodata gaps"), std::string::npos)
        << text.out;
    // A detection deep in the gap (a layer edited by hand, or another scan's) is left out the
    // same way, not counted as a false alarm: the first object moved 2 km east, into the gap.
    {
        Json layer = parseJsonFile(dir.file("e.geojson"));
        Json moved = layer.at("features")[0];
        std::function<void(Json&)> shift = [&](Json& c) {
            if (c.is_array() && c.size() >= 2 && c[0].is_number()) c[0] = c[0].get<double>() + 2000.0 / (111320.0 * 0.923);
            else if (c.is_array())
                for (auto& x : c) shift(x);
        };
        shift(moved["geometry"]["coordinates"]);
        moved["properties"]["id"] = "moved-into-the-gap";
        layer["features"].push_back(moved);
        std::ofstream(dir.file("e.geojson")) << dumpJson(layer);
    }
    j = eval({});
    EXPECT_EQ(j.at("overall").at("tp").get<int>(), 2);
    EXPECT_EQ(j.at("overall").at("fp").get<int>(), 0);
    EXPECT_EQ(j.at("detections_in_nodata_gaps").get<int>(), 1);
    // The rasters themselves tell no gaps: the hidden one is a miss there.
    j = eval({"--inputs", scene});
    EXPECT_EQ(j.at("overall").at("tp").get<int>(), 2);
    EXPECT_EQ(j.at("overall").at("fp").get<int>(), 1);
    EXPECT_EQ(j.at("overall").at("fn").get<int>(), 2);
    EXPECT_EQ(j.at("truth_in_nodata_gaps").get<int>(), 0);
    // Without its gap layer the scan cannot tell either, and the report says why.
    ASSERT_EQ(std::remove(dir.file("e.nodata_gaps.geojson").c_str()), 0);
    j = eval({});
    EXPECT_EQ(j.at("overall").at("fn").get<int>(), 2);
    ASSERT_EQ(j.at("notes").size(), 1u);
    EXPECT_NE(j.at("notes")[0].get<std::string>().find("nodata gaps could not be read"), std::string::npos);
}

// An audit: eval of a scene astride lon 180 (Fiji) gave TP 0 / FP 0 / FN 0, its truth "outside
// the scanned footprint" and its detection "deep in the nodata gaps": the footprint ring ran
// 179.9 -> -179.9 round the rest of the globe, and a split object's centroid fell near lon 0.
// diff of two scans of it called both objects unknown. Every format, both commands.
TEST(CliEval, ScenesAcrossTheAntimeridianAreMatchedAndCovered) {
    TempDir dir;
    // One object astride the line, one west of it.
    const std::string scene = writeAntimeridianScene(dir.file("anti.tif"), {{104, 60, 8, 6, kBareSoil}, {40, 40, 6, 6, kBareSoil}});
    auto point = [](double px, double py) {
        return "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[" +
               std::to_string(818449 + 10 * px) + "," + std::to_string(8120006 - 10 * py) + "]}}";
    };
    std::ofstream(dir.file("truth.geojson")) << ("{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{"
                                                "\"name\":\"urn:ogc:def:crs:EPSG::32760\"}},\"features\":[" +
                                                point(104, 60) + "," + point(40, 40) + "]}");
    for (const std::vector<std::string>& out : {std::vector<std::string>{"a.geojson"}, {"a.gpkg", "--out-crs", "EPSG:4326"},
                                               {"a.fgb", "--out-crs", "EPSG:4326"}, {"b.gpkg"}}) {
        std::vector<std::string> args{"scan", scene, "-o", dir.file(out[0]), "-q", "--overwrite", "--date", "2020-01-01"};
        args.insert(args.end(), out.begin() + 1, out.end());
        ASSERT_EQ(runRiskmap(args).exitCode, 0) << out[0];
        const CliResult r = runRiskmap({"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file(out[0]), "--json",
                                        "--radius-m", "100", "--bootstrap", "0"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const Json j = parseJson(r.out, "stdout");
        EXPECT_EQ(j.at("overall").at("tp").get<int>(), 2) << out[0] << " " << r.out;
        EXPECT_EQ(j.at("overall").at("fp").get<int>(), 0) << out[0];
        EXPECT_EQ(j.at("truth_outside_footprint").get<int>(), 0) << out[0];
        EXPECT_EQ(j.at("truth_in_nodata_gaps").get<int>(), 0) << out[0];
        EXPECT_EQ(j.at("detections_in_nodata_gaps").get<int>(), 0) << out[0];
    }
    ASSERT_EQ(runRiskmap({"scan", scene, "-o", dir.file("later.fgb"), "-q", "--date", "2020-02-01", "--out-crs", "EPSG:4326"}).exitCode, 0);
    const CliResult d = runRiskmap({"diff", dir.file("a.geojson"), dir.file("later.fgb"), "-o", dir.file("d.gpkg"), "-q"});
    ASSERT_EQ(d.exitCode, 0) << d.err;
    const Json counts = parseJsonFile(dir.file("d.gpkg.manifest.json")).at("diff").at("counts");
    EXPECT_EQ(counts.at("persists").get<int>(), 2) << dumpJson(counts);
    EXPECT_EQ(counts.at("unknown").get<int>(), 0) << dumpJson(counts);
}

// A sweep of hostile inputs: truth in UTM metres without a CRS (a shapefile without its .prj)
// was matched as lon/lat, P 0 and exit 0; a CSV of coordinate columns opened without them had no
// geometry at all, P 0 and no word; features without geometry were dropped uncounted.
TEST(CliEval, TruthThatIsNotLonLatOrHasNoGeometryIsNamed) {
    TempDir dir;
    const std::string set = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/";
    ASSERT_EQ(runRiskmap({"scan", set + "chips/jessore_demo_tile_01.tif", "--detector", "kiln", "-o", dir.file("k.geojson"), "-q"}).exitCode, 0);
    ASSERT_EQ(runShell("ogr2ogr -t_srs EPSG:32645 '" + dir.file("utm.shp") + "' '" + set + "labels.geojson'").exitCode, 0);
    std::filesystem::remove(dir.file("utm.prj"));
    auto r = runRiskmap({"eval", "--truth", dir.file("utm.shp"), "--detections", dir.file("k.geojson")});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("not a lon/lat position: the layer has no CRS"), std::string::npos) << r.err;
    std::ofstream(dir.file("t.csv")) << "lon,lat\n89.25,23.13\n89.2501,23.1301\n";
    r = runRiskmap({"eval", "--truth", dir.file("t.csv"), "--detections", dir.file("k.geojson")});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("none of the 2 features of truth"), std::string::npos) << r.err;
    // Some features without geometry: counted apart and said.
    std::ofstream(dir.file("mixed.geojson"))
        << R"({"type": "FeatureCollection", "features": [)"
        << R"({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [89.25, 23.13]}},)"
        << R"({"type": "Feature", "properties": {}, "geometry": null}]})";
    r = runRiskmap({"eval", "--truth", dir.file("mixed.geojson"), "--detections", dir.file("k.geojson"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(parseJson(r.out, "eval").at("truth_without_geometry"), 1) << r.out;
}

// An --aoi of points (the truth file given twice) counted truth inside and every detection
// outside: recall 0 with exit 0 (an audit). An area is polygons.
TEST(CliEval, AnAoiOfPointsIsRefused) {
    TempDir dir;
    {
        std::ofstream t(dir.file("t.geojson"));
        t << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[87.0,22.5]}}]})";
    }
    const CliResult r = runRiskmap({"eval", "--truth", dir.file("t.geojson"), "--detections", dir.file("t.geojson"),
                                    "--aoi", dir.file("t.geojson")});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("holds a Point: it must hold polygons of the area scanned"), std::string::npos) << r.err;
}
