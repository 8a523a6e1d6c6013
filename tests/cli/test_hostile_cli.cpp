// A hostile corpus: inputs, options and files built to crash, hang or exhaust riskmap. Each must
// end with exit 1 or 2, one line on stderr naming the culprit, no core dump, no output left
// behind, and in bounded time.
#include <arpa/inet.h>
#include <gdal.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/Crc32.hpp"
#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

class Hostile : public ::testing::Test {
protected:
    void SetUp() override {
        SceneSpec s;
        s.width = s.height = 200;
        s.blobs = {{60, 60, 8, 8, kBareSoil}};
        raster_ = writeScene(dir_.file("in.tif"), s);
        fs::create_directory(dir_.file("out"));
        out_ = dir_.file("out/o.geojson");
    }
    // The run fails cleanly: the exit code, one line naming `mentions`, nothing left in out/.
    void expectClean(const CliResult& r, int code, const std::string& mentions, double seconds, double limit) {
        EXPECT_EQ(r.exitCode, code) << r.err;
        EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
        EXPECT_LT(seconds, limit);
        for (auto& e : fs::directory_iterator(dir_.file("out")))
            if (e.path().extension() != ".journal") ADD_FAILURE() << "left behind: " << e.path();
    }
    CliResult timed(const std::vector<std::string>& args, double& seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        CliResult r = runRiskmap(args);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    }
    // Appends a record with a valid CRC, as a forger or a buggy writer would.
    static void appendRecord(const std::string& journal, const std::string& body) {
        char crc[16];
        std::snprintf(crc, sizeof crc, "%08x", crc32(body));
        std::ofstream(journal, std::ios::app) << crc << " " << body << "\n";
    }
    TempDir dir_;
    std::string raster_, out_;
};

}  // namespace

TEST_F(Hostile, RulesNestedThousandsDeep) {
    double t = 0;
    for (const std::string& rule : {std::string(5000, '(') + "ndvi" + std::string(5000, ')') + " > 0",
                                    std::string(5000, '-') + "ndvi > 0", [] {
                                        std::string s;
                                        for (int i = 0; i < 5000; ++i) s += "not ";
                                        return s + "ndvi > 0";
                                    }()}) {
        auto r = timed({"scan", raster_, "-o", out_, "--set", "rule=" + rule}, t);
        expectClean(r, 2, "rule", t, 10);
    }
}

