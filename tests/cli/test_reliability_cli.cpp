// Tests that can fail: objects on seams counted against a truth computed independently of
// riskmap, detectable spectra hidden under a mask, and report and merge outputs that appear only
// at their commit and roll back on failure.
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>

#include "core/Json.hpp"
#include "geo/GdalRuntime.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

// Runs riskmap stopped just before its commit (RISKMAP_TEST_STOP_BEFORE_COMMIT), calls `inspect`
// while it is stopped, then lets it finish; returns its exit status.
int runStoppedBeforeCommit(const std::vector<std::string>& args, const std::function<void()>& inspect) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("RISKMAP_TEST_STOP_BEFORE_COMMIT", "1", 1);
        ::freopen("/dev/null", "w", stderr);
        ::freopen("/dev/null", "w", stdout);
        std::vector<char*> argv{const_cast<char*>(RISKMAP_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(RISKMAP_BINARY, argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, WUNTRACED);
    const bool stopped = WIFSTOPPED(status);
    if (stopped) inspect();
    ::kill(pid, stopped ? SIGCONT : SIGKILL);
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(stopped) << "the run never stopped before its commit";
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Every file under `dir` with its bytes.
std::map<std::string, std::string> snapshot(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = readFile(e.path().string());
    return out;
}

}  // namespace

// Blobs centred on the corners and edges of 256-pixel tiles: each object straddles a seam, so a
// tiling bug reports it twice, in pieces, or not at all. The truth is the blob list itself.
TEST(Reliability, SeamObjectsAreCountedExactlyOnce) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 800;
    std::vector<std::pair<double, double>> centres;
    for (int ty = 1; ty <= 2; ++ty)
        for (int tx = 1; tx <= 2; ++tx) {
            centres.emplace_back(tx * 256.0, ty * 256.0);          // on a tile corner
            centres.emplace_back(tx * 256.0, ty * 256.0 - 100.0);  // on a vertical seam
            centres.emplace_back(tx * 256.0 - 100.0, ty * 256.0);  // on a horizontal seam
        }
    for (const auto& [x, y] : centres) s.blobs.push_back({x, y, 9, 7, kBareSoil});
    const std::string in = writeScene(dir.file("seams.tif"), s);
    for (const char* tile : {"256", "100000"}) {
        SCOPED_TRACE(tile);
        const std::string out = dir.file(std::string("s") + tile + ".gpkg");
        auto r = runRiskmap({"scan", in, "-o", out, "-q", "--tile-size", tile, "--set", "min_area_m2=500"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const LayerDump d = readLayer(out);
        ASSERT_EQ(d.features.size(), centres.size());
        std::vector<int> hits(centres.size(), 0);
        for (const auto& f : d.features) {
            // Centroid of the outer ring's vertices, in pixels of the scene (10 m, origin 500000/2500000).
            double sx = 0, sy = 0;
            const auto& ring = f.coords.front();
            for (std::size_t k = 0; k + 1 < ring.size(); k += 2) sx += ring[k], sy += ring[k + 1];
            const double n = static_cast<double>(ring.size() / 2);
            const double px = (sx / n - 500000) / 10, py = (2500000 - sy / n) / 10;
            for (std::size_t c = 0; c < centres.size(); ++c)
                if (std::hypot(px - centres[c].first, py - centres[c].second) < 2.0) hits[c]++;
        }
        for (std::size_t c = 0; c < centres.size(); ++c) EXPECT_EQ(hits[c], 1) << "blob " << c << " at " << centres[c].first;
    }
}

// Pixels with the spectrum of bare soil under a mask band are never detected; the same blob
// outside the mask is (so the test cannot pass by detecting nothing).
TEST(Reliability, MaskedSpectraAreNeverDetected) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = {{80, 80, 12, 12, kBareSoil}, {220, 220, 12, 12, kBareSoil}};
    const std::string in = writeScene(dir.file("masked.tif"), s);
    {
        ensureGdalRegistered();
        DatasetPtr ds(static_cast<GDALDataset*>(GDALOpenEx(in.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE, nullptr, nullptr, nullptr)));
        ASSERT_TRUE(ds);
        ASSERT_EQ(ds->CreateMaskBand(GMF_PER_DATASET), CE_None);
        GDALRasterBand* mask = ds->GetRasterBand(1)->GetMaskBand();
        std::vector<unsigned char> m(300 * 300, 255);
        for (int y = 50; y < 110; ++y)
            for (int x = 50; x < 110; ++x) m[static_cast<std::size_t>(y) * 300 + x] = 0;  // over the first blob
        ASSERT_EQ(mask->RasterIO(GF_Write, 0, 0, 300, 300, m.data(), 300, 300, GDT_Byte, 0, 0), CE_None);
    }
    auto r = runRiskmap({"scan", in, "-o", dir.file("m.gpkg"), "-q", "--set", "min_area_m2=100"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const LayerDump d = readLayer(dir.file("m.gpkg"));
    ASSERT_EQ(d.features.size(), 1u) << "the masked blob was detected, or the other one was not";
    const auto& ring = d.features[0].coords.front();
    EXPECT_GT(ring[0], 500000 + 150 * 10.0) << "the detection is the unmasked blob";
}

// Report and merge write aside and move into place: while stopped before the commit, the target
// does not exist; a failure at the commit leaves the earlier output byte-identical.
TEST(Reliability, ReportAndMergeAppearOnlyAtCommit) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = {{100, 100, 10, 10, kBareSoil}, {200, 180, 8, 12, kBareSoil}};
    const std::string in = writeScene(dir.file("in.tif"), s);
    const std::string scan = dir.file("scan.geojson");
    ASSERT_EQ(runRiskmap({"scan", in, "-o", scan, "-q"}).exitCode, 0);
    const std::string report = dir.file("report");
    int code = runStoppedBeforeCommit({"report", scan, "-o", report}, [&] {
        EXPECT_FALSE(fs::exists(report));
        EXPECT_FALSE(filesContaining(dir.path(), ".report.tmp-").empty()) << "the report is built aside";
    });
    EXPECT_EQ(code, 0);
    ASSERT_TRUE(fs::exists(report + "/index.html"));
    const auto before = snapshot(report);
    auto r = runShell("RISKMAP_TEST_FAIL_COMMIT=1 '" RISKMAP_BINARY "' report '" + scan + "' -o '" + report + "' --overwrite --title other");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(snapshot(report), before) << "a failed --overwrite changed the earlier report";
    EXPECT_TRUE(filesContaining(dir.path(), ".report.tmp-").empty());

    for (const char* k : {"1/2", "2/2"})
        ASSERT_EQ(runRiskmap({"scan", in, "-o", dir.file(std::string("sh") + k[0] + ".geojson"), "-q", "--shard", k, "--tile-size", "64"}).exitCode, 0);
    const std::string merged = dir.file("merged.geojson");
    code = runStoppedBeforeCommit({"merge", dir.file("sh1.geojson"), dir.file("sh2.geojson"), "-o", merged}, [&] {
        EXPECT_FALSE(fs::exists(merged));
        EXPECT_FALSE(fs::exists(merged + ".manifest.json"));
        EXPECT_FALSE(filesContaining(dir.path(), ".riskmap-staging-").empty());
    });
    EXPECT_EQ(code, 0);
    ASSERT_TRUE(fs::exists(merged));
    const std::string mergedBytes = readFile(merged);
    r = runShell("RISKMAP_TEST_FAIL_COMMIT=2 '" RISKMAP_BINARY "' merge '" + dir.file("sh1.geojson") + "' '" + dir.file("sh2.geojson") +
                 "' -o '" + merged + "' --overwrite --precision 6");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(readFile(merged), mergedBytes);
}

// An audit: nothing stopped a second scan of the same output while the first ran; with
// --overwrite it replaced the first's journal and the two committed a mixed set of files. The
// running scan holds its journal locked (here: stopped just before its commit): a second is
// refused, whatever its options, and the first then finishes as if alone.
TEST(Reliability, ASecondScanOfAnOutputInUseIsRefused) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = {{60, 60, 8, 8, kBareSoil}, {200, 150, 10, 6, kBareSoil}};
    const std::string in = writeScene(dir.file("in.tif"), s), out = dir.file("out.geojson");
    std::vector<CliResult> second;
    const int code = runStoppedBeforeCommit({"scan", in, "-o", out, "-q"}, [&] {
        for (const char* extra : {"--overwrite", "--resume", ""}) {
            std::vector<std::string> a{"scan", in, "-o", out, "-q", "--grid", "500"};
            if (*extra) a.push_back(extra);
            second.push_back(runRiskmap(a));
        }
    });
    EXPECT_EQ(code, 0);
    ASSERT_EQ(second.size(), 3u);
    for (const auto& r : second) {
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("another riskmap run is writing this output"), std::string::npos)
            << r.err;
    }
    EXPECT_FALSE(fileExists(dir.file("out.grid.geojson")))
        << "the second run's grid beside the first's layer";
    EXPECT_FALSE(fileExists(out + ".journal"));
}

