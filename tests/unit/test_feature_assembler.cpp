#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "features/FeatureAssembler.hpp"
#include "raster/RasterInput.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using riskmap::test::TempDir;

namespace {

// A square of side s at (x, y) with a one-pixel notch, as a pixel outline.
MultiPolygon square(int x, int y, int s) {
    Polygon p;
    p.outer = {{double(x), double(y)}, {double(x + s), double(y)}, {double(x + s), double(y + s - 1)},
               {double(x + s - 1), double(y + s - 1)}, {double(x + s - 1), double(y + s)}, {double(x), double(y + s)}};
    return MultiPolygon{{p}};
}

// Detections in scrambled order, many sharing an anchor (the same id): equal anchors with other
// classes, other scores, and the same class and score with other outlines.
std::vector<Detection> scrambled(int n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<Detection> out;
    for (int i = 0; i < n; ++i) {
        Detection d;
        d.anchor = {static_cast<int>(rng() % 40) * 10 + 2, static_cast<int>(rng() % 40) * 10 + 2};
        d.cls = rng() % 3 == 0 ? "b" : "a";
        d.score = (rng() % 4) / 4.0;
        d.geometry = square(d.anchor.x - 2, d.anchor.y - 2, 3 + static_cast<int>(rng() % 3));
        d.attributes = {AttributeValue(std::int64_t{i}), AttributeValue(0.5)};
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace

TEST(FeatureAssembler, ChunksOfPackedDetectionsGiveTheSameFeaturesAsAllAtOnce) {
    TempDir dir;
    test::SceneSpec spec;
    spec.width = spec.height = 420;
    std::vector<RasterInput> inputs{RasterInput::open(test::writeScene(dir.file("a.tif"), spec), InputOptions{}),
                                    RasterInput::open(test::writeScene(dir.file("b.tif"), spec), InputOptions{})};
    // No overlap merging: that needs every outline at once and takes the other path.
    FeatureAssembler assembler(inputs, {"a.tif", "b.tif"}, "index", "", 0.0);
    std::vector<std::vector<Detection>> all{scrambled(3000, 1), scrambled(2000, 2)};
    std::vector<DetectionPack> packs(2);
    for (std::size_t i = 0; i < 2; ++i)
        for (const auto& d : all[i]) packs[i].push(d);
    const std::vector<FeatureRecord> once = assembler.assemble(all);
    std::vector<FeatureRecord> chunked;
    int chunks = 0;
    assembler.assembleInChunks(packs, 777, [&](std::vector<FeatureRecord>& c) {
        ++chunks;
        for (auto& f : c) chunked.push_back(std::move(f));
    });
    EXPECT_EQ(chunks, 4 + 3);  // 3000 and 2000 in chunks of 777
    ASSERT_EQ(chunked.size(), once.size());
    std::size_t suffixed = 0;
    for (std::size_t k = 0; k < once.size(); ++k) {
        ASSERT_EQ(chunked[k].id, once[k].id) << k;
        EXPECT_EQ(chunked[k].cls, once[k].cls);
        EXPECT_EQ(chunked[k].score, once[k].score);
        EXPECT_EQ(chunked[k].attributes, once[k].attributes) << k;
        EXPECT_EQ(chunked[k].source, once[k].source);
        EXPECT_EQ(chunked[k].areaM2, once[k].areaM2);
        ASSERT_EQ(chunked[k].parts.size(), once[k].parts.size());
        EXPECT_EQ(chunked[k].parts[0][0].size(), once[k].parts[0][0].size()) << k;
        suffixed += once[k].id.find('-', 6) != std::string::npos;
    }
    EXPECT_GT(suffixed, 1000u) << "ids made unique across chunks: the check needs shared anchors";
}

// A model can give NaN scores: the sort must still be a strict order (std::sort may read past
// the array otherwise). NaN ranks as the lowest score of its anchor and class.
TEST(FeatureAssembler, NanScoresSortAsTheLowest) {
    TempDir dir;
    test::SceneSpec spec;
    spec.width = spec.height = 200;
    std::vector<RasterInput> inputs{RasterInput::open(test::writeScene(dir.file("a.tif"), spec), InputOptions{})};
    FeatureAssembler assembler(inputs, {"a.tif"}, "onnx", "", 0.0);
    std::vector<DetectionPack> packs(1);
    for (int i = 0; i < 200; ++i) {
        Detection d;
        d.anchor = {12, 12};
        d.cls = "kiln";
        d.score = i % 3 == 0 ? std::nan("") : (i % 7) / 7.0;
        d.geometry = square(10, 10, 3 + i % 5);
        packs[0].push(d);
    }
    std::vector<FeatureRecord> out;
    assembler.assembleInChunks(packs, 64, [&](std::vector<FeatureRecord>& c) {
        for (auto& f : c) out.push_back(std::move(f));
    });
    ASSERT_EQ(out.size(), 200u);
    bool seenNan = false;
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (std::isnan(out[k].score)) {
            seenNan = true;
        } else {
            EXPECT_FALSE(seenNan) << "a number after a NaN at " << k;
        }
        if (k > 0 && !std::isnan(out[k].score)) {
            EXPECT_LE(out[k].score, out[k - 1].score) << k;
        }
    }
    EXPECT_TRUE(seenNan);
}
