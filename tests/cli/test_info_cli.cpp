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
    Json j = Json::parse(r.out, "stdout");
    const Json& in = j.find("inputs")->asArray().at(0);
    EXPECT_EQ(in.find("width")->asInt(), 300);
    EXPECT_EQ(in.find("sensor_profile")->asString(), "sentinel2");
    EXPECT_EQ(in.find("crs")->find("epsg")->asInt(), 32645);
    EXPECT_NEAR(in.find("gsd_m")->find("x")->asDouble(), 10.0, 0.05);
    const auto& bands = in.find("bands")->asArray();
    ASSERT_EQ(bands.size(), 5u);
    EXPECT_EQ(bands[3].find("name")->asString(), "nir");
    EXPECT_EQ(bands[4].find("name")->asString(), "swir1");
    EXPECT_EQ(bands[0].find("mask")->asString(), "nodata");
    EXPECT_EQ(bands[0].find("block")->asArray()[0].asInt(), 256);
    EXPECT_EQ(in.find("footprint")->find("type")->asString(), "Polygon");
    EXPECT_NEAR(in.find("area_km2")->asDouble(), 3000.0 * 2000.0 / 1e6, 0.1);
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
    Json j = Json::parse(r.out, "stdout");
    bool found = false;
    for (const auto& d : j.find("detectors")->asArray()) {
        if (d.find("name")->asString() != "index") continue;
        found = true;
        bool area = false;
        for (const auto& o : d.find("options")->asArray()) {
            if (o.find("name")->asString() == "min_area_m2") {
                area = true;
                EXPECT_EQ(o.find("unit")->asString(), "m2");
                EXPECT_TRUE(o.find("default")->isNumber());
            }
        }
        EXPECT_TRUE(area);
    }
    EXPECT_TRUE(found);
    auto text = runRiskmap({"detectors"});
    EXPECT_EQ(text.exitCode, 0);
    EXPECT_NE(text.out.find("rule"), std::string::npos);
}
