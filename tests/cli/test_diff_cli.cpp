// riskmap diff and scan --time-series on real data. Date 1 is the bundled Sundarbans scene; date 2
// is the same scene with camps planted by the project's generator and one bare patch of date 1
// re-vegetated. Expectations come from the planted truth and from what the detector finds on
// each date, so they hold for a better detector too: every change must be explained by what was
// planted, re-vegetated or clouded, and every planted camp of 0.2 ha or more must be new.
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"
#include "readback/LayerReader.hpp"
#include "support/CampPlanter.hpp"
#include "support/CliRunner.hpp"
#include "support/SceneEdits.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;
namespace fs = std::filesystem;

namespace {

const std::string kScene = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27";
const std::string kKilnChip =
    std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/chips/tangail_demo_tile_01.tif";
const std::uint64_t kSeed = 104;  // 15 camps, 12 of at least 0.2 ha

std::vector<std::string> bandArgs(const std::string& dir) {
    const std::string p = dir + "/Sentinel-2_L2A_";
    return {"--scale", "1.5259e-5",
            "--band",  "blue=" + p + "B02_Raw.tiff",
            "--band",  "green=" + p + "B03_Raw.tiff",
            "--band",  "red=" + p + "B04_Raw.tiff",
            "--band",  "nir=" + p + "B08_Raw.tiff",
            "--band",  "swir1=" + p + "B11_Raw.tiff"};
}

// "clearing" (remote camps) or "bare" (the index detector's bare-ground rule of the README).
std::vector<std::string> detectorArgs(const std::string& detector) {
    if (detector == "clearing") return {"--detector", "clearing"};
    return {"--detector",       "index", "--set", "rule=ndvi < 0.25 and mndwi < 0", "--set",
            "close_radius_m=20"};
}

void scanScene(const std::string& dir, const std::string& detector, const std::string& out,
               const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"scan", "-o", out, "-q", "--overwrite"};
    for (const auto& v : {bandArgs(dir), detectorArgs(detector), extra})
        args.insert(args.end(), v.begin(), v.end());
    const CliResult r = runRiskmap(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
}

CliResult diff(const std::string& before, const std::string& after, const std::string& out,
               std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"diff", before, after, "-o", out, "-q", "--overwrite"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runRiskmap(args);
}

// A layer's features (changes or detections) with their geometry in lon/lat.
LayerContent layerOf(const std::string& path) {
    return riskmap::readLayer(path, "", {"sources", "risk_factors"}, "test");
}

LonLat centroidOf(const LayerFeature& f) {
    OGRPoint c;
    f.geometry->Centroid(&c);
    return {c.getX(), c.getY()};
}

std::map<std::string, int> countChanges(const LayerContent& changes) {
    std::map<std::string, int> n{{"new", 0}, {"gone", 0}, {"persists", 0}, {"unknown", 0}};
    for (const auto& f : changes.features) n[f.text("change")]++;
    return n;
}

std::string countText(const std::map<std::string, int>& n) {
    return std::to_string(n.at("new")) + " new, " + std::to_string(n.at("gone")) + " gone, " +
           std::to_string(n.at("persists")) + " persists, " + std::to_string(n.at("unknown")) +
           " unknown";
}

struct Camp {
    LonLat centroid;
    double areaM2 = 0;
    OGRGeometryUniquePtr outline;
};

std::vector<Camp> campsOf(const std::vector<PlantedCamp>& planted) {
    std::vector<Camp> out;
    for (const auto& c : planted) {
        auto poly = std::make_unique<OGRPolygon>();
        OGRLinearRing r;
        for (const auto& p : c.polygon) r.addPoint(p.lon, p.lat);
        r.closeRings();
        poly->addRing(&r);
        out.push_back({c.centroid, c.areaLandM2, OGRGeometryUniquePtr(poly.release())});
    }
    return out;
}

bool nearAnyCamp(const LonLat& p, const std::vector<Camp>& camps, double metres) {
    return std::any_of(camps.begin(), camps.end(),
                       [&](const Camp& c) { return geodesicDistance(p, c.centroid) <= metres; });
}

// A detection explained by planting: near a camp's centroid, or touching its outline (a camp the
// detector splits in two leaves a piece whose centroid is off the camp's).
bool onAnyCamp(const LayerFeature& f, const std::vector<Camp>& camps) {
    return nearAnyCamp(centroidOf(f), camps, 100) ||
           std::any_of(camps.begin(), camps.end(),
                       [&](const Camp& c) { return f.geometry->Intersects(c.outline.get()); });
}

// The union of a scan's nodata gaps (lon/lat), or an empty collection.
OGRGeometryUniquePtr gapsOf(const std::string& gapsLayer) {
    OGRGeometryUniquePtr all(new OGRGeometryCollection());
    for (const auto& f : layerOf(gapsLayer).features)
        if (f.geometry) all.reset(all->Union(f.geometry.get()));
    return all;
}

}  // namespace

