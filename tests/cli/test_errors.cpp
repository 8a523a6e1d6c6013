// Every error path: the right exit code, one clear line on stderr naming the culprit, and no
// output (nor manifest, nor temporary) left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

struct ErrorCase {
    const char* name;
    int exitCode;
    const char* mentions;  // stderr must contain this
};

class CliErrors : public ::testing::Test {
protected:
    void SetUp() override {
        SceneSpec s;
        s.width = s.height = 120;
        s.blobs = {{60, 60, 8, 8, kBareSoil}};
        raster_ = writeScene(dir_.file("ok.tif"), s);
        out_ = dir_.file("out.geojson");
    }
    void expectFailure(const std::vector<std::string>& args, int code,
                       const std::string& mentions) {
        auto r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, code) << r.err;
        EXPECT_NE(r.err.find(mentions), std::string::npos) << "stderr: " << r.err;
        // One line, prefixed, no stack dump.
        EXPECT_EQ(r.err.rfind("riskmap: ", 0), 0u) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(fileExists(out_)) << "output left behind";
        EXPECT_FALSE(fileExists(out_ + ".manifest.json")) << "manifest left behind";
        EXPECT_TRUE(filesContaining(dir_.path(), ".riskmap-staging-").empty())
            << "temporary left behind";
    }
    TempDir dir_;
    std::string raster_;
    std::string out_;
};

}  // namespace

TEST_F(CliErrors, MissingInputFile) {
    expectFailure({"scan", dir_.file("nope.tif"), "-o", out_}, 1, "nope.tif");
}

// Bug: the hint about relative paths came with absolute ones too, such as a --time-series list's
// inputs, which are resolved from the list's own folder: it sent users to the wrong folder.
TEST_F(CliErrors, MissingInputHintsAtTheCurrentFolderOnlyForRelativePaths) {
    auto r = runRiskmap({"scan", dir_.file("nope.tif"), "-o", out_});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(r.err.find("relative paths"), std::string::npos) << r.err;
    r = runRiskmap({"scan", "nope.tif", "-o", out_}, dir_.path());
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("relative paths start from the current folder"), std::string::npos)
        << r.err;
}

TEST_F(CliErrors, CorruptRaster) {
    std::string bad = dir_.file("bad.tif");
    std::ofstream(bad) << "II*\0this is not a tiff";
    expectFailure({"scan", bad, "-o", out_}, 1, "bad.tif");
}

