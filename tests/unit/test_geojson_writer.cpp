#include <gtest/gtest.h>
#include <ogrsf_frmts.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "output/GeoJsonWriter.hpp"
#include "output/LayerWriter.hpp"
#include "output/OutputDataset.hpp"
#include "geo/GdalRuntime.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using riskmap::test::TempDir;

namespace {

std::string coord(double v, int p) {
    std::string s;
    GeoJsonWriter::appendCoordinate(s, v, p);
    return s;
}

std::string real(double v) {
    std::string s;
    GeoJsonWriter::appendReal(s, v);
    return s;
}

// Twice the signed area of a GeoJSON ring: > 0 counter-clockwise.
double area2(const Json& ring) {
    const auto& pts = ring;
    double a = 0;
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
        const auto& p = pts[i];
        const auto& q = pts[i + 1];
        a += p[0].get<double>() * q[1].get<double>() - q[0].get<double>() * p[1].get<double>();
    }
    return a;
}

const std::vector<FieldSpec> kFields{{"id", OFTString},
                                     {"score", OFTReal},
                                     {"n", OFTInteger64},
                                     {"ok", OFTInteger, OFSTBoolean},
                                     {"tags", OFTStringList}};

}  // namespace

TEST(GeoJsonWriter, NumbersAndStrings) {
    EXPECT_EQ(coord(87.42372880001, 7), "87.4237288");
    EXPECT_EQ(coord(23.509257, 7), "23.509257");
    EXPECT_EQ(coord(87.0, 7), "87.0");
    EXPECT_EQ(coord(-0.00000001, 7), "0.0");
    EXPECT_EQ(coord(-179.99999996, 7), "-180.0");
    EXPECT_EQ(real(6104.0), "6104.0");  // stays a real for readers that infer types
    EXPECT_EQ(real(0.0553), "0.0553");
    EXPECT_EQ(real(1e-5), "1e-05");
    EXPECT_EQ(real(1.0 / 3.0), "0.333333333333333");
    EXPECT_EQ(real(std::nan("")), "null");
    std::string s;
    GeoJsonWriter::appendString(s, "a\"b\\c\nd\x01 é");
    EXPECT_EQ(s, "\"a\\\"b\\\\c\\nd\\u0001 é\"");
}

TEST(GeoJsonWriter, RightHandRingsClosedPolygonOrMultiPolygon) {
    TempDir dir;
    const std::string path = dir.file("w.geojson");
    {
        GeoJsonWriter w(path, "leads", kFields, 7);
        // Clockwise outer ring with a counter-clockwise hole, given open: both must flip.
        std::vector<MapPoint> outer{{0, 0}, {0, 1}, {1, 1}, {1, 0}};
        std::vector<MapPoint> hole{{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}};
        w.write({{outer, hole}},
                {{"id", std::string("a")}, {"score", 0.5}, {"n", std::int64_t{3}}, {"ok", true}},
                {{"tags", {"x", "y"}}});
        // Two parts, already right-handed and closed: kept as given.
        std::vector<MapPoint> p1{{2, 0}, {3, 0}, {3, 1}, {2, 0}};
        std::vector<MapPoint> p2{{4, 0}, {5, 0}, {5, 1}, {4, 0}};
        w.write({{p1}, {p2}}, {{"score", 1.0}}, {});
        w.finish();
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    Json j = parseJsonFile(path);
    EXPECT_EQ(j.at("name").get<std::string>(), "leads");
    const auto& feats = j.at("features");
    ASSERT_EQ(feats.size(), 2u);
    const Json& g0 = feats[0].at("geometry");
    EXPECT_EQ(g0.at("type").get<std::string>(), "Polygon");
    const auto& rings = g0.at("coordinates");
    ASSERT_EQ(rings.size(), 2u);
    EXPECT_GT(area2(rings[0]), 0);
    EXPECT_LT(area2(rings[1]), 0);
    for (const auto& r : rings) {
        ASSERT_EQ(r.size(), 5u);  // closed
        EXPECT_EQ(r.front()[0].get<double>(),
                  r.back()[0].get<double>());
    }
    const Json& g1 = feats[1].at("geometry");
    EXPECT_EQ(g1.at("type").get<std::string>(), "MultiPolygon");
    EXPECT_EQ(g1.at("coordinates").size(), 2u);
    // Properties in field order; those not given are null (FieldsWithoutValueAreWrittenAsNull).
    const Json& p0 = feats[0].at("properties");
    EXPECT_EQ(p0.at("tags").size(), 2u);
    EXPECT_TRUE(p0.at("ok").get<bool>());
    EXPECT_TRUE(feats[1].at("properties").at("id").is_null());

    // OGR reads it back with the declared types.
    ensureGdalRegistered();
    DatasetPtr ds(static_cast<GDALDataset*>(
        GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    ASSERT_TRUE(ds);
    OGRLayer* l = ds->GetLayer(0);
    OGRFeatureDefn* d = l->GetLayerDefn();
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("score"))->GetType(), OFTReal);
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("n"))->GetType(), OFTInteger);
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("ok"))->GetSubType(), OFSTBoolean);
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("tags"))->GetType(), OFTStringList);
    EXPECT_EQ(l->GetFeatureCount(), 2);
}

