// End-to-end scans through the binary on rasters generated here.
#include <fcntl.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <ogr_spatialref.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

// 1500 x 1300 px at 10 m, 256-pixel blocks, bare patches and ponds on vegetation, some on seams.
std::string seamScene(const TempDir& dir) {
    SceneSpec s;
    s.width = 1500;
    s.height = 1300;
    s.blobs = scatterBlobs(s.width, s.height, 150, 11, 1.5, 25.0);
    // Objects centred right on the 256 and 1024 seams.
    for (double c : {256.0, 512.0, 1024.0}) {
        s.blobs.push_back({c, 300.0, 12, 6, kBareSoil});
        s.blobs.push_back({700.0, c, 5, 15, kBareSoil});
        s.blobs.push_back({c + 0.5, c - 0.5, 8, 8, kBareSoil});
    }
    return writeScene(dir.file("seams.tif"), s);
}

// 200 x 200 px with one 10 x 10 px bare patch in the middle: one object for the default rule.
std::string oneObjectScene(const TempDir& dir, const std::string& name) {
    SceneSpec s;
    s.width = s.height = 200;
    s.blobs = {{100, 100, 10, 10, kBareSoil}};
    return writeScene(dir.file(name), s);
}

std::vector<std::string> scanArgs(const std::string& in, const std::string& out) {
    return {"scan",
            in,
            "-o",
            out,
            "-q",
            "--set",
            "open_radius_m=10",
            "--set",
            "close_radius_m=20",
            "--set",
            "min_area_m2=200",
            "--set",
            "max_length_m=600"};
}

std::string scanTo(const std::string& in, const std::string& dir, std::vector<std::string> extra) {
    std::string out = dir + "/out.geojson";
    auto args = scanArgs(in, out);
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--overwrite");
    auto r = runRiskmap(args);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return readFile(out);
}

// A flat four-band UInt16 GeoTIFF of size x size pixels at 10 m (UTM 45N), 256 px tiles: what the
// planner's --ram tests need, without texture.
CliResult makeFlatRaster(const std::string& path, int size) {
    const int m = 10 * size;
    return runShell("gdal_create -q -of GTiff -outsize " + std::to_string(size) + " " +
                    std::to_string(size) +
                    " -bands 4 -ot UInt16 -burn 900 -a_srs EPSG:32645 -a_ullr 500000 2500000 " +
                    std::to_string(500000 + m) + " " + std::to_string(2500000 - m) +
                    " -co TILED=YES -co COMPRESS=DEFLATE '" + path + "'");
}

}  // namespace

TEST(CliScan, TileSizeInvariance) {
    TempDir dir;
    std::string in = seamScene(dir);
    std::string whole = scanTo(in, dir.path(), {"--tile-size", "100000"});
    std::string t256 = scanTo(in, dir.path(), {"--tile-size", "256"});
    std::string t1024 = scanTo(in, dir.path(), {"--tile-size", "1024"});
    ASSERT_GT(whole.size(), 10000u);
    EXPECT_EQ(t256, whole);
    EXPECT_EQ(t1024, whole);
    // The scene is busy enough for the comparison to mean something (exact seam counting is
    // Reliability.SeamObjectsAreCountedExactlyOnce).
    LayerDump d = readLayer(dir.path() + "/out.geojson");
    EXPECT_GE(d.features.size(), 100u);
}

TEST(CliScan, ThreadInvariance) {
    TempDir dir;
    std::string in = seamScene(dir);
    std::string one = scanTo(in, dir.path(), {"--threads", "1", "--tile-size", "256"});
    std::string two = scanTo(in, dir.path(), {"--threads", "2", "--tile-size", "256"});
    std::string four = scanTo(in, dir.path(), {"--threads", "4", "--tile-size", "256"});
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, four);
}

