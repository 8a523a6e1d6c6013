// Risk outputs end to end: context factors, the risk grid (never counting unscanned ground as
// zero), and the publishable layer (from which no detection can be located).
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

// 30 x 30 km at 10 m (3000 px): bare patches spread out, a nodata block in the south-east.
std::string riskScene(const TempDir& dir) {
    SceneSpec s;
    s.width = s.height = 3000;
    s.noise = 20;
    s.nodata = true;
    s.nodataRect = {2000, 2000, 1000, 1000};
    s.blobs = scatterBlobs(s.width, s.height, 300, 77, 3, 8);
    return writeScene(dir.file("scene.tif"), s);
}

std::unique_ptr<OGRCoordinateTransformation> transform(int from, int to) {
    OGRSpatialReference a, b;
    a.importFromEPSG(from);
    b.importFromEPSG(to);
    a.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    b.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return std::unique_ptr<OGRCoordinateTransformation>(OGRCreateCoordinateTransformation(&a, &b));
}

}  // namespace

// A context layer is an input: no output may replace it, and one that does not exist is said
// before any tile (it failed after the whole scan). Found by an audit.
TEST(CliRisk, ContextLayersAreInputsCheckedFirst) {
    TempDir dir;
    const std::string scene = riskScene(dir);
    std::ofstream(dir.file("ctx.geojson"))
        << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[87.1,22.5]}}]})";
    const std::string ctx = readFile(dir.file("ctx.geojson"));
    const std::string spec = "fp=" + dir.file("ctx.geojson") + ":within=1000:0.3";
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"-o", dir.file("ctx.geojson")},
             {"-o", dir.file("o.geojson"), "--publish", dir.file("ctx.geojson")}}) {
        std::vector<std::string> args{"scan", scene, "-q", "--overwrite", "--context", spec};
        args.insert(args.end(), extra.begin(), extra.end());
        const CliResult r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("context layer fp"), std::string::npos) << r.err;
    }
    EXPECT_EQ(readFile(dir.file("ctx.geojson")), ctx);
    const CliResult r = runRiskmap({"scan", scene, "-q", "-o", dir.file("o.geojson"), "--context",
                                    "fp=" + dir.file("none.geojson") + ":within=1000:0.3"});
    EXPECT_EQ(r.exitCode, 1) << r.err;  // as a missing raster
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("o.geojson.journal")));
    // Read whole before the scan: a TIN failed only after it, leaving a journal; a curved
    // polygon, valid, was refused as "not a valid geometry" (a hostile-input sweep).
    const std::string small = dir.file("small.tif");
    {
        SceneSpec s;
        s.width = s.height = 64;
        writeScene(small, s);
    }
    GDALAllRegister();
    {
        GDALDatasetUniquePtr ds(GetGDALDriverManager()->GetDriverByName("GPKG")->Create(dir.file("shapes.gpkg").c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        OGRSpatialReference ll;
        ll.importFromEPSG(4326);
        OGRLayer* curved = ds->CreateLayer("curved", &ll, wkbCurvePolygon, nullptr);
        OGRFeature f(curved->GetLayerDefn());
        OGRGeometry* g = nullptr;
        OGRGeometryFactory::createFromWkt("CURVEPOLYGON(CIRCULARSTRING(87.1 22.5,87.2 22.6,87.1 22.5))", nullptr, &g);
        f.SetGeometryDirectly(g);
        ASSERT_EQ(curved->CreateFeature(&f), OGRERR_NONE);
        OGRLayer* tin = ds->CreateLayer("tin", &ll, wkbTIN, nullptr);
        OGRFeature t(tin->GetLayerDefn());
        OGRGeometryFactory::createFromWkt("TIN(((87.1 22.5 0,87.2 22.5 0,87.1 22.6 0,87.1 22.5 0)))", nullptr, &g);
        t.SetGeometryDirectly(g);
        ASSERT_EQ(tin->CreateFeature(&t), OGRERR_NONE);
    }
    const CliResult bad = runRiskmap({"scan", small, "-q", "-o", dir.file("t.geojson"), "--context",
                                      "t=" + dir.file("shapes.gpkg") + ":within=1000:0.3"});
    EXPECT_EQ(bad.exitCode, 1) << bad.err;
    EXPECT_NE(bad.err.find("is a TIN riskmap cannot measure distances to"), std::string::npos) << bad.err;
    EXPECT_FALSE(fileExists(dir.file("t.geojson.journal")));
    EXPECT_FALSE(fileExists(dir.file("t.geojson")));
}

// One name given twice made two factors no one could tell apart, and an empty layer was taken
// in silence (an audit).
TEST(CliRisk, ADuplicateContextNameIsRefusedAndAnEmptyLayerSaid) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    writeScene(dir.file("s.tif"), s);
    std::ofstream(dir.file("ctx.geojson"))
        << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[87.1,22.5]}}]})";
    std::ofstream(dir.file("empty.geojson")) << R"({"type":"FeatureCollection","features":[]})";
    const std::string ctx = dir.file("ctx.geojson") + ":within=1000:0.3";
    CliResult r = runRiskmap({"scan", dir.file("s.tif"), "-q", "-o", dir.file("a.geojson"), "--context", "road=" + ctx,
                              "--context", "road=" + ctx});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--context road is given twice"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("a.geojson")));
    r = runRiskmap({"scan", dir.file("s.tif"), "-q", "-o", dir.file("b.geojson"), "--context", "road=" + ctx, "--context",
                    "school=" + dir.file("empty.geojson") + ":within=1000:0.3"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string warnings = dumpJson(parseJsonFile(dir.file("b.geojson.manifest.json")).at("warnings"));
    EXPECT_NE(warnings.find("--context school holds no features"), std::string::npos) << warnings;
    EXPECT_EQ(warnings.find("--context road"), std::string::npos) << warnings;
}

TEST(CliRisk, ContextFactorsRaiseRiskAndAreListed) {
    TempDir dir;
    std::string scene = riskScene(dir);
    // A "protected area" over the northern half of the scene, in the scene's own CRS (UTM 45N).
    std::ofstream(dir.file("reserve.geojson"))
        << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32645"}},"features":[)"
        << R"({"type":"Feature","properties":{"name":"North Reserve"},"geometry":{"type":"Polygon","coordinates":)"
        << R"([[[500000,2500000],[530000,2500000],[530000,2485000],[500000,2485000],[500000,2500000]]]}}]})";
    auto r = runRiskmap({"scan", scene, "-o", dir.file("out.geojson"), "-q", "--context",
                         "reserve=" + dir.file("reserve.geojson") + ":inside:0.5", "--risk-levels", "0.5,0.8"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json fc = parseJsonFile(dir.file("out.geojson"));
    int inside = 0, outside = 0;
    for (const auto& f : fc.at("features")) {
        const Json& p = f.at("properties");
        const double score = p.at("score").get<double>(), risk = p.at("risk").get<double>();
        const auto& factors = p.at("risk_factors");
        if (!factors.empty()) {
            ++inside;
            EXPECT_EQ(factors[0].get<std::string>(), "inside reserve (North Reserve)");
            EXPECT_NEAR(risk, 1 - (1 - score) * 0.5, 1e-3);
        } else {
            ++outside;
            EXPECT_NEAR(risk, score, 1e-9);
        }
        const std::string level = p.at("risk_level").get<std::string>();
        EXPECT_EQ(level, risk >= 0.8 ? "high" : risk >= 0.5 ? "medium" : "low");
    }
    EXPECT_GT(inside, 10);
    EXPECT_GT(outside, 10);
    Json m = parseJsonFile(dir.file("out.geojson.manifest.json"));
    EXPECT_EQ(m.at("risk").at("context").size(), 1u);
    // The manifest replays the scan with its context layers and risk levels (an audit found them
    // dropped: risks and levels changed on replay).
    r = runRiskmap({"scan", "-o", dir.file("again.geojson"), "-q", "--config",
                    dir.file("out.geojson.manifest.json")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json again = parseJsonFile(dir.file("again.geojson"));
    ASSERT_EQ(again.at("features").size(), fc.at("features").size());
    for (std::size_t i = 0; i < fc.at("features").size(); ++i)
        EXPECT_EQ(again.at("features")[i].at("properties"), fc.at("features")[i].at("properties"))
            << i;
    EXPECT_EQ(parseJsonFile(dir.file("again.geojson.manifest.json")).at("risk"), m.at("risk"));
    auto bad = runRiskmap({"scan", scene, "-o", dir.file("bad.geojson"), "--context", "reserve=nope.geojson:inside:0.5"});
    EXPECT_EQ(bad.exitCode, 1);
    EXPECT_NE(bad.err.find("nope.geojson"), std::string::npos);
    // A weight of NaN, or none, is not a weight of 0.
    bad = runRiskmap({"scan", scene, "-o", dir.file("bad.geojson"), "--context",
                      "reserve=" + dir.file("reserve.geojson") + ":inside:nan"});
    EXPECT_EQ(bad.exitCode, 2) << bad.err;
    EXPECT_NE(bad.err.find("finite"), std::string::npos) << bad.err;
    std::ofstream(dir.file("recipe.json"))
        << R"({"detector": "index", "context": [{"name": "r", "path": ")"
        << dir.file("reserve.geojson") << R"(", "rule": "inside", "weight": null}]})";
    bad = runRiskmap(
        {"scan", scene, "-o", dir.file("bad.geojson"), "--config", dir.file("recipe.json")});
    EXPECT_EQ(bad.exitCode, 2) << bad.err;
    EXPECT_NE(bad.err.find("weight"), std::string::npos) << bad.err;
    EXPECT_FALSE(fileExists(dir.file("bad.geojson")));
}

