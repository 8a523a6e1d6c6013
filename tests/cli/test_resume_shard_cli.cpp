// Resumable runs (killed with SIGKILL at random points) and sharded runs merged back: both must
// give exactly the bytes of one uninterrupted scan, and no half-written output may ever exist.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include <gdal.h>

#include <ctime>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

std::string bigScene(const TempDir& dir) {
    SceneSpec s;
    s.width = 2000;
    s.height = 1600;
    s.noise = 30;
    s.blobs = scatterBlobs(s.width, s.height, 500, 21, 1.5, 12);
    return writeScene(dir.file("big.tif"), s);
}

std::vector<std::string> scanArgs(const std::string& in, const std::string& out) {
    return {"scan", in, "-o", out, "-q", "--tile-size", "64", "--threads", "1", "--set", "close_radius_m=20"};
}

// Starts riskmap; kills it with SIGKILL after `millis`, or as soon as `waitFor` exists, or as soon
// as `ready` holds (each polled for up to 10 s).
// Kills the scan once `ready()` holds, else once `waitFor` exists, else after `millis`.
int spawnAndKillAfter(const std::vector<std::string>& args, int millis, const std::string& waitFor = "",
                      const std::function<bool()>& ready = {}) {
    if (ready) return spawnAndKillWhen(args, ready);
    if (!waitFor.empty()) return spawnAndKillWhen(args, [&] { return fileExists(waitFor); });
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
    return spawnAndKillWhen(args, [&] { return std::chrono::steady_clock::now() >= until; }, millis + 1000);
}

}  // namespace