TEST(CliScan, NothingIsDetectedInNodata) {
    TempDir dir;
    SceneSpec s;
    s.width = 600;
    s.height = 400;
    s.nodata = true;
    s.nodataValue = 0;
    s.nodataRect = {200, 100, 250, 200};
    // Bare patches inside, across and outside the nodata rectangle.
    s.blobs = {{300, 200, 20, 20, kBareSoil},
               {210, 150, 25, 12, kBareSoil},
               {80, 80, 10, 10, kBareSoil},
               {500, 350, 12, 12, kBareSoil}};
    std::string in = writeScene(dir.file("nd.tif"), s);
    std::string out = dir.file("nd.geojson");
    auto r =
        runRiskmap({"scan", in, "-o", out, "-q", "--tile-size", "128", "--set", "min_area_m2=100"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump d = readLayer(out);
    ASSERT_GE(d.features.size(), 3u);  // the two outside plus the part of the straddling one
    // Map the nodata rectangle to EPSG:32645 metres, then to lon/lat bounds is overkill: scan a
    // GeoPackage in the source CRS and check coordinates directly.
    std::string gpkg = dir.file("nd.gpkg");
    r = runRiskmap(
        {"scan", in, "-o", gpkg, "-q", "--tile-size", "128", "--set", "min_area_m2=100"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump g = readLayer(gpkg);
    EXPECT_EQ(g.crsAuthority, "EPSG:32645");
    ASSERT_EQ(g.features.size(), d.features.size());
    const double x0 = 500000 + 200 * 10, x1 = x0 + 250 * 10, y1 = 2500000 - 100 * 10,
                 y0 = y1 - 200 * 10;
    for (const auto& f : g.features) {
        for (const auto& ring : f.coords) {
            for (std::size_t k = 0; k + 1 < ring.size(); k += 2) {
                bool strictlyInside =
                    ring[k] > x0 && ring[k] < x1 && ring[k + 1] > y0 && ring[k + 1] < y1;
                EXPECT_FALSE(strictlyInside)
                    << "vertex inside nodata: " << ring[k] << "," << ring[k + 1];
            }
        }
    }
}

TEST(CliScan, GoldenLayer) {
    // A fixed scene whose expected output is checked in; compared semantically so that OGR's
    // formatting may change without breaking the test.
    TempDir dir;
    SceneSpec s;
    s.width = 200;
    s.height = 160;
    s.blockX = s.blockY = 0;
    s.blobs = {{40, 40, 8, 5, kBareSoil},
               {120, 60, 4, 12, kBareSoil},
               {150, 130, 10, 10, kWater},
               {100, 120, 6, 6, kBareSoil}};
    std::string in = writeScene(dir.file("golden.tif"), s);
    std::string out = dir.file("golden.geojson");
    auto r = runRiskmap({"scan", in, "-o", out, "-q", "--set", "min_area_m2=500", "--simplify-m",
                         "0"});  // exact pixel edges: the reference predates simplification
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::string golden = std::string(RISKMAP_SOURCE_DIR) + "/tests/data/golden_index.geojson";
    LayerDump want = readLayer(golden);
    LayerDump got = readLayer(out);
    EXPECT_EQ(want.features.size(), 3u);  // the pond is water, not bare ground
    EXPECT_EQ(compareLayers(got, want, 1e-7, 1e-6), "");
}

// A black collar (0 in every band, no nodata declared, as gdalwarp leaves one) is no data by
// default, and the manifest says so; read as data, it is land that reflects nothing, and a rule
// for dark pixels finds it. A patch that is 0 in the rule's one band but not in the others is
// data either way (it was no data while the zero test judged only the bands a rule reads).
TEST(CliScan, BlackCollarIsNoDataUnlessAskedOtherwise) {
    TempDir dir;
    SceneSpec s;
    s.width = 300;
    s.height = 200;
    s.nodata = true;  // writes the zeros; the declaration is removed below
    s.nodataValue = 0;
    s.nodataRect = {0, 0, 30, 40};  // a corner of collar, small enough for max_length_m
    const std::string in = writeScene(dir.file("collar.tif"), s);
    {
        GDALDatasetH ds = GDALOpen(in.c_str(), GA_Update);
        ASSERT_NE(ds, nullptr);
        for (int b = 1; b <= GDALGetRasterCount(ds); ++b)
            GDALDeleteRasterNoDataValue(GDALGetRasterBand(ds, b));
        std::vector<std::uint16_t> dark(20 * 20, 0);  // NIR 0, B02-B04 as they were
        ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 4), GF_Write, 150, 100, 20, 20, dark.data(),
                               20, 20, GDT_UInt16, 0, 0),
                  CE_None);
        GDALClose(ds);
    }
    auto scan = [&](const std::string& out, std::vector<std::string> extra) {
        std::vector<std::string> a{"scan",           in, "-o", dir.file(out), "-q", "--set",
                                   "rule=nir < 0.01"};
        a.insert(a.end(), extra.begin(), extra.end());
        auto r = runRiskmap(a);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return readLayer(dir.file(out)).features.size();
    };
    EXPECT_EQ(scan("auto.geojson", {}), 1u);  // the NIR-dark patch, not the collar
    EXPECT_EQ(parseJsonFile(dir.file("auto.geojson.manifest.json"))
                  .at("request")
                  .at("input_options")
                  .at("zero_pixels"),
              "auto");
    EXPECT_EQ(scan("data.geojson", {"--zero-pixels", "data"}), 2u);  // the collar too
    EXPECT_EQ(parseJsonFile(dir.file("data.geojson.manifest.json"))
                  .at("request")
                  .at("input_options")
                  .at("zero_pixels"),
              "data");
    // The manifest replays as it ran.
    auto r = runRiskmap({"scan", "-o", dir.file("again.geojson"), "-q", "--config",
                         dir.file("data.geojson.manifest.json")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("again.geojson")).features.size(), 2u);
    r = runRiskmap({"scan", in, "-o", dir.file("bad.geojson"), "--zero-pixels", "black"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--zero-pixels"), std::string::npos) << r.err;
}

// Every outline must be valid to GEOS, as QGIS and any overlay will judge it, in each format,
// simplified or not. An audit found 44 of 677 index objects of the real Sundarbans scene (6,377 of
// 29,712 on the bench mosaic) invalid: pixels meeting only at corners round an empty one were
// written as one polygon whose hole touched its outer ring more than once ("Interior is
// disconnected").
TEST(CliScan, EveryOutlineIsValidInEveryFormat) {
    GDALAllRegister();
    TempDir dir;
    const std::string p =
        std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27/Sentinel-2_L2A_";
    for (const std::string simplify : {"0", "5"}) {
        for (const std::string ext : {".geojson", ".gpkg", ".fgb"}) {
            const std::string out = dir.file("s" + simplify + ext);
            auto r = runRiskmap({"scan", "-q", "-o", out, "--simplify-m", simplify, "--set",
                                 "rule=ndvi < 0.25 and mndwi < 0", "--band",
                                 "green=" + p + "B03_Raw.tiff", "--band",
                                 "red=" + p + "B04_Raw.tiff", "--band", "nir=" + p + "B08_Raw.tiff",
                                 "--band", "swir1=" + p + "B11_Raw.tiff"});
            ASSERT_EQ(r.exitCode, 0) << r.err;
            GDALDatasetH ds = GDALOpenEx(out.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
            ASSERT_NE(ds, nullptr) << out;
            OGRLayerH layer = GDALDatasetGetLayerByName(ds, "index");
            ASSERT_NE(layer, nullptr) << out;
            int features = 0, invalid = 0;
            OGRFeatureH f;
            while ((f = OGR_L_GetNextFeature(layer)) != nullptr) {
                ++features;
                OGRGeometryH g = OGR_F_GetGeometryRef(f);
                invalid += g == nullptr || !OGR_G_IsValid(g);
                OGR_F_Destroy(f);
            }
            GDALClose(ds);
            EXPECT_GT(features, 300) << out;
            EXPECT_EQ(invalid, 0) << out << ": " << invalid << " of " << features
                                  << " outlines invalid";
        }
    }
}

// A scale of NaN, infinity or 0 read every pixel as no data: the scan found nothing, said nothing,
// and its manifest ("scale": null) replayed as a different scan (found by an audit). Refused,
// naming where the value came from: the option (exit 2) or the file's own metadata (exit 1).
TEST(CliScan, UnusableReflectanceScalesAreRefused) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    const std::string in = writeScene(dir.file("s.tif"), s);
    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"--scale", "nan"},
                                               {"--scale", "inf"},
                                               {"--scale", "0"},
                                               {"--scale", "-0.0001"},
                                               {"--offset", "nan"},
                                               {"--offset", "-inf"}}) {
        std::vector<std::string> args{"scan", in, "-q", "-o", dir.file("out.geojson")};
        args.insert(args.end(), bad.begin(), bad.end());
        auto r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 2) << bad[0] << " " << bad[1] << ": " << r.err;
        EXPECT_NE(r.err.find(bad[0]), std::string::npos) << r.err;
        EXPECT_FALSE(fileExists(dir.file("out.geojson")));
    }
    EXPECT_EQ(
        runRiskmap({"scan", in, "-q", "-o", dir.file("ok.geojson"), "--scale", "1e-4"}).exitCode,
        0);
    {
        GDALDatasetH ds = GDALOpen(in.c_str(), GA_Update);
        ASSERT_NE(ds, nullptr);
        GDALSetRasterScale(GDALGetRasterBand(ds, 2), std::nan(""));
        GDALClose(ds);
    }
    auto r = runRiskmap({"scan", in, "-q", "-o", dir.file("file.geojson")});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("s.tif' band 2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--scale"), std::string::npos) << r.err;
    EXPECT_EQ(
        runRiskmap({"scan", in, "-q", "-o", dir.file("given.geojson"), "--scale", "1e-4"}).exitCode,
        0);
}

