#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>

#include "core/Error.hpp"
#include "core/SpillFile.hpp"
#include "detection/DetectionPack.hpp"

using namespace riskmap;

namespace {

// Bit-for-bit equality of two detections (so -0.0 and 0.0 differ).
bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expectSame(const Detection& a, const Detection& b) {
    EXPECT_EQ(a.anchor, b.anchor);
    EXPECT_EQ(a.cls, b.cls);
    EXPECT_TRUE(same(a.score, b.score));
    ASSERT_EQ(a.geometry.parts.size(), b.geometry.parts.size());
    auto ringsSame = [](const Ring& r, const Ring& s) {
        ASSERT_EQ(r.size(), s.size());
        for (std::size_t k = 0; k < r.size(); ++k) EXPECT_TRUE(same(r[k].x, s[k].x) && same(r[k].y, s[k].y)) << k;
    };
    for (std::size_t p = 0; p < a.geometry.parts.size(); ++p) {
        ringsSame(a.geometry.parts[p].outer, b.geometry.parts[p].outer);
        ASSERT_EQ(a.geometry.parts[p].holes.size(), b.geometry.parts[p].holes.size());
        for (std::size_t h = 0; h < a.geometry.parts[p].holes.size(); ++h)
            ringsSame(a.geometry.parts[p].holes[h], b.geometry.parts[p].holes[h]);
    }
    EXPECT_EQ(a.attributes, b.attributes);
}

// A pixel outline: a staircase of `n` steps from (x, y), integral corners.
Ring stairs(double x, double y, int n) {
    Ring r;
    for (int k = 0; k < n; ++k) r.push_back({x + k, y + k}), r.push_back({x + k + 1, y + k});
    r.push_back({x + n, y + n + 5});
    r.push_back({x, y + n + 5});
    return r;
}

}  // namespace

TEST(DetectionPack, GivesBackEveryDetectionToTheBit) {
    std::vector<Detection> given(4);
    given[0].anchor = {12, 40000};
    given[0].cls = "kiln";
    given[0].score = 0.1 + 0.2;
    given[0].geometry.parts.push_back({stairs(100000, 40000, 30), {stairs(100005, 40010, 2)}});
    given[0].geometry.parts.push_back({stairs(7, 3, 1), {}});
    given[0].attributes = {AttributeValue(std::int64_t{-5}), AttributeValue(1.0 / 3), AttributeValue(std::string("a\"b")),
                           AttributeValue(true), AttributeValue(false)};
    // Non-integral, negative zero, huge: stored as doubles.
    given[1].anchor = {-3, 0};
    given[1].score = -0.0;
    given[1].geometry.parts.push_back({{{0.5, 1.25}, {-0.0, 3}, {2e12, 1}, {std::nextafter(4.0, 5.0), 9}}, {}});
    given[2].cls = std::string(300, 'x');  // a string longer than one varint byte
    given[3].geometry.parts.push_back({stairs(-50, -60, 4), {}});  // negative corners
    DetectionPack pack;
    for (const auto& d : given) pack.push(d);
    ASSERT_EQ(pack.size(), given.size());
    for (std::size_t i = 0; i < given.size(); ++i) {
        expectSame(pack.at(i), given[i]);
        EXPECT_EQ(pack.head(i).anchor, given[i].anchor);
        EXPECT_EQ(pack.head(i).cls, given[i].cls);
        EXPECT_TRUE(same(pack.head(i).score, given[i].score));
    }
}

TEST(DetectionPack, HoldsPixelOutlinesInAFractionOfTheirDetections) {
    DetectionPack pack;
    std::size_t asDetections = 0, predicted = 0;
    for (int i = 0; i < 20000; ++i) {
        Detection d;
        d.anchor = {i % 5000, i / 5000};
        d.score = 1.0;
        d.geometry.parts.push_back({stairs(i % 5000, i / 5000, 10 + i % 7), {}});
        d.attributes = {AttributeValue(std::int64_t{i}), AttributeValue(0.25)};
        asDetections += heapBytes(d);
        predicted += DetectionPack::packedBytes(d);
        pack.push(d);
    }
    EXPECT_LT(pack.heapBytes() * 4, asDetections) << "packed " << pack.heapBytes() << " B, as detections " << asDetections << " B";
    // What the pipeline counts against --ram as tiles come in is what the pack takes (one
    // partly filled chunk aside).
    EXPECT_LE(predicted, pack.heapBytes());
    EXPECT_GE(predicted + (std::size_t{1} << 20) + 20000 * 8, pack.heapBytes());
}