TEST_F(Hostile, ForgedJournalRecordsOnResumeAndMerge) {
    const std::string keep = dir_.file("k.geojson");
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", keep, "-q", "--keep-journal", "--tile-size", "64"}).exitCode, 0);
    const std::string good = readFile(keep + ".journal");
    struct Case {
        const char* what;
        std::string body;
        const char* mentions;
    };
    const std::vector<Case> cases{
        {"missing key", R"({"input":0,"tile":1,"coverage":[0,0,2,2,0,0,0,0]})", "detections is missing"},
        {"absurd coverage", R"({"input":0,"tile":1,"detections":[],"coverage":[1000000000,0,1,1,5]})", "not its own"},
        {"huge cell count", R"({"input":0,"tile":1,"detections":[],"coverage":[0,0,2,2,1,1,1,4000000000]})", "above 1024"},
        {"unknown tile", R"({"input":0,"tile":999999,"detections":[],"coverage":[0,0,1,1,1]})", "tile"},
        {"bad geometry", R"({"input":0,"tile":1,"detections":[{"a":[1,1],"c":"index","s":0.5,"g":[[[1]]],"v":[1,0.1]}],"coverage":[0,0,2,2,0,0,0,0]})", "x, y pairs"},
        // No polygon at all: SIGSEGV on --resume and merge (a hostile-input sweep).
        {"no geometry", R"({"input":0,"tile":1,"detections":[{"a":[1,1],"c":"index","s":0.5,"g":[],"v":[1,0.1]}],"coverage":[0,0,2,2,0,0,0,0]})", "has no polygon"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        const std::string journal = out_ + ".journal";
        // The first record (the header) of the good journal, then the forged one.
        std::ofstream(journal, std::ios::trunc) << good.substr(0, good.find('\n') + 1);
        appendRecord(journal, c.body);
        double t = 0;
        auto r = timed({"scan", raster_, "-o", out_, "-q", "--resume", "--tile-size", "64"}, t);
        expectClean(r, 1, c.mentions, t, 20);
        fs::remove(journal);
    }
    // A genuine tile record twice (a writer that replays): refused, not counted twice.
    {
        SCOPED_TRACE("tile twice");
        const std::size_t first = good.find('\n') + 1, second = good.find('\n', first) + 1;
        ASSERT_GT(second, first) << "the kept journal holds a tile record";
        const std::string journal = out_ + ".journal";
        std::ofstream(journal, std::ios::trunc) << good.substr(0, second) << good.substr(first, second - first);
        double t = 0;
        auto r = timed({"scan", raster_, "-o", out_, "-q", "--resume", "--tile-size", "64"}, t);
        expectClean(r, 1, "lists a tile twice", t, 20);
        fs::remove(journal);
    }
    // The same forged record in a shard's journal fails merge cleanly too.
    const std::string s1 = dir_.file("s1.geojson"), s2 = dir_.file("s2.geojson");
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", s1, "-q", "--shard", "1/2", "--tile-size", "64"}).exitCode, 0);
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", s2, "-q", "--shard", "2/2", "--tile-size", "64"}).exitCode, 0);
    appendRecord(s2 + ".journal", cases[1].body);
    double t = 0;
    auto r = timed({"merge", s1, s2, "-o", out_, "-q"}, t);
    expectClean(r, 1, "s2.geojson", t, 20);
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", s2, "-q", "--shard", "2/2", "--tile-size", "64", "--overwrite"}).exitCode, 0);
    appendRecord(s2 + ".journal", cases[5].body);
    r = timed({"merge", s1, s2, "-o", out_, "-q"}, t);
    expectClean(r, 1, "has no polygon", t, 20);
}

TEST_F(Hostile, RastersThatWouldExhaustMemory) {
    // Declared sizes far beyond --ram are refused before any pixel, naming the size.
    std::ofstream(dir_.file("huge.vrt")) << R"(<VRTDataset rasterXSize="1000000" rasterYSize="1000000">
  <GeoTransform>500000, 10, 0, 2500000, 0, -10</GeoTransform><SRS>EPSG:32645</SRS>
  <VRTRasterBand dataType="UInt16" band="1"/></VRTDataset>)";
    double t = 0;
    auto r = timed({"scan", dir_.file("huge.vrt"), "-o", out_, "--set", "rule=b1 > 0"}, t);
    expectClean(r, 1, "1000000 x 1000000", t, 10);
    EXPECT_NE(r.err.find("--ram"), std::string::npos) << r.err;
    // One tile of 32768 x 32768 pixels that would decode to 4 GiB: refused, not decoded.
    auto mk = runShell("gdal_create -q -of GTiff -outsize 32768 32768 -bands 2 -ot UInt16 -a_srs EPSG:32645 "
                       "-a_ullr 500000 2500000 827680 2172320 -co TILED=YES -co BLOCKXSIZE=32768 -co BLOCKYSIZE=32768 "
                       "-co SPARSE_OK=TRUE -co COMPRESS=DEFLATE '" + dir_.file("bigtile.tif") + "'");
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    r = timed({"scan", dir_.file("bigtile.tif"), "-o", out_, "--set", "rule=b1 > 0", "--ram", "1024"}, t);
    expectClean(r, 1, "blocks of 32768 x 32768", t, 10);
    // A halo of 100 km (the largest max_length_m) on a 40000-pixel raster cannot fit 256 MB: the
    // smallest budget that works is named.
    std::ofstream(dir_.file("wide.vrt")) << R"(<VRTDataset rasterXSize="40000" rasterYSize="40000">
  <GeoTransform>500000, 10, 0, 2500000, 0, -10</GeoTransform><SRS>EPSG:32645</SRS>
  <VRTRasterBand dataType="UInt16" band="1"/><VRTRasterBand dataType="UInt16" band="2"/>
  <VRTRasterBand dataType="UInt16" band="3"/><VRTRasterBand dataType="UInt16" band="4"/></VRTDataset>)";
    r = timed({"scan", dir_.file("wide.vrt"), "--sensor", "sentinel2", "-o", out_, "--set", "max_length_m=100000", "--ram", "256"}, t);
    expectClean(r, 2, "run with --ram", t, 10);
    // The smallest tiles tried already: a smaller --tile-size is no advice (a sweep).
    EXPECT_EQ(r.err.find("smaller --tile-size"), std::string::npos) << r.err;
}