// A GeoPackage's first layer is the detections even when there are none (GDAL created the empty
// table last, so tools opening the first layer got the footprints), and two identical scans write
// identical files: layers carry no write time (gpkg_contents.last_change was the clock). Both found
// by an audit.
TEST(CliScan, GeoPackageLeadsWithDetectionsAndCarriesNoClock) {
    GDALAllRegister();
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 200;
    s.blobs = {{100, 100, 10, 10, kBareSoil}};
    const std::string in = writeScene(dir.file("s.tif"), s);
    for (const std::string rule : {"ndvi > 5", "ndvi < 0.2"}) {
        const std::string out = dir.file(rule == "ndvi > 5" ? "none.gpkg" : "some.gpkg");
        ASSERT_EQ(
            runRiskmap({"scan", in, "-q", "-o", out, "--grid", "500", "--set", "rule=" + rule})
                .exitCode,
            0);
        GDALDatasetH ds = GDALOpenEx(out.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
        ASSERT_NE(ds, nullptr);
        EXPECT_STREQ(OGR_L_GetName(GDALDatasetGetLayer(ds, 0)), "index") << rule;
        GDALClose(ds);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a clock in the file would tick
    ASSERT_EQ(runRiskmap({"scan", in, "-q", "-o", dir.file("again.gpkg"), "--grid", "500", "--set",
                          "rule=ndvi < 0.2"})
                  .exitCode,
              0);
    EXPECT_TRUE(readFile(dir.file("some.gpkg")) == readFile(dir.file("again.gpkg")));
}

// --precision 1 to 4 rounds lon/lat to 11 km .. 11 m: 10 m outlines collapsed without a word (an
// audit); then, warned of, they were still written, collapsed and crossing themselves (a sweep:
// 239 of 260 invalid at 3 places). Refused now, naming the places that keep them, and nothing is
// written.
TEST(CliScan, CoarsePrecisionIsRefused) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 100;
    s.blobs = {{50, 50, 10, 10, kBareSoil}};
    const std::string in = writeScene(dir.file("s.tif"), s);
    auto r = runRiskmap({"scan", in, "-q", "-o", dir.file("p4.geojson"), "--precision", "4"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--precision 4 rounds coordinates to about 11.1 m, coarser than half the "
                         "10 m pixels"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("Give --precision 5 or more"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("p4.geojson")));
    r = runRiskmap({"scan", in, "-q", "-o", dir.file("p5.geojson"), "--precision", "5"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("--precision"), std::string::npos) << r.err;
    // GeoPackage and FlatGeobuf keep full coordinates: the option does not apply to them.
    r = runRiskmap({"scan", in, "-q", "-o", dir.file("p3.gpkg"), "--precision", "3"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST(CliScan, OutputsAreOwnerOnlyAndHaveAManifest) {
    TempDir dir;
    const std::string in = oneObjectScene(dir, "p.tif");
    std::string out = dir.file("p.geojson");
    auto r = runRiskmap({"scan", in, "-o", out, "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    struct stat st;
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((out + ".manifest.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    Json m = parseJsonFile(out + ".manifest.json");
    EXPECT_EQ(m.at("recipe").at("detector").get<std::string>(), "index");
    EXPECT_EQ(m.at("counts").at("detections").get<std::int64_t>(), 1);
    EXPECT_EQ(m.at("inputs").at(0).at("width").get<std::int64_t>(), 200);
    EXPECT_TRUE(m.at("timings").at("scan_s").is_number());
    EXPECT_TRUE(m.at("command_line").is_array());
    // The layer itself carries no timestamps: a rerun gives the same bytes.
    std::string first = readFile(out);
    r = runRiskmap({"scan", in, "-o", out, "-q", "--overwrite", "--file-mode", "0640"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(out), first);
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    // The manifest doubles as a recipe.
    std::string again = dir.file("again.geojson");
    r = runRiskmap({"scan", in, "-o", again, "-q", "--config", out + ".manifest.json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(compareLayers(readLayer(again), readLayer(out), 0, 0), "");
}

// A new user scanning an export of reflectance x 65535 (EO Browser) with the Sentinel-2 profile's
// x 10000 read every band 6.5 times too bright, and no detector said a word. A band whose sampled
// median reads above 1 is named, with the fix; the right scale gives no warning.
TEST(CliScan, ReflectanceAboveOneIsWarnedOfAsAWrongScale) {
    TempDir dir;
    const std::string in = oneObjectScene(dir, "p.tif");
    CliResult r = runRiskmap({"scan", in, "-o", dir.file("a.geojson"), "-q", "--scale", "0.001"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("p.tif: band 'nir' reads as reflectance 3."), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--scale 1.5259e-5"), std::string::npos) << r.err;
    const Json m = parseJsonFile(dir.file("a.geojson.manifest.json"));
    EXPECT_NE(dumpJson(m).find("reads as reflectance"), std::string::npos);
    r = runRiskmap({"scan", in, "-o", dir.file("b.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("reads as reflectance"), std::string::npos) << r.err;
}

// Bug: a manifest given as --config reran the scan's inputs and recipe but wrote the layer in
// the first input's CRS and without its grid, though the run had --out-crs and --grid. With no
// inputs given, the run's output options come back too, unless the command line gives them.
TEST(CliScan, ManifestRerunKeepsTheRunsOutputOptions) {
    TempDir dir;
    const std::string in = oneObjectScene(dir, "p.tif");
    const std::string out = dir.file("p.gpkg");
    auto r = runRiskmap({"scan", in, "-o", out, "-q", "--out-crs", "EPSG:3857", "--grid", "1000",
                         "--simplify-m", "0", "--file-mode", "0640"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    r = runRiskmap({"scan", "--config", out + ".manifest.json", "-o", dir.file("again.gpkg")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("--out-crs EPSG:3857 --grid 1000"), std::string::npos) << r.err;
    EXPECT_EQ(readLayer(dir.file("again.gpkg")).crsAuthority, "EPSG:3857");
    EXPECT_EQ(compareLayers(readLayer(dir.file("again.gpkg")), readLayer(out), 0, 0), "");
    const Json m = parseJsonFile(dir.file("again.gpkg.manifest.json"));
    EXPECT_EQ(m.at("grid").at("cell_m").get<double>(), 1000.0);
    EXPECT_EQ(m.at("output").at("out_crs").get<std::string>(), "EPSG:3857");
    EXPECT_EQ(m.at("output").at("file_mode").get<std::string>(), "0640");
    // The command line wins over the manifest; a GeoJSON rerun stays lon/lat.
    r = runRiskmap({"scan", "--config", out + ".manifest.json", "-o", dir.file("mine.gpkg"), "-q",
                    "--out-crs", "EPSG:32645"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("mine.gpkg")).crsAuthority, "EPSG:32645");
    r = runRiskmap(
        {"scan", "--config", out + ".manifest.json", "-o", dir.file("again.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("again.geojson")).crsAuthority, "EPSG:4326");
    // ... and says that the manifest's CRS is not applied (a format sweep: dropped silently).
    EXPECT_NE(r.err.find("not its --out-crs EPSG:3857: GeoJSON is lon/lat"), std::string::npos) << r.err;
}

TEST(CliScan, PropertiesAndFormats) {
    TempDir dir;
    SceneSpec s;
    s.width = 300;
    s.height = 300;
    s.blobs = {{100, 100, 10, 10, kBareSoil}, {200, 220, 6, 14, kBareSoil}};
    std::string in = writeScene(dir.file("f.tif"), s);
    for (const char* ext : {"geojson", "gpkg", "fgb"}) {
        std::string out = dir.file(std::string("f.") + ext);
        auto r = runRiskmap({"scan", in, "-o", out, "-q"});
        ASSERT_EQ(r.exitCode, 0) << ext << ": " << r.err;
        LayerDump d = readLayer(out);
        ASSERT_EQ(d.features.size(), 2u) << ext;
        EXPECT_EQ(d.crsAuthority,
                  std::string(ext) == std::string("geojson") ? "EPSG:4326" : "EPSG:32645")
            << ext;
        const auto& f = d.features[0];
        std::vector<std::string> names;
        for (const auto& t : f.text) names.push_back(t.first);
        for (const auto& t : f.reals) names.push_back(t.first);
        for (const char* p :
             {"id", "detector", "class", "score", "area_m2", "source", "pixels", "margin_mean"})
            EXPECT_NE(std::find(names.begin(), names.end(), p), names.end())
                << ext << " lacks " << p;
        // FlatGeobuf's spatial index may reorder features, so look at both.
        double largest = 0;
        for (const auto& feat : d.features) {
            for (const auto& rp : feat.reals) {
                if (rp.first == "area_m2") largest = std::max(largest, rp.second);
                if (rp.first == "score") {
                    EXPECT_GT(rp.second, 0.5);
                    EXPECT_LE(rp.second, 1.0);
                }
            }
        }
        // The larger patch is a disc of radius 10 px at 10 m: about 314 px of 100 m2.
        EXPECT_NEAR(largest, 31400, 0.05 * 31400) << ext;
    }
    // The GeoJSON is RFC 7946: no "crs" member, lon/lat with 7 decimals at most.
    std::string text = readFile(dir.file("f.geojson"));
    EXPECT_EQ(text.find("\"crs\""), std::string::npos);
    EXPECT_EQ(text.find("EPSG"), std::string::npos);
}

TEST(CliScan, SeveralInputsGoIntoOneLayer) {
    TempDir dir;
    SceneSpec a;
    a.width = a.height = 150;
    a.blobs = {{50, 50, 8, 8, kBareSoil}};
    SceneSpec b = a;
    b.originX += 5000;
    b.blobs = {{30, 30, 8, 8, kBareSoil}, {100, 100, 8, 8, kBareSoil}};
    std::string ia = writeScene(dir.file("a.tif"), a), ib = writeScene(dir.file("b.tif"), b);
    std::string out = dir.file("ab.geojson");
    auto r = runRiskmap({"scan", ia, ib, "-o", out, "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump d = readLayer(out);
    ASSERT_EQ(d.features.size(), 3u);
    auto source = [](const FeatureDump& f) {
        for (const auto& t : f.text)
            if (t.first == "source") return t.second;
        return std::string();
    };
    EXPECT_EQ(source(d.features[0]), "a.tif");
    EXPECT_EQ(source(d.features[2]), "b.tif");
    Json m = parseJsonFile(out + ".manifest.json");
    EXPECT_EQ(m.at("counts").at("per_input").at("b.tif").get<std::int64_t>(), 2);
}

TEST(CliScan, JsonProgressIsNdjson) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    std::string in = writeScene(dir.file("j.tif"), s);
    auto r = runRiskmap(
        {"scan", in, "-o", dir.file("j.geojson"), "--json-progress", "--tile-size", "64"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::istringstream lines(r.err);
    std::string line, last;
    int n = 0;
    std::vector<std::string> events;
    while (std::getline(lines, line)) {
        Json j = parseJson(line, "stderr");
        events.push_back(j.at("event").get<std::string>());
        // Tile events carry the tile counts; the writing phase carries the feature count.
        if (events.back() == "writing" || events.back() == "written")
            EXPECT_TRUE(j.at("features").is_number_integer());
        else
            EXPECT_TRUE(j.at("tiles_total").is_number_integer());
        ++n;
    }
    ASSERT_GE(n, 4);
    EXPECT_EQ(events.front(), "start");
    EXPECT_EQ(std::vector<std::string>(events.end() - 3, events.end()),
              (std::vector<std::string>{"finish", "writing", "written"}));
    (void)last;
}

TEST(CliScan, InterruptLeavesNoOutput) {
    TempDir dir;
    SceneSpec s;
    s.width = 3000;
    s.height = 3000;
    s.noise = 0;
    s.blobs = scatterBlobs(s.width, s.height, 400, 5, 2, 10);
    std::string in = writeScene(dir.file("big.tif"), s);
    std::string out = dir.file("big.geojson");
    int errPipe[2];
    ASSERT_EQ(::pipe(errPipe), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(errPipe[1], STDERR_FILENO);
        ::close(errPipe[0]);
        std::string bin = RISKMAP_BINARY;
        std::vector<std::string> args{
            bin, "scan", in, "-o", out, "--json-progress", "--threads", "1", "--tile-size", "64"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(bin.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(errPipe[1]);
    // Wait for the first progress line, so the scan is under way, then interrupt it.
    char buf[256];
    ssize_t got = ::read(errPipe[0], buf, sizeof buf);
    ASSERT_GT(got, 0);
    ::kill(pid, SIGINT);
    while (::read(errPipe[0], buf, sizeof buf) > 0) {
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(errPipe[0]);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_FALSE(fileExists(out));
    EXPECT_FALSE(fileExists(out + ".manifest.json"));
    EXPECT_TRUE(filesContaining(dir.path(), ".riskmap-staging-").empty());
}

TEST(CliScan, OverlappingScenesReportAnObjectOnce) {
    TempDir dir;
    // Two scenes overlapping by 1 km; one bare patch lies in the overlap, one in each scene only.
    SceneSpec a;
    a.width = a.height = 300;
    a.blobs = {{250, 150, 8, 8, kBareSoil}, {50, 50, 8, 8, kBareSoil}};
    SceneSpec b = a;
    b.originX += 2000;  // 200 px east
    b.blobs = {{50, 150, 8, 8, kBareSoil}, {250, 250, 8, 8, kBareSoil}};
    std::string ia = writeScene(dir.file("a.tif"), a), ib = writeScene(dir.file("b.tif"), b);
    auto r = runRiskmap({"scan", ia, ib, "-o", dir.file("ab.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump d = readLayer(dir.file("ab.geojson"));
    ASSERT_EQ(d.features.size(), 3u);
    int both = 0;
    for (const auto& f : d.features)
        for (const auto& t : f.text)
            if (t.first == "sources" && t.second.find("a.tif") != std::string::npos &&
                t.second.find("b.tif") != std::string::npos)
                ++both;
    EXPECT_EQ(both, 1);
    // --overlap-merge 0 keeps both scenes' detections.
    r = runRiskmap({"scan", ia, ib, "-o", dir.file("keep.geojson"), "-q", "--overlap-merge", "0"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("keep.geojson")).features.size(), 4u);
}

namespace {

// A STAC asset that is band `index` of `raster`, cut out as a VRT beside it and named by
// eo:bands common_name; `rasterBands` is the raster extension's entry ("" for none).
std::string stacAsset(const TempDir& dir, const std::string& raster, const char* band, int index,
                      const char* common,
                      const std::string& rasterBands = "{\"scale\": 0.0001, \"offset\": 0}") {
    std::string vrt = dir.file(std::string(band) + ".vrt");
    GDALDatasetH src = GDALOpen(raster.c_str(), GA_ReadOnly);
    std::string idx = std::to_string(index);
    char* argv[] = {const_cast<char*>("-b"), idx.data(), nullptr};
    GDALTranslateOptions* o = GDALTranslateOptionsNew(argv, nullptr);
    GDALClose(GDALTranslate(vrt.c_str(), src, o, nullptr));
    GDALTranslateOptionsFree(o);
    GDALClose(src);
    return std::string("\"") + band + "\": {\"href\": \"" + band +
           ".vrt\", \"type\": \"image/tiff; application=geotiff\", " +
           "\"eo:bands\": [{\"name\": \"" + band + "\", \"common_name\": \"" + common + "\"}]" +
           (rasterBands.empty() ? std::string() : ", \"raster:bands\": [" + rasterBands + "]") +
           "}";
}

std::string stacItem(const char* id, const std::string& properties, const std::string& assets) {
    return std::string("{\"type\": \"Feature\", \"stac_version\": \"1.0.0\", \"id\": \"") + id +
           "\", \"properties\": {" + properties + "}, \"geometry\": null, \"assets\": {" + assets +
           "}}";
}

}  // namespace

TEST(CliScan, StacItemsAreScenes) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 200;
    s.blobs = {{100, 100, 10, 10, kBareSoil}};
    std::string raster = writeScene(dir.file("scene.tif"), s);
    // A STAC ItemCollection of one item whose assets are bands of a local file, named by
    // eo:bands common_name, with the raster extension's scale.
    std::string assets = stacAsset(dir, raster, "B02", 1, "blue") + "," +
                         stacAsset(dir, raster, "B03", 2, "green") + "," +
                         stacAsset(dir, raster, "B04", 3, "red") + "," +
                         stacAsset(dir, raster, "B08", 4, "nir");
    std::ofstream(dir.file("items.json"))
        << "{\"type\": \"FeatureCollection\", \"features\": [" << stacItem("x", "", assets) << "]}";
    auto r = runRiskmap({"scan", dir.file("items.json"), "-o", dir.file("stac.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    LayerDump d = readLayer(dir.file("stac.geojson"));
    ASSERT_EQ(d.features.size(), 1u);
    bool sourceIsItemId = false;
    for (const auto& t : d.features[0].text)
        sourceIsItemId |= t.first == "source" && t.second == "x";
    EXPECT_TRUE(sourceIsItemId);
    auto info = runRiskmap({"info", dir.file("items.json"), "--json"});
    ASSERT_EQ(info.exitCode, 0) << info.err;
    EXPECT_NE(info.out.find("\"nir\""), std::string::npos);
}

// An audit: an empty ItemCollection was 'not a raster GDAL can read', and a missing asset file
// was named as './B99.vrt' relative to 'the current folder', without its item.
// An asset holding several bands (a true-colour "visual" asset: red, green, blue in eo:bands)
// was skipped, and an item holding only it was said to name no band (a hostile-input sweep).
// Each band is read from its own band of the file: the same kilns as the file itself.
TEST(CliScan, StacMultiBandAssetIsReadBandByBand) {
    TempDir dir;
    const std::string chip = std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/chips/jessore_demo_tile_01.tif";
    std::ofstream(dir.file("visual.json")) << stacItem(
        "visual-1", "\"datetime\": \"2020-01-01T00:00:00Z\"",
        "\"visual\": {\"href\": \"" + chip + "\", \"type\": \"image/tiff\", \"roles\": [\"visual\"], "
        "\"eo:bands\": [{\"common_name\": \"red\"}, {\"common_name\": \"green\"}, {\"common_name\": \"blue\"}]}");
    auto r = runRiskmap({"scan", dir.file("visual.json"), "--detector", "kiln", "-o", dir.file("s.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    r = runRiskmap({"scan", chip, "--detector", "kiln", "-o", dir.file("f.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json a = parseJsonFile(dir.file("s.geojson")), b = parseJsonFile(dir.file("f.geojson"));
    ASSERT_EQ(a.at("features").size(), b.at("features").size());
    ASSERT_FALSE(a.at("features").empty());
    for (std::size_t i = 0; i < a.at("features").size(); ++i) {
        EXPECT_EQ(a.at("features")[i].at("geometry"), b.at("features")[i].at("geometry"));
        EXPECT_EQ(a.at("features")[i].at("properties").at("score"), b.at("features")[i].at("properties").at("score"));
    }
}

TEST(CliScan, StacMistakesNameTheItemAndTheCollection) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    const std::string raster = writeScene(dir.file("scene.tif"), s);
    std::ofstream(dir.file("empty.json")) << "{\"type\": \"FeatureCollection\", \"features\": []}";
    auto r = runRiskmap({"scan", dir.file("empty.json"), "-o", dir.file("e.geojson"), "-q"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("holds no items"), std::string::npos) << r.err;
    const std::string assets =
        stacAsset(dir, raster, "B04", 3, "red") + "," +
        "\"B08\": {\"href\": \"./B99.vrt\", \"type\": \"image/tiff; application=geotiff\", "
        "\"eo:bands\": [{\"name\": \"B08\", \"common_name\": \"nir\"}]}";
    std::ofstream(dir.file("item.json")) << stacItem("tile-7", "", assets);
    r = runRiskmap({"scan", dir.file("item.json"), "-o", dir.file("e.geojson"), "-q"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("STAC item 'tile-7' of '" + dir.file("item.json") + "'"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(dir.path() + "/B99.vrt"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("e.geojson")));
}

// Sentinel-2 from processing baseline 04.00 stores reflectance x 10000 + 1000: an item that says
// so only by s2:processing_baseline (Planetary Computer's) is read with offset -0.1, unless its
// assets give their own; a file that declares its scale and offset (GDAL metadata) is read by them.
TEST(CliScan, DeclaredScalingIsHonoured) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 64;
    const std::string raster = writeScene(dir.file("scene.tif"), s);
    auto offsets = [&](const std::string& path) {
        auto info = runRiskmap({"info", path, "--json"});
        EXPECT_EQ(info.exitCode, 0) << info.err;
        std::vector<double> v;
        const Json j = parseJson(info.out, "info");
        for (const auto& b : j.at("inputs").at(0).at("bands"))
            v.push_back(b.at("offset").get<double>());
        return v;
    };
    auto write = [&](const char* name, const std::string& properties,
                     const std::string& rasterBands) {
        const std::string assets = stacAsset(dir, raster, "B04", 3, "red", rasterBands) + "," +
                                   stacAsset(dir, raster, "B08", 4, "nir", rasterBands);
        std::ofstream(dir.file(name)) << stacItem("s2", properties, assets);
        return dir.file(name);
    };
    EXPECT_EQ(offsets(write("new.json", "\"s2:processing_baseline\": \"05.09\"", "")),
              (std::vector<double>{-0.1, -0.1}));
    EXPECT_EQ(offsets(write("old.json", "\"s2:processing_baseline\": \"02.14\"", "")),
              (std::vector<double>{0.0, 0.0}));
    EXPECT_EQ(offsets(write("own.json", "\"s2:processing_baseline\": \"05.09\"",
                            "{\"scale\": 0.0001, \"offset\": 0}")),
              (std::vector<double>{0.0, 0.0}));
    {
        GDALDatasetH ds = GDALOpen(raster.c_str(), GA_Update);
        ASSERT_NE(ds, nullptr);
        for (int b = 1; b <= GDALGetRasterCount(ds); ++b) {
            GDALSetRasterScale(GDALGetRasterBand(ds, b), 2e-5);
            GDALSetRasterOffset(GDALGetRasterBand(ds, b), -0.2);
        }
        GDALClose(ds);
    }
    EXPECT_EQ(offsets(raster), (std::vector<double>(4, -0.2)));
    auto info = runRiskmap({"info", raster, "--json", "--scale", "1e-4", "--offset", "0"});
    ASSERT_EQ(info.exitCode, 0) << info.err;
    const Json j = parseJson(info.out, "info");
    EXPECT_EQ(j.at("inputs").at(0).at("bands").at(0).at("scale").get<double>(),
              1e-4);  // the user's word is last
    EXPECT_EQ(j.at("inputs").at(0).at("bands").at(0).at("offset").get<double>(), 0.0);
}

// --simplify-m: outlines lose their pixel stairs (default half a pixel), ids, areas and scores do
// not change, and 0 keeps exact pixel edges; the manifest says which.
TEST(CliScan, SimplifiedOutlinesKeepIdsAndAreas) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 300;
    s.blobs = {
        {60, 60, 9, 6, kBareSoil}, {200, 90, 7, 11, kBareSoil}, {150, 220, 12, 8, kBareSoil}};
    const std::string in = writeScene(dir.file("s.tif"), s);
    auto vertices = [](const Json& fc) {
        std::size_t n = 0;
        for (const auto& f : fc.at("features"))
            for (const auto& ring : f.at("geometry").at("coordinates")) n += ring.size();
        return n;
    };
    ASSERT_EQ(runRiskmap({"scan", in, "-o", dir.file("a.geojson"), "-q"}).exitCode, 0);
    ASSERT_EQ(
        runRiskmap({"scan", in, "-o", dir.file("b.geojson"), "-q", "--simplify-m", "0"}).exitCode,
        0);
    const Json a = parseJsonFile(dir.file("a.geojson")), b = parseJsonFile(dir.file("b.geojson"));
    ASSERT_EQ(a.at("features").size(), 3u);
    ASSERT_EQ(b.at("features").size(), 3u);
    // Half a pixel keeps single 45-degree steps (their corner is 0.71 px off the chord) and drops
    // the rest: 95 of 119 vertices on these small ellipses.
    EXPECT_LT(vertices(a) * 10, vertices(b) * 9) << "half-pixel simplification drops the stairs";
    for (std::size_t i = 0; i < 3; ++i) {
        const Json& pa = a.at("features")[i].at("properties");
        const Json& pb = b.at("features")[i].at("properties");
        EXPECT_EQ(pa.at("id"), pb.at("id"));
        EXPECT_EQ(pa.at("area_m2"), pb.at("area_m2"))
            << "area comes from the pixels, not the drawn outline";
        EXPECT_EQ(pa.at("score"), pb.at("score"));
    }
    EXPECT_EQ(parseJsonFile(dir.file("a.geojson.manifest.json")).at("output").at("simplify_m"),
              "half a pixel");
    EXPECT_EQ(parseJsonFile(dir.file("b.geojson.manifest.json"))
                  .at("output")
                  .at("simplify_m")
                  .get<double>(),
              0.0);
    EXPECT_EQ(
        runRiskmap({"scan", in, "-o", dir.file("c.geojson"), "-q", "--simplify-m", "-3"}).exitCode,
        2);
}

// Without --tile-size, a detector whose tile and halo would not fit half of --ram takes smaller
// tiles (the output does not depend on the tile size) instead of refusing; a tile size the user
// gave is kept, and refused when it does not fit.
TEST(CliScan, TilesShrinkToFitRamUnlessTheUserGaveTheSize) {
    TempDir dir;
    const std::string raster = dir.file("wide.tif");
    auto mk = makeFlatRaster(raster, 1400);
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    // kiln at 10 m: a 1024 px tile with its 1380 m halo needs ~230 MB, more than half of 256.
    const std::string out = dir.file("k.geojson");
    auto r = runRiskmap(
        {"scan", raster, "--sensor", "sentinel2", "--detector", "kiln", "--ram", "256", "-o", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json m = parseJson(readFile(out + ".manifest.json"), "manifest");
    const int chosen = m.at("tiling").at("tile_size").get<int>();
    EXPECT_LT(chosen, 1024) << dumpJson(m.at("tiling"));
    EXPECT_EQ(chosen % 64, 0) << chosen;
    EXPECT_NE(r.err.find("tiles of " + std::to_string(chosen) + " px instead of 1024"),
              std::string::npos)
        << r.err;
    auto given = runRiskmap({"scan", raster, "--sensor", "sentinel2", "--detector", "kiln", "--ram",
                             "256", "--tile-size", "1024", "-o", dir.file("g.geojson")});
    EXPECT_EQ(given.exitCode, 2);
    EXPECT_NE(given.err.find("--ram"), std::string::npos) << given.err;
    // At the default --ram the default tile size fits: no warning, 1024 recorded.
    auto roomy = runRiskmap({"scan", raster, "--sensor", "sentinel2", "--detector", "kiln", "-o",
                             dir.file("d.geojson")});
    ASSERT_EQ(roomy.exitCode, 0) << roomy.err;
    EXPECT_EQ(roomy.err.find("tiles of"), std::string::npos) << roomy.err;
    EXPECT_EQ(parseJson(readFile(dir.file("d.geojson") + ".manifest.json"), "manifest")
                  .at("tiling")
                  .at("tile_size")
                  .get<int>(),
              1024);
}

// --explain's halo and working planes count when tiles are chosen: they were chosen without
// them and the scan was then refused ("one tile of this detector needs 260 MB", clearing on six
// bands at --ram 512).
TEST(CliScan, ExplainIsCountedWhenTilesAreChosen) {
    TempDir dir;
    const std::string raster = dir.file("wide.tif");
    auto mk = makeFlatRaster(raster, 1800);
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    // Refused before the fix at 224, 288, 320, 384 and 448 (not at 256 or 512). The sanitizer
    // build (a minute a scan here) runs one budget and checks no peak.
    const std::vector<const char*> budgets = kPeakRssMeaningful
                                                 ? std::vector<const char*>{"320", "384"}
                                                 : std::vector<const char*>{"320"};
    for (const char* ram : budgets) {
        const std::string plain = dir.file(std::string("a") + ram + ".geojson"),
                          explained = dir.file(std::string("b") + ram + ".geojson");
        std::vector<std::string> args{"scan",     raster,  "--sensor", "sentinel2", "--detector",
                                      "clearing", "--ram", ram,        "-q"};
        auto a = runRiskmap([&] {
            auto v = args;
            v.insert(v.end(), {"-o", plain});
            return v;
        }());
        auto b = runRiskmap([&] {
            auto v = args;
            v.insert(v.end(),
                     {"-o", explained, "--explain", dir.file("why.geojson"), "--overwrite"});
            return v;
        }());
        ASSERT_EQ(a.exitCode, 0) << a.err;
        ASSERT_EQ(b.exitCode, 0) << "--ram " << ram << ": " << b.err;
        if (kPeakRssMeaningful) {
            EXPECT_LE(b.peakRssMB, std::stod(ram)) << "--ram " << ram;
        }
        EXPECT_EQ(readFile(plain), readFile(explained)) << "--ram " << ram;
    }
}

// A VRT took an eighth of --ram for GDAL's cache whatever its sources: at --ram 256 clearing on a
// 2 x 2 mosaic VRT ran in 320 px tiles instead of the GeoTIFF's 576, 65.5 s against 31.4 s. A VRT
// of unresampled sources gets what their blocks need (the same tiles as its GeoTIFF); one that
// resamples, or whose sources cannot be opened, keeps the eighth.
TEST(CliScan, VrtOfUnresampledSourcesGetsTheTilesOfItsGeoTiff) {
    TempDir dir;
    const std::string tif = dir.file("s2.tif"), same = dir.file("same.vrt"),
                      built = dir.file("built.vrt"), half = dir.file("half.vrt");
    auto mk = makeFlatRaster(tif, 2400);
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    mk = runShell("gdal_translate -q -of VRT '" + tif + "' '" + same + "' && gdalbuildvrt -q '" +
                  built + "' '" + tif +
                  "' && "
                  "gdal_translate -q -of VRT -outsize 50% 50% '" +
                  tif + "' '" + half + "'");
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    auto tiling = [&](const std::string& in) {
        const std::string out = in + ".geojson";
        auto r = runRiskmap({"scan", in, "--sensor", "sentinel2", "--detector", "clearing", "--ram",
                             "256", "-q", "-o", out});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return parseJsonFile(out + ".manifest.json").at("tiling");
    };
    const Json t = tiling(tif), v = tiling(same), b = tiling(built), h = tiling(half);
    // Same blocks as the GeoTIFF: the same tiles. gdalbuildvrt's 128 px blocks over 256 px ones
    // need two VRT blocks per source block, still a thirty-second of --ram.
    EXPECT_EQ(v.at("tile_size"), t.at("tile_size")) << dumpJson(v) << dumpJson(t);
    EXPECT_LE(v.at("gdal_cache_mb").get<double>(), 256.0 / 32) << dumpJson(v);
    EXPECT_LE(b.at("gdal_cache_mb").get<double>(), 256.0 / 32) << dumpJson(b);
    EXPECT_EQ(h.at("gdal_cache_mb").get<double>(), 256.0 / 8) << dumpJson(h);
}

// --ram 64 was taken though the process alone holds ~61 MB: a 1500 px raster peaked at 66 MB.
// A budget below what one tile and the process need is refused before any pixel is read, naming
// the least that works, and that budget is then kept.
TEST(CliScan, BudgetTooSmallForTheProcessIsRefusedNamingOneThatHolds) {
    TempDir dir;
    const std::string index = dir.file("small.tif"), kiln = dir.file("s2.tif");
    auto mk = runShell(
        "gdal_create -q -of GTiff -outsize 1500 1500 -bands 1 -ot Byte -burn 200 -a_srs EPSG:32645 "
        "-a_ullr 500000 2500000 515000 2485000 -co TILED=YES '" +
        index +
        "' && "
        "gdal_create -q -of GTiff -outsize 1400 1400 -bands 4 -ot UInt16 -burn 900 -a_srs "
        "EPSG:32645 "
        "-a_ullr 500000 2500000 514000 2486000 -co TILED=YES -co COMPRESS=DEFLATE '" +
        kiln + "'");
    ASSERT_EQ(mk.exitCode, 0) << mk.err;
    // An index rule needs little beside the process; kiln's 1380 m halo needs tiles of 320 px.
    const std::vector<std::pair<std::vector<std::string>, int>> runs = {
        {{"scan", index, "--set", "rule=b1 > 0.3"}, 100},
        {{"scan", kiln, "--sensor", "sentinel2", "--detector", "kiln"}, 160}};
    for (const auto& [args, atMost] : runs) {
        const std::string out = dir.file(args[1] == index ? "index.geojson" : "kiln.geojson");
        std::vector<std::string> tight = args;
        tight.insert(tight.end(), {"--ram", "64", "-o", out});
        auto refused = runRiskmap(tight);
        EXPECT_EQ(refused.exitCode, 2) << refused.err;
        const int least = ramNamedIn(refused.err);
        ASSERT_GT(least, 0) << refused.err;
        EXPECT_FALSE(std::filesystem::exists(out));
        EXPECT_GT(least, 64);
        EXPECT_LE(least, atMost) << "the least budget is the smallest tiles', not the default's";
        std::vector<std::string> fits = args;
        fits.insert(fits.end(), {"--ram", std::to_string(least), "-q", "-o", out});
        auto r = runRiskmap(fits);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        if (kPeakRssMeaningful) {
            const Json m = parseJson(readFile(out + ".manifest.json"), "manifest");
            EXPECT_LE(m.at("timings").at("peak_rss_mb").get<double>(), least)
                << dumpJson(m.at("timings"));
        }
    }
}

// A rule that finds hundreds of thousands of objects keeps within --ram: held detections past
// a sixteenth of it go to an unnamed spill file beside the output, and the layer is the same
// bytes as with room to spare (issue 14: 1,000,000 squares at --ram 256 peaked at 300 MB).
// A Byte band "red" of n x n px (10 m, UTM 45N) with a 4 x 4 px square of 200 every 8 px.
void writeDenseSquares(const std::string& raster, int n) {
    GDALAllRegister();
    const char* options[] = {"TILED=YES", "COMPRESS=DEFLATE", nullptr};
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), raster.c_str(), n, n, 1, GDT_Byte,
                                 const_cast<char**>(options));
    ASSERT_NE(ds, nullptr);
    double gt[6] = {500000, 10, 0, 2500000, 0, -10};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32645);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    GDALSetDescription(band, "red");
    std::vector<unsigned char> row(static_cast<std::size_t>(n));
    for (int y = 0; y < n; ++y) {
        for (int x = 0; x < n; ++x)
            row[static_cast<std::size_t>(x)] = (y % 8 < 4 && x % 8 < 4) ? 200 : 0;
        ASSERT_EQ(GDALRasterIO(band, GF_Write, 0, y, n, 1, row.data(), n, 1, GDT_Byte, 0, 0),
                  CE_None);
    }
    GDALClose(ds);
}

TEST(CliScan, HalfAMillionObjectsKeepWithinRam) {
    TempDir dir;
    const std::string raster = dir.file("dense.tif");
    // 4 x 4 px squares every 8 px: 562,500 objects. The sanitizer build checks no peak, so it
    // runs 250,000 (still past the spill limit) in a third of the time.
    const int n = kPeakRssMeaningful ? 6000 : 4000;
    writeDenseSquares(raster, n);
    auto scan = [&](const std::string& ram, const std::string& out) {
        auto r = runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set", "min_area_m2=100",
                             "--ram", ram, "-q", "-o", out});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return parseJson(readFile(out + ".manifest.json"), "manifest");
    };
    const Json tight = scan("200", dir.file("tight.geojson"));
    const Json roomy = scan("1024", dir.file("roomy.geojson"));
    EXPECT_EQ(tight.at("output").at("features").get<long long>(),
              static_cast<long long>(n / 8) * (n / 8));
    EXPECT_GT(tight.at("tiling").at("detections_spilled_mb").get<double>(), 1.0);
    EXPECT_EQ(roomy.at("tiling").at("detections_spilled_mb").get<double>(), 0.0);
    if (kPeakRssMeaningful) {
        EXPECT_LE(tight.at("timings").at("peak_rss_mb").get<double>(), 200.0)
            << dumpJson(tight.at("timings"));
    }
    EXPECT_EQ(readFile(dir.file("tight.geojson")), readFile(dir.file("roomy.geojson")));
    // The spill file had no name: nothing is left beside the outputs.
    EXPECT_TRUE(filesContaining(dir.path(), "spill").empty());
}

// One band file as EO Browser exports them: values, then a 0/1 data mask with no description,
// pixel-interleaved, in 256 px DEFLATE tiles.
// `maskOnly`: the mask is 1 only in the 256 px block (4, 4), which an 8 x 8 sample of ten
// blocks a side passes over.
void writeBandFileWithMask(const std::string& path, int size, int seed, bool maskOnly = false) {
    GDALAllRegister();
    const char* options[] = {"TILED=YES", "COMPRESS=DEFLATE", "INTERLEAVE=PIXEL", nullptr};
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), size, size, 2, GDT_UInt16,
                                 const_cast<char**>(options));
    ASSERT_NE(ds, nullptr);
    double gt[6] = {89.0, 0.0001, 0, 22.0, 0, -0.0001};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(srs, 4326);
    char* wkt = nullptr;
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    std::vector<std::uint16_t> v(static_cast<std::size_t>(size) * size), m(v.size(), maskOnly ? 0 : 1);
    if (maskOnly)
        for (int y = 1024; y < 1280; ++y)
            for (int x = 1024; x < 1280; ++x) m[static_cast<std::size_t>(y) * size + x] = 1;
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>((i * 2654435761u + seed) % 4000 + 500);
    EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, size, size, v.data(), size, size, GDT_UInt16, 0, 0), CE_None);
    EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 2), GF_Write, 0, 0, size, size, m.data(), size, size, GDT_UInt16, 0, 0), CE_None);
    GDALClose(ds);
}

// Opening a band file samples its second band to tell a data mask; that decimated read decoded
// every block into GDAL's cache (5 % of the machine by default) and left it there: six 8 Mpx
// band files peaked at 270 MB at --ram 128, whatever the tiling.
TEST(CliScan, BandFilesWithADataMaskKeepWithinRam) {
    TempDir dir;
    const int size = kPeakRssMeaningful ? 2560 : 512;
    std::vector<std::string> args{"scan", "--detector", "index", "--set", "rule=nir > 2", "--ram", "128", "-q",
                                  "-o", dir.file("out.geojson")};
    const char* names[] = {"blue", "green", "red", "nir", "swir1", "swir2"};
    for (int b = 0; b < 6; ++b) {
        const std::string file = dir.file(std::string(names[b]) + ".tif");
        writeBandFileWithMask(file, size, b);
        args.insert(args.end(), {"--band", std::string(names[b]) + "=" + file});
    }
    const CliResult r = runRiskmap(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    if (kPeakRssMeaningful) {
        EXPECT_LE(r.peakRssMB, 128.0) << "six band files of " << size << " px";
    }
    // The sample still tells each file's second band as its data mask.
    const Json bands = parseJson(readFile(dir.file("out.geojson") + ".manifest.json"), "manifest").at("inputs").at(0).at("bands");
    ASSERT_EQ(bands.size(), 6u);
    for (const Json& b : bands) EXPECT_EQ(b.at("validity_band").get<int>(), 2) << dumpJson(b);
}

// The mask test samples 8 x 8 blocks; a mask whose 1s lie only between them (a scene mostly
// outside its footprint) is still found, by reading the other blocks one at a time.
TEST(CliScan, ADataMaskWhoseDataLiesBetweenTheSampledBlocksIsFound) {
    TempDir dir;
    writeBandFileWithMask(dir.file("red.tif"), 2560, 1, true);
    writeBandFileWithMask(dir.file("nir.tif"), 2560, 2, true);
    const CliResult r = runRiskmap({"scan", "--detector", "index", "--set", "rule=nir > 2", "-q", "-o", dir.file("out.geojson"),
                                    "--band", "red=" + dir.file("red.tif"), "--band", "nir=" + dir.file("nir.tif")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json bands = parseJson(readFile(dir.file("out.geojson") + ".manifest.json"), "manifest").at("inputs").at(0).at("bands");
    ASSERT_EQ(bands.size(), 2u);
    for (const Json& b : bands) EXPECT_EQ(b.at("validity_band").get<int>(), 2) << dumpJson(b);
}

// Each tile's objects are held unpacked until the in-order stage packs them, and that was in no
// estimate: 250,000 squares (16,384 a 1024 px tile, four tiles in flight) peaked at 127.5 MB at
// --ram 100 and 126 at 128. The first tile now runs alone to learn their size, and the tiles in
// flight are as many as fit beside it; the layer is the same bytes.
TEST(CliScan, ManyObjectsATileKeepWithinTightBudgets) {
    TempDir dir;
    const std::string raster = dir.file("dense.tif");
    writeDenseSquares(raster, kPeakRssMeaningful ? 3072 : 1600);  // 9 tiles of 1024 px
    std::string previous;
    for (const char* ram : {"100", "128", "1024"}) {
        const std::string out = dir.file(std::string("at") + ram + ".geojson");
        auto r = runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set", "min_area_m2=100",
                             "--ram", ram, "-q", "-o", out});
        ASSERT_EQ(r.exitCode, 0) << ram << ": " << r.err;
        if (kPeakRssMeaningful) {
            EXPECT_LE(r.peakRssMB, std::stod(ram)) << "--ram " << ram;
        }
        const std::string layer = readFile(out);
        if (!previous.empty()) {
            EXPECT_EQ(layer, previous) << "--ram " << ram;
        }
        previous = layer;
    }
    // With --explain every square is rejected: a tile's rejections and their journal text took
    // ~40 MB, twice what their heapBytes said, and 152 MB at --ram 128. The first tile's
    // footprint is measured; where one such tile cannot fit (--ram 100) the scan says so and
    // names a --ram that holds it, and a scan that passed --ram says that too.
    if (!kPeakRssMeaningful) return;  // the footprint is not measured under the sanitizer
    auto explain = [&](const std::string& ram) {
        return runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set", "min_area_m2=2000",
                           "--ram", ram, "-q", "-o", dir.file("none" + ram + ".geojson"),
                           "--explain", dir.file("why" + ram + ".geojson")});
    };
    auto tight = explain("100");
    ASSERT_EQ(tight.exitCode, 0) << tight.err;
    ASSERT_GT(ramNamedIn(tight.err), 0) << tight.err;
    // The manifest's peak is the one the scan can see (before its files are closed).
    const Json m = parseJson(readFile(dir.file("none100.geojson.manifest.json")), "manifest");
    if (m.at("timings").at("peak_rss_mb").get<double>() > 100) {
        EXPECT_NE(tight.err.find("over --ram 100"), std::string::npos) << tight.err;
    }
    const std::string named = std::to_string(ramNamedIn(tight.err));
    auto kept = explain(named);
    ASSERT_EQ(kept.exitCode, 0) << kept.err;
    EXPECT_LE(kept.peakRssMB, std::stod(named)) << "--explain at the --ram named, " << named;
    EXPECT_EQ(kept.err.find("warning"), std::string::npos) << kept.err;
    EXPECT_EQ(readFile(dir.file("why100.geojson")), readFile(dir.file("why" + named + ".geojson")));
}

// The manifest's peak_rss_mb came from getrusage, which Linux carries over from the parent at
// the fork that started riskmap: run from a notebook holding 400 MB, a 159 MB scan reported 410.
TEST(CliScan, PeakRssInTheManifestIsRiskmapsOwnNotItsParents) {
    if (!kPeakRssMeaningful) GTEST_SKIP() << "peak RSS means nothing under the sanitizer";
    TempDir dir;
    const std::string raster = dir.file("dense.tif"), out = dir.file("out.geojson");
    writeDenseSquares(raster, 256);
    std::vector<char> ballast(std::size_t{400} << 20);
    for (std::size_t i = 0; i < ballast.size(); i += 4096)
        ballast[i] = 1;  // resident, then inherited
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, STDOUT_FILENO);
        ::dup2(devnull, STDERR_FILENO);
        std::vector<std::string> args = {RISKMAP_BINARY,   "scan", raster, "--set",
                                         "rule=red > 0.3", "-q",   "-o",   out};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv.front(), argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const Json m = parseJson(readFile(out + ".manifest.json"), "manifest");
    EXPECT_LT(m.at("timings").at("peak_rss_mb").get<double>(), 300.0) << dumpJson(m.at("timings"));
    EXPECT_EQ(ballast[4096], 1);
}

// The least budget named counted no writer, and FlatGeobuf builds its spatial index at close
// in memory (up to 100 MiB of features): 118,806 objects peaked at 105.8 MB at the 87 named
// (GeoJSON) and at 268 MiB at --ram 256 (.fgb). Measured over the whole process (wait4), since
// the manifest's peak is taken before the files are closed. Every format keeps the least budget
// named; a FlatGeobuf layer whose index would not fit goes without one and says so.
TEST(CliScan, ManyObjectsKeepTheLeastBudgetNamedInEveryFormat) {
    TempDir dir;
    const std::string raster = dir.file("dense.tif");
    const int n =
        kPeakRssMeaningful ? 3000 : 1600;  // 140,625 squares (40,000 in a sanitizer build)
    writeDenseSquares(raster, n);
    auto scan = [&](const std::string& ram, const std::string& out) {
        return runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set", "min_area_m2=100",
                           "--ram", ram, "-q", "-o", out});
    };
    auto refused = scan("64", dir.file("refused.geojson"));
    ASSERT_EQ(refused.exitCode, 2) << refused.err;
    ASSERT_GT(ramNamedIn(refused.err), 0) << refused.err;
    const std::string least = std::to_string(ramNamedIn(refused.err));
    for (const char* ext : {".geojson", ".gpkg", ".fgb"}) {
        const std::string out = dir.file(std::string("least") + ext);
        auto r = scan(least, out);
        ASSERT_EQ(r.exitCode, 0) << ext << ": " << r.err;
        if (kPeakRssMeaningful) {
            EXPECT_LE(r.peakRssMB, std::stod(least)) << ext;
        }
        const bool unindexed = r.err.find("without a spatial index") != std::string::npos;
        EXPECT_EQ(unindexed, std::string(ext) == ".fgb") << ext << ": " << r.err;
        EXPECT_EQ(readLayer(out).features.size(), static_cast<std::size_t>(n / 8) * (n / 8)) << ext;
    }
    // With room, the FlatGeobuf layer has its index; without, the same features.
    auto roomy = scan("1024", dir.file("roomy.fgb"));
    ASSERT_EQ(roomy.exitCode, 0) << roomy.err;
    EXPECT_EQ(roomy.err.find("without a spatial index"), std::string::npos) << roomy.err;
    auto indexed = [](const std::string& path) {
        GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
        EXPECT_NE(ds, nullptr) << path;
        if (!ds) return false;
        const bool fast =
            OGR_L_TestCapability(GDALDatasetGetLayer(ds, 0), OLCFastSpatialFilter) != 0;
        GDALClose(ds);
        return fast;
    };
    EXPECT_TRUE(indexed(dir.file("roomy.fgb")));
    EXPECT_FALSE(indexed(dir.file("least.fgb")));
    const Json m = parseJson(readFile(dir.file("least.fgb.manifest.json")), "manifest");
    EXPECT_NE(dumpJson(m.at("warnings")).find("without a spatial index"), std::string::npos)
        << dumpJson(m.at("warnings"));
    auto ids = [](const std::string& path) {
        std::vector<std::string> v;
        for (const auto& f : readLayer(path).features)
            v.push_back(dumpJson(Json(f.text)) + dumpJson(Json(f.coords)));
        std::sort(v.begin(), v.end());
        return v;
    };
    EXPECT_EQ(ids(dir.file("least.fgb")), ids(dir.file("roomy.fgb")));

    // merge writes through the same writer: at the least budget it names, the same promise and
    // the same warning, printed (it was only in the manifest).
    for (const char* k : {"1/2", "2/2"}) {
        auto shard = runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set",
                                 "min_area_m2=100", "--shard", k, "-q", "-o",
                                 dir.file(std::string("shard") + k[0] + ".geojson")});
        ASSERT_EQ(shard.exitCode, 0) << shard.err;
    }
    auto merge = [&](const std::string& ram) {
        return runRiskmap({"merge", dir.file("shard1.geojson"), dir.file("shard2.geojson"), "--ram",
                           ram, "-q", "-o", dir.file("merged.fgb")});
    };
    auto mergeRefused = merge("64");
    ASSERT_EQ(mergeRefused.exitCode, 2) << mergeRefused.err;
    ASSERT_GT(ramNamedIn(mergeRefused.err), 0) << mergeRefused.err;
    const std::string mergeLeast = std::to_string(ramNamedIn(mergeRefused.err));
    auto merged = merge(mergeLeast);
    ASSERT_EQ(merged.exitCode, 0) << merged.err;
    if (kPeakRssMeaningful) {
        EXPECT_LE(merged.peakRssMB, std::stod(mergeLeast));
    }
    EXPECT_NE(merged.err.find("without a spatial index"), std::string::npos) << merged.err;
    EXPECT_EQ(ids(dir.file("merged.fgb")), ids(dir.file("roomy.fgb")));
}

// --explain held every rejection unpacked: a clearing scan of a 6000 px real mosaic turned down
// 141,046 candidates and peaked at 305 MB at --ram 256. Rejections are packed and spilled too.
TEST(CliScan, ExplainOfManyRejectionsKeepsWithinRam) {
    TempDir dir;
    const std::string raster = dir.file("dense.tif");
    const int n = kPeakRssMeaningful ? 4000 : 3000;  // every square is under min_area: all rejected
    writeDenseSquares(raster, n);
    auto scan = [&](const std::string& ram, const std::string& name) {
        auto r = runRiskmap({"scan", raster, "--set", "rule=red > 0.3", "--set", "min_area_m2=2000",
                             "--ram", ram, "-q", "-o", dir.file(name + ".geojson"), "--explain",
                             dir.file(name + ".why.geojson")});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return parseJson(readFile(dir.file(name + ".geojson.manifest.json")), "manifest");
    };
    const Json tight = scan("200", "tight");
    const Json roomy = scan("1024", "roomy");
    EXPECT_EQ(tight.at("output").at("features").get<long long>(), 0);
    EXPECT_EQ(tight.at("explain").at("rejected").get<long long>(),
              static_cast<long long>(n / 8) * (n / 8));
    EXPECT_GT(tight.at("tiling").at("detections_spilled_mb").get<double>(), 1.0);
    if (kPeakRssMeaningful) {
        EXPECT_LE(tight.at("timings").at("peak_rss_mb").get<double>(), 200.0)
            << dumpJson(tight.at("timings"));
    }
    EXPECT_EQ(readFile(dir.file("tight.why.geojson")), readFile(dir.file("roomy.why.geojson")));
}

// An audit: "-o scene.tif/out.gpkg" said "output folder 'scene.tif' does not exist: create it
// first" (it is a file); a --explain layer at -o's path was blamed on --publish. Messages name
// the output and what is wrong with its folder.
TEST(CliScan, OutputFolderMessagesNameTheOutputAndTheFault) {
    TempDir dir;
    const std::string in = oneObjectScene(dir, "p.tif");
    CliResult r = runRiskmap({"scan", in, "-o", in + "/out.gpkg", "-q"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("is a file, not a folder"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'" + in + "/out.gpkg'"), std::string::npos) << r.err;
    r = runRiskmap(
        {"scan", in, "-o", dir.file("x.gpkg"), "--explain", dir.file("why/e.gpkg"), "-q"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("the folder of output '" + dir.file("why/e.gpkg") + "'"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("create it first"), std::string::npos) << r.err;
    r = runRiskmap({"scan", in, "-o", dir.file("x.gpkg"), "--explain", dir.file("x.gpkg"), "-q"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("--explain"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(dir.file("x.gpkg")));
}

// Input mistakes an audit found passing in silence: the same file twice (its detections doubled
// where overlaps are not merged), --stac-asset without a STAC input, a band named like an index,
// a real date outside the accepted years called "not a date", identical unmixing endmembers.
TEST(CliScan, InputMistakesAreRefusedNamingTheMistake) {
    TempDir dir;
    const std::string in = oneObjectScene(dir, "p.tif");
    auto refused = [&](std::vector<std::string> args, const std::string& says) {
        args.insert(args.end(), {"-o", dir.file("x.geojson"), "-q"});
        const CliResult r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
        EXPECT_FALSE(fileExists(dir.file("x.geojson")));
    };
    refused({"scan", in, dir.path() + "/./p.tif"}, "is given twice");
    refused({"scan", in, "--stac-asset", "nir=B08"}, "--stac-asset applies to STAC inputs");
    refused({"scan", "--band", "ndvi=" + in, "--band", "red=" + in},
            "is a spectral index of rules");
    refused({"scan", in, "--date", "1800-01-01"}, "outside the years 1900-2999");
    refused({"scan", in, "--detector", "clearing", "--set",
             "endmember_forest=0.084,0.110,0.130,0.200,0.230"},
            "linearly dependent");
    refused({"train", "--detector", "kiln", "--images", in, "--labels", in, "--seed", "-1"},
            "--seed");
}

// Band files of different extents are stacked over their overlap; a 1 px file among 200 px ones
// shrank the scene to a pixel without a word (an audit). Less than 99 % of a file is said.
TEST(CliScan, BandFilesOfDifferentExtentsAreWarnedOf) {
    TempDir dir;
    SceneSpec big;
    big.width = big.height = 200;
    SceneSpec small = big;
    small.width = small.height = 100;
    writeScene(dir.file("big.tif"), big);
    writeScene(dir.file("small.tif"), small);
    auto run = [&](const std::string& nirFile, const std::string& out) {
        return runRiskmap({"scan", "--band", "red=" + dir.file("big.tif") + ":3", "--band", "green=" + dir.file("big.tif") + ":2",
                           "--band", "nir=" + dir.file(nirFile) + ":4", "-o", dir.file(out), "-q"});
    };
    CliResult r = run("small.tif", "a.geojson");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json m = parseJsonFile(dir.file("a.geojson.manifest.json"));
    std::string all;
    for (const auto& w : m.at("warnings")) all += w.get<std::string>() + "\n";
    EXPECT_NE(all.find("the scan covers only their overlap, 25 % of '" + dir.file("big.tif") + "'"), std::string::npos) << all;
    r = run("big.tif", "b.geojson");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(dumpJson(parseJsonFile(dir.file("b.geojson.manifest.json")).at("warnings")).find("overlap"), std::string::npos);
}