// An empty file is named as such; info's advice for an unreadable raster was to run info.
TEST_F(CliErrors, EmptyRasterIsNamedEmpty) {
    const std::string empty = dir_.file("empty.tif");
    std::ofstream{empty};
    expectFailure({"scan", empty, "-o", out_}, 1, "raster '" + empty + "' is empty (0 bytes)");
    expectFailure({"info", empty}, 1, "is empty (0 bytes): copy or download it again");
    std::ofstream(dir_.file("junk.tif")) << "not a raster";
    auto r = runRiskmap({"info", dir_.file("junk.tif")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.err.find("riskmap info"), std::string::npos) << r.err;
}

TEST_F(CliErrors, TruncatedRasterFailsWhileReading) {
    SceneSpec s;
    s.width = s.height = 600;
    s.compress = "NONE";
    std::string path = writeScene(dir_.file("trunc.tif"), s);
    ::truncate(path.c_str(), 600 * 600);  // keep the header, lose most pixels
    expectFailure({"scan", path, "-o", out_, "-q"}, 1, "trunc.tif");
}

// Bug: --risk-levels -1,2 was taken, and every object came out medium.
TEST_F(CliErrors, RiskLevelsOutsideZeroToOne) {
    expectFailure({"scan", raster_, "-o", out_, "--risk-levels", "-1,2"}, 2, "between 0 and 1");
    expectFailure({"scan", raster_, "-o", out_, "--risk-levels", "0.4,1.5"}, 2, "--risk-levels");
}

TEST_F(CliErrors, UnknownDetector) {
    expectFailure({"scan", raster_, "-o", out_, "--detector", "nope"}, 2, "nope");
}

TEST_F(CliErrors, UnknownOption) {
    expectFailure({"scan", raster_, "-o", out_, "--set", "bogus=1"}, 2, "bogus");
}

TEST_F(CliErrors, BadOptionValue) {
    expectFailure({"scan", raster_, "-o", out_, "--set", "min_area_m2=lots"}, 2, "min_area_m2");
}

TEST_F(CliErrors, BadRule) {
    expectFailure({"scan", raster_, "-o", out_, "--set", "rule=ndvi <"}, 2, "rule");
    // A character outside ASCII was cut in half in the message, and the --json-progress error
    // event was no JSON (a sweep of every option): the whole character, in valid JSON.
    expectFailure({"scan", raster_, "-o", out_, "--set", "rule=\u00f1 > 0"}, 2, "unexpected '\u00f1'");
    expectFailure({"scan", raster_, "-o", out_, "--set", "rule=ndvi \u2264 0.2"}, 2, "unexpected '\u2264'");
    const CliResult r = runRiskmap({"scan", raster_, "-o", out_, "--json-progress", "--set", "rule=\u00f1 > 0"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    const Json event = parseJson(r.err.substr(0, r.err.find('\n')), "stderr");
    EXPECT_NE(event.at("message").get<std::string>().find("unexpected '\u00f1'"), std::string::npos) << r.err;
}

TEST_F(CliErrors, RuleNeedsAMissingBand) {
    expectFailure({"scan", raster_, "-o", out_, "--set", "rule=mndwi < 0"}, 2, "swir1");
}

TEST_F(CliErrors, BadConfigFile) {
    std::string cfg = dir_.file("recipe.json");
    std::ofstream(cfg) << "{\"detector\": \"index\", \"options\": {\"min_area_m2\": }";
    expectFailure({"scan", raster_, "-o", out_, "--config", cfg}, 1, "recipe.json");
    std::ofstream(cfg, std::ios::trunc)
        << "{\"detector\": \"index\", \"options\": {\"min_area\": 5}}";
    expectFailure({"scan", raster_, "-o", out_, "--config", cfg}, 2, "min_area");
}

TEST_F(CliErrors, UnknownOutputExtension) {
    expectFailure({"scan", raster_, "-o", dir_.file("out.shp")}, 2, ".geojson");
}

TEST_F(CliErrors, OutCrsWithGeoJson) {
    expectFailure({"scan", raster_, "-o", out_, "--out-crs", "EPSG:3857"}, 2, "RFC 7946");
    // GeoJSON's own CRS, in either axis order, is no change: accepted, and the same layer
    // (a format sweep found it refused).
    const std::string plain = dir_.file("plain.geojson");
    ASSERT_EQ(runRiskmap({"scan", raster_, "-o", plain, "-q"}).exitCode, 0);
    for (const char* crs : {"EPSG:4326", "OGC:CRS84"}) {
        const std::string out = dir_.file(std::string("wgs84-") + (crs[0] == 'E' ? "epsg" : "ogc") + ".geojson");
        auto r = runRiskmap({"scan", raster_, "-o", out, "-q", "--out-crs", crs});
        ASSERT_EQ(r.exitCode, 0) << crs << ": " << r.err;
        EXPECT_EQ(parseJsonFile(out).at("features"), parseJsonFile(plain).at("features")) << crs;
    }
}

TEST_F(CliErrors, MissingOutputFolder) {
    auto r = runRiskmap({"scan", raster_, "-o", dir_.file("no/such/dir/out.geojson")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("no/such/dir"), std::string::npos);
}

TEST_F(CliErrors, ExistingOutputNeedsOverwrite) {
    std::ofstream(out_) << "keep me";
    auto r = runRiskmap({"scan", raster_, "-o", out_});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos);
    EXPECT_EQ(readFile(out_), "keep me");
}

TEST_F(CliErrors, MissingRequiredOutput) {
    auto r = runRiskmap({"scan", raster_});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--output"), std::string::npos);
}

TEST_F(CliErrors, BadTileSizeAndThreads) {
    expectFailure({"scan", raster_, "-o", out_, "--tile-size", "4"}, 2, "tile-size");
    expectFailure({"scan", raster_, "-o", out_, "--threads", "-2"}, 2, "threads");
}

TEST_F(CliErrors, BadSensorAndBandSpec) {
    expectFailure({"scan", raster_, "-o", out_, "--sensor", "spot"}, 2, "spot");
    expectFailure({"scan", "-o", out_, "--band", "red"}, 2, "NAME=PATH");
    expectFailure({"scan", "-o", out_, "--band", "red=" + raster_ + ":9"}, 2, "band");
}

TEST_F(CliErrors, NoInputAtAll) {
    expectFailure({"scan", "-o", out_}, 2, "input");
}

TEST_F(CliErrors, BadFileMode) {
    expectFailure({"scan", raster_, "-o", out_, "--file-mode", "rw"}, 2, "file-mode");
}

// A typo in a required option was reported as the option missing ("--truth is required"), with no
// word of the typo (an audit): the typo and its nearest option come first.
TEST_F(CliErrors, TypoInARequiredOptionIsNamed) {
    expectFailure({"eval", "--truht", "a.geojson", "--detections", "b.geojson"}, 2,
                  "unknown option '--truht' (did you mean --truth?)");
    expectFailure({"scan", raster_, "--outptu", out_}, 2,
                  "unknown option '--outptu' (did you mean --output?)");
    expectFailure({"--verison"}, 2, "unknown option '--verison' (did you mean --version?)");
    expectFailure({"--versoin", "detectors"}, 2, "(did you mean --version?)");
}

// Under --json-progress every stderr line is JSON: errors and warnings are events too (they were
// plain text among the events, and an orchestrator missed the error).
TEST_F(CliErrors, JsonProgressReportsErrorsAndWarningsAsEvents) {
    auto lines = [](const std::string& err) {
        std::vector<Json> out;
        std::istringstream in(err);
        for (std::string line; std::getline(in, line);) {
            EXPECT_NO_THROW(out.push_back(parseJson(line, "stderr"))) << line;
        }
        return out;
    };
    auto r = runRiskmap({"scan", dir_.file("nope.tif"), "-o", out_, "--json-progress"});
    EXPECT_EQ(r.exitCode, 1);
    auto events = lines(r.err);
    ASSERT_EQ(events.size(), 1u) << r.err;
    EXPECT_EQ(events[0].at("event"), "error");
    EXPECT_EQ(events[0].at("exit_code"), 1);
    EXPECT_NE(events[0].at("message").get<std::string>().find("nope.tif"), std::string::npos);
    r = runRiskmap({"scan", raster_, "-o", out_, "--json-progress", "--detector", "clearing"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    events = lines(r.err);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().at("event"), "warning") << r.err;
    EXPECT_EQ(events.back().at("event"), "written") << r.err;
    r = runRiskmap({"scan", "--outptu", out_, "--json-progress"});
    EXPECT_EQ(r.exitCode, 2);
    events = lines(r.err);
    ASSERT_EQ(events.size(), 1u) << r.err;
    EXPECT_EQ(events[0].at("exit_code"), 2);
}
