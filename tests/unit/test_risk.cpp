// Context scoring, risk grids and QGIS styles.
#include <gtest/gtest.h>

#include <ogr_spatialref.h>

#include <fstream>
#include <memory>

#include "core/Error.hpp"
#include "risk/ContextLayer.hpp"
#include "risk/ContextScorer.hpp"
#include "output/QgisStyle.hpp"
#include "risk/RiskGrid.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;

namespace {

// Points east of (90 E, 23 N) by `metres`.
LonLat east(double metres) { return {90.0 + metres / 102470.0, 23.0}; }

FeatureRecord at(const LonLat& p, double score) {
    FeatureRecord f;
    f.centroid = p;
    f.score = score;
    return f;
}

}  // namespace

TEST(ContextSpec, ParsesRulesAndRejectsNonsense) {
    ContextSpec s = ContextSpec::parse("school=/vsicurl/https://h/schools.gpkg:within=1000:0.3");
    EXPECT_EQ(s.name, "school");
    EXPECT_EQ(s.path, "/vsicurl/https://h/schools.gpkg");
    EXPECT_EQ(s.rule, ContextSpec::Rule::Within);
    EXPECT_DOUBLE_EQ(s.metres, 1000);
    EXPECT_DOUBLE_EQ(s.weight, 0.3);
    EXPECT_EQ(ContextSpec::parse("road=roads.fgb:nearest:-0.2").rule, ContextSpec::Rule::Nearest);
    EXPECT_DOUBLE_EQ(ContextSpec::parse("road=roads.fgb:nearest:-0.2").metres, 5000);
    for (const char* bad : {"school", "school=x.gpkg", "school=x.gpkg:near=5:0.2", "school=x.gpkg:within:0.2",
                            "school=x.gpkg:inside:2", "school=x.gpkg:inside:lots", "=x:inside:0.1"})
        EXPECT_THROW(ContextSpec::parse(bad), UsageError) << bad;
}

TEST(ContextScorer, FormulaClosesTheGapAndScalesDown) {
    EXPECT_DOUBLE_EQ(ContextScorer::combine(0.6, {}), 0.6);
    EXPECT_NEAR(ContextScorer::combine(0.6, {{0.5, 1.0}}), 1 - 0.4 * 0.5, 1e-12);
    EXPECT_NEAR(ContextScorer::combine(0.6, {{0.5, 1.0}, {0.5, 1.0}}), 1 - 0.4 * 0.25, 1e-12);
    EXPECT_NEAR(ContextScorer::combine(0.6, {{-0.5, 1.0}}), 0.3, 1e-12);
    EXPECT_NEAR(ContextScorer::combine(0.6, {{0.5, 0.5}}), 1 - 0.4 * 0.75, 1e-12);
    EXPECT_EQ(ContextScorer::level(0.7, 0.4, 0.7), "high");
    EXPECT_EQ(ContextScorer::level(0.69, 0.4, 0.7), "medium");
    EXPECT_EQ(ContextScorer::level(0.1, 0.4, 0.7), "low");
}