// Date 1, date 2 and the scans and diffs of both detectors, built once for the suite (~3 s).
class DiffSundarbans : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        fs::create_directories(dir_->file("d2"));
        for (const char* det : {"clearing", "bare"})
            scanScene(kScene, det, file(det, 1), {"--date", "2020-01-27"});
        PlantOptions o;
        o.seed = kSeed;
        planted_ = new std::vector<PlantedCamp>(plantCamps(kScene, dir_->file("d2"), o));
        chooseAndRevegetatePatch();
        BandFiles(dir_->file("d2"))
            .setDateTag("2020:03:15 04:35:21");  // date 2 comes from the metadata
        for (const char* det : {"clearing", "bare"}) {
            scanScene(dir_->file("d2"), det, file(det, 2));
            ASSERT_EQ(diff(file(det, 1), file(det, 2), changes(det)).exitCode, 0);
        }
    }
    static void TearDownTestSuite() {
        delete planted_;
        delete patch_;
        delete dir_;
    }

    static std::string file(const std::string& det, int date) {
        return dir_->file(det + "-" + std::to_string(date) + ".geojson");
    }
    static std::string changes(const std::string& det) {
        return dir_->file(det + "-changes.geojson");
    }

    // The re-vegetated patch: a bare patch of date 1, 0.5-3 ha, at least 200 m from any other
    // bare patch and 3.2 km (the clearing halo) from every planted camp, so that nothing else
    // depends on it.
    static void chooseAndRevegetatePatch();
    static std::vector<Camp> camps() { return campsOf(*planted_); }

    static TempDir* dir_;
    static std::vector<PlantedCamp>* planted_;
    static OGRGeometryUniquePtr* patch_;
};

TempDir* DiffSundarbans::dir_ = nullptr;
std::vector<PlantedCamp>* DiffSundarbans::planted_ = nullptr;
OGRGeometryUniquePtr* DiffSundarbans::patch_ = nullptr;

void DiffSundarbans::chooseAndRevegetatePatch() {
    const LayerContent bare = layerOf(file("bare", 1));
    const auto campList = camps();
    BandFiles d2(dir_->file("d2"));
    for (const auto& f : bare.features) {
        const double area = f.number("area_m2");
        if (area < 5000 || area > 30000) continue;
        const LonLat c = centroidOf(f);
        if (nearAnyCamp(c, campList, 3200)) continue;
        const bool isolated =
            std::none_of(bare.features.begin(), bare.features.end(), [&](const LayerFeature& g) {
                return &g != &f && geodesicDistance(c, centroidOf(g)) < 200;
            });
        if (!isolated || d2.revegetate(*f.geometry, 2, 7) == 0) continue;
        d2.save();
        patch_ = new OGRGeometryUniquePtr(f.geometry->clone());
        return;
    }
    FAIL() << "no bare patch of date 1 can be re-vegetated";
}

