// `scan --detector onnx` end to end on the tiny models' scenes (tests/models): every object found
// once, none twice on the joins of the model windows or the tiles, byte-identical output for any
// tile size and thread count, scan --explain, and a model that does not fit its card refused
// before any pixel is read.
#include <gtest/gtest.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <ogr_geometry.h>

#include <cmath>
#include <fstream>
#include <map>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kModels = std::string(RISKMAP_SOURCE_DIR) + "/tests/models/";

CliResult scan(const std::string& name, const std::string& raster, const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"scan", raster, "--detector", "onnx", "--set", "card=" + kModels + name + ".card.json",
                                  "-o", out, "-q", "--overwrite"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runRiskmap(args);
}

OGRPolygon ring(const std::vector<std::pair<double, double>>& pts) {
    OGRLinearRing r;
    for (const auto& p : pts) r.addPoint(p.first, p.second);
    r.closeRings();
    OGRPolygon poly;
    poly.addRing(&r);
    return poly;
}

// A truth box (cx, cy, w, h, theta) in scene pixels as a polygon in map coordinates.
OGRPolygon truthPolygon(const Json& t, const Json& gt) {
    const double cx = t[0], cy = t[1], w = t[2], h = t[3], a = t[4];
    std::vector<std::pair<double, double>> pts;
    for (const auto& [u, v] : std::vector<std::pair<double, double>>{{1, 1}, {1, -1}, {-1, -1}, {-1, 1}}) {
        const double x = cx + u * w / 2 * std::cos(a) - v * h / 2 * std::sin(a);
        const double y = cy + u * w / 2 * std::sin(a) + v * h / 2 * std::cos(a);
        pts.emplace_back(gt[0].get<double>() + x * gt[1].get<double>(), gt[3].get<double>() + y * gt[5].get<double>());
    }
    return ring(pts);
}

double iou(const OGRPolygon& a, const OGRPolygon& b) {
    std::unique_ptr<OGRGeometry> inter(a.Intersection(&b));
    const double i = inter ? OGR_G_Area(OGRGeometry::ToHandle(inter.get())) : 0;  // any geometry type
    return i / (a.get_Area() + b.get_Area() - i);
}

OGRPolygon polygonOf(const FeatureDump& f) {
    std::vector<std::pair<double, double>> pts;
    for (std::size_t k = 0; k + 1 < f.coords.at(0).size(); k += 2) pts.emplace_back(f.coords[0][k], f.coords[0][k + 1]);
    return ring(pts);
}

std::string classOf(const FeatureDump& f) {
    for (const auto& t : f.text)
        if (t.first == "class") return t.second;
    return "";
}

struct Match {
    int tp = 0, fp = 0, fn = 0;
    double minIou = 1;
};

// Detections (a layer in the raster's CRS) matched one to one to the scene's truth: same class,
// IoU >= 0.5.
Match matchTruth(const std::string& name, const std::string& layer) {
    const Json exp = parseJsonFile(kModels + name + ".expected.json");
    const Json classes = parseJsonFile(kModels + name + ".card.json").at("classes");
    const LayerDump dets = readLayer(layer);
    std::vector<bool> used(dets.features.size(), false);
    Match m;
    for (const auto& t : exp.at("scene").at("truth")) {
        const OGRPolygon want = truthPolygon(t.at("xywhr"), exp.at("geotransform"));
        int best = -1;
        double bestIou = 0.5;
        for (std::size_t i = 0; i < dets.features.size(); ++i) {
            const auto& f = dets.features[i];
            if (used[i] || classOf(f) != classes[t.at("class").get<int>()].get<std::string>()) continue;
            const double v = iou(polygonOf(f), want);
            if (v >= bestIou) {
                bestIou = v;
                best = static_cast<int>(i);
            }
        }
        if (best < 0) {
            ++m.fn;
            continue;
        }
        used[static_cast<std::size_t>(best)] = true;
        ++m.tp;
        m.minIou = std::min(m.minIou, bestIou);
    }
    m.fp = static_cast<int>(std::count(used.begin(), used.end(), false));
    return m;
}