TEST_F(Hostile, BrokenGeoreferencing) {
    double t = 0;
    auto mk = runShell("gdal_translate -q -a_ullr 80 93 81 92 -a_srs EPSG:4326 '" + raster_ + "' '" + dir_.file("lat93.tif") +
                       "' && gdal_translate -q -a_ullr 1e300 1e300 1.0000001e300 0.9999e300 '" + raster_ + "' '" +
                       dir_.file("far.tif") + "'");
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    auto r = timed({"scan", dir_.file("lat93.tif"), "-o", out_}, t);
    expectClean(r, 1, "latitude 93", t, 10);
    r = timed({"scan", dir_.file("far.tif"), "-o", out_}, t);
    expectClean(r, 1, "far.tif", t, 10);
    std::ofstream(dir_.file("self.vrt")) << R"(<VRTDataset rasterXSize="100" rasterYSize="100">
  <GeoTransform>500000, 10, 0, 2500000, 0, -10</GeoTransform><SRS>EPSG:32645</SRS>
  <VRTRasterBand dataType="UInt16" band="1"><SimpleSource><SourceFilename relativeToVRT="1">self.vrt</SourceFilename>
  <SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>)";
    r = timed({"scan", dir_.file("self.vrt"), "-o", out_, "--set", "rule=b1 > 0"}, t);
    expectClean(r, 1, "refers to itself", t, 20);
    // info reads a sample of 8-bit renderings; it said "Too many threads ... dataset pool size"
    // (a sweep).
    std::ofstream(dir_.file("self8.vrt")) << R"(<VRTDataset rasterXSize="100" rasterYSize="100">
  <GeoTransform>500000, 10, 0, 2500000, 0, -10</GeoTransform><SRS>EPSG:32645</SRS>
  <VRTRasterBand dataType="Byte" band="1"><SimpleSource><SourceFilename relativeToVRT="1">self8.vrt</SourceFilename>
  <SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>)";
    r = runRiskmap({"info", dir_.file("self8.vrt")});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("refers to itself"), std::string::npos) << r.err;
}

