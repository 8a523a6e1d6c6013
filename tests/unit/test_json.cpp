#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "core/Json.hpp"

#include <cmath>

using namespace riskmap;

TEST(Json, RoundTripKeepsKeyOrderAndTypes) {
    Json j = parseJson(R"({"b": 1, "a": [true, null, 2.5, "x\n\u00e9"], "c": {"d": -3e2}})", "t");
    EXPECT_EQ(dumpJson(j), R"({"b":1,"a":[true,null,2.5,"x\né"],"c":{"d":-300.0}})");
    EXPECT_TRUE(j.at("b").is_number_integer());
    EXPECT_TRUE(j.at("c").at("d").is_number_float());
}

TEST(Json, ShortestDoubles) {
    EXPECT_EQ(formatDouble(0.1), "0.1");
    EXPECT_EQ(formatDouble(2.0), "2.0");
    EXPECT_EQ(formatDouble(1e-7), "1e-07");
}

TEST(Json, ErrorsNameTheOriginAndPosition) {
    try {
        parseJson("{\n  \"a\": tru\n}", "recipe.json");
        FAIL() << "no exception";
    } catch (const DataError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("recipe.json:2:"), std::string::npos) << msg;
    }
    EXPECT_THROW(parseJson("{\"a\":1,\"a\":2}", "x"), DataError);
    EXPECT_THROW(parseJson("[1,]", "x"), DataError);
    EXPECT_THROW(parseJson("1 2", "x"), DataError);
}

// Numbers are written exactly as riskmap wrote them before it used nlohmann (shortest round
// trip, a visible decimal point), so manifests, journals and `detectors --json` keep their bytes.
TEST(Json, NumberFormatIsUnchanged) {
    Json j = Json::array({1e6, 1e-7, 0.1, 2.0, -0.0, 123456.0, 1234567.0, 1.0 / 3, 1e300, 0.0001, std::int64_t{-42},
                          std::uint64_t{18446744073709551615u}, std::nan(""), true, nullptr});
    EXPECT_EQ(dumpJson(j), "[1e+06,1e-07,0.1,2.0,-0.0,123456.0,1234567.0,0.3333333333333333,1e+300,1e-04,-42,"
                           "18446744073709551615,null,true,null]");
    EXPECT_EQ(dumpJson(Json{{"a", Json::array()}, {"b", Json::object()}, {"c", Json::array({1})}}, 2),
              "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1\n  ]\n}");
    EXPECT_EQ(dumpJson(Json("tab\there \x01 \xff")), "\"tab\\there \\u0001 \xEF\xBF\xBD\"");  // invalid UTF-8: U+FFFD
}

TEST(Json, RefusesAbsurdNesting) {
    const std::string deep = std::string(kMaxJsonDepth + 5, '[') + std::string(kMaxJsonDepth + 5, ']');
    EXPECT_THROW(parseJson(deep, "x"), DataError);
    const std::string ok = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
    EXPECT_NO_THROW(parseJson(ok, "x"));
    // A million nested arrays must not exhaust the stack either.
    EXPECT_THROW(parseJson(std::string(1000000, '['), "x"), DataError);
}

TEST(Json, DuplicateKeysAreRefusedAtAnyDepth) {
    EXPECT_THROW(parseJson(R"({"a": {"b": 1, "b": 2}})", "x"), DataError);
    EXPECT_NO_THROW(parseJson(R"({"a": {"b": 1}, "c": {"b": 2}})", "x"));
    EXPECT_NO_THROW(parseJson(R"([{"b": 1}, {"b": 2}])", "x"));
}

// JSON must be UTF-8: half a character cut from a message made an error event no JSON (a sweep).
// Invalid bytes become U+FFFD; valid characters of every length pass unchanged.
TEST(Json, InvalidUtf8BecomesTheReplacementCharacter) {
    const std::string r = "\xEF\xBF\xBD";  // U+FFFD
    EXPECT_EQ(jsonQuote("a\xc3"), "\"a" + r + "\"");
    EXPECT_EQ(jsonQuote("\xff\xfe"), "\"" + r + r + "\"");
    EXPECT_EQ(jsonQuote("\xed\xa0\x80"), "\"" + r + r + r + "\"");  // a surrogate
    EXPECT_EQ(jsonQuote("\u00f1 \u2264 \U0001F600"), "\"\u00f1 \u2264 \U0001F600\"");
    EXPECT_NO_THROW(parseJson(dumpJson(Json{{"m", std::string("x\xc3")}}), "test"));
}
