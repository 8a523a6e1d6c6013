// Output safety: riskmap never writes through a symbolic link, never lets two outputs (or an
// output and an input) share a file, keeps ids out of file names, and commits a scan's files
// all together or not at all, leaving earlier files byte-identical on any failure.
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <tuple>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

// Every file under `dir` (links as "-> target"), with its bytes. Journals are left out: a
// failed run keeps its journal on purpose, so that --resume finishes it without rescanning.
std::map<std::string, std::string> snapshot(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string rel = fs::relative(e.path(), dir).string();
        if (e.path().extension() == ".journal") continue;
        if (e.is_symlink())
            out[rel] = "-> " + fs::read_symlink(e.path()).string();
        else if (e.is_regular_file())
            out[rel] = readFile(e.path().string());
    }
    return out;
}

std::string firstDifference(const std::map<std::string, std::string>& a,
                            const std::map<std::string, std::string>& b) {
    for (const auto& [k, v] : a) {
        auto it = b.find(k);
        if (it == b.end()) return k + " disappeared";
        if (it->second != v) return k + " changed";
    }
    for (const auto& [k, v] : b)
        if (!a.count(k)) return k + " appeared";
    return "";
}

class OutputSafety : public ::testing::Test {
protected:
    void SetUp() override {
        SceneSpec s;
        s.width = s.height = 200;
        s.blobs = {{60, 60, 8, 8, kBareSoil}, {140, 120, 10, 6, kBareSoil}};
        raster_ = writeScene(dir_.file("in.tif"), s);
        fs::create_directory(dir_.file("out"));
        fs::create_directory(dir_.file("elsewhere"));
        victim_ = dir_.file("elsewhere/victim.txt");
        std::ofstream(victim_) << "precious";
    }
    CliResult scan(const std::string& out, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"scan", raster_, "-o", out, "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        return runRiskmap(args);
    }
    void expectVictimIntact() {
        EXPECT_EQ(readFile(victim_), "precious");
        EXPECT_EQ(fs::directory_iterator(dir_.file("elsewhere"))->path().filename(), "victim.txt");
        EXPECT_EQ(
            std::distance(fs::directory_iterator(dir_.file("elsewhere")), fs::directory_iterator()),
            1);
    }
    TempDir dir_;
    std::string raster_, victim_;
};

}  // namespace

TEST_F(OutputSafety, JournalLinkIsNeverWrittenThrough) {
    const std::string out = dir_.file("out/a.geojson");
    fs::create_symlink(victim_, out + ".journal");
    for (auto extra : {std::vector<std::string>{}, {"--overwrite"}, {"--resume"}}) {
        auto r = scan(out, extra);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        expectVictimIntact();
        EXPECT_FALSE(fileExists(out));
    }
    // A dangling link would plant every detection in another folder.
    fs::remove(out + ".journal");
    fs::create_symlink(dir_.file("elsewhere/planted.journal"), out + ".journal");
    for (auto extra : {std::vector<std::string>{"--overwrite"}, {"--resume"}}) {
        auto r = scan(out, extra);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
        expectVictimIntact();
    }
}

TEST_F(OutputSafety, OutputLinksAreRefusedForEveryFile) {
    for (const std::string& suffix :
         std::vector<std::string>{"", ".manifest.json", ".footprints.geojson", ".qml"}) {
        SCOPED_TRACE(suffix);
        const std::string out = dir_.file("out/b.geojson");
        const std::string link = suffix == ".manifest.json" || suffix.empty()
                                     ? out + suffix
                                     : dir_.file("out/b" + suffix);
        fs::create_symlink(victim_, link);
        auto r = scan(out, {"--overwrite"});
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
        expectVictimIntact();
        fs::remove(link);
        // Dangling: nothing may appear where it points.
        fs::create_symlink(dir_.file("elsewhere/new.geojson"), link);
        r = scan(out, {"--overwrite"});
        EXPECT_EQ(r.exitCode, 2) << r.err;
        expectVictimIntact();
        fs::remove(link);
    }
}