TEST_F(Hostile, MessagesNameTheCulpritAndStayPrintable) {
    double t = 0;
    expectClean(timed({"scan", raster_, "-o", out_, "--shard", "99999999999999999999/2"}, t), 2, "--shard", t, 5);
    expectClean(timed({"scan", "--band", "red=" + raster_ + ":99999999999999", "-o", out_}, t), 2, "--band", t, 5);
    expectClean(timed({"scan", dir_.file("nope.tif"), "-o", out_}, t), 1, "does not exist", t, 5);
    auto r = timed({"scan", raster_, "-o", out_, "--sett", "rule=ndvi>0"}, t);
    expectClean(r, 2, "did you mean --set?", t, 5);
    EXPECT_NE(r.err.find("riskmap scan --help"), std::string::npos) << r.err;
    expectClean(timed({"scna", raster_}, t), 2, "did you mean 'scan'?", t, 5);
    // Band files of two places: the message names them (a sweep saw only "the band files").
    SceneSpec far;
    far.width = far.height = 64;
    far.originX = 900000;
    const std::string elsewhere = writeScene(dir_.file("elsewhere.tif"), far);
    expectClean(timed({"scan", "--band", "red=" + raster_, "--band", "nir=" + elsewhere, "-o", out_}, t), 1,
                "elsewhere.tif' do not overlap", t, 5);
    // One input of several lacks the detector's bands: the message names it (a sweep).
    const std::string grey = dir_.file("grey.tif");
    {
        GDALAllRegister();
        GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), grey.c_str(), 16, 16, 1, GDT_Byte, nullptr);
        double gt[6] = {500000, 10, 0, 2500000, 0, -10};
        GDALSetGeoTransform(ds, gt);
        GDALSetProjection(ds, "EPSG:32645");
        GDALClose(ds);
    }
    expectClean(timed({"scan", raster_, grey, "--detector", "kiln", "-o", out_}, t), 2, "grey.tif': the kiln detector needs", t, 5);
    // Escape sequences in a file name or a config never reach the terminal raw.
    const std::string evil = dir_.file("evil\x1b]0;pwned\x07.tif");
    r = timed({"scan", evil, "-o", out_}, t);
    expectClean(r, 1, "does not exist", t, 5);
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
    EXPECT_EQ(r.err.find('\x07'), std::string::npos);
    // Positional names always work, also on a raster whose bands a profile named.
    r = runRiskmap({"scan", raster_, "-o", out_, "-q", "--set", "rule=b4 > 0.25"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST_F(Hostile, ConfigsAndTruthFilesBuiltToCrash) {
    double t = 0;
    std::ofstream(dir_.file("deep.json")) << std::string(100000, '[') << std::string(100000, ']');
    expectClean(timed({"scan", raster_, "-o", out_, "--config", dir_.file("deep.json")}, t), 1, "nesting", t, 5);
    std::ofstream(dir_.file("dup.json")) << R"({"detector": "index", "options": {"rule": "ndvi > 0", "rule": "ndvi < 0"}})";
    expectClean(timed({"scan", raster_, "-o", out_, "--config", dir_.file("dup.json")}, t), 1, "given twice", t, 5);
    std::ofstream(dir_.file("type.json")) << R"({"detector": "index", "options": {"min_area_m2": "lots"}})";
    expectClean(timed({"scan", raster_, "-o", out_, "--config", dir_.file("type.json")}, t), 2, "min_area_m2", t, 5);
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", dir_.file("d.geojson"), "-q"}).exitCode, 0);
    std::ofstream(dir_.file("truth.geojson")) << R"({"type":"FeatureCollection","features":[)" << std::string(50000, '[');
    auto r = timed({"eval", "--truth", dir_.file("truth.geojson"), "--detections", dir_.file("d.geojson")}, t);
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_LT(t, 10);
}

// A server that accepts connections and never answers, or trickles a byte now and then: the read
// fails with the URL in the message instead of hanging, and a second SIGTERM always ends it.
TEST_F(Hostile, NetworkThatNeverAnswers) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const std::string url = "/vsicurl/http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/scene.tif";
    // The kernel completes the handshakes; nobody ever reads or answers. Low-speed limits are
    // shortened for the test (riskmap's defaults: 256 B/s over 60 s).
    const auto t0 = std::chrono::steady_clock::now();
    auto r = runShell("GDAL_HTTP_LOW_SPEED_TIME=2 GDAL_HTTP_MAX_RETRY=0 '" RISKMAP_BINARY "' scan '" + url + "' -o '" + out_ + "'");
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    expectClean(r, 1, "127.0.0.1", t, 30);
    // With the defaults it would wait; SIGTERM twice ends it at once.
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::freopen("/dev/null", "w", stderr);
        ::execl(RISKMAP_BINARY, RISKMAP_BINARY, "scan", url.c_str(), "-o", out_.c_str(), nullptr);
        ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ::kill(pid, SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, SIGTERM);
    int status = 0;
    const auto t1 = std::chrono::steady_clock::now();
    ::waitpid(pid, &status, 0);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count(), 5.0);
    EXPECT_FALSE(fileExists(out_));
    ::close(fd);
}

TEST_F(Hostile, ThousandOverlappingScenesMergeOnce) {
    // 1000 copies of one scene (hard links: distinct files, one set of bytes): one object seen
    // 1000 times is one feature with 1000 sources, merged in bounded time.
    std::ofstream list(dir_.file("list.txt"));
    for (int i = 0; i < 1000; ++i) {
        const std::string copy = dir_.file("c" + std::to_string(i) + ".tif");
        fs::create_hard_link(raster_, copy);
        list << copy << "\n";
    }
    list.close();
    double t = 0;
    auto r = timed({"scan", "--input-list", dir_.file("list.txt"), "-o", out_, "-q"}, t);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json fc = parseJsonFile(out_);
    ASSERT_EQ(fc.at("features").size(), 1u);
    EXPECT_EQ(fc.at("features")[0].at("properties").at("sources").size(), 1000u);
    EXPECT_LT(t, 120);
}