TEST(ContextScorer, InsideWithinAndNearestInMetresWhateverTheLayerCrs) {
    test::TempDir dir;
    // A protected area (lon/lat) from 1 km to 3 km east of the origin.
    std::ofstream(dir.file("reserve.geojson")) << R"({"type":"FeatureCollection","features":[{"type":"Feature",
        "properties":{"name":"East Reserve"},"geometry":{"type":"Polygon","coordinates":[[)"
        << "[" << east(1000).lon << ",22.99],[" << east(3000).lon << ",22.99],[" << east(3000).lon << ",23.01],["
        << east(1000).lon << ",23.01],[" << east(1000).lon << ",22.99]]]}}]}";
    // Schools in UTM 46N: one at 5 km east of the origin. Convert (90.0489 E, 23 N) to UTM.
    OGRSpatialReference ll, utm;
    ll.importFromEPSG(4326);
    ll.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    utm.importFromEPSG(32646);
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&ll, &utm));
    double x = east(5000).lon, y = 23.0;
    ct->Transform(1, &x, &y);
    std::ofstream(dir.file("schools.geojson")) << "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
                                                  "{\"name\":\"EPSG:32646\"}},\"features\":[{\"type\":\"Feature\",\"properties\":"
                                                  "{\"name\":\"Primary school\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":["
                                               << std::to_string(x) << "," << std::to_string(y) << "]}}]}";
    ContextLayer schools(dir.file("schools.geojson"), east(0));
    auto [d, k] = schools.nearest(east(4200));
    EXPECT_EQ(k, 0);
    EXPECT_NEAR(d, 800, 2.0);  // geodesic metres, though the layer is in UTM
    EXPECT_EQ(schools.label(0), "Primary school");
    EXPECT_EQ(schools.within(east(4200), 1000).size(), 1u);
    EXPECT_TRUE(schools.within(east(3800), 1000).empty());

    RiskOptions ro;
    ro.context = {ContextSpec::parse("reserve=" + dir.file("reserve.geojson") + ":inside:0.5"),
                  ContextSpec::parse("school=" + dir.file("schools.geojson") + ":within=1000:0.3")};
    ContextScorer scorer(ro, east(0));
    std::vector<FeatureRecord> f{at(east(2000), 0.5), at(east(4500), 0.5), at(east(8000), 0.5)};
    scorer.apply(f);
    EXPECT_NEAR(f[0].risk, 0.75, 1e-9);  // inside the reserve
    ASSERT_EQ(f[0].riskFactors.size(), 1u);
    EXPECT_EQ(f[0].riskFactors[0], "inside reserve (East Reserve)");
    EXPECT_NEAR(f[1].risk, 1 - 0.5 * 0.7, 1e-9);  // near the school
    EXPECT_NE(f[1].riskFactors.at(0).find("within 1.0 km of school (Primary school, 500 m)"), std::string::npos)
        << f[1].riskFactors.at(0);
    EXPECT_DOUBLE_EQ(f[2].risk, 0.5);
    EXPECT_TRUE(f[2].riskFactors.empty());
    EXPECT_EQ(f[0].riskLevel, "high");
    EXPECT_EQ(f[2].riskLevel, "medium");
}

TEST(RiskGrid, CountsDetectionsPerEqualAreaCellAndSkipsUnscannedOnes) {
    RiskGrid grid(5000, RiskGrid::Shape::Square);
    std::vector<FeatureRecord> f{at(east(100), 0.9), at(east(200), 0.5), at(east(20000), 0.4)};
    f[0].risk = 0.9;
    f[1].risk = 0.5;
    f[2].risk = 0.4;
    grid.addFeatures(f);
    auto cells = grid.cells();
    std::size_t total = 0;
    for (const auto& c : cells) total += c.count;
    EXPECT_EQ(total, 3u);
    EXPECT_EQ(grid.cells(2).size(), 1u);  // only the cell holding two detections
    const auto busy = grid.cells(2);
    const auto& two = busy.front();
    EXPECT_DOUBLE_EQ(two.maxScore, 0.9);
    EXPECT_NEAR(two.meanRisk(), 0.7, 1e-12);
    // An equal-area square: 5 km x 5 km in EPSG:6933.
    auto ring = grid.outline(two);
    EXPECT_DOUBLE_EQ(ring.front().x, static_cast<double>(two.i) * 5000);
    EXPECT_DOUBLE_EQ(ring[4].x - ring[0].x, 5000);
    RiskGrid hex(5000, RiskGrid::Shape::Hexagon);
    hex.addFeatures(f);
    std::size_t htotal = 0;
    for (const auto& c : hex.cells()) htotal += c.count;
    EXPECT_EQ(htotal, 3u);
    EXPECT_EQ(hex.outline(hex.cells().front()).size(), 24u);
    EXPECT_THROW(RiskGrid(5, RiskGrid::Shape::Square), UsageError);
}

TEST(QgisStyle, DetectionStyleIsGraduatedByRisk) {
    std::string q = QgisStyle::detections(0.4, 0.7);
    EXPECT_NE(q.find("type=\"graduatedSymbol\" attr=\"risk\""), std::string::npos);
    EXPECT_NE(q.find("lower=\"0.700000\""), std::string::npos);
    EXPECT_NE(q.find("<labeling type=\"simple\">"), std::string::npos);
}