// An audit: a report killed between its two renames left no report folder, and the temporary
// folders of killed runs were never cleaned. Now the new report is swapped in with one rename
// (RENAME_EXCHANGE); the next run removes leftovers no run holds (each run locks its own) and
// puts back an earlier report a two-rename file system had set aside.
TEST(Reliability, ReportLeftoversOfKilledRunsAreTidiedNotOthers) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = {{100, 100, 10, 10, kBareSoil}, {200, 180, 8, 12, kBareSoil}};
    const std::string in = writeScene(dir.file("in.tif"), s), scan = dir.file("scan.geojson"),
                      report = dir.file("report");
    ASSERT_EQ(runRiskmap({"scan", in, "-o", scan, "-q"}).exitCode, 0);
    ASSERT_EQ(runRiskmap({"report", scan, "-o", report}).exitCode, 0);
    // Killed while stopped before its commit: its folder stays behind.
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("RISKMAP_TEST_STOP_BEFORE_COMMIT", "1", 1);
        ::freopen("/dev/null", "w", stderr);
        ::freopen("/dev/null", "w", stdout);
        ::execl(RISKMAP_BINARY, RISKMAP_BINARY, "report", scan.c_str(), "-o", report.c_str(),
                "--overwrite", (char*)nullptr);
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, WUNTRACED);
    ASSERT_TRUE(WIFSTOPPED(status));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ASSERT_EQ(filesContaining(dir.path(), ".report.tmp-").size(), 1u);
    const CliResult tidy = runRiskmap({"report", scan, "-o", report, "--overwrite"});
    EXPECT_EQ(tidy.exitCode, 0) << tidy.err;
    EXPECT_NE(tidy.err.find("left by an interrupted report run"), std::string::npos) << tidy.err;
    EXPECT_TRUE(filesContaining(dir.path(), ".report.tmp-").empty());
    // A run in progress (stopped before its commit) keeps its folder while another runs.
    int code = runStoppedBeforeCommit({"report", scan, "-o", report, "--overwrite"}, [&] {
        const CliResult r = runRiskmap({"report", scan, "-o", report, "--overwrite"});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        EXPECT_EQ(filesContaining(dir.path(), ".report.tmp-").size(), 1u)
            << "the running report's folder was removed";
    });
    EXPECT_EQ(code, 0);
    EXPECT_TRUE(filesContaining(dir.path(), ".report.tmp-").empty());
    ASSERT_TRUE(fs::exists(report + "/index.html"));
    // An earlier report set aside by a two-rename swap, the run killed before the second: put back,
    // and replacing it again needs --overwrite.
    const auto before = snapshot(report);
    fs::rename(report, dir.file(".report.tmp-QQQQQQ.old"));
    const CliResult r = runRiskmap({"report", scan, "-o", report});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
    EXPECT_EQ(snapshot(report), before);
}