// "nan" and "inf" parse as numbers, and range checks let NaN through: --grid nan wrote no grid,
// --scale nan found nothing, --min-score nan was recorded as null (an audit). Every option
// refuses them, naming itself.
TEST_F(Hostile, NonFiniteNumbersInAnyOption) {
    double t = 0;
    const std::string out = out_;
    for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
             {"--grid", "nan"},
             {"--scale", "inf"},
             {"--offset", "-inf"},
             {"--risk-levels", "nan,0.7"},
             {"--publish", dir_.file("out/p.geojson"), "--publish-cell-m", "nan"},
             {"--simplify-m", "NaN"}}) {
        std::vector<std::string> args{"scan", raster_, "-o", out};
        args.insert(args.end(), extra.begin(), extra.end());
        expectClean(timed(args, t), 2, extra[extra.size() - 2], t, 5);
    }
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", dir_.file("d.geojson"), "-q"}).exitCode, 0);
    expectClean(timed({"eval", "--truth", dir_.file("d.geojson"), "--detections",
                       dir_.file("d.geojson"), "--radius-m", "inf"},
                      t),
                2, "--radius-m", t, 5);
    expectClean(timed({"diff", dir_.file("d.geojson"), dir_.file("d.geojson"), "-o", out,
                       "--min-score", "nan"},
                      t),
                2, "--min-score", t, 5);
    expectClean(
        timed({"report", dir_.file("d.geojson"), "-o", dir_.file("out/rep"), "--max-chips", "-1"},
              t),
        2, "--max-chips", t, 5);
}

// Recipes and input lists are small files: a device, a pipe or a folder in their place is refused
// at once (--config /dev/zero grew riskmap to 24 GB in five seconds; a FIFO would wait for ever).
TEST_F(Hostile, ConfigAndInputListThatNeverEnd) {
    double t = 0;
    ASSERT_EQ(::mkfifo(dir_.file("fifo").c_str(), 0600), 0);
    for (const std::string& file :
         {std::string("/dev/zero"), dir_.file("fifo"), dir_.file("out")}) {
        expectClean(timed({"scan", raster_, "-o", out_, "--config", file}, t), 1, file, t, 5);
        expectClean(timed({"scan", "-o", out_, "--input-list", file}, t), 1, file, t, 5);
    }
    // Every other file a user names: a raster, a verifier model, an ONNX card, a truth or
    // context layer (a sweep: the model grew to 24 GB, the others waited for ever).
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", dir_.file("d.geojson"), "-q"}).exitCode, 0);
    for (const std::string& file : {std::string("/dev/zero"), dir_.file("fifo")}) {
        expectClean(timed({"scan", file, "-o", out_}, t), 1, file, t, 5);
        expectClean(timed({"scan", raster_, "-o", out_, "--detector", "kiln", "--sensor", "rgb", "--set", "model=" + file}, t), 2, file, t, 5);
        expectClean(timed({"scan", raster_, "-o", out_, "--detector", "onnx", "--set", "card=" + file}, t), 1, file, t, 5);
        expectClean(timed({"scan", raster_, "-o", out_, "--context", "a=" + file + ":within=100:0.2"}, t), 1, file, t, 5);
        expectClean(timed({"eval", "--truth", file, "--detections", dir_.file("d.geojson")}, t), 1, file, t, 5);
        expectClean(timed({"eval", "--truth", dir_.file("d.geojson"), "--detections", file, "--inputs", raster_}, t), 1, file, t, 5);
    }
}

