// The clearing detector on the real Sundarbans scene (bundled in data/): recall on camps planted
// by two independent generators, an explanation for every camp missed, false alarms on the
// unmodified scene and on 380 km2 of mirrored reserve texture, tiling, and coarse Landsat.
#include <gtest/gtest.h>
#include <gdal_priv.h>
#include <ogr_api.h>
#include <ogr_geometry.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"
#include "support/CampPlanter.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kScene = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27";
const std::string kTools = std::string(RISKMAP_SOURCE_DIR) + "/tests/tools/";

const std::vector<std::string> kAllBands{"blue", "green", "red", "nir", "swir1", "swir2"};
const std::vector<std::string> kVisibleNir{"blue", "green", "red", "nir"};  // PlanetScope, S2 10 m bands

std::vector<std::string> bandArgs(const std::string& dir, const std::vector<std::string>& bands = kAllBands) {
    const std::map<std::string, std::string> file{{"blue", "B02"}, {"green", "B03"}, {"red", "B04"},
                                                  {"nir", "B08"},  {"swir1", "B11"}, {"swir2", "B12"}};
    // EO Browser exports hold reflectance x 65535.
    std::vector<std::string> args{"--scale", "1.5259e-5"};
    for (const std::string& b : bands) args.insert(args.end(), {"--band", b + "=" + dir + "/Sentinel-2_L2A_" + file.at(b) + "_Raw.tiff"});
    return args;
}