TEST(GeoJsonWriter, SplitsGeometriesAcrossTheAntimeridian) {
    TempDir dir;
    const std::string path = dir.file("am.geojson");
    {
        GeoJsonWriter w(path, "fp", {{"source", OFTString}}, 7);
        // A footprint from 179.5 E to 179.5 W, as PROJ gives it in [-180, 180].
        std::vector<MapPoint> ring{{179.5, -17}, {-179.5, -17}, {-179.5, -16}, {179.5, -16}};
        w.write({{ring}}, {{"source", std::string("fiji.tif")}}, {});
        w.finish();
    }
    Json j = parseJsonFile(path);
    const Json& g = j.at("features").at(0).at("geometry");
    ASSERT_EQ(g.at("type").get<std::string>(), "MultiPolygon");
    for (const auto& part : g.at("coordinates")) {
        double lo = 1e9, hi = -1e9;
        for (const auto& p : part.at(0)) {
            lo = std::min(lo, p[0].get<double>());
            hi = std::max(hi, p[0].get<double>());
        }
        EXPECT_LE(hi - lo, 1.0 + 1e-9);  // each half one degree wide, not 359
    }
}

TEST(GeoJsonWriter, EmptyDatasetAndUndeclaredFields) {
    TempDir dir;
    const std::string path = dir.file("e.geojson");
    {
        FileCommit files;
        OutputDataset out(files, path, false, 0600, 7);
        out.finish();
        files.commit();
    }
    Json j = parseJsonFile(path);
    EXPECT_TRUE(j.at("features").empty());
    GeoJsonWriter w(dir.file("u.geojson"), "x", {{"a", OFTString}}, 7);
    EXPECT_THROW(w.write({}, {{"b", std::string("?")}}, {}), Error);
}

// A field without a value is null, not absent: a column null in every feature stays in the
// layer's schema, in the declared order (a change layer lost its dates: a format sweep).
TEST(GeoJsonWriter, FieldsWithoutValueAreWrittenAsNull) {
    TempDir dir;
    const std::string path = dir.file("n.geojson");
    {
        GeoJsonWriter w(path, "x", {{"a", OFTString}, {"b", OFTReal}, {"c", OFTString}}, 7);
        const std::vector<MapPoint> ring{{0, 0}, {1, 0}, {1, 1}};
        w.write({{ring}}, {{"c", std::string("z")}}, {});
        w.finish();
    }
    const std::string text = riskmap::test::readFile(path);
    EXPECT_NE(text.find("\"a\": null, \"b\": null, \"c\": \"z\""), std::string::npos) << text;
    ensureGdalRegistered();
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(ds);
    OGRFeatureDefn* defn = ds->GetLayer(0)->GetLayerDefn();
    ASSERT_EQ(defn->GetFieldCount(), 3);
    EXPECT_STREQ(defn->GetFieldDefn(0)->GetNameRef(), "a");
    EXPECT_STREQ(defn->GetFieldDefn(1)->GetNameRef(), "b");
}

TEST(GeoJsonWriter, RejectsBadCoordinatesAndWrapsLongitudesPast180) {
    TempDir dir;
    const std::string path = dir.file("bad.geojson");
    GeoJsonWriter w(path, "x", {{"n", OFTInteger64}}, 7);
    const std::vector<MapPoint> nanRing{{0, 0}, {std::nan(""), 0}, {1, 1}};
    EXPECT_THROW(w.write({{nanRing}}, {}, {}), DataError);
    EXPECT_THROW(w.write({{{{0, 0}, {1e300, 0}, {1, 1}}}}, {}, {}), DataError);
    std::string s;
    EXPECT_THROW(GeoJsonWriter::appendCoordinate(s, HUGE_VAL, 7), DataError);

    // Wholly east of 180 (a transform that did not normalise): shifted back into range.
    const std::vector<MapPoint> east{{181, 10}, {182, 10}, {182, 11}, {181, 11}};
    // An empty first ring: the first ring written is still the exterior, counter-clockwise.
    const std::vector<MapPoint> cw{{0, 0}, {0, 1}, {1, 1}, {1, 0}};
    w.write({{east}}, {{"n", std::nan("")}}, {});
    w.write({{{}, cw}}, {{"n", 2.6}}, {});
    w.finish();
    Json j = parseJsonFile(path);
    const auto& feats = j.at("features");
    ASSERT_EQ(feats.size(), 2u);
    for (const auto& p :
         feats[0].at("geometry").at("coordinates").at(0)) {
        EXPECT_GE(p[0].get<double>(), -180.0);
        EXPECT_LE(p[0].get<double>(), 180.0);
    }
    EXPECT_TRUE(feats[0].at("properties").at("n").is_null());
    EXPECT_EQ(feats[1].at("properties").at("n").get<std::int64_t>(), 3);
    const auto& rings = feats[1].at("geometry").at("coordinates");
    ASSERT_EQ(rings.size(), 1u);
    EXPECT_GT(area2(rings[0]), 0);
}

