#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "core/Json.hpp"

using namespace riskmap;

TEST(Json, RoundTripKeepsKeyOrderAndTypes) {
    Json j = Json::parse(R"({"b": 1, "a": [true, null, 2.5, "x\n\u00e9"], "c": {"d": -3e2}})", "t");
    EXPECT_EQ(j.dump(), R"({"b":1,"a":[true,null,2.5,"x\né"],"c":{"d":-300.0}})");
    EXPECT_TRUE(j.find("b")->isInt());
    EXPECT_TRUE(j.find("c")->find("d")->isDouble());
}

TEST(Json, ShortestDoubles) {
    EXPECT_EQ(formatDouble(0.1), "0.1");
    EXPECT_EQ(formatDouble(2.0), "2.0");
    EXPECT_EQ(formatDouble(1e-7), "1e-07");
}

TEST(Json, ErrorsNameTheOriginAndPosition) {
    try {
        Json::parse("{\n  \"a\": tru\n}", "recipe.json");
        FAIL() << "no exception";
    } catch (const DataError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("recipe.json:2:"), std::string::npos) << msg;
    }
    EXPECT_THROW(Json::parse("{\"a\":1,\"a\":2}", "x"), DataError);
    EXPECT_THROW(Json::parse("[1,]", "x"), DataError);
    EXPECT_THROW(Json::parse("1 2", "x"), DataError);
}
