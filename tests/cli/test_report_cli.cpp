// `riskmap report` end to end: every lead of the scan in data.js with its chip, grid, footprints
// and nodata gaps in lon/lat; owner-only files; refusals; a report without the rasters.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gdal_priv.h>

#include <opencv2/core.hpp>
#include <tuple>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

// 12 x 12 km at 10 m with bare patches and a nodata block in the south-east corner.
void writeReportScene(const std::string& path, std::uint32_t seed = 5) {
    SceneSpec s;
    s.width = s.height = 1200;
    s.noise = 20;
    s.nodata = true;
    s.nodataRect = {900, 900, 300, 300};
    s.blobs = scatterBlobs(s.width, s.height, 40, seed, 3, 8);
    writeScene(path, s);
}

Json readData(const std::string& dir) {
    std::string js = readFile(dir + "/data.js");
    const std::string marker = "window.RISKMAP_DATA = ";
    const auto at = js.find(marker);
    EXPECT_NE(at, std::string::npos);
    std::string body = js.substr(at + marker.size());
    while (!body.empty() && (body.back() == '\n' || body.back() == ';')) body.pop_back();
    return parseJson(body, dir + "/data.js");
}

unsigned modeOf(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

bool isPng(const std::string& path) { return readFile(path).rfind("\x89PNG\r\n\x1a\n", 0) == 0; }

// Lon/lat bounds of every position in a GeoJSON geometry.
void bounds(const Json& c, double& x0, double& y0, double& x1, double& y1) {
    if (c.empty()) return;
    if (c[0].is_number()) {
        x0 = std::min(x0, c[0].get<double>());
        x1 = std::max(x1, c[0].get<double>());
        y0 = std::min(y0, c[1].get<double>());
        y1 = std::max(y1, c[1].get<double>());
        return;
    }
    for (const auto& e : c) bounds(e, x0, y0, x1, y1);
}

}  // namespace