CliResult scanClearing(const std::string& dir, const std::string& out, std::vector<std::string> extra = {},
                       const std::vector<std::string>& bands = kAllBands) {
    std::vector<std::string> args{"scan", "--detector", "clearing", "-o", out, "-q", "--overwrite"};
    auto b = bandArgs(dir, bands);
    args.insert(args.end(), b.begin(), b.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return runRiskmap(args);
}

// A planted camp as either generator records it.
struct Camp {
    int id = 0;
    LonLat at;  // truth point: centroid of the camp's land
    double areaM2 = 0;
    std::string outlineWkt;
};

std::vector<Camp> plantFirst(const std::string& dir, std::uint64_t seed) {
    PlantOptions o;
    o.seed = seed;
    o.camps = 15;
    std::vector<Camp> out;
    for (const PlantedCamp& c : plantCamps(kScene, dir, o)) {
        std::string wkt = "POLYGON((";
        for (std::size_t i = 0; i <= c.polygon.size(); ++i) {
            const LonLat& q = c.polygon[i % c.polygon.size()];
            wkt += (i ? "," : "") + std::to_string(q.lon) + " " + std::to_string(q.lat);
        }
        out.push_back({c.id, c.centroid, c.areaLandM2, wkt + "))"});
    }
    return out;
}

// Runs a Python generator in tests/tools on the scene and returns its truth file's features
// (none when it failed).
Json plantWith(const std::string& script, const std::string& dir, int seed) {
    const CliResult r = runShell("/usr/bin/python3 " + kTools + script + " " + kScene + " " + dir + " " +
                                 std::to_string(seed) + " --camps 15");
    EXPECT_EQ(r.exitCode, 0) << script << ": " << r.err;
    return r.exitCode == 0 ? parseJsonFile(dir + "/truth.geojson").at("features") : Json::array();
}

// One truth feature of a Python generator.
Camp truthCamp(const Json& f) {
    const Json& p = f.at("properties");
    const Json& xy = f.at("geometry").at("coordinates");
    return {p.at("id").get<int>(), {xy.at(0).get<double>(), xy.at(1).get<double>()}, p.at("area_m2").get<double>(),
            p.at("outline_wkt").get<std::string>()};
}

// The independent generator (tests/tools/plant_camps_indep.py, numpy and GDAL).
std::vector<Camp> plantIndependent(const std::string& dir, int seed) {
    std::vector<Camp> out;
    for (const auto& f : plantWith("plant_camps_indep.py", dir, seed)) out.push_back(truthCamp(f));
    return out;
}

// A camp of the third generator (tests/tools/plant_camps_third.py), with its own labels.
struct ThirdCamp {
    Camp camp;
    std::string shape, visibility;  // e.g. rack_yard, bank_strip; obvious, moderate, faint
};

std::vector<ThirdCamp> plantThird(const std::string& dir, int seed) {
    std::vector<ThirdCamp> out;
    for (const auto& f : plantWith("plant_camps_third.py", dir, seed))
        out.push_back({truthCamp(f), f.at("properties").at("shape").get<std::string>(),
                       f.at("properties").at("visibility").get<std::string>()});
    return out;
}

// Truth for `riskmap eval` in which only camps of [lo, hi) m2 count; the others are don't-care.
void writeTruth(const std::string& path, const std::vector<Camp>& camps, double lo, double hi) {
    Json feats = Json::array();
    for (const Camp& c : camps) {
        Json xy = Json::array();
        xy.push_back(c.at.lon);
        xy.push_back(c.at.lat);
        Json props = Json::object();
        props["id"] = c.id;
        props["difficult"] = c.areaM2 < lo || c.areaM2 >= hi;
        feats.push_back(Json{{"type", "Feature"}, {"properties", props}, {"geometry", Json{{"type", "Point"}, {"coordinates", xy}}}});
    }
    std::ofstream(path) << dumpJson(Json{{"type", "FeatureCollection"}, {"features", feats}});
}

struct Tally {
    std::int64_t tp = 0, fn = 0, fp = 0;
    double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
    std::string text() const { return std::to_string(tp) + "/" + std::to_string(tp + fn) + " found, " + std::to_string(fp) + " unmatched"; }
};

// `riskmap eval` within 100 m, as docs/clearing.md reports it, for camps of [lo, hi) m2.
void evaluate(const std::string& dir, const std::vector<Camp>& camps, double lo, double hi, Tally& t) {
    writeTruth(dir + "/band.geojson", camps, lo, hi);
    auto e = runRiskmap({"eval", "--truth", dir + "/band.geojson", "--detections", dir + "/det.geojson", "--radius-m", "100", "--json"});
    ASSERT_EQ(e.exitCode, 0) << e.err;
    const Json o = parseJson(e.out, "eval").at("overall");
    t.tp += o.at("tp").get<std::int64_t>();
    t.fn += o.at("fn").get<std::int64_t>();
    t.fp += o.at("fp").get<std::int64_t>();
}

struct Recall {
    Tally large, small;  // >= 0.2 ha; 0.1-0.2 ha
};

// Plants `seeds` with one generator, scans each copy and counts recall by size.
template <typename Plant>
Recall recallOver(const std::vector<int>& seeds, Plant plant, const std::vector<std::string>& bands = kAllBands) {
    Recall r;
    for (int seed : seeds) {
        TempDir dir;
        const std::vector<Camp> camps = plant(dir.path(), seed);
        EXPECT_GE(camps.size(), 10u) << "seed " << seed;
        auto s = scanClearing(dir.path(), dir.file("det.geojson"), {}, bands);
        EXPECT_EQ(s.exitCode, 0) << s.err;
        Recall one;
        evaluate(dir.path(), camps, 2000, 1e12, one.large);
        evaluate(dir.path(), camps, 1000, 2000, one.small);
        std::printf("seed %d: >= 0.2 ha %s; 0.1-0.2 ha %s\n", seed, one.large.text().c_str(), one.small.text().c_str());
        r.large.tp += one.large.tp, r.large.fn += one.large.fn, r.large.fp += one.large.fp;
        r.small.tp += one.small.tp, r.small.fn += one.small.fn;
    }
    return r;
}

std::unique_ptr<OGRGeometry> geometryOf(const Json& geojson) {
    return std::unique_ptr<OGRGeometry>(OGRGeometryFactory::createFromGeoJson(dumpJson(geojson).c_str()));
}

std::unique_ptr<OGRGeometry> geometryOf(const std::string& wkt) {
    OGRGeometry* g = nullptr;
    OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &g);
    return std::unique_ptr<OGRGeometry>(g);
}

// Camps with no detection centred within 100 m (camps are >= 400 m apart, so this is eval's
// one-to-one matching).
std::vector<Camp> missedCamps(const std::vector<Camp>& camps, const Json& detections) {
    std::vector<LonLat> centres;
    for (const auto& f : detections.at("features")) {
        OGRPoint c;
        geometryOf(f.at("geometry"))->Centroid(&c);
        centres.push_back({c.getX(), c.getY()});
    }
    std::vector<Camp> missed;
    for (const Camp& c : camps) {
        bool found = false;
        for (const LonLat& d : centres) found = found || geodesicDistance(c.at, d) <= 100.0;
        if (!found) missed.push_back(c);
    }
    return missed;
}

