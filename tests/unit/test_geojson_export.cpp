// The report's layer export: geometries kept as text must give the bytes the JSON tree gives,
// feature by feature, for every geometry and field type riskmap writes.
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/Json.hpp"
#include "geo/GdalRuntime.hpp"
#include "report/GeoJsonExport.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

TEST(GeoJsonExport, StreamedTextEqualsTheJsonTreeForEveryGeometryType) {
    TempDir dir;
    const std::string path = dir.file("l.geojson");
    std::ofstream(path) << R"({"type":"FeatureCollection","name":"leads","features":[
{"type":"Feature","properties":{"id":"a b","score":0.5,"n":3,"sources":["x.tif","y z.tif"]},
 "geometry":{"type":"Polygon","coordinates":[[[89.1,22.1],[89.2,22.1],[89.2,22.2],[89.1,22.1]]]}},
{"type":"Feature","properties":{"id":"m","score":1.0,"n":-1,"sources":[]},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[89,22],[89.5,22],[89.5,22.5],[89,22]]],
   [[[90,23],[90.1,23],[90.1,23.1],[90,23]],[[90.01,23.01],[90.02,23.01],[90.02,23.02],[90.01,23.01]]]]}},
{"type":"Feature","properties":{"id":"none","score":0.25,"n":0,"sources":null},"geometry":null},
{"type":"Feature","properties":{"id":"p","score":0.125,"n":7,"sources":["\u00e9"]},"geometry":{"type":"Point","coordinates":[88.123456789,21.5]}}
]})";
    const ExportedLayer l = GeoJsonExport::read(path, "", 7, {"sources"});
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l.geometryText(2), "null");
    EXPECT_EQ(l.geometryText(0).find(' '), std::string::npos) << l.geometryText(0);
    std::string streamed;
    l.write([&](const std::string& s) { streamed += s; });
    const Json tree = l.toJson();
    EXPECT_EQ(streamed, dumpJson(tree));
    EXPECT_EQ(tree.at("name"), "leads");
    EXPECT_EQ(tree.at("features").at(1).at("geometry").at("type"), "MultiPolygon");
    EXPECT_NEAR(tree.at("features").at(3).at("geometry").at("coordinates").at(0).get<double>(), 88.1234568, 1e-9);
    EXPECT_EQ(GeoJsonExport::outerRings(l.geometry(1)).size(), 2u);
    EXPECT_EQ(dumpJson(GeoJsonExport::layer(path, "", 7, {"sources"})), streamed);
}

// The report spools outlines to an unlinked file beside it (issue 14): the same bytes as in
// memory, read back in any order, and nothing left in the folder.
TEST(GeoJsonExport, SpooledGeometriesGiveTheSameBytesAndLeaveNoFile) {
    TempDir dir;
    const std::string path = dir.file("l.geojson");
    std::string fc = R"({"type":"FeatureCollection","name":"leads","features":[)";
    for (int i = 0; i < 3000; ++i)  // > 1 MB of outlines: the spool flushes in between
        fc += std::string(i ? "," : "") + R"({"type":"Feature","properties":{"id":"f)" + std::to_string(i) +
              R"(","score":0.5},"geometry":{"type":"Polygon","coordinates":[[)" +
              [&] {
                  std::string r;
                  for (int k = 0; k < 40; ++k)
                      r += "[" + std::to_string(89 + i * 1e-4 + k * 1e-6) + "," + std::to_string(22 + k * 1e-5) + "],";
                  return r + "[" + std::to_string(89 + i * 1e-4) + ",22.0]";
              }() + "]]}}";
    std::ofstream(path) << fc + "]}";
    const std::string spoolDir = dir.file("spool");
    std::filesystem::create_directory(spoolDir);
    const ExportedLayer mem = GeoJsonExport::read(path, "", 7);
    const ExportedLayer spooled = GeoJsonExport::read(path, "", 7, {}, spoolDir);
    ASSERT_EQ(spooled.size(), 3000u);
    EXPECT_EQ(spooled.geometryText(2999), mem.geometryText(2999));
    EXPECT_EQ(spooled.geometryText(7), mem.geometryText(7));
    std::string a, b;
    mem.write([&](const std::string& s) { a += s; });
    spooled.write([&](const std::string& s) { b += s; });
    EXPECT_EQ(a, b);
    EXPECT_GT(a.size(), 1u << 20);
    EXPECT_TRUE(std::filesystem::is_empty(spoolDir));
    // The outlines are in a file in that folder (open, unlinked), not in memory.
    int open = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
        open += !ec && target.rfind(spoolDir + "/", 0) == 0;
    }
    EXPECT_EQ(open, 1);
}

// FlatGeobuf has no date type: a date column comes back as a date-time at midnight. The report
// shows it as the date, as from GeoPackage (a format sweep saw "2021/01/01 00:00:00"); a real
// time of day stays, in ISO 8601.
TEST(GeoJsonExport, DatesFromFlatGeobufAreIsoDates) {
    TempDir dir;
    ensureGdalRegistered();
    for (const char* driver : {"FlatGeobuf", "GPKG"}) {
        const std::string path = dir.file(std::string("d.") + (driver[0] == 'F' ? "fgb" : "gpkg"));
        {
            GDALDatasetUniquePtr ds(GetGDALDriverManager()->GetDriverByName(driver)->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
            ASSERT_TRUE(ds) << driver;
            OGRSpatialReference ll;
            ll.importFromEPSG(4326);
            OGRLayer* layer = ds->CreateLayer("changes", &ll, wkbPoint, nullptr);
            OGRFieldDefn date("date_before", OFTDate), stamp("seen", OFTDateTime);
            layer->CreateField(&date);
            layer->CreateField(&stamp);
            OGRFeature f(layer->GetLayerDefn());
            f.SetField(0, 2021, 1, 2);
            f.SetField(1, 2021, 1, 2, 13, 5, 9);
            OGRPoint p(89.1, 22.1);
            f.SetGeometry(&p);
            ASSERT_EQ(layer->CreateFeature(&f), OGRERR_NONE);
        }
        const Json props = GeoJsonExport::read(path, "changes", 7, {}).properties(0);
        EXPECT_EQ(props.at("date_before"), "2021-01-02") << driver;
        EXPECT_EQ(props.at("seen"), "2021-01-02T13:05:09") << driver;
    }
}
