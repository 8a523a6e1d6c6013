#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

TEST(CliInfo, JsonDescribesBandsCrsGsdAndFootprint) {
    TempDir dir;
    SceneSpec s;
    s.width = 300;
    s.height = 200;
    s.bands = 5;
    s.nodata = true;
    std::string path = writeScene(dir.file("s2.tif"), s);
    auto r = runRiskmap({"info", path, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Json j = parseJson(r.out, "stdout");
    const Json& in = j.at("inputs").at(0);
    EXPECT_EQ(in.at("width").get<std::int64_t>(), 300);
    EXPECT_EQ(in.at("sensor_profile").get<std::string>(), "sentinel2");
    EXPECT_EQ(in.at("crs").at("epsg").get<std::int64_t>(), 32645);
    EXPECT_NEAR(in.at("gsd_m").at("x").get<double>(), 10.0, 0.05);
    const auto& bands = in.at("bands");
    ASSERT_EQ(bands.size(), 5u);
    EXPECT_EQ(bands[3].at("name").get<std::string>(), "nir");
    EXPECT_EQ(bands[4].at("name").get<std::string>(), "swir1");
    EXPECT_EQ(bands[0].at("mask").get<std::string>(), "nodata");
    EXPECT_EQ(bands[0].at("block")[0].get<std::int64_t>(), 256);
    EXPECT_EQ(in.at("footprint").at("type").get<std::string>(), "Polygon");
    EXPECT_NEAR(in.at("area_km2").get<double>(), 3000.0 * 2000.0 / 1e6, 0.1);
    EXPECT_TRUE(in.at("clipped_share").is_null());  // 16-bit: not a rendering
}

TEST(CliInfo, TextNamesBandsAndCrs) {
    TempDir dir;
    SceneSpec s;
    s.width = 50;
    s.height = 40;
    s.bands = 3;
    s.epsg = "EPSG:4326";
    s.originX = 89.2;
    s.originY = 23.1;
    s.pixel = 8.983152841195214e-05;
    std::string path = writeScene(dir.file("rgb.tif"), s);
    auto r = runRiskmap({"info", path});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("EPSG:4326"), std::string::npos);
    EXPECT_NE(r.out.find("red"), std::string::npos);
    EXPECT_NE(r.out.find("9.20 m x 9.9"), std::string::npos) << r.out;
    // A band description holding a line break was printed raw, breaking the listing into a line
    // that looked like another entry (a sweep of hostile inputs): it is quoted and escaped.
    GDALDatasetH ds = GDALOpen(path.c_str(), GA_Update);
    ASSERT_NE(ds, nullptr);
    GDALSetDescription(GDALGetRasterBand(ds, 2), "green\n  footprint: lon 0");
    GDALClose(ds);
    r = runRiskmap({"info", path});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("\"green\\n  footprint: lon 0\""), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\n  footprint:", r.out.find("\n  footprint:") + 1), std::string::npos) << r.out;
}

// An 8-bit rendering: how much of it is clipped at 255, before a scan warns of it.
TEST(CliInfo, ClippedShareOfAnEightBitRendering) {
    TempDir dir;
    RgbSceneSpec s;
    s.widthM = s.heightM = 640;
    s.gsd = 10;
    s.noise = 0;
    s.background = {120, 110, 100};
    s.shapes = {{RgbShape::Rectangle, 100, 100, 80, 80, 0, {255, 255, 255}}};  // 64 of 4096 pixels
    const std::string path = writeRgbScene(dir.file("clipped.tif"), s);
    auto r = runRiskmap({"info", path, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NEAR(parseJson(r.out, "stdout").at("inputs").at(0).at("clipped_share").get<double>(),
                64.0 / 4096.0, 1e-9);
    r = runRiskmap({"info", path});
    EXPECT_NE(r.out.find("1.56 % of the pixels sampled are at 255"), std::string::npos) << r.out;
    // With an alpha band (255 wherever there is data): the same share, not every pixel (an audit).
    GDALAllRegister();
    GDALDatasetH src = GDALOpen(path.c_str(), GA_ReadOnly);
    ASSERT_NE(src, nullptr);
    const char* argv[] = {"-b",    "1",        "-b", "2",   "-b",  "3",   "-b",
                          "1",     "-scale_4", "0",  "255", "255", "255", "-colorinterp_4",
                          "alpha", nullptr};
    GDALTranslateOptions* opts = GDALTranslateOptionsNew(const_cast<char**>(argv), nullptr);
    GDALClose(GDALTranslate(dir.file("rgba.tif").c_str(), src, opts, nullptr));
    GDALTranslateOptionsFree(opts);
    GDALClose(src);
    r = runRiskmap({"info", dir.file("rgba.tif"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NEAR(parseJson(r.out, "stdout").at("inputs").at(0).at("clipped_share").get<double>(),
                64.0 / 4096.0, 1e-9);
}

TEST(CliInfo, MissingFileIsARuntimeError) {
    auto r = runRiskmap({"info", "/no/such/file.tif"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("/no/such/file.tif"), std::string::npos);
}

TEST(CliDetectors, JsonListsIndexWithUnitsAndDefaults) {
    auto r = runRiskmap({"detectors", "--json"});
    ASSERT_EQ(r.exitCode, 0);
    Json j = parseJson(r.out, "stdout");
    bool found = false;
    for (const auto& d : j.at("detectors")) {
        if (d.at("name").get<std::string>() != "index") continue;
        found = true;
        bool area = false;
        for (const auto& o : d.at("options")) {
            if (o.at("name").get<std::string>() == "min_area_m2") {
                area = true;
                EXPECT_EQ(o.at("unit").get<std::string>(), "m2");
                EXPECT_TRUE(o.at("default").is_number());
            }
        }
        EXPECT_TRUE(area);
    }
    EXPECT_TRUE(found);
    auto text = runRiskmap({"detectors"});
    EXPECT_EQ(text.exitCode, 0);
    EXPECT_NE(text.out.find("rule"), std::string::npos);
}