TEST(CliReport, HoldsEveryLeadWithChipsGridFootprintsAndGaps) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    // Scan with a relative path; report from another folder, as reviewers do.
    auto s = runRiskmap({"scan", "scene.tif", "-o", "out.geojson", "-q", "--grid", "3000"}, dir.path());
    ASSERT_EQ(s.exitCode, 0) << s.err;
    fs::create_directory(dir.file("elsewhere"));
    auto r = runRiskmap({"report", "../out.geojson", "-o", "rep"}, dir.file("elsewhere"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string rep = dir.file("elsewhere/rep");

    Json layer = parseJsonFile(dir.file("out.geojson"));
    Json data = readData(rep);
    const auto& leads = data.at("detections").at("features");
    ASSERT_EQ(leads.size(), layer.at("features").size());
    ASSERT_GT(leads.size(), 10u);
    std::set<std::string> layerIds, reportIds;
    for (const auto& f : layer.at("features")) layerIds.insert(f.at("properties").at("id").get<std::string>());
    for (const auto& f : leads) {
        const Json& p = f.at("properties");
        reportIds.insert(p.at("id").get<std::string>());
        for (const char* k : {"risk", "risk_level", "risk_factors", "score", "sources"}) EXPECT_TRUE(p.contains(k)) << k;
        ASSERT_TRUE(p.at("chip").is_string()) << p.at("id").get<std::string>();
        const std::string chip = p.at("chip").get<std::string>();
        EXPECT_EQ(chip, "chips/" + p.at("id").get<std::string>() + ".png");
        EXPECT_TRUE(isPng(rep + "/" + chip));
        EXPECT_EQ(modeOf(rep + "/" + chip), 0600u);
        const Json& ci = p.at("chip_info");
        EXPECT_NEAR(ci.at("scale_m").get<double>(), 10.0, 1e-6);
        EXPECT_GE(ci.at("width_m").get<double>(), 590.0);  // --chip-min-m default 600, whole pixels
        // The chip is centred on the lead (within a pixel or so, unless clamped at the edge).
        double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
        bounds(f.at("geometry").at("coordinates"), x0, y0, x1, y1);
        const double cx = ci.at("centre")[0].get<double>(), cy = ci.at("centre")[1].get<double>();
        EXPECT_NEAR(cx, (x0 + x1) / 2, 3e-4);
        EXPECT_NEAR(cy, (y0 + y1) / 2, 3e-4);
    }
    EXPECT_EQ(layerIds, reportIds);
    EXPECT_NE(r.out.find(std::to_string(leads.size()) + " leads, " + std::to_string(leads.size()) + " image chips"),
              std::string::npos)
        << r.out;

    // The grid, footprints and gaps, all in lon/lat (the scene is UTM 45N near 22.6 N, 87 E).
    for (const char* key : {"grid", "footprints", "gaps"}) {
        ASSERT_TRUE(data.contains(key) && data[key].is_object()) << key;
        const Json& fc = data[key];
        ASSERT_FALSE(fc.at("features").empty()) << key;
        double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
        for (const auto& f : fc.at("features")) bounds(f.at("geometry").at("coordinates"), x0, y0, x1, y1);
        EXPECT_GT(x0, 86.0) << key;
        EXPECT_LT(x1, 88.0) << key;
        EXPECT_GT(y0, 22.0) << key;
        EXPECT_LT(y1, 23.0) << key;
    }
    std::int64_t gridCount = 0;
    for (const auto& c : data.at("grid").at("features"))
        gridCount += c.at("properties").at("count").get<std::int64_t>();
    EXPECT_EQ(static_cast<std::size_t>(gridCount), leads.size());
    EXPECT_EQ(data.at("manifest").at("counts").at("detections").get<std::int64_t>(), static_cast<std::int64_t>(leads.size()));

    // Offline and owner-only: the page and its library are all in the folder.
    for (const char* f : {"index.html", "app.js", "style.css", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css",
                          "data.js"}) {
        ASSERT_TRUE(fileExists(rep + "/" + f)) << f;
        EXPECT_EQ(modeOf(rep + "/" + f), 0600u) << f;
    }
    EXPECT_EQ(modeOf(rep), 0700u);
    EXPECT_EQ(modeOf(rep + "/chips"), 0700u);
    const std::string html = readFile(rep + "/index.html");
    EXPECT_NE(html.find("data.js"), std::string::npos);
    EXPECT_EQ(html.find("src=\"http"), std::string::npos);
    EXPECT_EQ(html.find("href=\"http"), std::string::npos);
    // Nothing left behind from the build of the folder.
    EXPECT_TRUE(filesContaining(dir.file("elsewhere"), ".tmp-").empty());
}

// A raster smaller than a chip (10 x 10 px, a 1 x 500 px strip) made the report fail as "a
// tiling bug" and lost it whole (an audit): the chip window is clipped to the raster.
TEST(CliReport, RastersSmallerThanAChipGiveClippedChips) {
    TempDir dir;
    for (const auto& [w, h] : std::vector<std::pair<int, int>>{{10, 10}, {1, 500}}) {
        SceneSpec s;
        s.width = w;
        s.height = h;
        s.blockX = s.blockY = 0;
        s.blobs = {{w / 2.0, h / 2.0, 3, 3, kBareSoil}};
        const std::string name = std::to_string(w) + "x" + std::to_string(h);
        writeScene(dir.file(name + ".tif"), s);
        auto scan = runRiskmap({"scan", dir.file(name + ".tif"), "-o", dir.file(name + ".geojson"), "-q", "--set", "min_area_m2=0"});
        ASSERT_EQ(scan.exitCode, 0) << scan.err;
        ASSERT_FALSE(parseJsonFile(dir.file(name + ".geojson")).at("features").empty()) << name;
        auto r = runRiskmap({"report", dir.file(name + ".geojson"), "-o", dir.file(name + "-rep")});
        ASSERT_EQ(r.exitCode, 0) << name << r.err;
        const Json data = readData(dir.file(name + "-rep"));
        for (const auto& f : data.at("detections").at("features")) {
            ASSERT_TRUE(f.at("properties").at("chip").is_string()) << name;
            EXPECT_TRUE(isPng(dir.file(name + "-rep/" + f.at("properties").at("chip").get<std::string>()))) << name;
        }
    }
}

TEST(CliReport, ChipsGoToTheHighestRiskLeadsFirst) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.gpkg"), "-q"}).exitCode, 0);
    auto r = runRiskmap({"report", dir.file("out.gpkg"), "-o", dir.file("rep"), "--max-chips", "3", "--title", "Test <b>title</b>"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("3 highest-risk"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no risk grid"), std::string::npos) << r.err;
    Json data = readData(dir.file("rep"));
    EXPECT_EQ(data.at("title").get<std::string>(), "Test <b>title</b>");
    EXPECT_TRUE(data.at("grid").is_null());
    std::vector<std::pair<double, bool>> riskHasChip;
    for (const auto& f : data.at("detections").at("features"))
        riskHasChip.emplace_back(f.at("properties").at("risk").get<double>(), f.at("properties").at("chip").is_string());
    ASSERT_GT(riskHasChip.size(), 3u);
    EXPECT_EQ(std::count_if(riskHasChip.begin(), riskHasChip.end(), [](const auto& x) { return x.second; }), 3);
    double minWith = 2, maxWithout = -1;
    for (const auto& [risk, chip] : riskHasChip) {
        if (chip)
            minWith = std::min(minWith, risk);
        else
            maxWithout = std::max(maxWithout, risk);
    }
    EXPECT_GE(minWith, maxWithout);
    EXPECT_EQ(filesContaining(dir.file("rep/chips"), ".png").size(), 3u);
}

TEST(CliReport, RefusesToClobberAndExplainsWhatIsMissing) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.geojson"), "-q"}).exitCode, 0);

    // A folder that is not a report is never replaced, even with --overwrite.
    fs::create_directory(dir.file("notes"));
    std::ofstream(dir.file("notes/todo.txt")) << "keep me";
    auto r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("notes"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("not a riskmap report"), std::string::npos) << r.err;
    EXPECT_TRUE(fileExists(dir.file("notes/todo.txt")));

    ASSERT_EQ(runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "-q"}).exitCode, 0);
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--overwrite", "--max-chips", "0"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(fs::exists(dir.file("rep/chips")));  // the old report went, chips and all

    // A report folder that also holds the user's own files, or a folder that only looks like one
    // (index.html and data.js), is not replaced: --overwrite once deleted notes.txt and photos/.
    std::ofstream(dir.file("rep/notes.txt")) << "keep me";
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("notes.txt"), std::string::npos) << r.err;
    EXPECT_TRUE(fileExists(dir.file("rep/notes.txt")));
    fs::create_directories(dir.file("look/photos"));
    std::ofstream(dir.file("look/index.html")) << "<html>";
    std::ofstream(dir.file("look/data.js")) << "var x = 1;";
    std::ofstream(dir.file("look/photos/a.jpg")) << "img";
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("look"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("photos"), std::string::npos) << r.err;
    EXPECT_TRUE(fileExists(dir.file("look/photos/a.jpg")));
    // A link in a report folder is named as the entry, not as its target (a sweep saw
    // "holds '../../victim.txt'" for rep/index.html).
    fs::remove(dir.file("rep/notes.txt"));
    std::ofstream(dir.file("victim.txt")) << "victim";
    fs::remove(dir.file("rep/index.html"));
    fs::create_symlink(dir.file("victim.txt"), dir.file("rep/index.html"));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("holds 'index.html'"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir.file("victim.txt")), "victim");

    // A layer without a manifest is not a scan.
    fs::copy_file(dir.file("out.geojson"), dir.file("copy.geojson"));
    r = runRiskmap({"report", dir.file("copy.geojson"), "-o", dir.file("rep2")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("manifest"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.file("rep2")));

    // The rasters moved away: still a report, without chips, and it says why.
    fs::rename(dir.file("scene.tif"), dir.file("moved.tif"));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep3")});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("no image chips"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("scene.tif"), std::string::npos) << r.err;
    Json data = readData(dir.file("rep3"));
    for (const auto& f : data.at("detections").at("features"))
        EXPECT_TRUE(f.at("properties").at("chip").is_null());
    EXPECT_FALSE(data.at("notes").empty());
    // A legal folder name too long for the temporary name beside it: said so (a sweep saw only
    // "cannot create a folder").
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file(std::string(250, 'r'))});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("choose a folder name 12 bytes shorter"), std::string::npos) << r.err;
    // A companion layer not beside the scan: the note says where it was looked for.
    fs::remove(dir.file("out.footprints.geojson"));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep4")});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(dumpJson(readData(dir.file("rep4")).at("notes")).find("footprints layer is not beside the scan: no '" +
                                                                    dir.file("out.footprints.geojson") + "'"),
              std::string::npos)
        << dumpJson(readData(dir.file("rep4")).at("notes"));
}

