// scan --time-series: one scan per date into one layer with a `date` field, the diffs between
// consecutive dates, and resumable like any scan.
#include <gdal.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "core/Json.hpp"
#include "readback/LayerReader.hpp"
#include "support/CampPlanter.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

const std::string kScene = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27";

// A LIST line: the date, then the scene's bands as NAME=PATH.
std::string bandLine(const std::string& date, const std::string& dir) {
    const std::string p = dir + "/Sentinel-2_L2A_";
    return date + " blue=" + p + "B02_Raw.tiff green=" + p + "B03_Raw.tiff red=" + p +
           "B04_Raw.tiff nir=" + p + "B08_Raw.tiff swir1=" + p + "B11_Raw.tiff\n";
}

// A quiet one-thread time-series scan of LIST into OUT, at this tile size, with one --set.
std::vector<std::string> seriesScan(const std::string& list, const std::string& out, const std::string& tile,
                                    const std::string& set) {
    return {"scan", "--time-series", list, "-o", out, "-q", "--tile-size", tile, "--threads", "1", "--set", set};
}

LayerContent layerOf(const std::string& path) {
    return riskmap::readLayer(path, "", {"sources", "risk_factors"}, "test");
}

std::multiset<std::string> changeKeys(const std::string& path) {
    std::multiset<std::string> out;
    for (const auto& f : layerOf(path).features)
        out.insert(f.text("change") + " " + f.text("id_before") + " " + f.text("id_after"));
    return out;
}

// Starts riskmap and kills it (SIGKILL) as soon as `ready` holds (polled for up to 20 s).
long sizeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : 0L;
}

// A small two-date series: d1.tif (128 px, 8 blobs), and d2.tif with the first `secondBlobs` of
// them when that is above 0 (else d1 again). Returns the path of its LIST.
std::string twoDateList(const TempDir& dir, std::size_t secondBlobs) {
    SceneSpec s;
    s.width = s.height = 128;
    s.blobs = scatterBlobs(s.width, s.height, 8, 5, 1.5, 10);
    writeScene(dir.file("d1.tif"), s);
    if (secondBlobs > 0) {
        s.blobs.resize(secondBlobs);
        writeScene(dir.file("d2.tif"), s);
    }
    std::ofstream(dir.file("list.txt")) << "2021-01-10 d1.tif\n2021-06-10 " << (secondBlobs > 0 ? "d2" : "d1") << ".tif\n";
    return dir.file("list.txt");
}

}  // namespace