bool isMask(const std::string& gate) { return gate == "veg_ndvi_min" || gate == "bare_ndbi_min" || gate == "bare_red_green_min"; }

// The gate that turned the camp down: of the explain features overlapping its outline, a
// rejected candidate patch before a mask's trace, then the largest overlap; "" when none.
std::string explainedBy(const Camp& camp, const Json& explain) {
    std::unique_ptr<OGRGeometry> outline = geometryOf(camp.outlineWkt);
    std::unique_ptr<OGRGeometry> valid(outline->Buffer(0));
    std::string gate;
    double best = -1;
    for (const auto& f : explain.at("features")) {
        std::unique_ptr<OGRGeometry> g = geometryOf(f.at("geometry"));
        if (!g->Intersects(valid.get())) continue;
        std::unique_ptr<OGRGeometry> both(g->Intersection(valid.get()));
        const Json& p = f.at("properties");
        const std::string name = p.at("rejected_by").get<std::string>();
        // OGR_G_Area takes any type: an intersection may be a multipolygon or a collection.
        const double area = both ? OGR_G_Area(OGRGeometry::ToHandle(both.get())) : 0.0;
        const double rank = (isMask(name) ? 0.0 : 1e6) + area;
        if (rank <= best) continue;
        best = rank;
        gate = name + " " + std::to_string(p.at("value").get<double>()) + " (limit " + std::to_string(p.at("limit").get<double>()) + ")";
    }
    return gate;
}

// Poisson 95 % upper bound on the mean for k observed events (exact, by bisection).
double poissonUpper95(int k) {
    auto cdf = [k](double mu) {
        double term = std::exp(-mu), sum = term;
        for (int i = 1; i <= k; ++i) sum += term *= mu / i;
        return sum;
    };
    double lo = 0, hi = 100 + 10.0 * k;
    for (int i = 0; i < 200; ++i) ((cdf((lo + hi) / 2) > 0.05) ? lo : hi) = (lo + hi) / 2;
    return hi;
}

// The rule over all six ETM+ bands. Its weights sum to zero (so an offset cancels) and each
// swap of two bands moves 3000 or more of the scene's 122848 pixels across it.
const std::string kLandsatRule = "4 * red + nir + 3 * swir1 > 4 * blue + green + 3 * swir2 + 0.002";

// A vector dataset, closed on scope exit.
struct GdalVector {
    explicit GdalVector(const std::string& path) {
        GDALAllRegister();
        ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
        if (!ds) throw std::runtime_error("cannot open " + path);
    }
    ~GdalVector() { GDALClose(ds); }
    GdalVector(const GdalVector&) = delete;
    GdalVector& operator=(const GdalVector&) = delete;
    GDALDataset* ds = nullptr;
};

struct MaskTruth {
    std::int64_t pixels = 0;
    double cx = 0, cy = 0;  // centroid of the passing pixels, raster CRS
    OGRSpatialReference srs;
};

// The rule evaluated here on the raw bytes (ETM+ bands 1, 2, 3, 4, 5, 7 in file order; the
// 8-bit product's reflectance is DN / 255): 4 r + n + 3 s1 - 4 b - g - 3 s2 >= 1 DN.
MaskTruth landsatRuleByHand(const std::string& path) {
    GDALAllRegister();
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
    if (!ds) throw std::runtime_error("cannot open " + path);
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
    std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * 6);
    const CPLErr err = ds->RasterIO(GF_Read, 0, 0, w, h, px.data(), w, h, GDT_Byte, 6, nullptr, 0, 0, 0, nullptr);
    double gt[6];
    ds->GetGeoTransform(gt);
    MaskTruth t;
    t.srs = *ds->GetSpatialRef();
    GDALClose(ds);
    if (err != CE_None) throw std::runtime_error("cannot read " + path);
    const std::size_t plane = static_cast<std::size_t>(w) * h;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * w + x;
            auto b = [&](std::size_t k) { return static_cast<int>(px[k * plane + i]); };
            if (4 * b(2) + b(3) + 3 * b(4) - 4 * b(0) - b(1) - 3 * b(5) < 1) continue;
            ++t.pixels;
            t.cx += gt[0] + (x + 0.5) * gt[1];
            t.cy += gt[3] + (y + 0.5) * gt[5];
        }
    t.cx /= static_cast<double>(std::max<std::int64_t>(t.pixels, 1));
    t.cy /= static_cast<double>(std::max<std::int64_t>(t.pixels, 1));
    return t;
}

}  // namespace

