// Matching for riskmap eval on hand-made cases.
#include <gtest/gtest.h>

#include <ogr_spatialref.h>

#include <fstream>
#include <memory>

#include "core/Error.hpp"
#include "eval/Evaluation.hpp"
#include "eval/PointMatcher.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;

namespace {

// Points east of (90, 23) by `metres` (about 102.4 km per degree of longitude at 23 N).
LonLat east(double metres) { return {90.0 + metres / 102470.0, 23.0}; }
EvalPoint det(double metres, double score = 1) { return {east(metres), score, false, 0}; }
EvalPoint truth(double metres, bool difficult = false) { return {east(metres), 0, difficult, 0}; }

}  // namespace

TEST(PointMatcher, TwoDetectionsOnOneTruthGiveOneHitOneFalseAlarm) {
    for (auto method : {MatchMethod::Optimal, MatchMethod::Greedy}) {
        PointMatcher m(60, method);
        auto c = m.match({det(0), det(10)}, {truth(5)});
        EXPECT_EQ(c.tp, 1u);
        EXPECT_EQ(c.fp, 1u);
        EXPECT_EQ(c.fn, 0u);
    }
}

// A dense cluster (every object within the radius of every other) made the optimal assignment
// hold a 15,000 x 15,000 cost matrix for nine minutes, deaf to SIGINT (a hostile-input sweep):
// a cluster beyond 25 million pairs is refused, and a smaller one stops when asked to.
TEST(PointMatcher, LargeClustersAreRefusedAndAnyStopsWhenCancelled) {
    std::vector<EvalPoint> dets, truths;
    for (int i = 0; i < 40; ++i) {
        dets.push_back(det(i * 0.5));
        truths.push_back(truth(i * 0.5 + 0.25));
    }
    const std::size_t cap = 39 * 40;  // one pair short of the 40 x 40 cluster
    EXPECT_THROW(PointMatcher(1000, MatchMethod::Optimal, nullptr, cap).match(dets, truths), UsageError);
    EXPECT_EQ(PointMatcher(1000, MatchMethod::Greedy, nullptr, cap).match(dets, truths).tp, 40u);
    EXPECT_EQ(PointMatcher(1000, MatchMethod::Optimal, nullptr, 40 * 40).match(dets, truths).tp, 40u);
    std::atomic<bool> cancel{true};
    EXPECT_THROW(PointMatcher(1000, MatchMethod::Optimal, &cancel).match(dets, truths), Cancelled);
    cancel = false;
    EXPECT_EQ(PointMatcher(1000, MatchMethod::Optimal, &cancel).match(dets, truths).tp, 40u);
}

TEST(PointMatcher, TiesGoToTheHigherScoreThenInputOrder) {
    PointMatcher greedy(60, MatchMethod::Greedy);
    std::vector<MatchPair> pairs;
    // Both detections are 20 m from the truth: the higher score wins.
    greedy.match({det(-20, 0.4), det(20, 0.9)}, {truth(0)}, &pairs);
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0].detection, 1u);
    // Equal scores: the first detection wins, whichever method.
    for (auto method : {MatchMethod::Optimal, MatchMethod::Greedy}) {
        PointMatcher m(60, method);
        m.match({det(-20, 0.5), det(20, 0.5)}, {truth(0)}, &pairs);
        ASSERT_EQ(pairs.size(), 1u);
        EXPECT_EQ(pairs[0].detection, 0u);
    }
}

TEST(PointMatcher, OptimalBeatsGreedyWhenTheClosestPairBlocksAnother) {
    // t0 at 0 m and t1 at 75 m; d0 at 20 m (20 from t0, 55 from t1), d1 at -40 m (40 from t0,
    // out of reach of t1). Greedy takes the closest pair d0-t0 and leaves d1 and t1 unmatched;
    // optimal pairs d1-t0 and d0-t1.
    std::vector<EvalPoint> d{det(20), det(-40)};
    std::vector<EvalPoint> t{truth(0), truth(75)};
    auto g = PointMatcher(60, MatchMethod::Greedy).match(d, t);
    auto o = PointMatcher(60, MatchMethod::Optimal).match(d, t);
    EXPECT_EQ(g.tp, 1u);
    EXPECT_EQ(g.fp, 1u);
    EXPECT_EQ(g.fn, 1u);
    EXPECT_EQ(o.tp, 2u);
    EXPECT_EQ(o.fp, 0u);
    EXPECT_EQ(o.fn, 0u);
}