class OnnxScene : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(OnnxScene, FindsEveryObjectOnceByteIdenticalForAnyTiling) {
    const std::string name = GetParam(), scene = kModels + name + ".scene.tif";
    TempDir dir;
    auto r = scan(name, scene, dir.file("out.gpkg"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Match m = matchTruth(name, dir.file("out.gpkg"));
    EXPECT_EQ(m.tp, 9) << name;
    EXPECT_EQ(m.fp, 0) << name << ": duplicates on the joins or false alarms";
    EXPECT_GT(m.minIou, 0.7) << name;
    std::string first;
    for (const auto& [tile, threads] : std::vector<std::pair<std::string, std::string>>{
             {"4096", "1"}, {"37", "2"}, {"64", "1"}, {"100", "2"}, {"128", "2"}, {"200", "1"}}) {
        r = scan(name, scene, dir.file("t.geojson"), {"--tile-size", tile, "--threads", threads});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const std::string out = readFile(dir.file("t.geojson"));
        if (first.empty()) first = out;
        EXPECT_EQ(out, first) << name << ": output differs at --tile-size " << tile << " --threads " << threads;
    }
    // The negative control: windows without overlap split or miss the objects on their joins.
    r = scan(name, scene, dir.file("n.gpkg"), {"--set", "overlap_px=0"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_LT(matchTruth(name, dir.file("n.gpkg")).tp, 9) << name;
}

INSTANTIATE_TEST_SUITE_P(Heads, OnnxScene, ::testing::Values("yolov5_tiny", "yolov8_tiny", "yolov8_obb_tiny"));

namespace {

// A window of a scene (gdal_translate -srcwin), to move the objects against the window grid.
std::string crop(const TempDir& dir, const std::string& scene, std::vector<std::string> srcwin, const std::string& name) {
    std::vector<const char*> argv{"-srcwin"};
    for (const auto& a : srcwin) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    GDALAllRegister();
    GDALTranslateOptions* opts = GDALTranslateOptionsNew(const_cast<char**>(argv.data()), nullptr);
    GDALDatasetH src = GDALOpen(scene.c_str(), GA_ReadOnly);
    GDALClose(GDALTranslate(dir.file(name).c_str(), src, opts, nullptr));
    GDALClose(src);
    GDALTranslateOptionsFree(opts);
    return dir.file(name);
}

}  // namespace

TEST(OnnxCli, AnObjectOnACoreJoinSeenByTwoWindowsIsReportedOnce) {
    // Cropped so, the kiln at scene (257.7, 192.1) lies where two windows' cores meet, and each
    // window keeps its own box for it: only the NMS across windows leaves one.
    TempDir dir;
    const std::string in = crop(dir, kModels + "yolov5_tiny.scene.tif", {"28", "14", "300", "200"}, "crop.tif");
    auto r = scan("yolov5_tiny", in, dir.file("crop.gpkg"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // 5 objects lie wholly inside, 2 are cut by the crop's edges (one of them still found).
    EXPECT_EQ(matchTruth("yolov5_tiny", dir.file("crop.gpkg")).tp, 5);
    const LayerDump dets = readLayer(dir.file("crop.gpkg"));
    EXPECT_EQ(dets.features.size(), 6u);
    for (std::size_t i = 0; i < dets.features.size(); ++i)
        for (std::size_t j = i + 1; j < dets.features.size(); ++j) {
            if (classOf(dets.features[i]) != classOf(dets.features[j])) continue;
            EXPECT_LT(iou(polygonOf(dets.features[i]), polygonOf(dets.features[j])), 0.45) << "a duplicate on a window join";
        }
    ASSERT_EQ(scan("yolov5_tiny", in, dir.file("a.geojson"), {"--tile-size", "77"}).exitCode, 0);
    ASSERT_EQ(scan("yolov5_tiny", in, dir.file("b.geojson"), {"--tile-size", "4096"}).exitCode, 0);
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("b.geojson")));
}

TEST(OnnxCli, ResampledToTheModelGsdWhateverTheTiling) {
    // The OBB scene at 5 m (each pixel split in four): area averaging gives the model its 10 m
    // pixels back.
    TempDir dir;
    const std::string fine = dir.file("fine.tif");
    const char* argv[] = {"-tr", "5", "5", "-r", "near", nullptr};
    GDALTranslateOptions* opts = GDALTranslateOptionsNew(const_cast<char**>(argv), nullptr);
    GDALAllRegister();
    GDALDatasetH src = GDALOpen((kModels + "yolov8_obb_tiny.scene.tif").c_str(), GA_ReadOnly);
    GDALClose(GDALTranslate(fine.c_str(), src, opts, nullptr));
    GDALClose(src);
    GDALTranslateOptionsFree(opts);
    auto r = scan("yolov8_obb_tiny", fine, dir.file("fine.gpkg"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("resampled"), std::string::npos) << "a warning says so: " << r.err;
    const Match m = matchTruth("yolov8_obb_tiny", dir.file("fine.gpkg"));
    EXPECT_EQ(m.tp, 9);
    EXPECT_EQ(m.fp, 0);
    ASSERT_EQ(scan("yolov8_obb_tiny", fine, dir.file("a.geojson"), {"--tile-size", "100"}).exitCode, 0);
    ASSERT_EQ(scan("yolov8_obb_tiny", fine, dir.file("b.geojson"), {"--tile-size", "333", "--threads", "1"}).exitCode, 0);
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("b.geojson")));
}

TEST(OnnxCli, SegmentRegionsWhateverTheTiling) {
    TempDir dir;
    const std::string scene = kModels + "seg_tiny.scene.tif";
    auto r = scan("seg_tiny", scene, dir.file("seg.gpkg"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, double> pixels;
    for (const auto& f : readLayer(dir.file("seg.gpkg")).features) {
        OGRPolygon p;
        std::vector<std::pair<double, double>> pts;
        for (std::size_t k = 0; k + 1 < f.coords.at(0).size(); k += 2) pts.emplace_back(f.coords[0][k], f.coords[0][k + 1]);
        double holes = 0;
        for (std::size_t h = 1; h < f.coords.size(); ++h) {
            std::vector<std::pair<double, double>> hp;
            for (std::size_t k = 0; k + 1 < f.coords[h].size(); k += 2) hp.emplace_back(f.coords[h][k], f.coords[h][k + 1]);
            holes += ring(hp).get_Area();
        }
        for (const auto& t : f.text)
            if (t.first == "class") pixels[t.second] += (ring(pts).get_Area() - holes) / 100;
    }
    // One pass over the whole scene (the reference) gives 420 bare and 5465 water pixels.
    const Json whole = parseJsonFile(kModels + "seg_tiny.expected.json").at("scene").at("whole_scene_class_pixels");
    EXPECT_NEAR(pixels["bare"], whole.at("bare").get<double>(), 5);
    EXPECT_NEAR(pixels["water"], whole.at("water").get<double>(), 20);
    EXPECT_EQ(pixels.count("background"), 0u);
    ASSERT_EQ(scan("seg_tiny", scene, dir.file("a.geojson"), {"--tile-size", "4096"}).exitCode, 0);
    ASSERT_EQ(scan("seg_tiny", scene, dir.file("b.geojson"), {"--tile-size", "40", "--threads", "2"}).exitCode, 0);
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("b.geojson")));
}

TEST(OnnxCli, ExplainGivesSuppressedBoxesAndNearMisses) {
    TempDir dir;
    const std::string scene = kModels + "yolov5_tiny.scene.tif";
    auto r = scan("yolov5_tiny", scene, dir.file("a.geojson"), {"--explain", dir.file("a.why.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, int> gates;
    const Json why = parseJsonFile(dir.file("a.why.geojson"));
    for (const auto& f : why.at("features")) {
        const Json& p = f.at("properties");
        const std::string gate = p.at("rejected_by");
        gates[gate]++;
        const double value = p.at("value"), limit = p.at("limit");
        if (gate == "nms") {
            EXPECT_GT(value, limit);
            EXPECT_EQ(limit, 0.45);
        } else if (gate == "score_threshold") {
            EXPECT_LE(value, limit);
            EXPECT_GT(value, 0.05);
            EXPECT_EQ(limit, 0.25);
        } else {
            ADD_FAILURE() << "unexpected gate " << gate;
        }
    }
    EXPECT_GE(gates["nms"], 9) << "each object is seen by several windows";
    EXPECT_GE(gates["score_threshold"], 1);
    // --explain leaves the detections alone, and is itself the same for any tiling.
    ASSERT_EQ(scan("yolov5_tiny", scene, dir.file("b.geojson"), {"--tile-size", "50", "--explain", dir.file("b.why.geojson")}).exitCode, 0);
    ASSERT_EQ(scan("yolov5_tiny", scene, dir.file("c.geojson")).exitCode, 0);
    EXPECT_EQ(readFile(dir.file("a.why.geojson")), readFile(dir.file("b.why.geojson")));
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("c.geojson")));
    EXPECT_EQ(readFile(dir.file("a.geojson")), readFile(dir.file("b.geojson")));
}

TEST(OnnxCli, ExplainGivesSegmentRegionsUnderTheAreaGate) {
    TempDir dir;
    const std::string scene = kModels + "seg_tiny.scene.tif";
    const std::vector<std::string> gate{"--set", "min_area_m2=3000"};
    auto extra = gate;
    extra.insert(extra.end(), {"--explain", dir.file("a.why.geojson")});
    ASSERT_EQ(scan("seg_tiny", scene, dir.file("a.geojson"), extra).exitCode, 0);
    const Json why = parseJsonFile(dir.file("a.why.geojson")), kept = parseJsonFile(dir.file("a.geojson"));
    ASSERT_FALSE(why.at("features").empty());
    for (const auto& f : why.at("features")) {
        const Json& p = f.at("properties");
        EXPECT_EQ(p.at("rejected_by"), "min_area_m2");
        EXPECT_LT(p.at("value").get<double>(), 3000);
        EXPECT_NEAR(p.at("value").get<double>(), p.at("area_m2").get<double>(), 1);
    }
    for (const auto& f : kept.at("features")) EXPECT_GE(f.at("properties").at("area_m2").get<double>(), 3000);
    extra = gate;
    extra.insert(extra.end(), {"--tile-size", "40", "--explain", dir.file("b.why.geojson")});
    ASSERT_EQ(scan("seg_tiny", scene, dir.file("b.geojson"), extra).exitCode, 0);
    EXPECT_EQ(readFile(dir.file("a.why.geojson")), readFile(dir.file("b.why.geojson")));
}

TEST(OnnxCli, AModelThatDoesNotFitItsCardFailsBeforeAnyPixelIsRead) {
    TempDir dir;
    // The yolov5 card pointing at the yolov8 model.
    Json card = parseJsonFile(kModels + "yolov5_tiny.card.json");
    card["model"] = kModels + "yolov8_tiny.onnx";
    card.erase("sha256");
    std::ofstream(dir.file("bad.card.json")) << dumpJson(card, 1);
    const std::vector<std::string> base{"scan", "--detector", "onnx", "--set", "card=" + dir.file("bad.card.json"), "-q"};
    auto args = base;
    args.insert(args.end(), {kModels + "yolov5_tiny.scene.tif", "-o", dir.file("out.geojson")});
    auto r = runRiskmap(args);
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("does not fit its card '" + dir.file("bad.card.json") + "'"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_FALSE(fileExists(dir.file("out.geojson")));
    // Checked before the inputs are even opened: an input that does not exist is not reached.
    args = base;
    args.insert(args.end(), {dir.file("missing.tif"), "-o", dir.file("out.geojson")});
    r = runRiskmap(args);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("does not fit its card"), std::string::npos) << r.err;
}

TEST(OnnxCli, UsageErrorsExitTwo) {
    TempDir dir;
    const std::string rgb = kModels + "yolov5_tiny.scene.tif";
    auto r = scan("seg_tiny", rgb, dir.file("o.geojson"));
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("needs band(s) nir, swir1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--band NAME=PATH"), std::string::npos) << r.err;
    r = runRiskmap({"scan", rgb, "--detector", "onnx", "-o", dir.file("o.geojson"), "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--set card="), std::string::npos) << r.err;
    r = scan("yolov5_tiny", rgb, dir.file("o.geojson"), {"--set", "classes=boat"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    r = scan("yolov5_tiny", rgb, dir.file("o.geojson"), {"--set", "nms_iou=1.5"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    // detectors --json gave score_threshold's range as 0 to 1 and a scan then refused 1 ("must be
    // below 1"): the range it gives is the one it keeps (a sweep of every option).
    r = scan("yolov5_tiny", rgb, dir.file("o.geojson"), {"--set", "score_threshold=1"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("0.9999"), std::string::npos) << r.err;
    r = scan("yolov5_tiny", rgb, dir.file("o.geojson"), {"--set", "score_threshold=0.9999"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

// Cards an audit wrote: a gsd_m of 1e-6 m (nothing found) or 0.05 m (a scan without end) on 10 m
// pixels, a negative std (112 features of noise), a class named twice. Each is refused.
TEST(OnnxCli, ImplausibleCardsAreRefused) {
    TempDir dir;
    const std::string scene = kModels + "yolov8_obb_tiny.scene.tif";
    const Json base = parseJsonFile(kModels + "yolov8_obb_tiny.card.json");
    auto run = [&](const Json& card) {
        Json c = card;
        c["model"] = kModels + "yolov8_obb_tiny.onnx";
        std::ofstream(dir.file("c.card.json"), std::ios::trunc) << dumpJson(c, 1);
        return runRiskmap({"scan", scene, "--detector", "onnx", "--set",
                           "card=" + dir.file("c.card.json"), "-o", dir.file("o.geojson"), "-q"});
    };
    for (const double gsd : {1e-6, 0.05, 5000.0}) {
        Json c = base;
        c["gsd_m"] = gsd;
        const CliResult r = run(c);
        EXPECT_EQ(r.exitCode, 2) << gsd << r.err;
        EXPECT_NE(r.err.find("resamples at most"), std::string::npos) << r.err;
    }
    Json c = base;
    c["input"]["normalisation"]["std"][1] = -0.05;
    CliResult r = run(c);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("must be above 0"), std::string::npos) << r.err;
    c = base;
    c["classes"] = Json::array({"kiln", "kiln"});
    r = run(c);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("twice"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("o.geojson")));
}

TEST(OnnxCli, ClassFilterKeepsOnlyTheNamedClasses) {
    TempDir dir;
    ASSERT_EQ(scan("yolov8_obb_tiny", kModels + "yolov8_obb_tiny.scene.tif", dir.file("k.geojson"), {"--set", "classes=kiln"}).exitCode, 0);
    const Json fc = parseJsonFile(dir.file("k.geojson"));
    EXPECT_EQ(fc.at("features").size(), 5u);  // the scene's 5 kilns, no yards
    for (const auto& f : fc.at("features")) EXPECT_EQ(f.at("properties").at("class"), "kiln");
    // And they are the kilns, where the truth has them (IoU >= 0.5): the 4 yards go unmatched,
    // nothing else is reported.
    ASSERT_EQ(scan("yolov8_obb_tiny", kModels + "yolov8_obb_tiny.scene.tif", dir.file("k.gpkg"), {"--set", "classes=kiln"}).exitCode, 0);
    const Match m = matchTruth("yolov8_obb_tiny", dir.file("k.gpkg"));
    EXPECT_EQ(m.tp, 5);
    EXPECT_EQ(m.fn, 4);
    EXPECT_EQ(m.fp, 0);
}

// A network's activations grow with its input: seg_tiny at 1024 x 1024 takes ~400 MB a net
// (OpenCV estimates 624 MB). An audit's 4096 px card peaked at 6.1 GB under --ram 1024, most of
// it in the dry run before the budget was even checked. The nets now come out of --ram first:
// too small a budget is refused before the dry run, naming one that holds, and that one holds.
TEST(OnnxCli, ALargeModelInputKeepsWithinRamOrIsRefusedBeforeItRuns) {
    TempDir dir;
    Json card = parseJsonFile(kModels + "seg_tiny.card.json");
    card["model"] = kModels + "seg_tiny.onnx";
    card["input"]["width"] = card["input"]["height"] = 1024;
    card["output"]["shape"] = Json::array({1, 3, 1024, 1024});
    std::ofstream(dir.file("big.card.json")) << dumpJson(card, 1);
    auto run = [&](const std::string& ram) {
        return runRiskmap({"scan", kModels + "seg_tiny.scene.tif", "--detector", "onnx", "--set",
                           "card=" + dir.file("big.card.json"), "--set", "max_length_m=300", "-o",
                           dir.file("o.geojson"), "-q", "--overwrite", "--ram", ram});
    };
    CliResult r = run("512");
    ASSERT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("the detector holds whatever the tile"), std::string::npos) << r.err;
    const std::size_t at = r.err.find("run with --ram ");
    ASSERT_NE(at, std::string::npos) << r.err;
    const std::string named = std::to_string(std::stoi(r.err.substr(at + 14)));
    EXPECT_FALSE(fileExists(dir.file("o.geojson")));
    if (kPeakRssMeaningful) {
        EXPECT_LT(r.peakRssMB, 200) << "the net ran before the refusal";
    }
    r = run(named);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    if (kPeakRssMeaningful) {
        EXPECT_LE(r.peakRssMB, std::stod(named)) << "--ram " << named;
    }
}

// An audit: a model whose outputs were NaN (here: a card whose normalisation overflows float)
// gave an empty layer and no word why. The scan now says how many windows were not numbers.
TEST(OnnxCli, OutputsThatAreNotNumbersAreReported) {
    TempDir dir;
    Json card = parseJsonFile(kModels + "yolov8_tiny.card.json");
    card["model"] = kModels + "yolov8_tiny.onnx";
    for (auto& v : card["input"]["normalisation"]["scale"]) v = 1e38;
    std::ofstream(dir.file("nan.card.json")) << dumpJson(card, 1);
    const CliResult r =
        runRiskmap({"scan", kModels + "yolov8_tiny.scene.tif", "--detector", "onnx", "--set",
                    "card=" + dir.file("nan.card.json"), "-o", dir.file("o.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json m = parseJsonFile(dir.file("o.geojson.manifest.json"));
    EXPECT_NE(dumpJson(m.at("warnings")).find("not numbers (NaN or infinite)"), std::string::npos)
        << dumpJson(m.at("warnings"));
    // A sound card: no such warning.
    const CliResult ok =
        scan("yolov8_tiny", kModels + "yolov8_tiny.scene.tif", dir.file("ok.geojson"));
    ASSERT_EQ(ok.exitCode, 0) << ok.err;
    EXPECT_EQ(dumpJson(parseJsonFile(dir.file("ok.geojson.manifest.json")).at("warnings"))
                  .find("not numbers"),
              std::string::npos);
}

// Review: a manifest rerun whose card was changed since the scan ran in silence (the kiln model
// warned, the card had no hash in the manifest). The card is now a resource with its hash.
TEST(OnnxCli, AManifestRerunTellsACardChangedSince) {
    TempDir dir;
    Json card = parseJsonFile(kModels + "yolov8_tiny.card.json");
    card["model"] = kModels + "yolov8_tiny.onnx";
    std::ofstream(dir.file("c.card.json")) << dumpJson(card, 1);
    const std::string out = dir.file("y.geojson");
    ASSERT_EQ(runRiskmap({"scan", kModels + "yolov8_tiny.scene.tif", "--detector", "onnx", "--set", "card=" + dir.file("c.card.json"),
                          "-o", out, "-q"})
                  .exitCode,
              0);
    CliResult r = runRiskmap({"scan", "--config", out + ".manifest.json", "-o", dir.file("same.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("is not the one"), std::string::npos) << r.err;
    card["thresholds"]["score"] = 0.9;
    std::ofstream(dir.file("c.card.json")) << dumpJson(card, 1);
    r = runRiskmap({"scan", "--config", out + ".manifest.json", "-o", dir.file("later.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("the card file is not the one the scan"), std::string::npos) << r.err;
}
