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