TEST(PointMatcher, DifficultTruthIsDontCare) {
    PointMatcher m(60, MatchMethod::Optimal);
    // A detection on a difficult object is ignored; an unmatched difficult one is not missed.
    auto c = m.match({det(0), det(500)}, {truth(5, true), truth(1000, true), truth(500)});
    EXPECT_EQ(c.tp, 1u);
    EXPECT_EQ(c.fp, 0u);
    EXPECT_EQ(c.fn, 0u);
    EXPECT_EQ(c.ignored, 1u);
    // Between a certain and a difficult object, the certain one gets the detection.
    auto d = m.match({det(25)}, {truth(0, true), truth(45)});
    EXPECT_EQ(d.tp, 1u);
    EXPECT_EQ(d.ignored, 0u);
}

TEST(PointMatcher, RadiusIsGeodesicMetres) {
    PointMatcher m(60, MatchMethod::Optimal);
    EXPECT_EQ(m.match({det(59)}, {truth(0)}).tp, 1u);
    EXPECT_EQ(m.match({det(61)}, {truth(0)}).tp, 0u);
}

namespace {

void writeText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST(Evaluation, CrsDifferencesAndFootprintEdge) {
    test::TempDir dir;
    // Detections in lon/lat (as scan writes them), truth in UTM 46N; an AOI polygon in UTM.
    // The AOI is x 300000..301000, y 2600000..2601000 (EPSG:32646).
    writeText(dir.file("aoi.geojson"),
              R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32646"}},"features":[
                 {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[300000,2600000],[301000,2600000],[301000,2601000],[300000,2601000],[300000,2600000]]]}}]})");
    // Truth: one inside, one 5 m inside the AOI edge (counts), one 10 m outside (does not).
    writeText(dir.file("truth.geojson"),
              R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32646"}},"features":[
                 {"type":"Feature","properties":{"difficult":false},"geometry":{"type":"Point","coordinates":[300500,2600500]}},
                 {"type":"Feature","properties":{"difficult":false},"geometry":{"type":"Point","coordinates":[300995,2600500]}},
                 {"type":"Feature","properties":{"difficult":false},"geometry":{"type":"Point","coordinates":[301010,2600500]}}]})");
    // Detections: the UTM points converted to lon/lat, 20 m off, as polygons (centroids used).
    OGRSpatialReference utm, ll;
    utm.importFromEPSG(32646);
    ll.importFromEPSG(4326);
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    ll.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &ll));
    auto square = [&](double x, double y) {
        std::string s = "[[";
        for (auto [dx, dy] : {std::pair{-10, -10}, std::pair{10, -10}, std::pair{10, 10}, std::pair{-10, 10}, std::pair{-10, -10}}) {
            double px = x + dx, py = y + dy;
            ct->Transform(1, &px, &py);
            char b[64];
            std::snprintf(b, sizeof b, "[%.9f,%.9f],", px, py);
            s += b;
        }
        s.pop_back();
        return s + "]]";
    };
    writeText(dir.file("det.geojson"),
              std::string(R"({"type":"FeatureCollection","features":[)") +
                  R"({"type":"Feature","properties":{"score":0.9,"source":"a.tif"},"geometry":{"type":"Polygon","coordinates":)" +
                  square(300520, 2600500) + "}}," +
                  R"({"type":"Feature","properties":{"score":0.8,"source":"a.tif"},"geometry":{"type":"Polygon","coordinates":)" +
                  square(300980, 2600500) + "}}]}");
    EvalRequest req;
    req.truthPath = dir.file("truth.geojson");
    req.detectionsPath = dir.file("det.geojson");
    req.aoiPath = dir.file("aoi.geojson");
    EvalReport r = Evaluation::run(req);
    EXPECT_EQ(r.overall.tp, 2u);
    EXPECT_EQ(r.overall.fp, 0u);
    EXPECT_EQ(r.overall.fn, 0u);
    EXPECT_EQ(r.truthOutside, 1u);
    EXPECT_NEAR(r.overall.maxDistance, 20.0, 0.5);
    // Without the AOI and without a manifest, eval cannot tell what was scanned.
    req.aoiPath.clear();
    EXPECT_THROW(Evaluation::run(req), UsageError);
}