// Every change is explained by what was planted or re-vegetated; every camp of 0.2 ha or more
// that date 1 saw clearly is new, and the re-vegetated patch is gone.
TEST_F(DiffSundarbans, PlantedCampsAreNewTheRevegetatedPatchIsGoneNothingElseChanges) {
    ASSERT_NE(patch_, nullptr);
    const auto campList = camps();
    for (const std::string det : {"clearing", "bare"}) {
        SCOPED_TRACE(det);
        const LayerContent before = layerOf(file(det, 1)), after = layerOf(file(det, 2)),
                           ch = layerOf(changes(det));
        std::size_t goneExpected = 0;
        for (const auto& f : before.features) goneExpected += f.geometry->Intersects(patch_->get());
        int lastRank = -1;
        for (const auto& f : ch.features) {
            const std::string kind = f.text("change");
            const int rank = kind == "new" ? 0 : kind == "gone" ? 1 : kind == "unknown" ? 2 : 3;
            EXPECT_GE(rank, lastRank) << "changes are not ranked new, gone, unknown, persists";
            lastRank = rank;
            EXPECT_EQ(f.text("date_before"), "2020-01-27");
            if (kind != "gone") {
                EXPECT_EQ(f.text("date_after"), "2020-03-15");  // from TIFFTAG_DATETIME
            }
            if (kind == "new" || kind == "unknown") {
                EXPECT_TRUE(onAnyCamp(f, campList)) << f.text("id");
            }
            if (kind == "gone") {
                EXPECT_TRUE(f.geometry->Intersects(patch_->get())) << f.text("id") << " is gone";
            }
        }
        const auto n = countChanges(ch);
        std::cout << "[ figures ] Sundarbans " << det << ": date 1 " << before.features.size()
                  << ", date 2 " << after.features.size() << " objects; " << countText(n) << "\n";
        EXPECT_EQ(static_cast<std::size_t>(n.at("gone")), goneExpected);
        EXPECT_EQ(static_cast<std::size_t>(n.at("persists")),
                  before.features.size() - goneExpected);
    }
    EXPECT_GE(countChanges(layerOf(changes("bare"))).at("gone"),
              1);  // the patch was a date-1 object
}

TEST_F(DiffSundarbans, EveryPlantedCampOfAtLeastTwoTenthsOfAHectareIsNew) {
    const LayerContent ch = layerOf(changes("clearing"));
    const OGRGeometryUniquePtr gaps = gapsOf(dir_->file("clearing-1.nodata_gaps.geojson"));
    std::size_t checked = 0;
    for (const auto& camp : camps()) {
        if (camp.areaM2 < 2000) continue;  // below 0.2 ha recall is not promised
        // Where date 1 recorded no data (the scene's nodata strip), the camp cannot be new.
        const bool seen = !camp.outline->Intersects(gaps.get());
        const auto hit =
            std::find_if(ch.features.begin(), ch.features.end(), [&](const LayerFeature& f) {
                return geodesicDistance(centroidOf(f), camp.centroid) <= 100;
            });
        ASSERT_NE(hit, ch.features.end())
            << "a planted camp of " << camp.areaM2 << " m2 is not among the changes";
        EXPECT_EQ(hit->text("change"), seen ? "new" : "unknown") << hit->text("id");
        checked += seen;
    }
    EXPECT_GE(checked, 10u);
}

TEST_F(DiffSundarbans, SwappingTheDatesSwapsNewAndGoneExactly) {
    ASSERT_EQ(diff(file("bare", 2), file("bare", 1), dir_->file("swapped.geojson")).exitCode, 0);
    const LayerContent fwd = layerOf(changes("bare")), rev = layerOf(dir_->file("swapped.geojson"));
    auto keyed = [](const LayerContent& l, bool swap) {
        std::multiset<std::string> out;
        for (const auto& f : l.features) {
            std::string kind = f.text("change");
            if (swap) kind = kind == "new" ? "gone" : kind == "gone" ? "new" : kind;
            const std::string b = f.text(swap ? "id_after" : "id_before"),
                              a = f.text(swap ? "id_before" : "id_after");
            out.insert(kind + " " + b + " " + a);
        }
        return out;
    };
    EXPECT_EQ(keyed(fwd, false), keyed(rev, true));
    const auto n = countChanges(fwd), m = countChanges(rev);
    EXPECT_EQ(n.at("new"), m.at("gone"));
    EXPECT_EQ(n.at("gone"), m.at("new"));
    EXPECT_GE(n.at("new") + n.at("gone"), 2);
    // A diff against time says so.
    const CliResult r = runRiskmap(
        {"diff", file("bare", 2), file("bare", 1), "-o", dir_->file("swapped2.geojson")});
    EXPECT_NE(r.err.find("swap the two scans"), std::string::npos) << r.err;
}