TEST(CliResume, KilledScansResumeToTheSameBytes) {
    TempDir dir;
    std::string in = bigScene(dir);
    auto ref = runRiskmap(scanArgs(in, dir.file("ref.geojson")));
    ASSERT_EQ(ref.exitCode, 0) << ref.err;
    const std::string want = readFile(dir.file("ref.geojson"));
    ASSERT_GT(want.size(), 10000u);

    const std::string out = dir.file("out.geojson");
    const std::string journal = out + ".journal";
    auto journalBytes = [&] {
        struct stat st{};
        return ::stat(journal.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : 0L;
    };
    // One kill once the journal holds finished tiles (its first record, the fingerprint, is
    // under 1 KB; a tile record is at least 60 bytes), whatever the machine's speed, so that the
    // resume is always tested; then kills at random moments.
    const long someTiles = 4096;
    ASSERT_NE(spawnAndKillAfter(scanArgs(in, out), 0, "", [&] { return journalBytes() > someTiles; }), 0)
        << "the scan finished before its journal grew";
    ASSERT_GT(journalBytes(), someTiles);
    std::mt19937 rng(20261129);
    int kills = 1;
    long journalBeforeLast = journalBytes();
    bool done = false;
    for (int round = 0; round < 40 && !done; ++round) {
        auto args = scanArgs(in, out);
        args.push_back("--resume");
        journalBeforeLast = journalBytes();
        int code = spawnAndKillAfter(args, 60 + static_cast<int>(rng() % 250));
        if (code == 0) break;  // finished before the kill
        ++kills;
        // Killed: either no output, or (killed after the final rename) the complete one. Never a
        // half-written file.
        if (fileExists(out)) {
            ASSERT_EQ(readFile(out), want) << "partial output after a kill in round " << round;
            done = true;
        }
    }
    if (!fileExists(out)) {
        auto args = scanArgs(in, out);
        args.push_back("--resume");
        journalBeforeLast = journalBytes();
        auto r = runRiskmap(args);
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    EXPECT_EQ(readFile(out), want);
    // The run that finished continued from the journal.
    EXPECT_GT(journalBeforeLast, someTiles);
    Json m = parseJsonFile(out + ".manifest.json");
    EXPECT_GT(m.at("tiling").at("resumed_tiles").get<std::int64_t>(), 0);
    EXPECT_TRUE(filesContaining(dir.path(), ".riskmap-staging-").size() <= static_cast<std::size_t>(kills));
}

TEST(CliResume, KilledWhileCommittingResumesOverItsOwnCompanions) {
    // A kill between the companions' commit (manifest, grid, styles) and the main layer's, the
    // last rename: the resume must replace those leftovers, not refuse them.
    TempDir dir;
    std::string in = bigScene(dir);
    auto ref = runRiskmap(scanArgs(in, dir.file("ref.geojson")));
    ASSERT_EQ(ref.exitCode, 0) << ref.err;
    const std::string out = dir.file("out.geojson");
    auto args = scanArgs(in, out);
    args.insert(args.end(), {"--keep-journal", "--grid", "2000"});
    ASSERT_EQ(runRiskmap(args).exitCode, 0);
    ASSERT_TRUE(fileExists(out + ".journal"));
    ASSERT_TRUE(fileExists(out + ".manifest.json"));
    ASSERT_TRUE(fileExists(dir.file("out.grid.geojson")));
    std::remove(out.c_str());  // as if killed just before the final rename
    args = scanArgs(in, out);
    args.insert(args.end(), {"--resume", "--grid", "2000"});
    auto r = runRiskmap(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(out), readFile(dir.file("ref.geojson")));
    EXPECT_GT(parseJsonFile(out + ".manifest.json").at("tiling").at("resumed_tiles").get<std::int64_t>(), 0);
    // Without a journal to continue, leftovers are still never overwritten silently.
    std::remove(out.c_str());
    args = scanArgs(in, out);
    args.push_back("--resume");
    auto again = runRiskmap(args);
    EXPECT_EQ(again.exitCode, 2);
    EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
}

TEST(CliResume, RefusesChangedOptionsAndStaleJournals) {
    TempDir dir;
    std::string in = bigScene(dir);
    const std::string out = dir.file("out.geojson");
    // Killed once the journal holds its first record, the run's fingerprint (a journal without
    // one holds nothing to continue, and --resume rightly starts afresh).
    spawnAndKillAfter(scanArgs(in, out), 0, "", [&] {
        return fileExists(out + ".journal") && readFile(out + ".journal").find('\n') != std::string::npos;
    });
    ASSERT_TRUE(fileExists(out + ".journal"));
    ASSERT_FALSE(fileExists(out));
    // Without --resume the stale journal is not silently overwritten.
    auto plain = runRiskmap(scanArgs(in, out));
    EXPECT_EQ(plain.exitCode, 2);
    EXPECT_NE(plain.err.find("--resume"), std::string::npos) << plain.err;
    // A changed option is named.
    auto args = scanArgs(in, out);
    args.insert(args.end(), {"--resume", "--set", "min_area_m2=900"});
    auto changed = runRiskmap(args);
    EXPECT_EQ(changed.exitCode, 2);
    EXPECT_NE(changed.err.find("min_area_m2"), std::string::npos) << changed.err;
    EXPECT_FALSE(fileExists(out));
}

TEST(CliShard, FourShardsMergeToTheSingleProcessBytes) {
    TempDir dir;
    std::string in = bigScene(dir);
    // Risk levels and a grid the merge is not told again: it takes the shards' (it once fell back
    // to the defaults, other levels and no grid).
    auto single =
        runRiskmap({"scan", in, "-o", dir.file("single.geojson"), "-q", "--tile-size", "256",
                    "--risk-levels", "0.3,0.9", "--grid", "2000", "--grid-shape", "hex"});
    ASSERT_EQ(single.exitCode, 0) << single.err;
    std::vector<std::string> shards;
    for (int k = 1; k <= 4; ++k) {
        std::string o = dir.file("shard-" + std::to_string(k) + ".geojson");
        auto r = runRiskmap({"scan", in, "-o", o, "-q", "--tile-size", "256", "--shard",
                             std::to_string(k) + "/4", "--risk-levels", "0.3,0.9", "--grid", "2000",
                             "--grid-shape", "hex"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        ASSERT_TRUE(fileExists(o + ".journal"));
        shards.push_back(o);
    }
    std::vector<std::string> args{"merge"};
    args.insert(args.end(), shards.rbegin(), shards.rend());  // order does not matter
    args.insert(args.end(), {"-o", dir.file("merged.geojson"), "-q"});
    auto m = runRiskmap(args);
    ASSERT_EQ(m.exitCode, 0) << m.err;
    EXPECT_EQ(readFile(dir.file("merged.geojson")), readFile(dir.file("single.geojson")));
    ASSERT_TRUE(fileExists(dir.file("merged.grid.geojson")));
    EXPECT_EQ(readFile(dir.file("merged.grid.geojson")), readFile(dir.file("single.grid.geojson")));
    Json a = parseJsonFile(dir.file("single.geojson.manifest.json"));
    Json b = parseJsonFile(dir.file("merged.geojson.manifest.json"));
    EXPECT_EQ(dumpJson(a.at("counts")), dumpJson(b.at("counts")));
    EXPECT_EQ(dumpJson(a.at("risk")), dumpJson(b.at("risk")));
    // A missing shard is named.
    auto missing = runRiskmap({"merge", shards[0], shards[1], shards[3], "-o", dir.file("m2.geojson")});
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("shard 3 is missing"), std::string::npos) << missing.err;
    EXPECT_FALSE(fileExists(dir.file("m2.geojson")));
    // A shard of another scan (here of 60 copies of the raster) is named with what differs,
    // shortened, and what to do (a sweep: 2,000 characters of input list and no advice).
    std::vector<std::string> many{"scan"};
    for (int i = 0; i < 60; ++i) many.push_back(in);
    many.insert(many.end(), {"-o", dir.file("other.geojson"), "-q", "--tile-size", "256", "--shard", "3/4"});
    std::vector<std::string> copies;
    for (int i = 0; i < 60; ++i) {
        copies.push_back(dir.file("copy" + std::to_string(i) + ".tif"));
        std::filesystem::copy_file(in, copies.back());
        many[static_cast<std::size_t>(1 + i)] = copies.back();
    }
    ASSERT_EQ(runRiskmap(many).exitCode, 0);
    auto other = runRiskmap({"merge", shards[0], shards[1], dir.file("other.geojson"), shards[3], "-o", dir.file("m3.geojson")});
    EXPECT_EQ(other.exitCode, 2);
    EXPECT_NE(other.err.find("comes from a different scan"), std::string::npos) << other.err;
    EXPECT_NE(other.err.find("merge the shards of one scan"), std::string::npos) << other.err;
    EXPECT_LT(other.err.size(), 1200u) << other.err;
}

// --ram on merge is a promise kept by refusing, before any journal is loaded, a budget the
// shards' objects would not fit, naming the budget that works (issue 14).
TEST(CliShard, MergeRefusesARamItsShardsDoNotFitAndNamesTheOneThatDoes) {
    TempDir dir;
    SceneSpec spec;
    spec.width = 2000;
    spec.height = 2000;
    spec.noise = 30;
    spec.blobs = scatterBlobs(spec.width, spec.height, 6000, 5, 2.0, 5);  // many small objects
    const std::string in = writeScene(dir.file("dense.tif"), spec);
    std::vector<std::string> shards;
    for (int k = 1; k <= 2; ++k) {
        shards.push_back(dir.file("s" + std::to_string(k) + ".gpkg"));
        auto r = runRiskmap({"scan", in, "-o", shards.back(), "-q", "--shard", std::to_string(k) + "/2"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    auto refused = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m.gpkg"), "-q", "--ram", "64"});
    EXPECT_EQ(refused.exitCode, 2) << refused.err;
    const int least = ramNamedIn(refused.err);
    ASSERT_GT(least, 0) << refused.err;
    EXPECT_FALSE(fileExists(dir.file("m.gpkg")));
    const std::string need = std::to_string(least);
    EXPECT_GT(std::stoi(need), 64);
    auto ok = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m.gpkg"), "-q", "--ram", need});
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
    const Json m = parseJsonFile(dir.file("m.gpkg.manifest.json"));
    EXPECT_GT(m.at("output").at("features").get<int>(), 1000);
    // The budget named holds (it was named from a share that grows with --ram itself: refused again).
    if (kPeakRssMeaningful) {
        EXPECT_LE(m.at("timings").at("peak_rss_mb").get<double>(), std::stod(need)) << dumpJson(m.at("timings"));
    }
    // The scan itself kept its results within --ram by giving up block cache for them.
    const Json s = parseJsonFile(shards[0] + ".manifest.json");
    EXPECT_LT(s.at("tiling").at("block_cache_min_mb").get<double>(), s.at("tiling").at("block_cache_mb").get<double>());
}

// A merge may not write over a shard it reads: -o s1 --overwrite replaced shard 1, --publish s2
// turned shard 2's layer into a published grid, both with exit 0 (an audit).
namespace {

// A scene of `size` px with `objects` small ones, scanned as shards s1 and s2 of a 2-way split.
std::vector<std::string> twoShards(const TempDir& dir, int size, int objects, int tileSize,
                                   const std::vector<std::string>& extra = {}) {
    SceneSpec spec;
    spec.width = spec.height = size;
    spec.blobs = scatterBlobs(spec.width, spec.height, objects, 3, 1.5, 8);
    const std::string in = writeScene(dir.file("in.tif"), spec);
    std::vector<std::string> shards;
    for (int k = 1; k <= 2; ++k) {
        shards.push_back(dir.file("s" + std::to_string(k) + ".geojson"));
        std::vector<std::string> args{"scan", in, "-o", shards.back(), "-q", "--tile-size", std::to_string(tileSize),
                                      "--shard", std::to_string(k) + "/2"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CliResult r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
    }
    return shards;
}

}  // namespace

TEST(CliShard, MergeNeverWritesOverItsShards) {
    TempDir dir;
    const std::vector<std::string> shards = twoShards(dir, 600, 80, 256);
    const std::string one = readFile(shards[0]), two = readFile(shards[1]);
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"-o", shards[0]},
             {"-o", dir.file("m.geojson"), "--publish", shards[1]},
             {"-o", dir.file("s1.gpkg")}}) {
        std::vector<std::string> args{"merge", shards[0], shards[1], "--overwrite", "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CliResult r = runRiskmap(args);
        if (extra[1] == dir.file("s1.gpkg")) {  // a name of its own beside the shards is fine
            EXPECT_EQ(r.exitCode, 0) << r.err;
            continue;
        }
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("being merged"), std::string::npos) << r.err;
    }
    EXPECT_EQ(readFile(shards[0]), one);
    EXPECT_EQ(readFile(shards[1]), two);
}

// A merge started while a shard still ran (a Slurm dependency on the wrong job) read that shard's
// journal unlocked, half written. A running shard holds its journal locked (flock); here the test
// holds it, as the shard would, and the merge is refused naming the shard.
TEST(CliShard, MergeRefusesAShardThatIsStillRunning) {
    TempDir dir;
    const std::vector<std::string> shards = twoShards(dir, 300, 20, 128);
    const int fd = ::open((shards[1] + ".journal").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    CliResult r = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m.geojson"), "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("'" + shards[1] + "' is still being scanned"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("m.geojson")));
    ::close(fd);  // the shard has finished
    r = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m.geojson"), "-q"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

// Shards name their inputs relative to the folder they ran in; a merge from another folder
// (another node) said only "does not exist" (an audit). It names the folder to run in.
TEST(CliShard, AMergeFromAnotherFolderSaysWhereToRun) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 128;
    s.blobs = {{40, 40, 5, 5, kBareSoil}};
    writeScene(dir.file("scene.tif"), s);
    for (const char* k : {"1/2", "2/2"}) {
        const CliResult r = runRiskmap({"scan", "scene.tif", "-o", std::string("s") + k[0] + ".geojson", "--shard", k, "-q"}, dir.path());
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    std::filesystem::create_directory(dir.file("elsewhere"));
    const CliResult r = runRiskmap({"merge", "../s1.geojson", "../s2.geojson", "-o", "m.geojson", "-q"}, dir.file("elsewhere"));
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("relative to the folder they ran in, '" + std::filesystem::canonical(dir.path()).string() + "'"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("elsewhere/m.geojson")));
    const CliResult here = runRiskmap({"merge", "s1.geojson", "s2.geojson", "-o", "m.geojson", "-q"}, dir.path());
    EXPECT_EQ(here.exitCode, 0) << here.err;
}

// A merge reads no pixel, so its manifest lost what the shards' samples showed (a wrong
// --scale, clipped bands): on Slurm those warnings sat in the shards' logs only. The merge now
// takes them from the shards' manifests, once each, and prints them.
TEST(CliShard, MergeKeepsTheShardsSampleWarnings) {
    TempDir dir;
    const std::vector<std::string> shards = twoShards(dir, 300, 20, 128, {"--scale", "0.001"});
    const CliResult r = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("reads as reflectance"), std::string::npos) << r.err;
    const Json m = parseJsonFile(dir.file("m.geojson.manifest.json"));
    std::size_t n = 0;
    for (const auto& w : m.at("warnings"))
        n += w.get<std::string>().find("band 'nir' reads as reflectance") != std::string::npos;
    EXPECT_EQ(n, 1u) << dumpJson(m.at("warnings"));
    EXPECT_EQ(m.at("sample_warnings").size(), parseJsonFile(shards[0] + ".manifest.json").at("sample_warnings").size());
    // A shard copied without its manifest (or killed before writing one) still merges: review.
    ASSERT_EQ(std::remove((shards[1] + ".manifest.json").c_str()), 0);
    const CliResult again = runRiskmap({"merge", shards[0], shards[1], "-o", dir.file("m2.geojson"), "-q"});
    EXPECT_EQ(again.exitCode, 0) << again.err;
    EXPECT_NE(again.err.find("reads as reflectance"), std::string::npos) << again.err;
}

// A VRT's fingerprint held only the VRT's own size and time: shards scanned before and after its
// source changed were merged, and a resume kept stale tiles (a hostile-input sweep). The files
// GDAL reads for an input are stamped too.
TEST(CliShard, MergeRefusesShardsOfAVrtWhoseSourceChanged) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 256;
    s.blobs = scatterBlobs(s.width, s.height, 20, 5, 1.5, 10);
    const std::string src = writeScene(dir.file("src.tif"), s);
    const std::string vrt = dir.file("wrap.vrt");
    {
        GDALAllRegister();
        GDALDatasetH in = GDALOpen(src.c_str(), GA_ReadOnly);
        ASSERT_NE(in, nullptr);
        GDALDatasetH out = GDALCreateCopy(GDALGetDriverByName("VRT"), vrt.c_str(), in, FALSE, nullptr, nullptr, nullptr);
        ASSERT_NE(out, nullptr);
        GDALClose(out);
        GDALClose(in);
    }
    auto shard = [&](const std::string& k, const std::string& out) {
        return runRiskmap({"scan", vrt, "-o", out, "-q", "--tile-size", "64", "--shard", k});
    };
    const std::string s1 = dir.file("s1.geojson"), s2 = dir.file("s2.geojson");
    ASSERT_EQ(shard("1/2", s1).exitCode, 0);
    s.blobs.resize(5);
    writeScene(src, s);  // the source changes; the VRT file does not
    const std::time_t later = std::time(nullptr) + 5;
    const struct timespec times[2] = {{later, 0}, {later, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, src.c_str(), times, 0), 0);  // a different second, whatever the clock
    ASSERT_EQ(shard("2/2", s2).exitCode, 0);
    const CliResult r = runRiskmap({"merge", s1, s2, "-o", dir.file("m.geojson"), "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("files_read"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("m.geojson")));
}

TEST(CliShard, MergeAndShardHelp) {
    auto h = runRiskmap({"merge", "--help"});
    EXPECT_EQ(h.exitCode, 0);
    EXPECT_NE(h.out.find("SHARD_OUTPUT"), std::string::npos);
    auto s = runRiskmap({"scan", "--help"});
    EXPECT_NE(s.out.find("--shard"), std::string::npos);
    EXPECT_NE(s.out.find("--resume"), std::string::npos);
    auto bad = runRiskmap({"scan", "x.tif", "-o", "/tmp/x.geojson", "--shard", "5/4"});
    EXPECT_EQ(bad.exitCode, 2);
}

// An audit: a journal damaged in the middle (a bad disk, an edit) was cut there without a word,
// and one with a damaged header was silently started afresh. The output is still right; the
// user is now told what was dropped and rescanned.
TEST(CliResume, ADamagedJournalIsRepairedAndSaysSo) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 400;
    s.blobs = scatterBlobs(s.width, s.height, 40, 5, 1.5, 10);
    const std::string in = writeScene(dir.file("in.tif"), s);
    const std::string ref = dir.file("ref.geojson"), out = dir.file("out.geojson");
    ASSERT_EQ(runRiskmap(scanArgs(in, ref)).exitCode, 0);
    auto args = scanArgs(in, out);
    args.push_back("--keep-journal");
    ASSERT_EQ(runRiskmap(args).exitCode, 0);
    auto damage = [&](int line) {  // one byte of record `line` (1-based) changed
        std::string j = readFile(out + ".journal");
        std::size_t at = 0;
        for (int i = 1; i < line; ++i) at = j.find('\n', at) + 1;
        j[at + 20] = j[at + 20] == 'x' ? 'y' : 'x';
        std::ofstream(out + ".journal", std::ios::binary | std::ios::trunc) << j;
    };
    for (const auto& [line, words] : std::vector<std::pair<int, std::string>>{
             {5, "damaged at record 5"}, {1, "no readable header"}}) {
        damage(line);
        auto again = args;
        again.insert(again.end(), {"--resume", "--overwrite"});
        const CliResult r = runRiskmap(again);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const Json m = parseJsonFile(out + ".manifest.json");  // -q: the warning is in the manifest
        EXPECT_NE(dumpJson(m.at("warnings")).find(words), std::string::npos)
            << dumpJson(m.at("warnings"));
        EXPECT_EQ(readFile(out), readFile(ref)) << "record " << line;
    }
}

// An audit: Ctrl-C printed only "riskmap: interrupted". It now says what the journal keeps and
// that --resume goes on from it; the resumed run gives the uninterrupted bytes.
TEST(CliResume, AnInterruptedScanSaysHowToGoOn) {
    TempDir dir;
    const std::string in = bigScene(dir), ref = dir.file("ref.geojson"),
                      out = dir.file("out.geojson");
    ASSERT_EQ(runRiskmap(scanArgs(in, ref)).exitCode, 0);
    const std::string err = dir.file("err.txt");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::freopen(err.c_str(), "w", stderr);
        const auto args = scanArgs(in, out);
        std::vector<char*> argv{const_cast<char*>(RISKMAP_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(RISKMAP_BINARY, argv.data());
        ::_exit(127);
    }
    struct stat st {};
    for (int i = 0;
         i < 2000 && !(::stat((out + ".journal").c_str(), &st) == 0 && st.st_size > 4096); ++i)
        ::usleep(5000);
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 0) << "finished before the interrupt";
    const std::string msg = readFile(err);
    EXPECT_NE(msg.find("interrupted"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--resume continues"), std::string::npos) << msg;
    EXPECT_NE(msg.find(out + ".journal"), std::string::npos) << msg;
    auto again = scanArgs(in, out);
    again.push_back("--resume");
    ASSERT_EQ(runRiskmap(again).exitCode, 0);
    EXPECT_EQ(readFile(out), readFile(ref));
}