TEST(CliClearing, FirstGeneratorCampsAreFound) {
    const Recall r = recallOver({200, 201, 202, 203, 204, 205, 206, 207},
                                [](const std::string& d, int s) { return plantFirst(d, static_cast<std::uint64_t>(s)); });
    ASSERT_GT(r.large.tp + r.large.fn, 60);
    EXPECT_GE(r.large.recall(), 0.95) << r.large.text();
    EXPECT_GE(r.small.recall(), 0.8) << r.small.text();
    EXPECT_LE(r.large.fp, 1) << "no natural false alarms; a camp split by a creek may count twice";
}

TEST(CliClearing, IndependentGeneratorCampsAreFound) {
    const Recall r = recallOver({1, 2, 3, 4, 5, 6, 7, 8}, plantIndependent);
    ASSERT_GT(r.large.tp + r.large.fn, 60);
    // Measured 89/91 and 24/28 with the blended edge and the wide anomaly disk (87/91 without
    // them: 4/6 and 7/7; 86/91 and 23/28 with the NBR anomaly alone, 84/91 and 22/28 without
    // one): the misses keep 15-60 % canopy, or are huts of one or two pixels each
    // (docs/clearing.md). Over seeds 1-22: 238/250 = 0.952.
    EXPECT_GE(r.large.recall(), 0.95) << r.large.text();
    EXPECT_GE(r.large.tp, 89) << "a camp found before is lost: " << r.large.text();
    EXPECT_GE(r.small.recall(), 0.8) << r.small.text();
    // Measured 2: huts of one cluster scattered further than group_gap_m, 110 m from its centre.
    EXPECT_LE(r.large.fp, 2) << "fragments of a camp count as unmatched";
}

TEST(CliClearing, EveryMissedCampIsExplained) {
    std::map<std::string, int> gates;
    int missed = 0;
    auto check = [&](const std::string& dir, const std::vector<Camp>& camps) {
        auto s = scanClearing(dir, dir + "/det.geojson", {"--explain", dir + "/why.geojson"});
        ASSERT_EQ(s.exitCode, 0) << s.err;
        const Json why = parseJsonFile(dir + "/why.geojson");
        for (const Camp& c : missedCamps(camps, parseJsonFile(dir + "/det.geojson"))) {
            ++missed;
            const std::string gate = explainedBy(c, why);
            EXPECT_FALSE(gate.empty()) << dir << ": camp " << c.id << " (" << c.areaM2 << " m2) missed without an explanation";
            std::printf("missed camp %d (%.0f m2): %s\n", c.id, c.areaM2, gate.c_str());
            if (!gate.empty()) gates[gate.substr(0, gate.find(' '))]++;
        }
    };
    for (int seed : {9, 10, 11, 12, 13, 14, 15, 17, 20}) {
        TempDir dir;
        check(dir.path(), plantIndependent(dir.path(), seed));
    }
    for (std::uint64_t seed : {105, 108}) {
        TempDir dir;
        check(dir.path(), plantFirst(dir.path(), seed));
    }
    // Seeds 15, then 17 and 20, were added as the camp-scale anomaly found some of the others' misses.
    EXPECT_GE(missed, 12) << "the seeds hold camps the detector misses: the check must see them";
    // Misses are explained by candidate gates and by the masks that left no candidate.
    EXPECT_GT(gates["veg_ndvi_min"], 0);
    EXPECT_GT(gates["min_width_m"], 0);
}

