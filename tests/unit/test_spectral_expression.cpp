#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/Error.hpp"
#include "detection/imgproc/SpectralExpression.hpp"
#include "raster/RasterInput.hpp"

using namespace riskmap;

namespace {

// One row of pixels with the given band values.
TileImage tileOf(const std::vector<std::pair<std::string, std::vector<float>>>& bands) {
    TileImage t;
    int w = static_cast<int>(bands.front().second.size());
    t.window = {0, 0, w, 1};
    t.core = t.window;
    t.rasterWidth = w;
    t.rasterHeight = 1;
    t.gsdX = t.gsdY = 10;
    for (const auto& b : bands) {
        t.names.push_back(b.first);
        cv::Mat m(1, w, CV_32F);
        for (int i = 0; i < w; ++i) m.at<float>(0, i) = b.second[static_cast<std::size_t>(i)];
        t.planes.push_back(m);
    }
    t.valid = cv::Mat(1, w, CV_8U, cv::Scalar(255));
    t.validCount = static_cast<std::size_t>(w);
    return t;
}

}  // namespace

TEST(SpectralExpression, NdviMatchesTheFormula) {
    auto t = tileOf({{"red", {0.1f, 0.3f, 0.0f}}, {"nir", {0.5f, 0.3f, 0.0f}}});
    cv::Mat v = SpectralExpression::parse("ndvi").evaluateValue(t);
    EXPECT_FLOAT_EQ(v.at<float>(0, 0), (0.5f - 0.1f) / (0.5f + 0.1f));
    EXPECT_FLOAT_EQ(v.at<float>(0, 1), 0.0f);
    EXPECT_FLOAT_EQ(v.at<float>(0, 2), 0.0f);  // 0/0 is defined as 0
}

TEST(SpectralExpression, BuiltinIndicesUseTheRightBands) {
    auto t = tileOf({{"blue", {0.05f}}, {"green", {0.2f}}, {"red", {0.1f}}, {"nir", {0.4f}}, {"swir1", {0.3f}}});
    auto val = [&](const char* e) { return SpectralExpression::parse(e).evaluateValue(t).at<float>(0, 0); };
    EXPECT_FLOAT_EQ(val("ndwi"), (0.2f - 0.4f) / (0.2f + 0.4f));
    EXPECT_FLOAT_EQ(val("mndwi"), (0.2f - 0.3f) / (0.2f + 0.3f));
    EXPECT_FLOAT_EQ(val("ndbi"), (0.3f - 0.4f) / (0.3f + 0.4f));
    EXPECT_NEAR(val("bsi"), ((0.3 + 0.1) - (0.4 + 0.05)) / ((0.3 + 0.1) + (0.4 + 0.05)), 1e-6);
    EXPECT_FLOAT_EQ(val("red / green"), 0.5f);
    EXPECT_FLOAT_EQ(val("ratio(nir, red)"), 4.0f);
    EXPECT_FLOAT_EQ(val("-(nir - red) * 2 + 1"), 1.0f - 0.6f);
    EXPECT_EQ(SpectralExpression::parse("bsi").bands(),
              (std::vector<std::string>{"blue", "nir", "red", "swir1"}));
}

TEST(SpectralExpression, RuleMarginsFollowLogic) {
    auto t = tileOf({{"red", {0.3f, 0.1f, 0.3f}}, {"nir", {0.3f, 0.5f, 0.32f}}, {"green", {0.1f, 0.1f, 0.1f}}});
    cv::Mat pass, margin;
    // pixel 0: ndvi 0 < 0.2 passes by 0.2, ndwi -0.5 < 0 passes by 0.5 -> margin 0.2
    // pixel 1: ndvi 0.667 fails; pixel 2: ndvi ~0.032 passes
    SpectralExpression::parse("ndvi < 0.2 and ndwi < 0").evaluateRule(t, pass, margin);
    EXPECT_EQ(pass.at<uchar>(0, 0), 255);
    EXPECT_NEAR(margin.at<float>(0, 0), 0.2, 1e-6);
    EXPECT_EQ(pass.at<uchar>(0, 1), 0);
    EXPECT_LT(margin.at<float>(0, 1), 0);
    EXPECT_EQ(pass.at<uchar>(0, 2), 255);
    SpectralExpression::parse("not (ndvi < 0.2) or red > 0.2").evaluateRule(t, pass, margin);
    EXPECT_EQ(pass.at<uchar>(0, 0), 255);  // red 0.3 > 0.2
    EXPECT_EQ(pass.at<uchar>(0, 1), 255);  // ndvi high
    EXPECT_NEAR(margin.at<float>(0, 1), 0.6667 - 0.2, 1e-3);
}

TEST(SpectralExpression, ParseErrorsAreUsageErrorsWithPosition) {
    for (const char* bad : {"", "ndvi <", "ndvi < 0.2 and", "(ndvi < 1", "ndvi < 0.2 < 0.3", "nd(red)",
                            "ndvi and mndwi", "1 +", "red $ 2", "(ndvi < 1) + 2"}) {
        EXPECT_THROW(SpectralExpression::parse(bad), UsageError) << bad;
    }
    try {
        SpectralExpression::parse("ndvi < 0.2 and and");
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("position"), std::string::npos);
    }
}

