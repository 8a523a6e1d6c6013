#include <gtest/gtest.h>

#include <fstream>

#include "core/Crc32.hpp"
#include "core/Error.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "scan/ScanJournal.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"
#include "tiling/ShardPlan.hpp"

using namespace riskmap;

namespace {

Detection sample(int i) {
    Detection d;
    d.anchor = {i, 2 * i};
    d.cls = "kiln";
    d.score = 0.1 + i / 30.0;  // not a short decimal: tests exact round trips
    Polygon p;
    p.outer = {{0.1 * i, 0}, {1.0 / 3, 0}, {1.0 / 3, 2.0 / 7}, {0, 1}};
    p.holes = {{{0.2, 0.2}, {0.25, 0.2}, {0.25, 0.25}}};
    d.geometry.parts = {p};
    // In the order of the kiln detector's attributes.
    d.attributes = {AttributeValue(std::string("zigzag")), AttributeValue(0.123456789012345), AttributeValue(120.5),
                    AttributeValue(55.25), AttributeValue(33.3), AttributeValue(std::string("colour")),
                    AttributeValue(std::string("both")), AttributeValue(1.4), AttributeValue(2.5),
                    AttributeValue(0.25), AttributeValue(true)};
    return d;
}

Json fingerprint(int tileSize) {
    Json f = Json::object();
    f["tile_size"] = tileSize;
    f["options"] = parseJson(R"({"min_area_m2": 500.0})", "t");
    return f;
}

}  // namespace

TEST(ScanJournal, DetectionsRoundTripExactly) {
    DetectorInfo info = KilnDetector::describe();
    Detection d = sample(5);
    Detection e = ScanJournal::detectionFromJson(JsonReader(parseJson(dumpJson(ScanJournal::detectionToJson(d)), "t"), "t"), info);
    EXPECT_EQ(e.anchor, d.anchor);
    EXPECT_EQ(e.score, d.score);
    EXPECT_EQ(e.geometry.parts[0].outer, d.geometry.parts[0].outer);
    EXPECT_EQ(e.geometry.parts[0].holes, d.geometry.parts[0].holes);
    EXPECT_EQ(e.attributes, d.attributes);
}

TEST(ScanJournal, ResumeKeepsGoodRecordsAndDropsADamagedTail) {
    test::TempDir dir;
    const std::string path = dir.file("out.geojson.journal");
    DetectorInfo info = KilnDetector::describe();
    {
        ScanJournal j = ScanJournal::create(path, fingerprint(256));
        j.append({0, 0, {sample(1)}, {}, {}});
        j.append({0, 1, {}, {}, {}});
        j.append({1, 7, {sample(2), sample(3)}, {}, {}});
    }
    // A crash in the middle of a record leaves a partial line.
    std::ofstream(path, std::ios::app) << "deadbeef {\"input\": 1, \"tile\": 8, \"detec";
    std::vector<JournalTile> done;
    {
        ScanJournal j = ScanJournal::resume(path, fingerprint(256), info, done);
        ASSERT_EQ(done.size(), 3u);
        EXPECT_EQ(done[2].tile, 7u);
        EXPECT_EQ(done[2].detections.size(), 2u);
        j.append({1, 8, {sample(4)}, {}, {}});
    }
    std::vector<JournalTile> again;
    ScanJournal::read(path, &info, &again);
    ASSERT_EQ(again.size(), 4u);
    EXPECT_EQ(again[3].detections[0].anchor, cv::Point(4, 8));
    // A flipped byte fails the checksum: that record and everything after it are dropped.
    std::string text = test::readFile(path);
    text[text.find("\"tile\":7") + 7] = '9';
    std::ofstream(path, std::ios::trunc) << text;
    again.clear();
    ScanJournal::read(path, &info, &again);
    EXPECT_EQ(again.size(), 2u);
}

TEST(ScanJournal, RefusesToResumeAChangedRun) {
    test::TempDir dir;
    const std::string path = dir.file("j");
    { ScanJournal::create(path, fingerprint(256)); }
    std::vector<JournalTile> done;
    try {
        ScanJournal::resume(path, fingerprint(512), KilnDetector::describe(), done);
        FAIL() << "resumed a changed run";
    } catch (const UsageError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("tile_size was 256, now 512"), std::string::npos) << msg;
    }
}

TEST(ShardPlan, EveryTileBelongsToOneShardAndAreasBalance) {
    std::vector<TileGrid> grids{TileGrid(1000, 700, 100, 0, 0), TileGrid(300, 300, 100, 0, 0)};
    std::vector<double> px{1e-4, 4e-4};  // the second input has coarser pixels
    ShardPlan plan(grids, px, 4);
    std::size_t tiles = 0;
    double total = 0;
    for (int k = 1; k <= 4; ++k) {
        tiles += plan.tilesIn(k);
        total += plan.areaIn(k);
    }
    EXPECT_EQ(tiles, grids[0].size() + grids[1].size());
    for (int k = 1; k <= 4; ++k) EXPECT_NEAR(plan.areaIn(k), total / 4, total * 0.08) << k;
    EXPECT_THROW(ShardSpec::parse("5/4"), UsageError);
    EXPECT_THROW(ShardSpec::parse("1-4"), UsageError);
    EXPECT_EQ(ShardSpec::parse("2/4").index, 2);
}

// The journal writes records as text directly (for speed); the bytes must be the JSON tree's.
TEST(ScanJournal, TextWriterMatchesTheJsonTree) {
    for (int i = 0; i < 6; ++i) {
        Detection d = sample(i);
        if (i == 3) d.attributes.emplace_back(std::in_place_index<0>, -7);
        if (i == 4) d.cls = "quote\"and\\back\nslash";
        std::string text;
        ScanJournal::appendDetection(text, d);
        EXPECT_EQ(text, dumpJson(ScanJournal::detectionToJson(d)));
    }
}

// The journal's checksum is the standard CRC-32 (IEEE 802.3): journals written by earlier
// versions stay readable after the table loop was replaced by zlib's.
TEST(ScanJournal, ChecksumIsTheStandardCrc32) {
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
    EXPECT_EQ(crc32("{\"tile\":3}"), 0xA0EC723Eu);
}
