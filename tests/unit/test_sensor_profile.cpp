#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "raster/SensorProfile.hpp"

using namespace riskmap;

TEST(SensorProfile, DetectsSentinel2FromDescriptions) {
    std::vector<BandDescriptor> b{{"B02", "Gray"}, {"B03", "Undefined"}, {"B04", "Undefined"}, {"B08", "Undefined"}, {"B8A", "Undefined"}};
    const SensorProfile* p = SensorProfile::detect(b);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name(), "sentinel2");
    auto names = resolveBandNames(b, p);
    EXPECT_EQ(names, (std::vector<std::string>{"blue", "green", "red", "nir", "nir08"}));
}

TEST(SensorProfile, DetectsLandsat8SurfaceReflectance) {
    std::vector<BandDescriptor> b{{"SR_B4", ""}, {"SR_B5", ""}, {"SR_B6", ""}};
    const SensorProfile* p = SensorProfile::detect(b);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name().substr(0, 7), "landsat");
    EXPECT_EQ(resolveBandNames(b, p), (std::vector<std::string>{"red", "nir", "swir1"}));
    auto s = p->scaleFor("UInt16");
    EXPECT_DOUBLE_EQ(s.scale, 2.75e-5);
    EXPECT_DOUBLE_EQ(s.offset, -0.2);
}

TEST(SensorProfile, DetectsRgbFromColourInterpretation) {
    std::vector<BandDescriptor> b{{"", "Red"}, {"", "Green"}, {"", "Blue"}, {"", "Alpha"}};
    const SensorProfile* p = SensorProfile::detect(b);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name(), "rgb");
    EXPECT_EQ(resolveBandNames(b, p), (std::vector<std::string>{"red", "green", "blue", "alpha"}));
    EXPECT_DOUBLE_EQ(p->scaleFor("Byte").scale, 1.0 / 255.0);
}

TEST(SensorProfile, UnknownFilesGetPositionalNames) {
    std::vector<BandDescriptor> b{{"", "Gray"}, {"", "Undefined"}};
    EXPECT_EQ(SensorProfile::detect(b), nullptr);
    EXPECT_EQ(resolveBandNames(b, nullptr), (std::vector<std::string>{"b1", "b2"}));
}

TEST(SensorProfile, ForcedProfileUsesLayoutByBandCount) {
    const SensorProfile& l7 = SensorProfile::byName("landsat7");
    std::vector<BandDescriptor> six(6, BandDescriptor{"", "Undefined"});
    EXPECT_EQ(resolveBandNames(six, &l7),
              (std::vector<std::string>{"blue", "green", "red", "nir", "swir1", "swir2"}));
    const SensorProfile& s2 = SensorProfile::byName("Sentinel2");
    std::vector<BandDescriptor> twelve(12, BandDescriptor{"", ""});
    auto n = resolveBandNames(twelve, &s2);
    EXPECT_EQ(n[7], "nir");
    EXPECT_EQ(n[10], "swir1");
    EXPECT_DOUBLE_EQ(s2.scaleFor("UInt16").scale, 1e-4);
    EXPECT_DOUBLE_EQ(s2.scaleFor("Float32").scale, 1.0);
}

TEST(SensorProfile, UnknownProfileIsAUsageError) {
    try {
        SensorProfile::byName("spot6");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("sentinel2"), std::string::npos);
    }
}

// Descriptions are matched without case and surrounding blanks ("RED " was unnamed), and a band
// whose name an earlier one took is said, not silently renamed (an audit).
TEST(SensorProfile, BlanksAndDuplicateDescriptions) {
    std::vector<BandDescriptor> b{
        {"BLUE", ""}, {" Green", ""}, {"RED ", ""}, {"Nir\t", ""}, {"red", ""}};
    std::vector<std::string> shadowed;
    EXPECT_EQ(resolveBandNames(b, nullptr, &shadowed),
              (std::vector<std::string>{"blue", "green", "red", "nir", "b5"}));
    ASSERT_EQ(shadowed.size(), 1u);
    EXPECT_NE(shadowed[0].find("band 5 would also be 'red'"), std::string::npos) << shadowed[0];
}