// Three dates of the real scene: as bundled, with camps planted, as bundled again. The series
// holds every date's objects with their date, and its diffs are those `riskmap diff` gives.
TEST(CliSeries, RealScenesOneLayerWithDatesAndTheDiffsBetweenThem) {
    TempDir dir;
    fs::create_directories(dir.file("planted"));
    PlantOptions o;
    o.seed = 104;
    plantCamps(kScene, dir.file("planted"), o);
    // Dates out of order in LIST: the series sorts them.
    std::ofstream(dir.file("list.txt"))
        << "# date bands\n"
        << bandLine("2020-03-15", dir.file("planted")) << bandLine("2020-01-27", kScene)
        << bandLine("2020-05-02", kScene);
    fs::create_directories(dir.file("out"));
    const std::string out = dir.file("out/series.geojson");
    const CliResult r = runRiskmap({"scan", "--time-series", dir.file("list.txt"), "--scale",
                                    "1.5259e-5", "--detector", "clearing", "-o", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::vector<std::string> dates{"2020-01-27", "2020-03-15", "2020-05-02"};
    const LayerContent all = layerOf(out);
    std::size_t total = 0;
    for (const auto& d : dates) {
        const LayerContent one = layerOf(dir.file("out/series." + d + ".geojson"));
        const auto n = std::count_if(all.features.begin(), all.features.end(),
                                     [&](const LayerFeature& f) { return f.text("date") == d; });
        EXPECT_EQ(static_cast<std::size_t>(n), one.features.size()) << d;
        total += one.features.size();
    }
    EXPECT_EQ(all.features.size(), total);
    EXPECT_GE(total, 10u);  // the planted date's camps (none found on the bundled scene)
    const Json m = parseJsonFile(out + ".manifest.json");
    EXPECT_EQ(m.at("kind"), "series");
    EXPECT_EQ(m.at("series").at("diffs").size(), 2u);
    std::map<std::string, int> counts[2];
    for (int i = 0; i < 2; ++i) {
        const std::string diffPath =
            dir.file("out/series.diff." + dates[i] + "_" + dates[i + 1] + ".geojson");
        const std::string again = dir.file("again" + std::to_string(i) + ".geojson");
        ASSERT_EQ(
            runRiskmap({"diff", dir.file("out/series." + dates[i] + ".geojson"),
                        dir.file("out/series." + dates[i + 1] + ".geojson"), "-o", again, "-q"})
                .exitCode,
            0);
        EXPECT_EQ(changeKeys(diffPath), changeKeys(again));
        for (const auto& f : layerOf(diffPath).features) counts[i][f.text("change")]++;
        EXPECT_EQ(m.at("series").at("diffs")[i].at("counts").at("new").get<int>(),
                  counts[i]["new"]);
    }
    // Camps appear, then vanish again: new and gone swap.
    EXPECT_GE(counts[0]["new"], 10);
    EXPECT_EQ(counts[0]["new"], counts[1]["gone"]);
    EXPECT_EQ(counts[0]["gone"], counts[1]["new"]);
    std::cout << "[ figures ] series of 3 dates (clearing): " << total << " objects; "
              << counts[0]["new"] << " new then " << counts[1]["gone"] << " gone, "
              << counts[0]["unknown"] << " and " << counts[1]["unknown"] << " unknown\n";
}

// Killed while scanning the second date, a series resumes: the first date is kept, the second
// continues from its journal, and the outputs are those of an uninterrupted run, byte for byte.
TEST(CliSeries, KilledSeriesResumesToTheSameBytes) {
    TempDir dir;
    SceneSpec s;
    s.width = 2000;
    s.height = 1600;
    s.noise = 30;
    s.blobs = scatterBlobs(s.width, s.height, 500, 21, 1.5, 12);
    writeScene(dir.file("d1.tif"), s);
    s.blobs.resize(420);  // 80 objects gone on date 2
    writeScene(dir.file("d2.tif"), s);
    std::ofstream(dir.file("list.txt"))
        << "2021-01-10 d1.tif\n2021-06-10 d2.tif\n";  // relative to LIST's folder
    auto args = [&](const std::string& out) { return seriesScan(dir.file("list.txt"), out, "64", "close_radius_m=20"); };
    fs::create_directories(dir.file("ref"));
    fs::create_directories(dir.file("run"));
    ASSERT_EQ(runRiskmap(args(dir.file("ref/s.geojson"))).exitCode, 0);
    const std::string out = dir.file("run/s.geojson"),
                      journal2 = dir.file("run/s.2021-06-10.geojson.journal");
    const int code = spawnAndKillWhen(
        args(out), [&] { return sizeOf(journal2) > 4096; }, 20000);
    ASSERT_NE(code, 0) << "the series finished before the kill";
    ASSERT_TRUE(fileExists(dir.file("run/s.2021-01-10.geojson")));
    ASSERT_FALSE(fileExists(dir.file("run/s.2021-06-10.geojson")));
    ASSERT_FALSE(fileExists(out));
    // Without --resume the leftovers are not silently replaced.
    EXPECT_EQ(runRiskmap(args(out)).exitCode, 2);
    auto resume = args(out);
    resume.erase(std::find(resume.begin(), resume.end(), "-q"));
    resume.push_back("--resume");
    const CliResult r = runRiskmap(resume);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("2021-01-10: kept"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("from the journal"), std::string::npos) << r.err;
    for (const std::string f : {"s.geojson", "s.2021-01-10.geojson", "s.2021-06-10.geojson",
                                "s.diff.2021-01-10_2021-06-10.geojson"})
        EXPECT_EQ(readFile(dir.file("run/" + f)), readFile(dir.file("ref/" + f))) << f;
    const Json m = parseJsonFile(out + ".manifest.json");
    EXPECT_TRUE(m.at("series").at("dates")[0].at("kept").get<bool>());
    EXPECT_FALSE(fileExists(journal2));
    EXPECT_TRUE(filesContaining(dir.file("run"), ".riskmap-staging-").empty());
}

TEST(CliSeries, ListErrorsNameTheLine) {
    TempDir dir;
    std::ofstream(dir.file("list.txt")) << "2021-01-10 a.tif\n2021-13-40 b.tif\n";
    CliResult r =
        runRiskmap({"scan", "--time-series", dir.file("list.txt"), "-o", dir.file("s.geojson")});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("list.txt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2021-13-40"), std::string::npos) << r.err;
    // The same date's band files on two lines (a sweep: "--band blue is given twice", no line).
    std::ofstream(dir.file("twice.txt")) << bandLine("2020-01-27", kScene) << bandLine("2020-01-27", kScene);
    r = runRiskmap({"scan", "--time-series", dir.file("twice.txt"), "-o", dir.file("s.geojson")});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("twice.txt' line 2: date 2020-01-27 has a 'blue' band already"), std::string::npos) << r.err;
    std::ofstream(dir.file("one.txt")) << "2021-01-10\n";
    r = runRiskmap({"scan", "--time-series", dir.file("one.txt"), "-o", dir.file("s.geojson")});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("names no input"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("s.geojson")));
    // A later date's missing input fails before the first date is written: with --overwrite it had
    // replaced the first date's files, leaving old and new files that disagree (an audit).
    std::ofstream(dir.file("good.txt"))
        << bandLine("2020-01-01", kScene) << bandLine("2020-02-01", kScene);
    r = runRiskmap(
        {"scan", "--time-series", dir.file("good.txt"), "-o", dir.file("s.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string first = readFile(dir.file("s.2020-01-01.geojson.manifest.json"));
    std::ofstream(dir.file("bad.txt"))
        << bandLine("2020-01-01", kScene) << "2020-02-01 " << dir.file("gone.tif") << "\n";
    r = runRiskmap({"scan", "--time-series", dir.file("bad.txt"), "-o", dir.file("s.geojson"), "-q",
                    "--overwrite"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("gone.tif"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir.file("s.2020-01-01.geojson.manifest.json")), first);
}

// A series run again with --overwrite that fails on a later date (a damaged block) had replaced the
// earlier dates and kept the old combined layer: OUT stood beside dates it did not hold (an
// audit). OUT now goes before the first date is scanned again; --resume then finishes the series
// to the bytes of an uninterrupted run.
TEST(CliSeries, FailedOverwriteLeavesNoCombinedLayerThatDisagrees) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 512;
    s.blockX = s.blockY = 128;
    s.blobs = scatterBlobs(s.width, s.height, 60, 5, 1.5, 10);
    writeScene(dir.file("d1.tif"), s);
    s.blobs.resize(40);
    writeScene(dir.file("d2.tif"), s);
    std::filesystem::copy_file(dir.file("d2.tif"), dir.file("good2.tif"));
    std::ofstream(dir.file("list.txt")) << "2021-01-10 d1.tif\n2021-06-10 d2.tif\n";
    auto args = [&](const std::string& out) { return seriesScan(dir.file("list.txt"), out, "128", "max_length_m=100"); };
    const std::string out = dir.file("s.gpkg");
    ASSERT_EQ(runRiskmap(args(out)).exitCode, 0);
    const std::string complete = readFile(out);
    // Date 2's last block damaged: its header opens, its pixels fail half-way through the scan.
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(dir.file("d2.tif").c_str(), GA_ReadOnly);
    ASSERT_NE(ds, nullptr);
    const long offset =
        std::atol(GDALGetMetadataItem(GDALGetRasterBand(ds, 1), "BLOCK_OFFSET_3_3", "TIFF"));
    GDALClose(ds);
    {
        std::fstream f(dir.file("d2.tif"), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(offset);
        f.write(std::string(64, '\xff').data(), 64);
    }
    auto again = args(out);
    again.push_back("--overwrite");
    const CliResult r = runRiskmap(again);
    EXPECT_EQ(r.exitCode, 1) << r.err;
    // The message says which date failed and that --resume keeps the ones before (an audit).
    EXPECT_NE(r.err.find("2021-06-10: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the dates before it, 2021-01-10, are written: fix this one and run again with --resume"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fileExists(out)) << "the old combined layer outlived a failed --overwrite";
    EXPECT_FALSE(fileExists(out + ".manifest.json"));
    EXPECT_TRUE(fileExists(dir.file("s.2021-01-10.gpkg")));
    // Mended, the series resumes to what an uninterrupted run writes.
    std::filesystem::copy_file(dir.file("good2.tif"), dir.file("d2.tif"),
                               std::filesystem::copy_options::overwrite_existing);
    auto resume = args(out);
    resume.push_back("--resume");
    const CliResult done = runRiskmap(resume);
    ASSERT_EQ(done.exitCode, 0) << done.err;
    EXPECT_EQ(readFile(out), complete);
}

// Under --json-progress each date's events say which date they are of: an orchestrator saw three
// identical start...written sequences and could not tell a series' progress (an audit).
TEST(CliSeries, JsonProgressNamesTheDate) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 256;
    s.blobs = scatterBlobs(s.width, s.height, 20, 3, 1.5, 10);
    writeScene(dir.file("d1.tif"), s);
    writeScene(dir.file("d2.tif"), s);
    std::ofstream(dir.file("list.txt")) << "2021-06-10 d2.tif\n2021-01-10 d1.tif\n";
    const CliResult r =
        runRiskmap({"scan", "--time-series", dir.file("list.txt"), "-o", dir.file("s.geojson"),
                    "--json-progress", "--set", "max_length_m=100"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, int> starts;
    std::istringstream lines(r.err);
    std::string line;
    while (std::getline(lines, line)) {
        const Json j = parseJson(line, "stderr");
        const std::string event = j.at("event");
        if (event == "note" || event == "warning") continue;
        ASSERT_TRUE(j.contains("date")) << line;
        EXPECT_EQ(j.at("dates").get<int>(), 2) << line;
        if (event == "start") {
            ++starts[j.at("date")];
            EXPECT_EQ(j.at("date_index").get<int>(), j.at("date") == "2021-01-10" ? 1 : 2) << line;
        }
    }
    EXPECT_EQ(starts, (std::map<std::string, int>{{"2021-01-10", 1}, {"2021-06-10", 1}}));
}

// An audit: a series rerun with fewer dates left the earlier run's other date and diff files
// beside it, looking like part of the new series. They are the user's and stay, but are named.
TEST(CliSeries, ARerunWithFewerDatesNamesTheFilesItDoesNotHold) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 256;
    s.blobs = scatterBlobs(s.width, s.height, 20, 5, 1.5, 10);
    writeScene(dir.file("d1.tif"), s);
    s.blobs.resize(12);
    writeScene(dir.file("d2.tif"), s);
    s.blobs.resize(6);
    writeScene(dir.file("d3.tif"), s);
    std::ofstream(dir.file("list.txt"))
        << "2021-01-10 d1.tif\n2021-06-10 d2.tif\n2021-09-10 d3.tif\n";
    const std::string out = dir.file("s.geojson");
    const std::vector<std::string> base{"scan", "--time-series", dir.file("list.txt"), "-o", out,
                                        "-q"};
    ASSERT_EQ(runRiskmap(base).exitCode, 0);
    ASSERT_TRUE(fileExists(dir.file("s.2021-09-10.geojson")));
    std::ofstream(dir.file("list.txt"), std::ios::trunc)
        << "2021-01-10 d1.tif\n2021-06-10 d2.tif\n";
    auto again = base;
    again.push_back("--overwrite");
    const CliResult r = runRiskmap(again);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string warnings = dumpJson(parseJsonFile(out + ".manifest.json").at("warnings"));
    EXPECT_NE(warnings.find("s.2021-09-10.geojson' of an earlier series"), std::string::npos)
        << warnings;
    EXPECT_NE(warnings.find("s.diff.2021-06-10_2021-09-10.geojson' of an earlier series"),
              std::string::npos)
        << warnings;
    EXPECT_EQ(warnings.find("s.2021-06-10.geojson' of an earlier"), std::string::npos) << warnings;
    EXPECT_TRUE(fileExists(dir.file("s.2021-09-10.geojson"))) << "the user's file was deleted";
}

// A series written as FlatGeobuf beside the same series as GeoJSON shares the QGIS styles they
// hold alike, as a plain scan does; a style that differs still needs --overwrite (a format sweep
// saw "output 's.2021-01-10.qml' already exists").
TEST(CliSeries, SecondFormatBesideTheFirstSharesItsStyles) {
    TempDir dir;
    twoDateList(dir, 4);
    auto series = [&](const std::string& out) {
        return runRiskmap({"scan", "--time-series", dir.file("list.txt"), "-o", dir.file(out), "-q"});
    };
    ASSERT_EQ(series("s.geojson").exitCode, 0);
    const std::string style = readFile(dir.file("s.2021-01-10.qml"));
    CliResult r = series("s.fgb");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(fileExists(dir.file("s.2021-06-10.fgb")));
    EXPECT_TRUE(fileExists(dir.file("s.diff.2021-01-10_2021-06-10.fgb")));
    EXPECT_EQ(readFile(dir.file("s.2021-01-10.qml")), style);
    std::ofstream(dir.file("s.2021-01-10.qml"), std::ios::trunc) << "<qgis>mine</qgis>";
    r = series("s.gpkg");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("s.2021-01-10.qml' already exists"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir.file("s.2021-01-10.qml")), "<qgis>mine</qgis>");
}

// The combined layer holds every date's objects: eval gave P = R = 0.333 where each date alone
// gave 1.0 (a hostile-input sweep). Eval and report refuse it and name what to give instead.
TEST(CliSeries, TheCombinedLayerIsNotEvaluatedOrReported) {
    TempDir dir;
    twoDateList(dir, 0);
    ASSERT_EQ(runRiskmap({"scan", "--time-series", dir.file("list.txt"), "-o", dir.file("s.geojson"), "-q"}).exitCode, 0);
    CliResult r = runRiskmap({"eval", "--truth", dir.file("s.2021-01-10.geojson"), "--detections", dir.file("s.geojson")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("is the layer of a time series: evaluate one date's scan"), std::string::npos) << r.err;
    r = runRiskmap({"eval", "--truth", dir.file("s.2021-01-10.geojson"), "--detections", dir.file("s.2021-01-10.geojson")});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    r = runRiskmap({"report", dir.file("s.geojson"), "-o", dir.file("rep")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("is the layer of a time series"), std::string::npos) << r.err;
}

// A link at a later date's journal was refused only after the first date's files were written
// (a hostile-input sweep): now before anything, and the link's target is untouched.
TEST(CliSeries, ALinkAtALaterJournalIsRefusedBeforeAnyDate) {
    TempDir dir;
    twoDateList(dir, 0);
    std::ofstream(dir.file("victim.txt")) << "victim";
    fs::create_symlink(dir.file("victim.txt"), dir.file("s.2021-06-10.geojson.journal"));
    const CliResult r = runRiskmap({"scan", "--time-series", dir.file("list.txt"), "-o", dir.file("s.geojson"), "-q", "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("s.2021-06-10.geojson.journal' is a symbolic link"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("s.2021-01-10.geojson")));
    EXPECT_EQ(readFile(dir.file("victim.txt")), "victim");
}

// A sweep of every option path: -o over the series' LIST replaced it with a GeoPackage, and a
// diff layer named like a date's input raster overwrote that raster (both exit 0). Refused now,
// before anything is written, and both files are kept.
TEST(CliSeries, NoOutputReplacesTheListOrAnInput) {
    TempDir dir;
    std::ofstream(dir.file("ts.gpkg"))
        << bandLine("2020-01-01", kScene) << bandLine("2020-02-01", kScene);
    const std::string list = readFile(dir.file("ts.gpkg"));
    CliResult r = runRiskmap({"scan", "--time-series", dir.file("ts.gpkg"), "-o",
                              dir.file("ts.gpkg"), "--overwrite", "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("is read by this time series"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir.file("ts.gpkg")), list);
    // A date's raster named as the diff layer OUT.diff.D1_D2.gpkg would be.
    const std::string raster = dir.file("w.diff.2020-01-01_2020-02-01.gpkg");
    r = runShell("gdal_translate -q -b 1 -of GPKG '" + kScene + "/Sentinel-2_L2A_B04_Raw.tiff' '" +
                 raster + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string before = readFile(raster);
    std::ofstream(dir.file("wl.txt"))
        << "2020-01-01 " << raster << "\n2020-02-01 " << raster << "\n";
    r = runRiskmap({"scan", "--time-series", dir.file("wl.txt"), "--set", "rule=b1 > 0.1", "-o",
                    dir.file("w.gpkg"), "--overwrite", "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find(raster), std::string::npos) << r.err;
    EXPECT_EQ(readFile(raster), before);
    EXPECT_FALSE(fileExists(dir.file("w.gpkg")));
}

// A sweep of STAC inputs: an ItemCollection whose items have no id (or share one) put every
// date's scenes into each date, and the diff said "persists" of a camp that was new. Refused.
TEST(CliSeries, StacItemsWithoutTheirOwnIdsAreRefused) {
    TempDir dir;
    auto item = [](const std::string& date, const std::string& id) {
        std::string assets;
        for (const auto& [name, b] : std::vector<std::pair<std::string, std::string>>{{"red", "B04"}, {"nir", "B08"}}) {
            assets += (assets.empty() ? "" : ", ") + std::string("\"") + name + "\": {\"href\": \"" + kScene + "/Sentinel-2_L2A_" + b +
                      "_Raw.tiff\", \"eo:bands\": [{\"common_name\": \"" + name + "\"}]}";
        }
        return std::string(R"({"type": "Feature", "stac_version": "1.0.0", )") + (id.empty() ? "" : "\"id\": \"" + id + "\", ") +
               R"("geometry": null, "properties": {"datetime": ")" + date + R"(T04:37:00Z"}, "assets": {)" + assets + "}}";
    };
    for (const auto& [name, a, b] : std::vector<std::tuple<std::string, std::string, std::string>>{{"noid", "", ""}, {"same", "x", "x"}}) {
        std::ofstream(dir.file(name + ".json"))
            << R"({"type": "FeatureCollection", "features": [)" << item("2020-01-27", a) << ", " << item("2020-03-15", b) << "]}";
        const CliResult r = runRiskmap({"scan", "--time-series", dir.file(name + ".json"), "--set", "rule=ndvi < 0.2", "-o",
                                        dir.file(name + ".geojson"), "-q"});
        EXPECT_EQ(r.exitCode, 1) << name << ": " << r.err;
        EXPECT_NE(r.err.find("give every item its own \"id\""), std::string::npos) << r.err;
        EXPECT_FALSE(fileExists(dir.file(name + ".geojson")));
    }
    // A datetime it cannot read is quoted, not called missing (a sweep: 1850 "has no datetime").
    std::ofstream(dir.file("old.json")) << R"({"type": "FeatureCollection", "features": [)" << item("1850-01-27", "a") << ", "
                                        << item("2020-03-15", "b") << "]}";
    const CliResult r = runRiskmap({"scan", "--time-series", dir.file("old.json"), "--set", "rule=ndvi < 0.2", "-o", dir.file("old.geojson"), "-q"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("a datetime riskmap cannot read ('1850-01-27T04:37:00Z')"), std::string::npos) << r.err;
}