TEST(CliClearing, UnmodifiedSceneStaysDarkWhileCampsPlantedInItAreFound) {
    TempDir dir;
    auto r = scanClearing(kScene, dir.file("clearings.geojson"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // 27 km2 of reserve land and 42 km2 of farms, villages and ponds: at most 1 false detection
    // per 100 km2 of reserve means none here, and the farmed north must not light up.
    EXPECT_EQ(readLayer(dir.file("clearings.geojson")).features.size(), 0u);
    Json m = parseJsonFile(dir.file("clearings.geojson") + ".manifest.json");
    EXPECT_DOUBLE_EQ(m.at("detector").at("halo_m").get<double>(), 3800.0);
    // The same command finds camps planted into the same scene, so the silence is not blindness.
    const Recall first = recallOver({104}, [](const std::string& d, int s) { return plantFirst(d, static_cast<std::uint64_t>(s)); });
    const Recall indep = recallOver({5}, plantIndependent);
    EXPECT_GE(first.large.recall(), 0.95) << first.large.text();
    EXPECT_GE(indep.large.recall(), 0.9) << indep.large.text();
}

TEST(CliClearing, FalseAlarmsOnMirroredReserveTexture) {
    EXPECT_NEAR(poissonUpper95(0), 2.996, 1e-3);
    EXPECT_NEAR(poissonUpper95(1), 4.744, 1e-3);
    TempDir dir;
    const CliResult made = runShell("/usr/bin/python3 " + kTools + "make_reserve_mosaic.py " + kScene + " " + dir.path());
    ASSERT_EQ(made.exitCode, 0) << made.err;
    const double landKm2 = parseJsonFile(dir.file("mosaic.json")).at("reserve_land_km2").get<double>();
    ASSERT_GE(landKm2, 300.0);
    auto r = scanClearing(dir.path(), dir.file("det.geojson"), {"--threads", "2", "--explain", dir.file("why.geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const int alarms = static_cast<int>(readLayer(dir.file("det.geojson")).features.size());
    const double rate = 100.0 * alarms / landKm2, upper = 100.0 * poissonUpper95(alarms) / landKm2;
    std::printf("mosaic: %d false alarms on %.1f km2 of reserve land = %.2f per 100 km2 (95%% upper bound %.2f)\n", alarms,
                landKm2, rate, upper);
    // The detector looked: thousands of patches were measured and turned down.
    std::map<std::string, int> gates;
    const Json why = parseJsonFile(dir.file("why.geojson"));
    for (const auto& f : why.at("features"))
        gates[f.at("properties").at("rejected_by").get<std::string>()]++;
    for (const auto& [g, n] : gates) std::printf("  rejected by %s: %d\n", g.c_str(), n);
    EXPECT_GT(gates["core_min_area_m2"], 500);
    EXPECT_LE(upper, 1.0) << "the 95 % upper bound must stay at or below 1 false alarm per 100 km2";
    // And it can fire there: without the core gate the texture's own sparse patches pass.
    r = scanClearing(dir.path(), dir.file("nocore.geojson"), {"--threads", "2", "--set", "core_min_area_m2=0"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_GT(readLayer(dir.file("nocore.geojson")).features.size(), 10u);
}

TEST(CliClearing, WithoutSwirTheReserveStaysDarkAndCampsAreFound) {
    // Blue, green, red and NIR only (PlanetScope, Sentinel-2's 10 m bands). Without SWIR a creek
    // mixed with mangrove is neither water nor vegetation; it used to be bare ground: 33 false
    // camps in the unmodified scene, 717 unmatched detections over independent seeds 1-22.
    TempDir dir;
    auto r = scanClearing(kScene, dir.file("scene.geojson"), {}, kVisibleNir);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("scene.geojson")).features.size(), 0u);
    // The user is told what four bands cost, in the manifest as well; six bands say nothing.
    auto warned = [](const std::string& layer) {
        const Json w = parseJsonFile(layer + ".manifest.json").at("warnings");
        return std::any_of(w.begin(), w.end(), [](const Json& x) { return x.get<std::string>().find("no swir1 band") != std::string::npos; });
    };
    EXPECT_TRUE(warned(dir.file("scene.geojson")));
    r = scanClearing(kScene, dir.file("six.geojson"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(warned(dir.file("six.geojson")));
    r = scanClearing(kScene, dir.file("grn.geojson"), {}, {"green", "red", "nir"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string grn = dumpJson(parseJsonFile(dir.file("grn.geojson") + ".manifest.json").at("warnings"));
    EXPECT_NE(grn.find("without blue as well"), std::string::npos) << grn;
    const CliResult made = runShell("/usr/bin/python3 " + kTools + "make_reserve_mosaic.py " + kScene + " " + dir.path());
    ASSERT_EQ(made.exitCode, 0) << made.err;
    r = scanClearing(dir.path(), dir.file("mosaic.geojson"), {"--threads", "2"}, kVisibleNir);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("mosaic.geojson")).features.size(), 0u) << "381 km2 of reserve texture";
    // Measured 75/91 and 22/28 (independent), 89/91 and 20/25 (first); seeds 1-22 and 200-215
    // in docs/clearing.md. Without the visible and NIR anomaly: 64/91 and 14/28 independent.
    const Recall indep = recallOver({1, 2, 3, 4, 5, 6, 7, 8}, plantIndependent, kVisibleNir);
    EXPECT_GE(indep.large.recall(), 0.8) << indep.large.text();
    EXPECT_GE(indep.small.recall(), 0.75) << indep.small.text();
    EXPECT_LE(indep.large.fp, 1) << indep.large.text();
    const Recall first = recallOver({200, 201, 202, 203, 204, 205, 206, 207},
                                    [](const std::string& d, int s) { return plantFirst(d, static_cast<std::uint64_t>(s)); }, kVisibleNir);
    EXPECT_GE(first.large.recall(), 0.95) << first.large.text();
    EXPECT_LE(first.large.fp, 2) << first.large.text();
}

TEST(CliClearing, FinerPixelsOfTheSameForestDoNotLightItUp) {
    // The reserve mosaic resampled to ~9 m (cubic), as a 10 m Sentinel-2 product with its 20 m
    // SWIR resampled looks: neighbouring pixels are no longer independent samples. Counting
    // every pixel of the anomaly's disk as evidence gave 1110 false camps here; the disk now
    // counts at most what it holds at anomaly_grain_m (18.5 m).
    TempDir dir;
    const CliResult made = runShell("/usr/bin/python3 " + kTools + "make_reserve_mosaic.py " + kScene + " " + dir.file("m"));
    ASSERT_EQ(made.exitCode, 0) << made.err;
    std::filesystem::create_directory(dir.file("fine"));
    for (const char* b : {"B02", "B03", "B04", "B08", "B11", "B12"}) {
        const std::string name = std::string("/Sentinel-2_L2A_") + b + "_Raw.tiff";
        const CliResult w = runShell("gdalwarp -q -r cubic -ts 2248 3640 " + dir.file("m") + name + " " + dir.file("fine") + name);
        ASSERT_EQ(w.exitCode, 0) << w.err;
    }
    auto r = scanClearing(dir.file("fine"), dir.file("fine.geojson"), {"--threads", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readLayer(dir.file("fine.geojson")).features.size(), 0u);
    r = scanClearing(dir.file("fine"), dir.file("uncapped.geojson"), {"--threads", "2", "--set", "anomaly_grain_m=1"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_GT(readLayer(dir.file("uncapped.geojson")).features.size(), 100u) << "the texture can fire at this grid";
}

TEST(CliClearing, SameCampsAndRejectionsForAnyTileSizeWithOrWithoutExplain) {
    TempDir dir;
    plantIndependent(dir.path(), 11);  // a camp of four patches that 48 and 150 px tiles cut
    // All six bands, and visible and NIR alone (the other anomaly and the soil line).
    for (const auto& bands : {kAllBands, kVisibleNir}) {
        std::vector<std::string> outputs, explained;
        for (const char* tile : {"48", "150", "4096"}) {
            const std::string sub = dir.file(std::string(tile) + "-" + std::to_string(bands.size()));
            std::filesystem::create_directory(sub);
            auto r = scanClearing(dir.path(), sub + "/c.geojson",
                                  {"--tile-size", tile, "--threads", "2", "--explain", sub + "/why.geojson"}, bands);
            ASSERT_EQ(r.exitCode, 0) << r.err;
            outputs.push_back(readFile(sub + "/c.geojson"));
            explained.push_back(readFile(sub + "/why.geojson"));
        }
        // Huts of one camp are merged, whichever tiles they fall in.
        std::int64_t most = 0;
        const Json layer = parseJson(outputs[2], "layer");
        for (const auto& f : layer.at("features"))
            most = std::max(most, f.at("properties").at("patches").get<std::int64_t>());
        EXPECT_GE(most, 2) << bands.size() << " bands";
        EXPECT_EQ(outputs[0], outputs[2]) << bands.size() << " bands";
        EXPECT_EQ(outputs[1], outputs[2]) << bands.size() << " bands";
        EXPECT_EQ(explained[0], explained[2]) << bands.size() << " bands";
        EXPECT_EQ(explained[1], explained[2]) << bands.size() << " bands";
        // Every rejection's value lies on the failing side of its limit (a sweep: traces were
        // blamed on veg_ndvi_min with a mean NDVI of 0.488, and on bare_ndbi_min with -0.139,
        // the NDBI of their vegetated pixels). veg_ndvi_min is a mask: its pixels reach the limit.
        // Values are written rounded, so a value at the limit may print as the limit.
        std::size_t checked = 0;
        const Json why = parseJson(explained[2], "why");
        for (const auto& f : why.at("features")) {
            const Json& pr = f.at("properties");
            const std::string gate = pr.at("rejected_by").get<std::string>();
            const double v = pr.at("value").get<double>(), limit = pr.at("limit").get<double>();
            ++checked;
            if (gate == "veg_ndvi_min") {
                EXPECT_GE(v, limit) << gate << ", " << bands.size() << " bands";
            } else if (gate.find("min") != std::string::npos) {
                EXPECT_LE(v, limit) << gate << ", " << bands.size() << " bands";
            } else if (gate.find("max") != std::string::npos) {
                EXPECT_GE(v, limit) << gate << ", " << bands.size() << " bands";
            }
        }
        EXPECT_GT(checked, 100u);
        // Without --explain the detector skips work: no z for pixels already clearly bare, and
        // the distance to water from a crop around each passing camp (48 px tiles: from the
        // window's transform, once the crops outgrow the tile). The same camps.
        for (const char* tile : {"48", "4096"}) {
            const std::string plain = dir.file(std::string("plain-") + tile + "-" + std::to_string(bands.size()) + ".geojson");
            auto r = scanClearing(dir.path(), plain, {"--tile-size", tile, "--threads", "2"}, bands);
            ASSERT_EQ(r.exitCode, 0) << r.err;
            EXPECT_EQ(readFile(plain), outputs[2]) << bands.size() << " bands, " << tile << " px tiles";
        }
    }
}

// A third generator, written later by someone who had not read the detector: camps laid out
// from huts, racks, boats, slash and kept canopy at 1.5 m and blurred to the scene's pixels, many
// of them dark or under canopy. Seeds 1-22 (docs/clearing.md): every rack yard (49), 71 of the
// 99 it calls obvious, 8 of 71 moderate, none of 100 faint. This keeps a floor (seeds 1-4
// measured 12 of 12 rack yards and 16 of 18 obvious: every rack yard, and 80 % of the obvious)
// and checks that nothing fires away from the camps.
TEST(CliClearing, ThirdGeneratorObviousCampsAreFoundAndNothingElseFires) {
    int racks = 0, racksFound = 0, obvious = 0, obviousFound = 0;
    for (int seed : {1, 2, 3, 4}) {
        TempDir dir;
        const std::vector<ThirdCamp> camps = plantThird(dir.path(), seed);
        ASSERT_GE(camps.size(), 10u) << "seed " << seed;
        auto r = scanClearing(dir.path(), dir.file("det.geojson"));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const Json det = parseJsonFile(dir.file("det.geojson"));
        std::vector<Camp> all;
        for (const ThirdCamp& c : camps) all.push_back(c.camp);
        const std::vector<Camp> missed = missedCamps(all, det);
        auto isMissed = [&](const Camp& c) {
            return std::any_of(missed.begin(), missed.end(), [&](const Camp& m) { return m.id == c.id; });
        };
        for (const ThirdCamp& c : camps) {
            if (c.camp.areaM2 < 2000) continue;
            if (c.shape == "rack_yard") ++racks, racksFound += !isMissed(c.camp);
            if (c.visibility == "obvious") ++obvious, obviousFound += !isMissed(c.camp);
        }
        // A detection is part of some camp: its centre within 300 m of a truth point (a large
        // camp's centroid may lie outside the part that was found).
        for (const auto& f : det.at("features")) {
            OGRPoint centre;
            geometryOf(f.at("geometry"))->Centroid(&centre);
            double nearest = 1e300;
            for (const ThirdCamp& c : camps) nearest = std::min(nearest, geodesicDistance(c.camp.at, {centre.getX(), centre.getY()}));
            EXPECT_LE(nearest, 300.0) << "seed " << seed << ": a detection away from every camp";
        }
    }
    std::printf("third generator, seeds 1-4: rack yards %d/%d, obvious camps %d/%d\n", racksFound, racks, obviousFound, obvious);
    EXPECT_GE(racks, 8);
    EXPECT_EQ(racksFound, racks);
    EXPECT_GE(obviousFound, obvious * 8 / 10);
}

TEST(CliClearing, CoarseLandsatBandsAreMappedAndMeasuredRight) {
    TempDir dir;
    const std::string olinda = std::string(RISKMAP_SOURCE_DIR) + "/data/landsat7-olinda/L7_ETMs.tif";
    auto r = runRiskmap({"scan", olinda, "--sensor", "landsat7", "--detector", "clearing", "-o", dir.file("c.gpkg"), "-q"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // The manifest maps ETM+ bands 1-5 and 7 (file bands 1-6) to their names, at DN / 255.
    const Json m = parseJsonFile(dir.file("c.gpkg") + ".manifest.json");
    const Json& bands = m.at("inputs")[0].at("bands");
    ASSERT_EQ(bands.size(), 6u);
    const char* names[] = {"blue", "green", "red", "nir", "swir1", "swir2"};
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(bands[i].at("name").get<std::string>(), names[i]);
        EXPECT_EQ(bands[i].at("file_band").get<std::int64_t>(), static_cast<std::int64_t>(i + 1));
        EXPECT_DOUBLE_EQ(bands[i].at("scale").get<double>(), 1.0 / 255.0);
        EXPECT_DOUBLE_EQ(bands[i].at("offset").get<double>(), 0.0);
    }
    // The clearing layer is in the raster's CRS (SIRGAS 2000 / UTM 25S). Measured: no clearing
    // in this coastal city scene.
    const MaskTruth truth = landsatRuleByHand(olinda);
    {
        GdalVector c(dir.file("c.gpkg"));
        OGRLayer* layer = c.ds->GetLayerByName("clearing");
        ASSERT_NE(layer, nullptr);
        ASSERT_NE(layer->GetSpatialRef(), nullptr);
        EXPECT_TRUE(layer->GetSpatialRef()->IsSame(&truth.srs));
    }

    r = runRiskmap({"scan", olinda, "--sensor", "landsat7", "-o", dir.file("i.gpkg"), "-q", "--set", "rule=" + kLandsatRule,
                    "--set", "min_area_m2=0", "--set", "max_area_m2=1e12", "--set", "max_length_m=100000"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    ASSERT_GT(truth.pixels, 20000);  // about 70 % of the scene: a meaningful area
    GdalVector idx(dir.file("i.gpkg"));
    OGRLayer* layer = idx.ds->GetLayerByName("index");
    ASSERT_NE(layer, nullptr);
    ASSERT_NE(layer->GetSpatialRef(), nullptr);
    EXPECT_TRUE(layer->GetSpatialRef()->IsSame(&truth.srs)) << "not in the raster's CRS (SIRGAS 2000 / UTM 25S)";
    std::int64_t pixels = 0;
    double area = 0, outlined = 0, sx = 0, sy = 0;
    for (auto& f : *layer) {
        pixels += f->GetFieldAsInteger64("pixels");
        area += f->GetFieldAsDouble("area_m2");
        OGRPoint c;
        ASSERT_EQ(f->GetGeometryRef()->Centroid(&c), OGRERR_NONE);
        const double ga = OGR_G_Area(OGRGeometry::ToHandle(f->GetGeometryRef()));
        outlined += ga;
        sx += c.getX() * ga;
        sy += c.getY() * ga;
    }
    // Exact: every pixel's sum is a whole multiple of 1/255 and the threshold lies half a step
    // from one, so float rounding (~1e-6) cannot move a pixel across it.
    EXPECT_EQ(pixels, truth.pixels);
    // The outlines cover exactly those 28.5 m pixels on the map; area_m2 is ground area, the map
    // area divided by the square of the UTM scale factor k = 0.9996 (1 + E^2 / 2R^2), E the
    // distance from the central meridian (~206 km here): k ~ 1.00012 (the formula's neglected
    // terms are below 1e-5).
    EXPECT_NEAR(outlined, static_cast<double>(truth.pixels) * 28.5 * 28.5, 1e-6 * outlined);
    const double e = truth.cx - 500000, k = 0.9996 * (1 + e * e / (2 * 6371000.0 * 6371000.0));
    EXPECT_NEAR(area / outlined, 1 / (k * k), 5e-5) << "ground area from the map area";
    // The footprint sits where the pixels are: area-weighted centroid within a tenth of a pixel.
    ASSERT_GT(outlined, 0);
    EXPECT_NEAR(sx / outlined, truth.cx, 2.85);
    EXPECT_NEAR(sy / outlined, truth.cy, 2.85);
}