TEST(CliRisk, GridCellsCoverOnlyScannedGround) {
    TempDir dir;
    std::string scene = riskScene(dir);
    auto r = runRiskmap({"scan", scene, "-o", dir.file("out.geojson"), "-q", "--grid", "5000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json grid = parseJsonFile(dir.file("out.grid.geojson"));
    Json dets = parseJsonFile(dir.file("out.geojson"));
    double scanned = 0;
    long long count = 0;
    auto toUtm = transform(4326, 32645);
    for (const auto& c : grid.at("features")) {
        const Json& p = c.at("properties");
        scanned += p.at("area_scanned_km2").get<double>();
        count += p.at("count").get<std::int64_t>();
        // No cell lies wholly inside the nodata block (x 520-530 km, y 2470-2480 km).
        bool allInNodata = true;
        for (const auto& pt : c.at("geometry").at("coordinates").at(0)) {
            double x = pt[0].get<double>(), y = pt[1].get<double>();
            toUtm->Transform(1, &x, &y);
            allInNodata &= x > 520100 && x < 529900 && y > 2470100 && y < 2479900;
        }
        EXPECT_FALSE(allInNodata) << "an unscanned cell is reported";
    }
    EXPECT_EQ(count, static_cast<long long>(dets.at("features").size()));
    // 900 km2 of raster minus 100 km2 of nodata.
    EXPECT_NEAR(scanned, 800.0, 8.0);
    struct stat st;
    ASSERT_EQ(::stat(dir.file("out.grid.qml").c_str(), &st), 0);
}

TEST(CliRisk, PublishedLayerRevealsNoDetectionLocation) {
    TempDir dir;
    std::string scene = riskScene(dir);
    auto r = runRiskmap({"scan", scene, "-o", dir.file("private.geojson"), "-q", "--publish", dir.file("public.geojson"),
                         "--publish-min-count", "5", "--publish-cell-m", "5000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string text = readFile(dir.file("public.geojson"));
    Json pub = parseJson(text, "public");
    Json priv = parseJsonFile(dir.file("private.geojson"));
    ASSERT_FALSE(pub.at("features").empty());
    auto toEqualArea = transform(4326, 6933);
    std::set<std::string> keys;
    for (const auto& c : pub.at("features")) {
        for (auto it = c.at("properties").begin(); it != c.at("properties").end(); ++it) keys.insert(it.key());
        EXPECT_GE(c.at("properties").at("count").get<std::int64_t>(), 5);
        // Every vertex lies on the 5 km lattice of EPSG:6933: the geometry carries no trace of
        // where inside a cell the detections were.
        for (const auto& pt : c.at("geometry").at("coordinates").at(0)) {
            double x = pt[0].get<double>(), y = pt[1].get<double>();
            toEqualArea->Transform(1, &x, &y);
            const double fx = std::fmod(std::fabs(x), 1250.0), fy = std::fmod(std::fabs(y), 1250.0);
            EXPECT_TRUE(std::min(fx, 1250.0 - fx) < 2.0 && std::min(fy, 1250.0 - fy) < 2.0) << x << "," << y;
        }
    }
    EXPECT_EQ(keys, (std::set<std::string>{"area_scanned_km2", "count", "density_per_km2", "mean_risk"}));
    // No detection coordinate, id, source name or path appears anywhere in the published text.
    for (const auto& f : priv.at("features")) {
        const auto& ring = f.at("geometry").at("coordinates").at(0);
        char lon[32];
        std::snprintf(lon, sizeof lon, "%.5f", ring[0][0].get<double>());
        EXPECT_EQ(text.find(lon), std::string::npos) << lon;
        EXPECT_EQ(text.find(f.at("properties").at("id").get<std::string>()), std::string::npos);
    }
    EXPECT_EQ(text.find("scene.tif"), std::string::npos);
    EXPECT_EQ(readFile(dir.file("public.geojson.about.json")).find(dir.path()), std::string::npos);
    // The private layer stays owner-only; the published one is meant to be shared.
    struct stat st;
    ASSERT_EQ(::stat(dir.file("private.geojson").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir.file("public.geojson").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    // Its QGIS style beside it, as every other layer has (a format sweep found one only in a
    // GeoPackage), shared as the layer is; it names no file.
    const std::string style = readFile(dir.file("public.qml"));
    EXPECT_NE(style.find("<qgis"), std::string::npos);
    EXPECT_EQ(style.find("scene.tif"), std::string::npos);
    ASSERT_EQ(::stat(dir.file("public.qml").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
}

// An audit of --publish: shares at 10 km and 7 km of one scan, subtracted, left one kiln in an L
// of one chip; a cell at the scene's edge put 8 detections in a 190 m strip; 1 km cells of one
// detection were shared at --publish-min-count 1. Cell sizes nest (5 km times a power of two),
// at least 3 detections, only cells at least half scanned, coarser figures.
TEST(CliRisk, PublishingRefusesSharesThatPointAtSites) {
    TempDir dir;
    const std::string scene = riskScene(dir);
    auto publish = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{"scan", scene, "-o", dir.file("p.geojson"), "-q", "--overwrite", "--publish", dir.file("pub.geojson")};
        a.insert(a.end(), extra.begin(), extra.end());
        return runRiskmap(a);
    };
    CliResult r = publish({"--publish-cell-m", "7000"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("5000 m times a power of two"), std::string::npos) << r.err;
    r = publish({"--publish-min-count", "1"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--publish-min-count"), std::string::npos) << r.err;
    r = publish({"--publish-cell-m", "1000"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--publish-cell-m"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("pub.geojson")));
    // A --grid of 7 km raises the published cell to the next size on the ladder.
    r = publish({"--grid", "7000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(parseJsonFile(dir.file("pub.geojson.about.json")).at("cell_m").get<double>(), 10000.0);
    r = publish({});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json pub = parseJsonFile(dir.file("pub.geojson"));
    ASSERT_FALSE(pub.at("features").empty());
    for (const auto& c : pub.at("features")) {
        EXPECT_GE(c.at("properties").at("area_scanned_km2").get<double>(), 12.5) << "a cell less than half scanned";
        EXPECT_EQ(c.at("properties").at("area_scanned_km2").get<double>(), std::round(c.at("properties").at("area_scanned_km2").get<double>()));
    }
    EXPECT_NE(readFile(dir.file("pub.geojson.about.json")).find("less than half scanned"), std::string::npos);
    // Layers of exact locations readable by others are warned of; an owner who cannot read is refused.
    r = runRiskmap({"scan", scene, "-o", dir.file("q.geojson"), "-q", "--file-mode", "0644"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("lets others read exact locations"), std::string::npos) << r.err;
    r = runRiskmap({"scan", scene, "-o", dir.file("z.geojson"), "-q", "--file-mode", "0400"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
}

TEST(CliRisk, GeoPackageHoldsEveryLayerAndEvalReadsOnlyTheDetections) {
    TempDir dir;
    std::string scene = riskScene(dir);
    ASSERT_EQ(runRiskmap({"scan", scene, "-o", dir.file("out.gpkg"), "-q", "--grid", "5000"}).exitCode, 0);
    ASSERT_EQ(runRiskmap({"scan", scene, "-o", dir.file("out.geojson"), "-q", "--grid", "5000"}).exitCode, 0);
    // Single-layer formats get the same layers as siblings.
    for (const char* f : {"out.grid.geojson", "out.footprints.geojson", "out.nodata_gaps.geojson"})
        EXPECT_TRUE(fileExists(dir.file(f))) << f;
    Json m = parseJsonFile(dir.file("out.gpkg.manifest.json"));
    for (const char* role : {"detections", "grid", "footprints", "nodata_gaps"}) {
        ASSERT_TRUE(m.at("layers").contains(role)) << role;
        EXPECT_EQ(m.at("layers").at(role).at("path").get<std::string>(), dir.file("out.gpkg"));
    }
    EXPECT_EQ(m.at("layers").at("detections").at("layer").get<std::string>(), "index");
    // Lists are JSON text in a GeoPackage, not GDAL's "(1:a)" notation.
    auto info = runShell("ogrinfo -q " + dir.file("out.gpkg") + " index -fid 1");
    EXPECT_NE(info.out.find("sources (String(JSON)) = [\"scene.tif\"]"), std::string::npos) << info.out;
    // The nodata block shows up as a gap.
    Json gaps = parseJsonFile(dir.file("out.nodata_gaps.geojson"));
    EXPECT_EQ(gaps.at("features").size(), 1u);
    // Evaluating the GeoPackage against the same scan as GeoJSON matches every detection once:
    // grid cells, footprints and gaps are not mistaken for detections.
    const std::size_t n = parseJsonFile(dir.file("out.geojson")).at("features").size();
    auto e = runRiskmap({"eval", "--truth", dir.file("out.geojson"), "--detections", dir.file("out.gpkg"), "--json"});
    ASSERT_EQ(e.exitCode, 0) << e.err;
    Json r = parseJson(e.out, "eval");
    EXPECT_EQ(r.at("overall").at("tp").get<std::int64_t>(), static_cast<std::int64_t>(n));
    EXPECT_EQ(r.at("overall").at("fp").get<std::int64_t>(), 0);
    EXPECT_EQ(r.at("overall").at("fn").get<std::int64_t>(), 0);
}

// Review: a manifest rerun from another folder found its inputs (resolved from the folder the scan
// ran in) but took its context layers relative to the current folder, so they did not exist.
TEST(CliRisk, AManifestRerunFromAnotherFolderFindsItsContextLayers) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = scatterBlobs(s.width, s.height, 20, 5, 3, 8);
    writeScene(dir.file("scene.tif"), s);
    std::ofstream(dir.file("reserve.geojson"))
        << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32645"}},"features":[)"
        << R"({"type":"Feature","properties":{"name":"R"},"geometry":{"type":"Polygon","coordinates":)"
        << R"([[[500000,2500000],[503000,2500000],[503000,2498500],[500000,2498500],[500000,2500000]]]}}]})";
    ASSERT_EQ(runRiskmap({"scan", "scene.tif", "-o", "out.geojson", "-q", "--context", "reserve=reserve.geojson:inside:0.5"},
                         dir.path())
                  .exitCode,
              0);
    std::filesystem::create_directories(dir.file("other"));
    const CliResult r = runRiskmap({"scan", "--config", "../out.geojson.manifest.json", "-o", "again.geojson", "-q"},
                                   dir.file("other"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(dir.file("other/again.geojson")), readFile(dir.file("out.geojson")));
    EXPECT_NE(readFile(dir.file("out.geojson")).find("inside reserve"), std::string::npos);
}