// --ram on report: refused before anything is written when the leads would not fit, naming the
// budget that works; outlines wait in an unlinked file, so nothing is left beside the report.
TEST(CliReport, RefusesARamItsLeadsDoNotFitAndLeavesNoWorkingFiles) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.gpkg"), "-q"}).exitCode, 0);
    auto r = runRiskmap({"report", dir.file("out.gpkg"), "-o", dir.file("rep"), "--ram", "64"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    const int least = ramNamedIn(r.err);
    ASSERT_GT(least, 0) << r.err;
    EXPECT_FALSE(fs::exists(dir.file("rep")));
    const std::string need = std::to_string(least);
    r = runRiskmap({"report", dir.file("out.gpkg"), "-o", dir.file("rep"), "--ram", need, "-q"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(readData(dir.file("rep")).at("detections").at("features").empty());
    for (const auto& e : fs::directory_iterator(dir.path()))
        EXPECT_TRUE(e.path().filename().string().rfind(".", 0) != 0) << "left behind: " << e.path();
}

TEST(CliReport, FlatGeobufScanGivesListsAndLonLatGrid) {
    // FlatGeobuf has no list type and keeps the grid in EPSG:6933; the report must still hand
    // the page arrays and lon/lat.
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.fgb"), "-q", "--grid", "3000"}).exitCode, 0);
    auto r = runRiskmap({"report", dir.file("out.fgb"), "-o", dir.file("rep"), "--max-chips", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json data = readData(dir.file("rep"));
    const auto& leads = data.at("detections").at("features");
    ASSERT_FALSE(leads.empty());
    for (const auto& f : leads) {
        EXPECT_TRUE(f.at("properties").at("sources").is_array());
        EXPECT_TRUE(f.at("properties").at("risk_factors").is_array());
    }
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (const auto& f : data.at("grid").at("features"))
        bounds(f.at("geometry").at("coordinates"), x0, y0, x1, y1);
    EXPECT_GT(x0, 86.0);
    EXPECT_LT(x1, 88.0);
    EXPECT_GT(y0, 22.0);
    EXPECT_LT(y1, 23.0);
}

// An audit: a raster replaced after the scan was cut into chips as if it were the one scanned,
// evidence of other ground. Its leads now get no chip, and the report says why.
TEST(CliReport, ARasterReplacedSinceTheScanGivesNoChips) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(
        runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.geojson"), "-q"}).exitCode,
        0);
    auto r =
        runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(filesContaining(dir.file("rep/chips"), ".png").size(), 2u);
    // Written again (here with the same bytes: what counts is that it was rewritten since).
    const std::string bytes = readFile(dir.file("scene.tif"));
    fs::remove(dir.file("scene.tif"));
    std::ofstream(dir.file("scene.tif"), std::ios::binary) << bytes;
    fs::last_write_time(dir.file("scene.tif"),
                        fs::last_write_time(dir.file("scene.tif")) + std::chrono::hours(1));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "2",
                    "--overwrite"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("changed since the scan"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.file("rep/chips")) &&
                 !filesContaining(dir.file("rep/chips"), ".png").empty());
}

// Bug: two scenes of one file name in two folders, given as relative paths, are labelled by the
// paths as given ("a/x.tif"); the report reopened them by absolute paths, so every lead named a
// source "not among the reopened rasters" (no chip, exit 0), and a replaced file went unnoticed.
// Reopened inputs keep the labels the scan recorded.
TEST(CliReport, ScenesOfOneNameInTwoFoldersGiveChipsAndAreCheckedForChanges) {
    TempDir dir;
    fs::create_directories(dir.file("a"));
    fs::create_directories(dir.file("b"));
    writeReportScene(dir.file("a/x.tif"));
    writeReportScene(dir.file("b/x.tif"), 9);  // other objects: not merged with a's
    ASSERT_EQ(runRiskmap({"scan", "a/x.tif", "b/x.tif", "-o", "out.geojson", "-q"}, dir.path()).exitCode, 0);
    EXPECT_NE(readFile(dir.file("out.geojson")).find("\"source\": \"b/x.tif\""), std::string::npos);
    auto r = runRiskmap({"report", "out.geojson", "-o", "rep", "--max-chips", "4"}, dir.path());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("not among the reopened"), std::string::npos) << r.err;
    EXPECT_EQ(filesContaining(dir.file("rep/chips"), ".png").size(), 4u);
    fs::last_write_time(dir.file("b/x.tif"), fs::last_write_time(dir.file("b/x.tif")) + std::chrono::hours(1));
    r = runRiskmap({"report", "out.geojson", "-o", "rep", "--max-chips", "4", "--overwrite"}, dir.path());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("no chips from 'b/x.tif'"), std::string::npos) << r.err;
}

// An audit: a lon/lat raster running past lon 180 (179.99 to 180.01) with an object astride the
// line: the layer cuts it at 180, and the part at -180 mapped a full turn off the raster, so the
// lead was 'off its raster' and had no chip.
TEST(CliReport, AnObjectAstrideLon180InALonLatRasterGetsItsChip) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 200;
    s.epsg = "EPSG:4326";
    s.originX = 179.99;
    s.originY = -16.0;
    s.pixel = 1e-4;
    s.blobs = {{100, 100, 10, 10, kBareSoil}};
    writeScene(dir.file("am.tif"), s);
    ASSERT_EQ(runRiskmap({"scan", dir.file("am.tif"), "-o", dir.file("am.geojson"), "-q"}).exitCode, 0);
    ASSERT_NE(readFile(dir.file("am.geojson")).find("MultiPolygon"), std::string::npos) << "the object is cut at 180";
    const CliResult r = runRiskmap({"report", dir.file("am.geojson"), "-o", dir.file("rep")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("off their raster"), std::string::npos) << r.err;
    EXPECT_EQ(filesContaining(dir.file("rep/chips"), ".png").size(), 1u);
}

// An audit: report took any unlocked '.NAME.tmp-*' folder beside it for its own leftover (a
// user's '.rep.tmp-x' was deleted, '.rep.tmp-archive.old' moved over the report), and
// --overwrite deleted a PNG of the user's put among the chips. Only folders a report run made
// (mkdtemp's name, 0700, report files only) are tidied; chips are the ones data.js names.
TEST(CliReport, FoldersAndPicturesOfTheUsersAreNeverTakenForTheReports) {
    TempDir dir;
    writeReportScene(dir.file("scene.tif"));
    ASSERT_EQ(runRiskmap({"scan", dir.file("scene.tif"), "-o", dir.file("out.geojson"), "-q"}).exitCode, 0);
    for (const char* name : {".rep.tmp-x", ".rep.tmp-abcdef", ".rep.tmp-archive.old"}) {
        fs::create_directories(dir.file(name));
        std::ofstream(dir.file(std::string(name) + "/mine.txt")) << "precious";
    }
    CliResult r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    for (const char* name : {".rep.tmp-x", ".rep.tmp-abcdef", ".rep.tmp-archive.old"})
        EXPECT_EQ(readFile(dir.file(std::string(name) + "/mine.txt")), "precious") << name;
    EXPECT_FALSE(fileExists(dir.file("rep/mine.txt")));
    const std::string chip = dir.file("rep/chips/" + filesContaining(dir.file("rep/chips"), ".png").front());
    fs::copy_file(chip, dir.file("rep/chips/my-annotated-photo.png"));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "2", "--overwrite"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("my-annotated-photo.png"), std::string::npos) << r.err;
    EXPECT_TRUE(fileExists(dir.file("rep/chips/my-annotated-photo.png")));
    fs::remove(dir.file("rep/chips/my-annotated-photo.png"));
    r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "2", "--overwrite"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

namespace {

// A copy of a raster with its rows (south-up) and/or columns (east-left) in reverse order, its
// geotransform flipped to match: the same ground, the same scan.
void writeFlipped(const std::string& src, const std::string& dst, bool flipX, bool flipY) {
    GDALAllRegister();
    GDALDatasetUniquePtr in(GDALDataset::Open(src.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_TRUE(in);
    const int w = in->GetRasterXSize(), h = in->GetRasterYSize(), n = in->GetRasterCount();
    GDALDatasetUniquePtr out(GetGDALDriverManager()->GetDriverByName("GTiff")->Create(dst.c_str(), w, h, n, GDT_UInt16, nullptr));
    double gt[6];
    in->GetGeoTransform(gt);
    if (flipX) gt[0] += gt[1] * w, gt[1] = -gt[1];
    if (flipY) gt[3] += gt[5] * h, gt[5] = -gt[5];
    out->SetGeoTransform(gt);
    out->SetProjection(in->GetProjectionRef());
    for (int b = 1; b <= n; ++b) {
        cv::Mat m(h, w, CV_16U);
        ASSERT_EQ(in->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, w, h, m.data, w, h, GDT_UInt16, 0, 0), CE_None);
        if (flipX || flipY) cv::flip(m, m, flipX && flipY ? -1 : flipX ? 1 : 0);
        out->GetRasterBand(b)->SetDescription(in->GetRasterBand(b)->GetDescription());
        ASSERT_EQ(out->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, w, h, m.data, w, h, GDT_UInt16, 0, 0), CE_None);
    }
}

}  // namespace

// A sweep of hostile inputs: chips of south-up and east-left rasters were mirror images (the
// scan itself was right). Every chip is north up and east right.
TEST(CliReport, ChipsAreNorthUpWhateverTheRasterOrder) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 240;
    s.blobs = {{120, 120, 8, 8, kBareSoil}, {120, 100, 4, 4, kBareSoil}, {96, 126, 3, 3, kBareSoil}};  // north and west of it
    writeScene(dir.file("n.tif"), s);
    std::map<std::string, cv::Mat> chips;
    for (const auto& [name, fx, fy] : std::vector<std::tuple<std::string, bool, bool>>{
             {"n", false, false}, {"s", false, true}, {"e", true, false}, {"se", true, true}}) {
        if (name != "n") writeFlipped(dir.file("n.tif"), dir.file(name + ".tif"), fx, fy);
        ASSERT_EQ(runRiskmap({"scan", dir.file(name + ".tif"), "-o", dir.file(name + ".geojson"), "-q"}).exitCode, 0);
        ASSERT_EQ(runRiskmap({"report", dir.file(name + ".geojson"), "-o", dir.file("rep_" + name), "-q"}).exitCode, 0);
        const auto pngs = filesContaining(dir.file("rep_" + name + "/chips"), ".png");
        ASSERT_EQ(pngs.size(), 3u) << name;
        // Ids name the source file, so the chips are put in the order of their objects' places.
        std::vector<std::pair<std::pair<double, double>, std::string>> placed;
        const Json layer = parseJson(readFile(dir.file(name + ".geojson")), name);
        for (const auto& f : layer["features"]) {
            double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
            bounds(f["geometry"]["coordinates"], x0, y0, x1, y1);
            placed.push_back({{std::round(y0 * 1e5), std::round(x0 * 1e5)},
                              dir.file("rep_" + name + "/chips/" + f["properties"]["id"].get<std::string>() + ".png")});
        }
        std::sort(placed.begin(), placed.end());
        std::vector<std::string> sorted;
        for (const auto& pl : placed) sorted.push_back(pl.second);
        cv::Mat all;
        for (const auto& p : sorted) {  // each band of each PNG, one below the other
            GDALDatasetUniquePtr png(GDALDataset::Open(p.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
            ASSERT_TRUE(png) << p;
            for (int b = 1; b <= png->GetRasterCount(); ++b) {
                cv::Mat m(png->GetRasterYSize(), png->GetRasterXSize(), CV_8U);
                ASSERT_EQ(png->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, m.cols, m.rows, m.data, m.cols, m.rows, GDT_Byte, 0, 0), CE_None);
                all.push_back(m);
            }
        }
        chips[name] = all;
    }
    const cv::Mat& north = chips["n"];
    for (const std::string name : {"s", "e", "se"}) {
        ASSERT_EQ(chips[name].size(), north.size()) << name;
        const double same = cv::norm(chips[name], north, cv::NORM_L1) / static_cast<double>(north.total());
        // The same chips mirrored, each band of each PNG on its own (blocks of one PNG's height).
        const int rows = chips[name].rows / (3 * 3);
        cv::Mat mirrored = chips[name].clone();
        for (int y = 0; y + rows <= mirrored.rows; y += rows) {
            cv::Mat block = mirrored.rowRange(y, y + rows);
            cv::flip(block.clone(), block, name == "s" ? 0 : name == "e" ? 1 : -1);
        }
        const double flipped = cv::norm(mirrored, north, cv::NORM_L1) / static_cast<double>(north.total());
        EXPECT_LT(same, 0.25 * flipped) << name << ": the chips differ from the north-up raster's";
    }
}

// A sweep of hostile inputs: one of four scanned rasters deleted before the report cost every
// chip ("cannot reopen the scanned rasters"). The others keep theirs, under the labels the scan
// gave them, and the report says which input is missing and why.
TEST(CliReport, AMissingRasterCostsOnlyItsOwnChips) {
    TempDir dir;
    for (const std::string name : {"a", "b", "c"}) writeReportScene(dir.file(name + ".tif"), name == "a" ? 5 : name == "b" ? 6 : 7);
    ASSERT_EQ(runRiskmap({"scan", dir.file("a.tif"), dir.file("b.tif"), dir.file("c.tif"), "-o", dir.file("out.geojson"), "-q"}).exitCode, 0);
    const Json layer = parseJson(readFile(dir.file("out.geojson")), "out");
    std::map<std::string, int> perSource;
    for (const auto& f : layer["features"]) ++perSource[f["properties"]["source"].get<std::string>()];
    ASSERT_EQ(perSource.size(), 3u);
    fs::remove(dir.file("b.tif"));
    const CliResult r = runRiskmap({"report", dir.file("out.geojson"), "-o", dir.file("rep"), "--max-chips", "1000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("no chips from an input that cannot be reopened"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("b.tif"), std::string::npos) << r.err;
    const std::size_t expected = static_cast<std::size_t>(perSource["a.tif"] + perSource["c.tif"]);
    EXPECT_EQ(filesContaining(dir.file("rep/chips"), ".png").size(), expected);
    // Each chip belongs to a lead of a.tif or c.tif.
    const Json data = readData(dir.file("rep"));
    std::size_t chips = 0;
    for (const auto& f : data["detections"]["features"])
        if (f["properties"].contains("chip") && f["properties"]["chip"].is_string()) {
            ++chips;
            EXPECT_NE(f["properties"]["source"], "b.tif");
        }
    EXPECT_EQ(chips, expected);
}

// --chip-min-m 0 printed the largest double in full, 309 digits (an audit): a range a user reads.
TEST(CliReport, ChipMinMetresOutOfRangeGivesItsRange) {
    TempDir dir;
    for (const char* v : {"0", "inf", "1e6"}) {
        auto r = runRiskmap({"report", dir.file("x.geojson"), "-o", dir.file("rep"), "--chip-min-m", v});
        EXPECT_EQ(r.exitCode, 2) << v << r.err;
        EXPECT_LT(r.err.size(), 200u) << r.err;
    }
}