TEST_F(OutputSafety, OutputsMayNotShareAFileNorBeAnInput) {
    const std::string out = dir_.file("out/c.geojson");
    // The published layer is 0644: given the main layer's path it would expose every detection.
    for (const std::string& pub :
         std::vector<std::string>{out, dir_.file("out/../out/c.geojson"), out + ".manifest.json",
                                  dir_.file("out/c.footprints.geojson")}) {
        SCOPED_TRACE(pub);
        auto r = scan(out, {"--publish", pub});
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("both be written"), std::string::npos) << r.err;
        EXPECT_TRUE(fs::is_empty(dir_.file("out")));
    }
    // An output that is also an input (a GeoPackage raster) is refused, even with --overwrite.
    const std::string gpkgRaster = dir_.file("out/raster.gpkg");
    auto r = runShell("gdal_translate -q -ot Byte -of GPKG '" + raster_ + "' '" + gpkgRaster + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string before = readFile(gpkgRaster);
    r = runRiskmap({"scan", gpkgRaster, "-o", gpkgRaster, "--overwrite", "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("also an input"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(gpkgRaster), before);
    // So is the --input-list file (a sweep: -o list.fgb --overwrite replaced the list, exit 0).
    const std::string list = dir_.file("out/list.fgb");
    std::ofstream(list) << raster_ << "\n";
    r = runRiskmap({"scan", "--input-list", list, "-o", list, "--overwrite", "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("also an input"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(list), raster_ + "\n");
    r = runRiskmap({"scan", "--input-list", list, "-o", dir_.file("out/e.gpkg"), "--explain", list,
                    "--overwrite", "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_EQ(readFile(list), raster_ + "\n");
}

TEST_F(OutputSafety, OverwriteRemovesStaleCompanionsAndKeepsIdenticalStyles) {
    const std::string out = dir_.file("out/d.geojson");
    ASSERT_EQ(scan(out, {"--grid", "500"}).exitCode, 0);
    ASSERT_TRUE(fileExists(dir_.file("out/d.grid.geojson")));
    ASSERT_TRUE(fileExists(dir_.file("out/d.grid.qml")));
    ASSERT_EQ(scan(out, {"--overwrite"}).exitCode, 0);
    EXPECT_FALSE(fileExists(dir_.file("out/d.grid.geojson")))
        << "a grid of the earlier run beside the new layer";
    EXPECT_FALSE(fileExists(dir_.file("out/d.grid.qml")));
    // OUT.fgb beside OUT.geojson shares OUT.qml when it is the same style...
    auto r = scan(dir_.file("out/d.fgb"));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    // ...but a style the user edited is never replaced without --overwrite.
    std::ofstream(dir_.file("out/d.qml")) << "<qgis>my own style</qgis>";
    r = scan(dir_.file("out/d.gpkg"));
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("d.qml"), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir_.file("out/d.qml")), "<qgis>my own style</qgis>");
    EXPECT_FALSE(fileExists(dir_.file("out/d.gpkg")));
}

// An audit: `-o d.geojson --overwrite` deleted d.grid.geojson and d.grid.qml that a scan with
// `-o d.grid.geojson` had written: companions are removed only when the replaced run's
// manifest names them.
TEST_F(OutputSafety, OverwriteLeavesAnotherOutputOfTheSameStemAlone) {
    ASSERT_EQ(scan(dir_.file("out/d.grid.geojson")).exitCode, 0);
    const auto other = snapshot(dir_.file("out"));
    ASSERT_TRUE(other.count("d.grid.qml"));
    ASSERT_EQ(scan(dir_.file("out/d.geojson")).exitCode, 0);
    auto r = scan(dir_.file("out/d.geojson"), {"--overwrite"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto after = snapshot(dir_.file("out"));
    for (const auto& [name, bytes] : other) {
        ASSERT_TRUE(after.count(name)) << name << " of the other output was deleted";
        EXPECT_EQ(after.at(name), bytes) << name;
    }
    // A manifest riskmap cannot read claims nothing either.
    std::ofstream(dir_.file("out/d.geojson.manifest.json"), std::ios::trunc) << "{";
    r = scan(dir_.file("out/d.geojson"), {"--overwrite"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(fileExists(dir_.file("out/d.grid.geojson")));
}

// An audit: an -o name that fits while OUT.geojson.manifest.json (23 bytes more) does not failed
// when the files were written, after the scan. Now refused before any pixel is read.
TEST_F(OutputSafety, NamesTheFileSystemCannotHoldAreRefusedFirst) {
    const std::string stem(240, 'n');  // 248 with .geojson; 262 with .manifest.json
    const auto before = snapshot(dir_.file("out"));
    auto r = scan(dir_.file("out/" + stem + ".geojson"), {"--grid", "500"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("more than the 255"), std::string::npos) << r.err;
    EXPECT_EQ(snapshot(dir_.file("out")), before);
    EXPECT_TRUE(filesContaining(dir_.path(), ".riskmap-staging-").empty());
}

// A failure at any step of moving files into place leaves the earlier scan's files exactly as
// they were, and a fresh output absent; nothing is left in the folder.
TEST_F(OutputSafety, FailureAtEachCommitStepLeavesEarlierFilesByteIdentical) {
    for (const std::string& ext : std::vector<std::string>{".geojson", ".gpkg"}) {
        SCOPED_TRACE(ext);
        const std::string out = dir_.file("out/e" + ext);
        const std::vector<std::string> args{"scan",       raster_,     "-o",
                                            out,          "-q",        "--grid",
                                            "500",        "--publish", dir_.file("out/e.pub" + ext),
                                            "--overwrite"};
        auto r = runRiskmap(args);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const auto before = snapshot(dir_.file("out"));
        // A different recipe, so that replaced files would differ.
        auto changed = args;
        changed.insert(changed.end(), {"--set", "min_area_m2=5000"});
        int failedSteps = 0;
        for (int step = 1; step <= 20; ++step) {
            r = runShell("RISKMAP_TEST_FAIL_COMMIT=" + std::to_string(step) +
                         " '" RISKMAP_BINARY "' " + [&] {
                             std::string s;
                             for (const auto& a : changed) s += "'" + a + "' ";
                             return s;
                         }());
            if (r.exitCode == 0) break;  // past the last step
            ++failedSteps;
            EXPECT_EQ(r.exitCode, 1) << r.err;
            EXPECT_EQ(firstDifference(before, snapshot(dir_.file("out"))), "")
                << "failure at step " << step;
        }
        EXPECT_GE(failedSteps, ext == ".gpkg" ? 4 : 7);  // every file of the set was exercised
        EXPECT_NE(firstDifference(before, snapshot(dir_.file("out"))), "")
            << "the final run replaced nothing";
        EXPECT_TRUE(filesContaining(dir_.file("out"), ".riskmap-staging-").empty());
    }
}

// Killed (SIGKILL) at any step of the commit, a run leaves either the earlier set whole, or no
// main layer at all (an unfinished set the next --overwrite replaces): never the old main layer
// beside a new manifest, grid and published layer, which report read as one scan (an audit).
TEST_F(OutputSafety, KillAtEachCommitStepNeverLeavesAMainLayerBesideAnotherRunsFiles) {
    for (const std::string& ext : std::vector<std::string>{".geojson", ".gpkg"}) {
        SCOPED_TRACE(ext);
        const std::string out = dir_.file("out/k" + ext), pub = dir_.file("out/k.pub" + ext);
        const std::vector<std::string> args{"scan",   raster_, "-o",        out, "-q",
                                            "--grid", "500",   "--publish", pub, "--overwrite"};
        auto changed = args;
        changed.insert(changed.end(), {"--set", "min_area_m2=5000"});
        std::string line;
        for (const auto& a : changed) line += "'" + a + "' ";
        int killed = 0;
        for (int step = 1; step <= 20; ++step) {
            // Each step starts from the earlier set.
            ASSERT_EQ(runRiskmap(args).exitCode, 0);
            const std::string oldMain = readFile(out),
                              oldManifest = readFile(out + ".manifest.json");
            const CliResult r = runShell("RISKMAP_TEST_KILL_COMMIT=" + std::to_string(step) +
                                         " '" RISKMAP_BINARY "' " + line);
            if (r.exitCode == 0) break;
            ++killed;
            if (!fileExists(out)) continue;  // unfinished: nothing claims to be a whole scan
            EXPECT_TRUE(readFile(out) == oldMain) << "step " << step;
            EXPECT_TRUE(readFile(out + ".manifest.json") == oldManifest)
                << "step " << step << ": the main layer beside another run's manifest";
        }
        EXPECT_GE(killed, ext == ".gpkg" ? 4 : 7);
        EXPECT_NE(readFile(out + ".manifest.json").find("5000"), std::string::npos)
            << "the final run replaced nothing";
    }
}

// While a scan is about to commit, its outputs do not exist yet and the staged files do: the
// outputs are written aside and moved into place, never written in place.
TEST_F(OutputSafety, OutputsAppearOnlyAtCommit) {
    const std::string out = dir_.file("out/f.gpkg");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::setenv("RISKMAP_TEST_STOP_BEFORE_COMMIT", "1", 1);
        ::freopen("/dev/null", "w", stderr);
        ::execl(RISKMAP_BINARY, RISKMAP_BINARY, "scan", raster_.c_str(), "-o", out.c_str(), "-q",
                nullptr);
        ::_exit(127);
    }
    // Whatever fails below, the child must not stay stopped holding the test's output pipes.
    struct Reaper {
        pid_t pid;
        ~Reaper() {
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        }
    } reaper{pid};
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
    ASSERT_TRUE(WIFSTOPPED(status)) << "the scan ended without stopping before its commit";
    EXPECT_FALSE(fileExists(out));
    EXPECT_FALSE(fileExists(out + ".manifest.json"));
    auto staged = filesContaining(dir_.file("out"), ".riskmap-staging-");
    ASSERT_EQ(staged.size(), 1u);
    const std::string stage = dir_.file("out/" + staged[0]);
    EXPECT_TRUE(fileExists(stage + "/f.gpkg"));
    EXPECT_TRUE(fileExists(stage + "/f.gpkg.manifest.json"));
    struct stat st;
    ASSERT_EQ(::stat(stage.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ::kill(pid, SIGCONT);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    reaper.pid = 0;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_TRUE(fileExists(out));
    EXPECT_TRUE(filesContaining(dir_.file("out"), ".riskmap-staging-").empty());
}

// A full disk (a file-size limit here) fails the scan cleanly: exit 1, earlier files intact,
// nothing partial left.
TEST_F(OutputSafety, DiskFullLeavesEarlierFilesIntact) {
    if (!haveProgram("prlimit")) GTEST_SKIP() << "prlimit (util-linux) is missing";
    const std::string out = dir_.file("out/g.geojson");
    ASSERT_EQ(scan(out, {"--grid", "500"}).exitCode, 0);
    const auto before = snapshot(dir_.file("out"));
    int failures = 0;
    for (int limit : {500, 2500, 5000, 9000}) {
        auto r =
            runShell("prlimit --fsize=" + std::to_string(limit) + " '" RISKMAP_BINARY "' scan '" +
                     raster_ + "' -o '" + out + "' -q --grid 250 --overwrite");
        if (r.exitCode == 0) continue;
        ++failures;
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(firstDifference(before, snapshot(dir_.file("out"))), "") << "limit " << limit;
        EXPECT_TRUE(filesContaining(dir_.file("out"), ".riskmap-staging-").empty());
    }
    EXPECT_GE(failures, 2);
}

TEST_F(OutputSafety, OutCrsIsTheCrsOfEveryLayerInEveryFormat) {
    for (const std::string& ext : std::vector<std::string>{".gpkg", ".fgb"}) {
        SCOPED_TRACE(ext);
        const std::string out = dir_.file("out/h" + ext);
        auto r = scan(out, {"--out-crs", "EPSG:3857", "--grid", "500"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const bool gpkg = ext == ".gpkg";
        // The EPSG code OGR identifies for a layer: a layer with an undefined CRS has none.
        auto crsOf = [&](const std::string& layer) {
            const std::string file =
                gpkg || layer == "index" ? out : dir_.file("out/h." + layer + ext);
            auto q = runShell("ogrinfo -so -nomd '" + file + "' " +
                              (gpkg ? "'" + layer + "'" : std::string("-al")) +
                              " | grep -oE '^    ID\\[\"EPSG\",[0-9]+\\]\\]$'");
            return q.out;
        };
        for (const std::string& layer :
             std::vector<std::string>{"index", "footprints", "nodata_gaps"})
            EXPECT_EQ(crsOf(layer), "    ID[\"EPSG\",3857]]\n") << layer;
        EXPECT_EQ(crsOf("grid"), "    ID[\"EPSG\",6933]]\n");
        // Coordinates are Web Mercator metres, not degrees.
        LayerDump d = readLayer(out);
        ASSERT_FALSE(d.features.empty());
        EXPECT_GT(std::abs(d.features[0].coords[0][0]), 1000.0);
    }
    auto r = scan(dir_.file("out/i.gpkg"), {"--out-crs", "EPSG:99999999"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--out-crs"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir_.file("out/i.gpkg")));
    // A CRS PROJ knows but cannot reach from the scene's (Mars) is refused before any pixel is
    // read: it failed at writing and left a journal no --resume could finish (an audit).
    r = scan(dir_.file("out/m.fgb"), {"--out-crs", "IAU_2015:49900"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--out-crs 'IAU_2015:49900' cannot be reached"), std::string::npos)
        << r.err;
    EXPECT_FALSE(fileExists(dir_.file("out/m.fgb")));
    EXPECT_FALSE(fileExists(dir_.file("out/m.fgb.journal")));
}

TEST_F(OutputSafety, ReportKeepsHostileIdsOutOfFileNames) {
    const std::string out = dir_.file("out/j.geojson");
    ASSERT_EQ(scan(out).exitCode, 0);
    std::string layer = readFile(out);
    layer = std::regex_replace(layer, std::regex("\"id\": \"[^\"]+\""),
                               "\"id\": \"../../../elsewhere/victim\"");
    std::ofstream(out, std::ios::trunc) << layer;
    const std::string report = dir_.file("out/report");
    auto r = runRiskmap({"report", out, "-o", report});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    expectVictimIntact();
    for (auto& e : fs::recursive_directory_iterator(dir_.path()))
        EXPECT_EQ(e.path().string().find(".png") != std::string::npos,
                  e.path().string().rfind(report + "/chips/", 0) == 0)
            << e.path();
    EXPECT_TRUE(fileExists(report + "/chips/_________elsewhere_victim.png"));
    EXPECT_TRUE(fileExists(report + "/chips/_________elsewhere_victim-2.png"));
    // A report folder that is a link is refused.
    fs::create_symlink(dir_.file("elsewhere"), dir_.file("out/linked"));
    r = runRiskmap({"report", out, "-o", dir_.file("out/linked"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    expectVictimIntact();
}

// A scene across the antimeridian (UTM 60 S) written with --out-crs EPSG:4326 to a GeoPackage or
// FlatGeobuf: objects astride 180 degrees are cut there, as GeoJSON's are, instead of one
// polygon wrapping the globe from -180 to 180 (an audit); the footprint too.

TEST(OutCrs, ObjectsAcrossTheAntimeridianAreCutInLonLat) {
    TempDir dir;
    writeAntimeridianScene(
        dir.file("anti.tif"),
        {{104, 60, 8, 6, kBareSoil}, {100, 140, 10, 8, kBareSoil}, {40, 40, 6, 6, kBareSoil}});
    GDALAllRegister();
    for (const std::string ext : {".gpkg", ".fgb"}) {
        const std::string out = dir.file("a" + ext);
        const CliResult r =
            runRiskmap({"scan", dir.file("anti.tif"), "-o", out, "--out-crs", "EPSG:4326", "-q"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        int objects = 0, cut = 0;
        std::vector<std::string> files{out};  // a GeoPackage holds its footprints
        if (ext == ".fgb") files.push_back(dir.file("a.footprints.fgb"));
        for (const std::string& file : files) {
            GDALDatasetH ds = GDALOpenEx(file.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
            ASSERT_NE(ds, nullptr) << file;
            for (int li = 0; li < GDALDatasetGetLayerCount(ds); ++li) {
                OGRLayerH layer = GDALDatasetGetLayer(ds, li);
                if (OGR_L_GetGeomType(layer) == wkbNone) continue;
                OGRFeatureH f;
                while ((f = OGR_L_GetNextFeature(layer)) != nullptr) {
                    OGRGeometryH g = OGR_F_GetGeometryRef(f);
                    EXPECT_TRUE(OGR_G_IsValid(g)) << file << " " << OGR_L_GetName(layer);
                    const std::string name = OGR_L_GetName(layer);
                    if (name == "index") ++objects;
                    // Every polygon of it lies on one side: less than a degree wide.
                    for (int k = 0; k < OGR_G_GetGeometryCount(g); ++k) {
                        OGREnvelope e;
                        OGR_G_GetEnvelope(OGR_G_GetGeometryRef(g, k), &e);
                        if (name == "index") {
                            EXPECT_LT(e.MaxX - e.MinX, 1.0) << file;
                        }
                    }
                    cut += name == "index" && OGR_G_GetGeometryCount(g) > 1;
                    OGR_F_Destroy(f);
                }
            }
            GDALClose(ds);
        }
        EXPECT_EQ(objects, 3) << ext;
        EXPECT_EQ(cut, 2) << ext;
    }
}

// A vertical or geocentric --out-crs took the outlines as swapped lat/lon or as metres from the
// Earth's centre, and the layers were written with exit 0 (an audit): refused before any pixel.
TEST(OutCrs, AVerticalOrGeocentricCrsIsRefused) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    s.blobs = {{30, 30, 6, 6, kBareSoil}};
    writeScene(dir.file("s.tif"), s);
    for (const auto& [crs, ext, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"EPSG:5703", "gpkg", "a vertical CRS"}, {"EPSG:4978", "fgb", "geocentric"}}) {
        const CliResult r = runRiskmap({"scan", dir.file("s.tif"), "-o", dir.file("o." + ext), "--out-crs", crs, "-q"});
        EXPECT_EQ(r.exitCode, 2) << crs << r.err;
        EXPECT_NE(r.err.find("'" + crs + "' is " + what + ": outlines need a 2D geographic or projected CRS"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir.file("o." + ext))) << crs;
    }
    const CliResult ok = runRiskmap({"scan", dir.file("s.tif"), "-o", dir.file("o.gpkg"), "--out-crs", "EPSG:4326", "-q"});
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

// Square grid and published cells across 180 degrees reached past EPSG:6933's map, and every
// scene within a cell of the antimeridian (Fiji) was refused, at any cell size (an audit). They
// are cut at the map's edge: each side's part is a cell, and together they count the whole scene.
TEST(Grid, CellsAcrossTheAntimeridianAreCutThere) {
    TempDir dir;
    writeAntimeridianScene(dir.file("anti.tif"), {{104, 60, 8, 6, kBareSoil}, {40, 40, 6, 6, kBareSoil}});
    const CliResult r = runRiskmap({"scan", dir.file("anti.tif"), "-o", dir.file("a.geojson"), "--grid", "1000",
                                    "--publish", dir.file("p.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const riskmap::Json grid = riskmap::parseJsonFile(dir.file("a.grid.geojson"));
    int west = 0, east = 0;
    double scanned = 0;
    for (const auto& f : grid.at("features")) {
        double lo = 1e9, hi = -1e9;
        for (const auto& c : f.at("geometry").at("coordinates")[0]) {
            lo = std::min(lo, c[0].get<double>());
            hi = std::max(hi, c[0].get<double>());
        }
        EXPECT_LT(hi - lo, 1.0) << "a cell does not span the globe";
        west += lo < -179.9999;
        east += hi > 179.9999;
        scanned += f.at("properties").at("area_scanned_km2").get<double>();
    }
    EXPECT_GT(west, 0);
    EXPECT_GT(east, 0);
    EXPECT_NEAR(scanned, 4.0, 0.04) << "200 x 200 px of 10 m";
}

// The same scene with a projected --out-crs whose map ends at the antimeridian (EPSG:3857):
// objects across 180 degrees cannot be held validly there. This used to pass in silence; the
// scan now warns, naming the scene and what to do. The scene's own CRS gives no warning.
TEST(OutCrs, ProjectedMapEndingInsideTheSceneIsWarnedOf) {
    TempDir dir;
    writeAntimeridianScene(dir.file("anti.tif"), {{104, 60, 8, 6, kBareSoil}});
    CliResult r = runRiskmap(
        {"scan", dir.file("anti.tif"), "-o", dir.file("a.gpkg"), "--out-crs", "EPSG:3857", "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("anti.tif: --out-crs EPSG:3857 ends its map inside this scene"),
              std::string::npos)
        << r.err;
    r = runRiskmap(
        {"scan", dir.file("anti.tif"), "-o", dir.file("b.gpkg"), "--out-crs", "EPSG:32760", "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("ends its map"), std::string::npos) << r.err;
}

// "-o dir/.gpkg" wrote hidden files (.gpkg, .qml, .footprints.qml) (an audit): refused, nothing
// written.
TEST(OutputNames, AnOutputWithNoNameBeforeItsExtensionIsRefused) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    writeScene(dir.file("s.tif"), s);
    for (const char* ext : {".gpkg", ".geojson", ".fgb"}) {
        const CliResult r = runRiskmap({"scan", dir.file("s.tif"), "-o", dir.file(ext), "-q"});
        EXPECT_EQ(r.exitCode, 2) << ext << r.err;
        EXPECT_NE(r.err.find("has no name before its extension"), std::string::npos) << r.err;
    }
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) files += e.path().filename() != "s.tif";
    EXPECT_EQ(files, 0u);
}