// A cloud (no data) over a camp's place on date 1: the camp is unknown on date 2, not new. The
// cloud's gaps (whole coverage cells) may reach neighbouring camps: exactly the new objects that
// touch the gaps turn unknown, the others stay new.
TEST_F(DiffSundarbans, CloudBeforeMakesACampUnknownNotNew) {
    const LayerContent fwd = layerOf(changes("clearing"));
    const auto camp =
        std::find_if(fwd.features.begin(), fwd.features.end(), [](const LayerFeature& f) {
            return f.text("change") == "new" && f.number("area_m2") >= 2000;
        });
    ASSERT_NE(camp, fwd.features.end());
    fs::create_directories(dir_->file("cloudy"));
    BandFiles cloudy = BandFiles::copy(kScene, dir_->file("cloudy"));
    cloudy.cloud(centroidOf(*camp), 40);  // 81 px: whole coverage cells
    cloudy.save();
    const std::string d1 = dir_->file("cloudy.geojson"), out = dir_->file("cloudy-changes.geojson");
    scanScene(dir_->file("cloudy"), "clearing", d1, {"--date", "2020-01-27"});
    ASSERT_EQ(diff(d1, file("clearing", 2), out).exitCode, 0);
    const OGRGeometryUniquePtr gaps = gapsOf(dir_->file("cloudy.nodata_gaps.geojson"));
    const LayerContent ch = layerOf(out);
    int clouded = 0;
    for (const auto& f : fwd.features) {
        if (f.text("change") != "new") continue;
        const bool underCloud = f.geometry->Intersects(gaps.get());
        clouded += underCloud;
        const auto same = std::find_if(
            ch.features.begin(), ch.features.end(),
            [&](const LayerFeature& g) { return g.text("id_after") == f.text("id_after"); });
        ASSERT_NE(same, ch.features.end());
        EXPECT_EQ(same->text("change"), underCloud ? "unknown" : "new") << f.text("id_after");
        if (underCloud) {
            EXPECT_NE(same->text("reason").find("no data"), std::string::npos)
                << same->text("reason");
        }
    }
    EXPECT_TRUE(camp->geometry->Intersects(gaps.get())) << "the cloud missed the camp";
    const auto n = countChanges(ch), m = countChanges(fwd);
    EXPECT_GE(clouded, 1);
    EXPECT_EQ(n.at("new"), m.at("new") - clouded);
    EXPECT_EQ(n.at("unknown"), m.at("unknown") + clouded);
    std::cout << "[ figures ] Sundarbans clearing, cloud (810 m square) over one camp on date 1: "
              << clouded << " camp(s) under its gaps; " << countText(n) << "\n";
}

