#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "detection/DetectorConfig.hpp"
#include "detection/DetectorRegistry.hpp"

using namespace riskmap;

TEST(OptionValues, DefaultsSetsAndValidation) {
    auto info = DetectorRegistry::builtin().get("index").info;
    OptionValues v(info.options);
    EXPECT_EQ(v.getString("rule"), "ndvi < 0.2 and ndwi < 0");
    v.setAssignment("min_area_m2=250");
    EXPECT_DOUBLE_EQ(v.getDouble("min_area_m2"), 250.0);
    EXPECT_TRUE(v.isSet("min_area_m2"));
    EXPECT_THROW(v.setAssignment("min_area_m2=-1"), UsageError);
    EXPECT_THROW(v.setAssignment("min_area_m2=ten"), UsageError);
    EXPECT_THROW(v.setAssignment("nonsense=1"), UsageError);
    EXPECT_THROW(v.setAssignment("noequals"), UsageError);
}

// An audit: "option min_score=2 is above the maximum 1 0-1". Limits read as a user writes them.
TEST(OptionValues, LimitsAreNamedWithTheirUnitsReadably) {
    OptionValues v(DetectorRegistry::builtin().get("index").info.options);
    auto message = [&](const std::string& assignment) {
        try {
            v.setAssignment(assignment);
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message("min_score=2").find("is above the maximum 1"), std::string::npos);
    EXPECT_EQ(message("min_score=2").find("0-1"), std::string::npos) << message("min_score=2");
    EXPECT_NE(message("open_radius_m=2000").find("is above the maximum 1000 m"), std::string::npos)
        << message("open_radius_m=2000");
}

TEST(DetectorConfig, RecipeThenSetsInOrder) {
    auto info = DetectorRegistry::builtin().get("index").info;
    DetectorConfig c = DetectorConfig::fromJson(
        parseJson(R"({"detector": "index", "options": {"rule": "ndvi < 0.1", "min_area_m2": 300}})", "r.json"), "r.json");
    OptionValues v = DetectorConfig::resolve(info, &c, {"min_area_m2=400"});
    EXPECT_EQ(v.getString("rule"), "ndvi < 0.1");
    EXPECT_DOUBLE_EQ(v.getDouble("min_area_m2"), 400.0);
    // A manifest carries the recipe under "recipe" and reproduces the options.
    Json manifest = Json::object();
    manifest["recipe"] = DetectorConfig::recipeJson("index", v);
    DetectorConfig again = DetectorConfig::fromJson(manifest, "m.json");
    OptionValues w = DetectorConfig::resolve(info, &again, {});
    EXPECT_EQ(dumpJson(w.toJson()), dumpJson(v.toJson()));
}

TEST(DetectorConfig, RejectsWrongTypesAndKeys) {
    auto info = DetectorRegistry::builtin().get("index").info;
    auto bad = [&](const char* text) {
        DetectorConfig c = DetectorConfig::fromJson(parseJson(text, "r.json"), "r.json");
        return DetectorConfig::resolve(info, &c, {});
    };
    EXPECT_THROW(bad(R"({"options": {"min_area_m2": "big"}})"), UsageError);
    EXPECT_THROW(bad(R"({"options": {"unknown": 1}})"), UsageError);
    EXPECT_THROW(DetectorConfig::fromJson(parseJson(R"({"detectr": "index"})", "r"), "r"), UsageError);
    EXPECT_THROW(bad(R"({"detector": "kiln", "options": {"rule": "ndvi < 0"}})"), UsageError);
}

TEST(DetectorRegistry, UnknownDetectorListsKnownOnes) {
    try {
        DetectorRegistry::builtin().get("nope");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("index"), std::string::npos);
    }
}