// A file whose name holds glob characters is that file, not a pattern (scene[1].tif was "no file
// matches"; scene_?.tif scanned every scene_X.tif beside it).
TEST_F(Hostile, FileNamesWithGlobCharacters) {
    fs::copy_file(raster_, dir_.file("scene[1].tif"));
    fs::copy_file(raster_, dir_.file("scene_?.tif"));
    fs::copy_file(raster_, dir_.file("scene_A.tif"));
    for (const std::string name : {"scene[1].tif", "scene_?.tif"}) {
        auto r = runRiskmap(
            {"scan", dir_.file(name), "-o", dir_.file("g.geojson"), "--overwrite", "-q"});
        ASSERT_EQ(r.exitCode, 0) << name << ": " << r.err;
        const Json m = parseJsonFile(dir_.file("g.geojson.manifest.json"));
        ASSERT_EQ(m.at("inputs").size(), 1u) << name;
    }
    // A pattern that names no existing file is still a pattern.
    auto r = runRiskmap(
        {"scan", dir_.file("scene_*.tif"), "-o", dir_.file("g.geojson"), "--overwrite", "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(parseJsonFile(dir_.file("g.geojson.manifest.json")).at("inputs").size(), 2u);
}

// A scan that fails (not one interrupted) left its journal, and the same command was then refused
// as if it had been interrupted (an audit). With no tile finished the journal goes; with some, it
// stays and the message says how to go on.
TEST_F(Hostile, FailedScanSaysWhatItsJournalIsFor) {
    double t = 0;
    const std::string truncated = dir_.file("trunc.tif");
    {
        std::ifstream in(raster_, std::ios::binary);
        std::string head(3000, '\0');
        in.read(&head[0], 3000);
        std::ofstream(truncated, std::ios::binary) << head;
    }
    for (int run = 0; run < 2; ++run) {  // the same command fails the same way twice
        auto r = timed({"scan", truncated, "-o", out_, "-q"}, t);
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_FALSE(fs::exists(out_ + ".journal"));
    }
    // A raster whose last block is damaged: the tiles before it finish, their journal is kept.
    SceneSpec s;
    s.width = s.height = 512;
    s.blockX = s.blockY = 128;
    const std::string damaged = writeScene(dir_.file("damaged.tif"), s);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(damaged.c_str(), GA_ReadOnly);
    ASSERT_NE(ds, nullptr);
    const char* off = GDALGetMetadataItem(GDALGetRasterBand(ds, 1), "BLOCK_OFFSET_3_3", "TIFF");
    ASSERT_NE(off, nullptr);
    const long offset = std::atol(off);
    GDALClose(ds);
    {
        std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(offset);
        const std::string junk(64, '\xff');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto r = timed({"scan", damaged, "-o", out_, "--threads", "1", "--tile-size", "128", "--set",
                    "max_length_m=100"},
                   t);
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("tile(s) finished"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(out_ + ".journal"));
}

// Grid cells are EPSG:6933's, which ends at 86 degrees: near the pole --grid failed at writing with
// "(inf, inf)" (GeoJSON) or wrote cells off the CRS (GeoPackage). Refused before any pixel is read.
TEST_F(Hostile, GridNearThePole) {
    double t = 0;
    SceneSpec s;
    s.width = s.height = 64;
    s.epsg = "EPSG:4326";
    s.originX = 10;
    s.originY = 89.99;
    s.pixel = 0.001;
    const std::string polar = writeScene(dir_.file("polar.tif"), s);
    for (const std::string& out : {out_, dir_.file("out/o.gpkg")}) {
        expectClean(timed({"scan", polar, "-o", out, "--grid", "100"}, t), 2, "--grid", t, 10);
        EXPECT_FALSE(fs::exists(out + ".journal"));
    }
    expectClean(timed({"scan", polar, "-o", out_, "--publish", dir_.file("out/p.geojson")}, t), 2,
                "--publish", t, 10);
    EXPECT_EQ(runRiskmap({"scan", polar, "-o", out_, "-q"}).exitCode,
              0);  // without a grid it scans
    // Cells too large for the map, anywhere: --grid 1e7 (within its range) failed after the
    // whole scan, blaming the input's CRS (a sweep). Refused at once, naming the option.
    for (const auto& e : fs::directory_iterator(dir_.file("out"))) fs::remove_all(e.path());
    expectClean(timed({"scan", raster_, "-o", out_, "--grid", "1e7"}, t), 2, "--grid 1e+07", t, 10);
    EXPECT_FALSE(fs::exists(out_ + ".journal"));
    EXPECT_EQ(runRiskmap({"scan", raster_, "-o", out_, "-q", "--grid", "5e6"}).exitCode, 0);
}

// A sweep of hostile inputs: a lon/lat raster georeferenced at lon 450.5 (90.5 plus a turn) was
// written at lon 450.5 in GeoJSON and GeoPackage; 200 and -200 were folded. Every layer is now
// within [-180, 180], the same as for the raster at 90.5.
TEST_F(Hostile, LongitudesSeveralTurnsOffAreFolded) {
    auto coordinatesOf = [](const std::string& path) {
        const Json j = parseJson(readFile(path), path);
        std::string all;
        for (const auto& f : j["features"]) all += f["geometry"].dump();
        return all;
    };
    std::map<double, std::string> layers;
    for (double x : {90.5, 450.5, -629.5}) {
        SceneSpec s;
        s.width = s.height = 80;
        s.epsg = "EPSG:4326";
        s.originX = x;
        s.originY = 10.0;
        s.pixel = 1e-4;
        s.blobs = {{40, 40, 8, 8, kBareSoil}};
        const std::string in = dir_.file("lon" + std::to_string(static_cast<int>(x)) + ".tif");
        writeScene(in, s);
        const std::string out = dir_.file("out/lon" + std::to_string(static_cast<int>(x)) + ".geojson");
        ASSERT_EQ(runRiskmap({"scan", in, "-o", out, "-q"}).exitCode, 0);
        layers[x] = coordinatesOf(out);
        EXPECT_NE(layers[x].find("90.50"), std::string::npos) << x << ": " << layers[x].substr(0, 200);
    }
    EXPECT_EQ(layers[450.5], layers[90.5]);
    EXPECT_EQ(layers[-629.5], layers[90.5]);
}

// A sweep of hostile inputs: a UTF-8 byte-order mark (Windows editors write one) at the start of
// an --input-list became part of its first path ("input '\ufeff/tmp/...' does not exist").
TEST_F(Hostile, ByteOrderMarkOfAnInputListIsNotAPath) {
    std::ofstream(dir_.file("bom.txt"), std::ios::binary) << "\xEF\xBB\xBF" << raster_ << "\r\n";
    const CliResult r = runRiskmap({"scan", "--input-list", dir_.file("bom.txt"), "-o", out_, "-q"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

// A file name in Latin-1 ("caf\xe9.tif") went into the layer's source and sources byte for byte:
// GeoJSON that is no UTF-8, which strict readers refuse (a sweep: the same for half an 'ñ' in a
// message). Invalid bytes are written as U+FFFD; the layer parses.
TEST_F(Hostile, FileNamesThatAreNotUtf8GiveValidGeoJson) {
    const std::string latin1 = dir_.file("caf\xe9.tif");
    fs::copy_file(raster_, latin1);
    const std::string out = dir_.file("out/latin1.geojson");
    const CliResult r = runRiskmap({"scan", latin1, "-o", out, "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json layer;
    ASSERT_NO_THROW(layer = parseJson(readFile(out), out));
    ASSERT_FALSE(layer.at("features").empty());
    EXPECT_EQ(layer.at("features")[0].at("properties").at("source").get<std::string>(), "caf\xEF\xBF\xBD.tif");
    ASSERT_NO_THROW(parseJson(readFile(out + ".manifest.json"), "manifest"));
}

// One tile failing to read cancelled the others' parallel loops half-way: the kiln detector went
// on with candidates never measured and crashed (SIGSEGV with --explain and two threads, a
// hostile-input sweep). Now the failure is reported, whichever tile is in flight beside it.
TEST_F(Hostile, AFailingTileLeavesTheOthersWhole) {
    const std::string chips = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/chips";
    fs::create_directory(dir_.file("chips"));
    for (const auto& e : fs::directory_iterator(chips)) fs::copy_file(e.path(), dir_.file("chips/" + e.path().filename().string()));
    const std::string cut = dir_.file("chips/manikganj_demo_tile_05.tif");
    fs::resize_file(cut, fs::file_size(cut) / 2);
    for (int run = 0; run < 3; ++run) {
        double t = 0;
        auto r = timed({"scan", dir_.file("chips"), "--detector", "kiln", "-o", out_, "--explain", dir_.file("out/x.geojson"),
                        "--threads", "2", "--overwrite", "-q"},
                       t);
        EXPECT_EQ(r.exitCode, 1) << "run " << run << ": " << r.err;
        EXPECT_NE(r.err.find("manikganj_demo_tile_05.tif"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(out_));
        EXPECT_FALSE(fs::exists(dir_.file("out/x.geojson")));
    }
}

// A file of someone else's under OUT.journal was deleted by --resume as a journal "with no
// readable header", and called "the journal of an interrupted scan" without it (a sweep). It is
// kept and named; an empty journal (a run killed before its header) still starts afresh.
TEST_F(Hostile, AFileThatIsNoJournalIsNeverDeleted) {
    const std::string journal = out_ + ".journal";
    std::ofstream(journal) << "my notes\n";
    double t = 0;
    expectClean(timed({"scan", raster_, "-o", out_, "--resume"}, t), 2, "is not a riskmap journal", t, 20);
    expectClean(timed({"scan", raster_, "-o", out_}, t), 2, "is not a riskmap journal", t, 20);
    EXPECT_EQ(readFile(journal), "my notes\n");
    std::ofstream(journal, std::ios::trunc).close();
    auto r = runRiskmap({"scan", raster_, "-o", out_, "--resume", "-q"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(fs::exists(out_));
}

// Results printed to a full disk were lost with exit 0 (eval --json, info --json, detectors
// --json > /dev/full: a hostile-input sweep). A failed write to standard output fails the run.
TEST_F(Hostile, PrintingToAFullDiskFails) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
    const std::string bin = "'" RISKMAP_BINARY "'";
    for (const std::string& cmd : {bin + " detectors --json", bin + " info --json '" + raster_ + "'"}) {
        const CliResult r = runShell(cmd + " > /dev/full");
        EXPECT_EQ(r.exitCode, 1) << cmd << ": " << r.err;
        EXPECT_NE(r.err.find("writing to standard output failed"), std::string::npos) << r.err;
    }
    EXPECT_EQ(runShell(bin + " detectors --json > /dev/null").exitCode, 0);
}

// Three small things a sweep found: --json with --markdown printed the markdown alone; a band
// given twice to --stac-asset kept the last silently; info --json wrote a NaN nodata as null,
// which reads as "no nodata".
TEST_F(Hostile, ConflictingOptionsAndNanNodataAreSaid) {
    double t = 0;
    expectClean(timed({"detectors", "--json", "--markdown"}, t), 2, "--json excludes --markdown", t, 5);
    expectClean(timed({"scan", raster_, "-o", out_, "--stac-asset", "red=B04", "--stac-asset", "red=B03"}, t), 2,
                "gives band 'red' twice", t, 5);
    // Seeds beyond 64 bits were clamped to the largest: two seeds, one model (a sweep).
    for (const char* seed : {"18446744073709551616", "1e23", "-1"}) {
        expectClean(timed({"eval", "--truth", raster_, "--detections", raster_, "--seed", seed}, t), 2, "a seed is a whole number", t, 5);
        expectClean(timed({"train", "--images", raster_, "--labels", raster_, "-o", dir_.file("out/m.yml"), "--seed", seed}, t), 2,
                    "a seed is a whole number", t, 5);
    }
    const std::string nan = dir_.file("nan.tif");
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), nan.c_str(), 16, 16, 1, GDT_Float32, nullptr);
    ASSERT_NE(ds, nullptr);
    double gt[6] = {500000, 10, 0, 2500000, 0, -10};
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, "EPSG:32645");
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), std::nan(""));
    GDALClose(ds);
    const CliResult r = runRiskmap({"info", "--json", nan});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("\"nodata\": \"nan\""), std::string::npos) << r.out;
}
