// The manifest has one owner: it reads every manifest riskmap wrote (version 1 before the
// reshape, version 2 now), writes what it reads, and refuses a damaged one naming the key.
#include <gtest/gtest.h>

#include "core/Error.hpp"
#include "provenance/Manifest.hpp"

using namespace riskmap;

namespace {

const std::string kV1 = std::string(RISKMAP_SOURCE_DIR) + "/tests/data/manifest-v1.json";

std::string errorOf(const Json& j) {
    try {
        Manifest::fromJson(j, "m.json");
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Manifest, ReadsAVersion1ManifestAndWritesItBackKeyForKey) {
    const Json raw = parseJsonFile(kV1);
    const Manifest m = Manifest::read(kV1);
    EXPECT_EQ(m.version, 1);
    EXPECT_EQ(m.detectorName, "kiln");
    EXPECT_EQ(m.output.coordinatePrecision, 7);
    ASSERT_NE(m.layer("grid"), nullptr);
    EXPECT_EQ(m.layer("grid")->path, "a.grid.geojson");
    EXPECT_EQ(m.request.tileSize, raw["request"]["tile_size"].get<int>());
    ASSERT_EQ(m.inputs.size(), 1u);
    EXPECT_EQ(m.inputs[0].source, "jessore_demo_tile_01.tif");
    EXPECT_GE(m.inputs[0].footprint.size(), 5u);
    // Everything but the version key comes back byte for byte.
    Json again = m.toJson();
    again.erase("manifest_version");
    EXPECT_EQ(dumpJson(again, 2), dumpJson(raw, 2));
    // Relative inputs are resolved against the folder the scan ran in.
    EXPECT_EQ(m.inputsAsRun().paths.at(0).rfind("/", 0), 0u);
}

TEST(Manifest, DamagedManifestsAreRefusedNamingTheKey) {
    const Json raw = parseJsonFile(kV1);
    Json j = raw;
    j.erase("request");
    EXPECT_NE(errorOf(j).find("'m.json': request is missing"), std::string::npos) << errorOf(j);
    j = raw;
    j["output"]["coordinate_precision"] = "seven";
    EXPECT_NE(errorOf(j).find("output.coordinate_precision must be a whole number"), std::string::npos) << errorOf(j);
    j = raw;
    j["inputs"][0]["footprint"]["coordinates"][0][1] = Json::array({10.0, 95.0});
    EXPECT_NE(errorOf(j).find("outside"), std::string::npos) << errorOf(j);
    j = raw;
    j["request"]["inputs"]["bands"] = Json::array({Json{{"name", "red"}}});
    EXPECT_NE(errorOf(j).find("request.inputs.bands[0].path is missing"), std::string::npos) << errorOf(j);
    j = raw;
    j["manifest_version"] = 99;
    EXPECT_NE(errorOf(j).find("newer riskmap"), std::string::npos) << errorOf(j);
    EXPECT_THROW(Manifest::fromJson(Json::array(), "m.json"), DataError);
}

TEST(Manifest, RecordedRequestRoundTrips) {
    RecordedRequest r;
    r.input.paths = {"a.tif", "/abs/b.tif"};
    BandSpec b;
    b.name = "nir";
    b.path = "nir.tif";
    b.index = 2;
    b.scale = 1e-4;
    r.input.bands = {b};
    r.input.stacAssets = {{"red", "B04"}};
    r.input.options.sensor = "sentinel2";
    r.input.options.offset = -0.1;
    r.recipe = Json{{"detector", "index"}, {"options", Json::object()}};
    r.tileSize = 512;
    const Json j = r.toJson();
    const RecordedRequest back = RecordedRequest::fromJson(JsonReader(j, "t"));
    EXPECT_EQ(dumpJson(back.toJson()), dumpJson(j));
    EXPECT_EQ(*back.input.bands[0].scale, 1e-4);
    EXPECT_FALSE(back.input.bands[0].offset.has_value());
}