namespace {

// A tile as the reader leaves it: stored UInt16 values, an L2A-style scale and offset, some
// invalid pixels, and no float planes yet.
TileImage rawTile(int w, int h) {
    TileImage t;
    t.window = {0, 0, w, h};
    t.core = t.window;
    t.rasterWidth = w;
    t.rasterHeight = h;
    t.gsdX = t.gsdY = 10;
    cv::RNG rng(5);
    t.valid = cv::Mat(h, w, CV_8U, cv::Scalar(255));
    t.valid(cv::Rect(3, 2, 7, 5)).setTo(0);
    for (const char* name : {"green", "red", "nir"}) {
        cv::Mat v(h, w, CV_16U);
        rng.fill(v, cv::RNG::UNIFORM, 0, 6000);
        t.names.push_back(name);
        t.raw.push_back({v, 1e-4, -0.1});
    }
    t.planes.assign(t.names.size(), cv::Mat());
    t.validCount = static_cast<std::size_t>(cv::countNonZero(t.valid));
    return t;
}

}  // namespace

TEST(SpectralExpression, RowSegmentsMatchWholeTileBitForBit) {
    TileImage t = rawTile(61, 17);
    auto rule = SpectralExpression::parse("ndvi < 0.2 and ndwi < 0 or not (red / green > 1.1)");
    cv::Mat pass, margin;
    rule.evaluateRule(t, pass, margin);  // rows converted on the fly
    ASSERT_TRUE(t.planes[0].empty());
    ExpressionRows rows(rule, t);
    std::vector<std::uint8_t> p(61);
    std::vector<float> m(61);
    for (int y = 0; y < 17; ++y) {
        for (int x0 = 0; x0 < 61; x0 += 13) {
            const int n = std::min(13, 61 - x0) - (y % 3);  // segments of varying length
            if (n <= 0) continue;
            rows.rule(y, x0, n, p.data(), m.data());
            for (int i = 0; i < n; ++i) {
                ASSERT_EQ(p[static_cast<std::size_t>(i)], pass.at<std::uint8_t>(y, x0 + i));
                ASSERT_EQ(std::memcmp(&m[static_cast<std::size_t>(i)], &margin.at<float>(y, x0 + i), 4), 0);
            }
        }
    }
    // Converting the planes first (as other detectors do) changes nothing either.
    for (std::size_t k = 0; k < t.planes.size(); ++k) t.plane(k);
    cv::Mat pass2, margin2;
    rule.evaluateRule(t, pass2, margin2);
    EXPECT_EQ(std::memcmp(margin.data, margin2.data, margin.total() * 4), 0);
    EXPECT_EQ(cv::countNonZero(pass != pass2), 0);
}

TEST(SpectralExpression, ConvertedPlanesScaleStoredValuesAndBlankInvalidPixels) {
    TileImage t = rawTile(20, 10);
    const cv::Mat& red = t.band("red");
    const std::uint16_t v = t.raw[1].values.at<std::uint16_t>(0, 0);
    EXPECT_EQ(red.at<float>(0, 0), static_cast<float>(v) * 1e-4f + -0.1f);
    EXPECT_EQ(red.at<float>(3, 5), 0.0f);  // invalid
    float scratch[20];
    const float* row = t.row(1, 3, 0, 20, scratch);
    EXPECT_EQ(row, red.ptr<float>(3));  // converted planes are used in place
    EXPECT_THROW(t.band("swir1"), Error);
}

// Hostile rules fail with a usage error, never a stack overflow.
TEST(SpectralExpression, DeepOrLongRulesAreRefusedCleanly) {
    const std::string parens = std::string(5000, '(') + "ndvi" + std::string(5000, ')') + " > 0";
    EXPECT_THROW(SpectralExpression::parse(parens), UsageError);
    EXPECT_THROW(SpectralExpression::parse(std::string(3000, '-') + "ndvi > 0"), UsageError);
    std::string nots;
    for (int i = 0; i < 1000; ++i) nots += "not ";
    EXPECT_THROW(SpectralExpression::parse(nots + "ndvi > 0"), UsageError);
    EXPECT_THROW(SpectralExpression::parse(std::string(100000, ' ') + "ndvi > 0"), UsageError);
    // 60 levels are fine.
    EXPECT_NO_THROW(SpectralExpression::parse(std::string(20, '(') + "ndvi" + std::string(20, ')') + " > 0"));
    try {
        SpectralExpression::parse(parens);
    } catch (const UsageError& e) {
        EXPECT_LT(std::string(e.what()).size(), 400u) << "the message must not echo the whole rule";
    }
}

// A band named like an index was accepted and never read (the rule took the index): --band
// refuses those names. The list there must follow the indices here.
TEST(SpectralExpression, EveryIndexNameIsReservedForBands) {
    const auto& reserved = riskmap::reservedBandNames();
    for (const auto& info : riskmap::SpectralExpression::indices()) {
        const std::string name = info.name.substr(0, info.name.find('('));
        EXPECT_NE(std::find(reserved.begin(), reserved.end(), name), reserved.end()) << name;
    }
    EXPECT_THROW(riskmap::parseBandSpec("ndvi=b.tif"), riskmap::UsageError);
}