// --min-score leaves out exactly the changes whose objects all score below it; matching still
// uses every object, so nothing else moves.
TEST_F(DiffSundarbans, MinScoreLeavesOutExactlyTheLowScoringChanges) {
    const LayerContent all = layerOf(changes("bare"));
    std::vector<double> scores;
    for (const auto& f : all.features)
        scores.push_back(std::max(f.number("score_before", -1), f.number("score_after", -1)));
    std::sort(scores.begin(), scores.end());
    const std::string tText = std::to_string(scores[scores.size() / 2]);
    const double t = std::stod(tText);
    std::multiset<std::string> expected;
    for (const auto& f : all.features)
        if (std::max(f.number("score_before", -1), f.number("score_after", -1)) >= t)
            expected.insert(f.text("change") + " " + f.text("id_before") + " " +
                            f.text("id_after"));
    ASSERT_GT(expected.size(), 0u);
    ASSERT_LT(expected.size(), all.features.size());
    const std::string out = dir_->file("min-score.geojson");
    const CliResult r =
        diff(file("bare", 1), file("bare", 2), out, {"--min-score", tText, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::multiset<std::string> got;
    for (const auto& f : layerOf(out).features)
        got.insert(f.text("change") + " " + f.text("id_before") + " " + f.text("id_after"));
    EXPECT_EQ(got, expected);
    EXPECT_EQ(parseJson(r.out, "diff --json").at("below_min_score").get<std::size_t>(),
              all.features.size() - expected.size());
    EXPECT_NEAR(parseJsonFile(out + ".manifest.json").at("diff").at("min_score").get<double>(), t,
                1e-6);
}

// The same scans written as GeoJSON and as GeoPackage give the same changes.
TEST_F(DiffSundarbans, SameDiffFromGeoJsonAndGeoPackageScans) {
    for (int date : {1, 2}) {
        const std::string dir = date == 1 ? kScene : dir_->file("d2");
        std::vector<std::string> extra;
        if (date == 1) extra = {"--date", "2020-01-27"};
        scanScene(dir, "bare", dir_->file("bare-" + std::to_string(date) + ".gpkg"), extra);
    }
    const std::string out = dir_->file("from-gpkg.geojson");
    ASSERT_EQ(diff(dir_->file("bare-1.gpkg"), dir_->file("bare-2.gpkg"), out).exitCode, 0);
    EXPECT_EQ(compareLayers(readLayer(changes("bare")), readLayer(out), 1e-7, 0.11), "");
    // And written as a GeoPackage, the changes read back the same.
    ASSERT_EQ(diff(file("bare", 1), file("bare", 2), dir_->file("changes.gpkg")).exitCode, 0);
    const LayerContent a = layerOf(changes("bare")),
                       b = riskmap::readLayer(dir_->file("changes.gpkg"), "changes",
                                              {"risk_factors"}, "t");
    ASSERT_EQ(a.features.size(), b.features.size());
    for (std::size_t i = 0; i < a.features.size(); ++i) {
        EXPECT_EQ(a.features[i].text("id"), b.features[i].text("id"));
        EXPECT_EQ(a.features[i].text("date_after"), b.features[i].text("date_after"));
    }
}

// A kiln painted out of a real chip (filled from its neighbourhood) is gone; the others persist.
TEST(CliDiff, KilnPaintedOutIsGone) {
    TempDir dir;
    const std::string before = dir.file("before.geojson"), after = dir.file("after.geojson");
    ASSERT_EQ(runRiskmap({"scan", kKilnChip, "--detector", "kiln", "--date", "2023-01-15", "-o",
                          before, "-q"})
                  .exitCode,
              0);
    const LayerContent kilns = layerOf(before);
    ASSERT_GE(kilns.features.size(), 2u);
    const LayerFeature& target = kilns.features.front();
    paintOut(kKilnChip, dir.file("tangail_demo_tile_01.tif"), *target.geometry, 4,
             "2024:01:20 05:10:00");
    ASSERT_EQ(runRiskmap({"scan", dir.file("tangail_demo_tile_01.tif"), "--detector", "kiln", "-o",
                          after, "-q"})
                  .exitCode,
              0);
    const CliResult r =
        runRiskmap({"diff", before, after, "-o", dir.file("changes.gpkg"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const LayerContent ch =
        riskmap::readLayer(dir.file("changes.gpkg"), "changes", {"risk_factors"}, "t");
    const auto n = countChanges(ch);
    std::cout << "[ figures ] kiln chip " << fs::path(kKilnChip).filename().string()
              << ", one kiln painted out: " << countText(n) << "\n";
    EXPECT_EQ(n.at("gone"), 1);
    EXPECT_EQ(static_cast<std::size_t>(n.at("persists")), kilns.features.size() - 1);
    EXPECT_EQ(n.at("new") + n.at("unknown"), 0);
    const auto gone =
        std::find_if(ch.features.begin(), ch.features.end(),
                     [](const LayerFeature& f) { return f.text("change") == "gone"; });
    ASSERT_NE(gone, ch.features.end());
    EXPECT_EQ(gone->text("id_before"), target.text("id"));
    EXPECT_EQ(gone->text("date_before"), "2023-01-15");     // --date
    EXPECT_EQ(gone->text("date_after"), "2024-01-20");      // the copy's TIFFTAG_DATETIME
    EXPECT_EQ(ch.features.front().text("change"), "gone");  // ranked before what persists
    const Json counts = parseJson(r.out, "diff --json");
    EXPECT_EQ(counts.at("gone").get<int>(), 1);
    // The diff's style colours by change; its manifest names both scans and their dates.
    EXPECT_NE(readFile(dir.file("changes.qml")).find("attr=\"change\""), std::string::npos);
    const Json m = parseJsonFile(dir.file("changes.gpkg.manifest.json"));
    EXPECT_EQ(m.at("kind"), "diff");
    EXPECT_EQ(m.at("diff").at("before").at("path"), before);
    EXPECT_EQ(m.at("diff").at("after").at("date"), "2024-01-20");
    EXPECT_EQ(m.at("diff").at("counts").at("gone"), 1);
}

namespace {

// Two small synthetic scans (index detector) for the output rules.
struct SmallScans {
    TempDir dir;
    std::string a, b;
    SmallScans() {
        SceneSpec s;
        s.width = s.height = 200;
        s.blobs = {{60, 60, 8, 8, kBareSoil}, {140, 120, 10, 6, kBareSoil}};
        writeScene(dir.file("a.tif"), s);
        s.blobs = {{60, 60, 8, 8, kBareSoil}, {150, 40, 7, 7, kBareSoil}};
        writeScene(dir.file("b.tif"), s);
        fs::create_directories(dir.file("out"));
        a = dir.file("a.geojson");
        b = dir.file("b.geojson");
        for (const auto& [in, out] : {std::pair{dir.file("a.tif"), a}, {dir.file("b.tif"), b}})
            EXPECT_EQ(runRiskmap({"scan", in, "-o", out, "-q"}).exitCode, 0);
    }
};

std::map<std::string, std::string> snapshot(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (auto& e : fs::directory_iterator(dir))
        out[e.path().filename().string()] = readFile(e.path().string());
    return out;
}

}  // namespace

// No partial output: a failure at any step of the commit leaves the earlier diff byte for byte;
// an existing output needs --overwrite; links, inputs and unknown formats are refused.
TEST(CliDiff, AllOrNothingAndOverwriteRules) {
    SmallScans s;
    const std::string out = s.dir.file("out/c.geojson");
    CliResult r = runRiskmap({"diff", s.a, s.b, "-o", out, "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    struct stat st;
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // An analyst's edit of the style, so that all three files are replaced (an identical style is
    // left in place).
    std::ofstream(s.dir.file("out/c.qml"), std::ios::app) << "<!-- edited -->\n";
    const auto before = snapshot(s.dir.file("out"));
    EXPECT_EQ(before.size(), 3u);  // layer, manifest, style
    r = runRiskmap({"diff", s.a, s.b, "-o", out, "-q"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
    int failed = 0;
    for (int step = 1; step <= 10; ++step) {
        r = runShell("RISKMAP_TEST_FAIL_COMMIT=" + std::to_string(step) +
                     " '" RISKMAP_BINARY "' diff '" + s.b + "' '" + s.a + "' -o '" + out +
                     "' -q --overwrite");
        if (r.exitCode == 0) break;
        ++failed;
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_EQ(snapshot(s.dir.file("out")), before) << "failure at step " << step;
    }
    EXPECT_GE(failed, 3);
    EXPECT_NE(snapshot(s.dir.file("out")), before) << "the final run replaced nothing";
    EXPECT_TRUE(filesContaining(s.dir.file("out"), ".riskmap-staging-").empty());
    // A scan that cannot be read: nothing is written.
    r = runRiskmap({"diff", s.a, s.dir.file("missing.geojson"), "-o", s.dir.file("out/d.geojson")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("missing.geojson"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(s.dir.file("out/d.geojson")));
    // An output that is an input, a link, or of an unknown format.
    EXPECT_EQ(runRiskmap({"diff", s.a, s.b, "-o", s.a, "--overwrite"}).exitCode, 2);
    fs::create_symlink(s.dir.file("elsewhere.geojson"), s.dir.file("out/link.geojson"));
    r = runRiskmap({"diff", s.a, s.b, "-o", s.dir.file("out/link.geojson"), "--overwrite"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
    EXPECT_FALSE(fileExists(s.dir.file("elsewhere.geojson")));
    EXPECT_EQ(runRiskmap({"diff", s.a, s.b, "-o", s.dir.file("out/c.shp")}).exitCode, 2);
}

TEST(CliDiff, WithoutDatesItStillWorksAndSaysSo) {
    SmallScans s;
    const CliResult r = runRiskmap({"diff", s.a, s.b, "-o", s.dir.file("out/c.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("no single acquisition date"), std::string::npos) << r.err;
    const LayerContent ch = layerOf(s.dir.file("out/c.geojson"));
    const auto n = countChanges(ch);
    EXPECT_EQ(n.at("persists"), 1);
    EXPECT_EQ(n.at("new"), 1);
    EXPECT_EQ(n.at("gone"), 1);
    for (const auto& f : ch.features) EXPECT_EQ(f.text("date_before") + f.text("date_after"), "");
    // Scans of different detectors do not compare.
    ASSERT_EQ(runRiskmap({"scan", s.dir.file("a.tif"), "--detector", "kiln", "-o",
                          s.dir.file("k.geojson"), "-q"})
                  .exitCode,
              0);
    const CliResult k =
        runRiskmap({"diff", s.a, s.dir.file("k.geojson"), "-o", s.dir.file("out/x.geojson")});
    EXPECT_EQ(k.exitCode, 2);
    EXPECT_NE(k.err.find("one detector"), std::string::npos) << k.err;
    // ... and that is said from the manifests, before either layer is read: a layer of millions of
    // objects was read first (an audit). A damaged layer shows the order.
    std::ofstream(s.dir.file("k.geojson"), std::ios::trunc) << "{ not a layer";
    const CliResult d =
        runRiskmap({"diff", s.a, s.dir.file("k.geojson"), "-o", s.dir.file("out/x.geojson")});
    EXPECT_EQ(d.exitCode, 2) << d.err;
    EXPECT_NE(d.err.find("one detector"), std::string::npos) << d.err;
}

// Scans of two places, or one scan given twice, gave counts without a word (an audit).
TEST(CliDiff, ScansOfOtherPlacesOrOneScanTwiceAreSaid) {
    SmallScans s;
    CliResult r = runRiskmap({"diff", s.a, s.b, "-o", s.dir.file("out/c.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("share no ground"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("the same layer"), std::string::npos) << r.err;
    r = runRiskmap({"diff", s.a, s.a, "-o", s.dir.file("out/same.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("BEFORE and AFTER are the same layer"), std::string::npos) << r.err;
    SceneSpec far;
    far.width = far.height = 120;
    far.originX += 200000;  // 200 km east
    far.blobs = {{60, 60, 6, 6, kBareSoil}};
    writeScene(s.dir.file("far.tif"), far);
    ASSERT_EQ(runRiskmap({"scan", s.dir.file("far.tif"), "-o", s.dir.file("far.geojson"), "-q"}).exitCode, 0);
    r = runRiskmap({"diff", s.a, s.dir.file("far.geojson"), "-o", s.dir.file("out/far.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("share no ground: every object is unknown"), std::string::npos) << r.err;
    EXPECT_EQ(countChanges(layerOf(s.dir.file("out/far.geojson"))).at("new"), 0);
}

// A float scene's NaN hole is no data: an object under it is unknown, not gone. NaN pixels were
// scanned as data (OpenCV's vectorised compare finds no NaN), so the hole was no gap and the diff
// said "gone" (an audit).
TEST(CliDiff, NaNHoleInAFloatSceneMakesUnknownNotGone) {
    TempDir dir;
    SceneSpec s;
    s.width = s.height = 200;
    s.blobs = {{60, 60, 8, 8, kBareSoil}, {140, 120, 10, 6, kBareSoil}};
    writeScene(dir.file("u16.tif"), s);
    GDALAllRegister();
    for (const std::string name : {"a.tif", "b.tif"}) {
        const char* args[] = {"-ot", "Float32", "-a_nodata", "nan", nullptr};
        GDALTranslateOptions* o = GDALTranslateOptionsNew(const_cast<char**>(args), nullptr);
        GDALDatasetH src = GDALOpen(dir.file("u16.tif").c_str(), GA_ReadOnly);
        GDALClose(GDALTranslate(dir.file(name).c_str(), src, o, nullptr));
        GDALClose(src);
        GDALTranslateOptionsFree(o);
    }
    GDALDatasetH b = GDALOpen(dir.file("b.tif").c_str(), GA_Update);
    std::vector<float> hole(60 * 60, std::nanf(""));
    for (int k = 1; k <= GDALGetRasterCount(b); ++k)
        ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(b, k), GF_Write, 110, 90, 60, 60, hole.data(), 60,
                               60, GDT_Float32, 0, 0),
                  CE_None);
    GDALClose(b);
    ASSERT_EQ(runRiskmap({"scan", dir.file("a.tif"), "--date", "2020-01-01", "-o",
                          dir.file("a.geojson"), "-q"})
                  .exitCode,
              0);
    ASSERT_EQ(runRiskmap({"scan", dir.file("b.tif"), "--date", "2020-02-01", "-o",
                          dir.file("b.geojson"), "-q"})
                  .exitCode,
              0);
    EXPECT_EQ(layerOf(dir.file("a.geojson")).features.size(), 2u);
    EXPECT_FALSE(gapsOf(dir.file("b.nodata_gaps.geojson"))->IsEmpty()) << "the NaN hole is no gap";
    const CliResult r = runRiskmap(
        {"diff", dir.file("a.geojson"), dir.file("b.geojson"), "-o", dir.file("d.geojson"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(countText(countChanges(layerOf(dir.file("d.geojson")))),
              "0 new, 0 gone, 1 persists, 1 unknown");
}

// Two objects 800 m apart are new and gone at the default radius, and one object at 1 km.
TEST(CliDiff, RadiusDecidesWhatIsOneObject) {
    SmallScans s;
    const std::string narrow = s.dir.file("out/narrow.geojson"),
                      wide = s.dir.file("out/wide.geojson");
    ASSERT_EQ(runRiskmap({"diff", s.a, s.b, "-o", narrow, "-q"}).exitCode, 0);
    auto n = countChanges(layerOf(narrow));
    EXPECT_EQ(n.at("new"), 1);
    EXPECT_EQ(n.at("gone"), 1);
    EXPECT_EQ(n.at("persists"), 1);
    ASSERT_EQ(runRiskmap({"diff", s.a, s.b, "-o", wide, "-q", "--radius-m", "1000"}).exitCode, 0);
    const LayerContent w = layerOf(wide);
    n = countChanges(w);
    EXPECT_EQ(n.at("persists"), 2);
    EXPECT_EQ(n.at("new") + n.at("gone") + n.at("unknown"), 0);
    double farthest = 0;
    for (const auto& f : w.features) farthest = std::max(farthest, f.number("distance_m"));
    EXPECT_NEAR(farthest, 10 * std::hypot(150 - 140, 40 - 120), 15);  // blob centres, 10 m pixels
    EXPECT_DOUBLE_EQ(parseJsonFile(wide + ".manifest.json").at("diff").at("radius_m").get<double>(),
                     1000);
    const CliResult r =
        runRiskmap({"diff", s.a, s.b, "-o", wide, "--overwrite", "--radius-m", "0"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--radius-m"), std::string::npos) << r.err;
}

// Usage errors exit 2 with one line naming the file at fault; nothing is written.
TEST(CliDiff, UsageErrorsExitTwoNamingTheFile) {
    SmallScans s;
    const std::string changes = s.dir.file("out/c.geojson"), out = s.dir.file("out/x.geojson");
    ASSERT_EQ(runRiskmap({"diff", s.a, s.b, "-o", changes, "-q"}).exitCode, 0);
    auto expectUsage = [&](const std::vector<std::string>& args, const std::string& named) {
        const CliResult r = runRiskmap(args);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(fileExists(out));
    };
    expectUsage({"diff", changes, s.b, "-o", out}, changes);  // a diff is not a scan
    ASSERT_EQ(runRiskmap({"scan", s.dir.file("a.tif"), "--detector", "kiln", "-o",
                          s.dir.file("k.geojson"), "-q"})
                  .exitCode,
              0);
    expectUsage({"diff", s.a, s.dir.file("k.geojson"), "-o", out},
                s.dir.file("k.geojson"));  // another detector
    expectUsage({"diff", s.a, s.b, "-o", s.dir.file("out/x.shp")}, "x.shp");
    expectUsage({"diff", s.a, s.b, "-o", s.b, "--overwrite"}, s.b);
    expectUsage({"diff", s.a, s.b, "-o", changes}, changes);  // exists, no --overwrite
    expectUsage({"diff", s.a, s.b, "-o", out, "--min-score", "1.5"}, "--min-score");
    expectUsage({"diff", s.a, "-o", out}, "missing AFTER_SCAN, the later scan");
    // 3 places (~110 m) wrote 10 m outlines collapsed and crossing themselves (a sweep).
    expectUsage({"diff", s.a, s.b, "-o", out, "--precision", "3"}, "Give --precision 5 or more");
    EXPECT_EQ(
        runRiskmap({"diff", s.a, s.b, "-o", s.dir.file("out/p3.gpkg"), "--precision", "3", "-q"})
            .exitCode,
        0);
    // A scan without its manifest cannot be compared (a data error, exit 1), named.
    fs::copy_file(s.a, s.dir.file("bare.geojson"));
    const CliResult r = runRiskmap({"diff", s.dir.file("bare.geojson"), s.b, "-o", out});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("bare.geojson"), std::string::npos) << r.err;
}

TEST(CliDiff, Help) {
    const CliResult r = runRiskmap({"diff", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"BEFORE_SCAN", "AFTER_SCAN", "--output", "--radius-m", "--min-score",
                          "--overwrite", "--out-crs", "--file-mode", "unknown", "0600"})
        EXPECT_NE(r.out.find(s), std::string::npos) << s;
    EXPECT_NE(runRiskmap({"--help"}).out.find("diff"), std::string::npos);
    EXPECT_NE(runRiskmap({"scan", "--help"}).out.find("--time-series"), std::string::npos);
}