// Features formatted on several threads a chunk at a time (LayerWriter::writeAll) give the bytes
// of writing them one by one, across chunk boundaries, holes, several parts and the antimeridian.
TEST(GeoJsonWriter, ParallelFormattingGivesTheSameBytesAsOneByOne) {
    TempDir dir;
    std::vector<FeatureRecord> fs(9000);
    for (std::size_t i = 0; i < fs.size(); ++i) {
        FeatureRecord& f = fs[i];
        f.id = "index-" + std::to_string(i);
        f.detector = "index";
        f.cls = i % 3 ? "bare" : "roof \"x\"";
        f.score = static_cast<double>(i % 97) / 97.0;
        f.areaM2 = 100.0 * static_cast<double>(i);
        f.source = "scene.tif";
        f.sources = {"scene.tif", i % 2 ? "b.tif" : "c.tif"};
        f.riskFactors = {i % 5 ? "remote" : "near road"};
        f.attributes = {AttributeValue(static_cast<std::int64_t>(i)), AttributeValue(0.5 + static_cast<double>(i) * 1e-4)};
        const double x = i % 11 == 0 ? 179.9995 : 90.0 + static_cast<double>(i) * 1e-4, y = 22.0 + static_cast<double>(i % 7) * 1e-3;
        f.parts.push_back({{{x, y}, {x + 0.001, y}, {x + 0.001, y + 0.001}, {x, y + 0.001}},
                           {{x + 0.0004, y + 0.0004}, {x + 0.0004, y + 0.0006}, {x + 0.0006, y + 0.0006}}});
        if (i % 4 == 0) f.parts.push_back({{{x + 0.002, y}, {x + 0.003, y}, {x + 0.003, y + 0.001}}});
    }
    const std::vector<AttributeSpec> attrs{{"pixels", AttributeType::Int, "px", ""}, {"margin_mean", AttributeType::Double, "", ""}};
    auto writeWith = [&](const std::string& name, bool all) {
        FileCommit files;
        OutputDataset out(files, dir.file(name), false, 0600, 7);
        LayerWriter w(out, "index", "", attrs);
        if (all)
            w.writeAll(fs, nullptr);
        else
            for (const auto& f : fs) w.write(f);
        out.finish();
        files.commit();
        return riskmap::test::readFile(dir.file(name));
    };
    const std::string one = writeWith("one.geojson", false), all = writeWith("all.geojson", true);
    EXPECT_GT(one.size(), 1000000u);
    EXPECT_EQ(all, one);
    std::atomic<bool> cancel{true};
    FileCommit files;
    OutputDataset out(files, dir.file("c.geojson"), false, 0600, 7);
    LayerWriter w(out, "index", "", attrs);
    EXPECT_THROW(w.writeAll(fs, &cancel), Cancelled);
}

namespace {

// What appendCoordinate wrote before its integer fast path: std::to_chars, which rounds exactly.
std::string exactCoord(double v, int p) {
    char buf[64];
    char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, p).ptr;
    if (std::memchr(buf, '.', static_cast<std::size_t>(end - buf))) {
        while (end[-1] == '0') --end;
        if (end[-1] == '.') *end++ = '0';
    }
    std::string s(buf, end);
    return s == "-0.0" ? "0.0" : s;
}

}  // namespace

TEST(GeoJsonWriter, CoordinatesAreRoundedExactlyAsToCharsWould) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lon(-180, 180), unit(-1, 1), tiny(-1e-6, 1e-6);
    for (int i = 0; i < 200000; ++i) {
        const int p = i % 16;
        for (double v : {lon(rng), unit(rng), tiny(rng)}) ASSERT_EQ(coord(v, p), exactCoord(v, p)) << v << " at " << p;
    }
    // Values on and next to a rounding tie, where double arithmetic cannot decide.
    for (double v : {0.5, 1.5, 2.5, -0.5, 87.12345675, -22.60354375, 0.00000005, 1e-7, 179.5, -0.0, -0.3, 9.99999996})
        for (int p : {0, 1, 7, 8})
            for (double w : {v, std::nextafter(v, 1e9), std::nextafter(v, -1e9)})
                EXPECT_EQ(coord(w, p), exactCoord(w, p)) << w << " at " << p;
}