TEST(DetectionPack, ChunksPastTheLimitGoToAnUnlinkedFileAndComeBackToTheBit) {
    std::string made = (std::filesystem::temp_directory_path() / "riskmap-spill-XXXXXX").string();
    ASSERT_NE(mkdtemp(made.data()), nullptr);
    const std::filesystem::path dir = made;
    DetectionPack spilled, held;
    // The first folder cannot take it: the next one does.
    spilled.spillBeyond(std::size_t{256} << 10, std::make_shared<SpillFile>(std::vector<std::string>{"/nonexistent", dir.string()}));
    std::vector<Detection> given;
    for (int i = 0; i < 60000; ++i) {
        Detection d;
        d.anchor = {i % 7000, i / 7000};
        d.score = 1.0 / (1 + i);
        d.cls = i % 3 ? "index" : "other";
        d.geometry.parts.push_back({stairs(i % 7000, i / 7000, 5 + i % 11), {}});
        d.attributes = {AttributeValue(std::int64_t{i}), AttributeValue(0.1 * i)};
        spilled.push(d);
        held.push(d);
        if (i % 997 == 0) given.push_back(d);
    }
    EXPECT_GT(spilled.spilledBytes(), held.heapBytes() / 2);
    // What stays in memory is the limit, the chunk being filled and the record index.
    EXPECT_LE(spilled.heapBytes(), (std::size_t{256} << 10) + (std::size_t{2} << 20) + 60000 * 8 + 4096);
    EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the spill file must have no name";
    for (int pass = 0; pass < 2; ++pass) {  // again after the pages read back were given up
        for (std::size_t k = 0; k < given.size(); ++k) expectSame(spilled.at(k * 997), given[k]);
        for (std::size_t i = 0; i < held.size(); i += 101) expectSame(spilled.at(i), held.at(i));
        spilled.dropResident();
    }
    DetectionPack moved = std::move(spilled);  // packs live in a vector that may move them
    expectSame(moved.at(59999), held.at(59999));
    std::filesystem::remove_all(dir);
}

TEST(DetectionPack, AFolderThatCannotHoldTheSpillFileIsNamedInTheError) {
    DetectionPack pack;
    pack.spillBeyond(0, std::make_shared<SpillFile>(std::vector<std::string>{"/nonexistent/riskmap-spill"}));
    Detection d;
    d.geometry.parts.push_back({stairs(0, 0, 3), {}});
    try {
        for (int i = 0; i < 100000; ++i) pack.push(d);
        FAIL() << "no error";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/riskmap-spill"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--ram"), std::string::npos) << e.what();
    }
}

// One spill file serves every input's pack: each reports its own bytes, not the file's (the
// manifest sums them).
TEST(DetectionPack, PacksSharingASpillFileEachCountTheirOwnBytes) {
    std::string made = (std::filesystem::temp_directory_path() / "riskmap-spill-XXXXXX").string();
    ASSERT_NE(mkdtemp(made.data()), nullptr);
    auto file = std::make_shared<SpillFile>(std::vector<std::string>{made});
    DetectionPack a, b;
    a.spillBeyond(0, file);
    b.spillBeyond(0, file);
    Detection d;
    d.geometry.parts.push_back({stairs(0, 0, 20), {}});
    for (int i = 0; i < 40000; ++i) a.push(d);
    for (int i = 0; i < 10000; ++i) b.push(d);
    EXPECT_GT(a.spilledBytes(), 0u);
    EXPECT_GT(b.spilledBytes(), 0u);
    EXPECT_GT(a.spilledBytes(), 2 * b.spilledBytes());
    EXPECT_LE(a.spilledBytes() + b.spilledBytes(), file->bytes());
    std::filesystem::remove_all(made);
}
