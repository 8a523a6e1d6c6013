// The kiln detector: kilns found with and without colour and whatever their hue, look-alikes
// rejected, the score a calibrated probability of the documented model, operating points, every
// rejected candidate explained, gates, tile invariance, the feature vector, shapes in metres,
// and the port's agreement with the Python prototype on a real chip.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/Error.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "raster/RasterReader.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const Rgb kKiln{205, 140, 112};   // fired brick: orange-pink
const Rgb kYard{165, 160, 150};   // pale drying yard
const Rgb kRoad{125, 105, 85};
const Rgb kPond{28, 46, 58};
const Rgb kRoof{185, 80, 70};
const Rgb kBrownField{135, 105, 80};

// Attribute positions (DetectorInfo::attributes).
enum { kType, kTypeConf, kLength, kWidth, kOrient, kMode, kFoundBy, kBrightness, kChroma, kComplexHa, kTouches };

OptionValues options(const std::vector<std::string>& sets = {}) {
    OptionValues o(KilnDetector::describe().options);
    for (const auto& s : sets) o.setAssignment(s);
    return o;
}

// The whole raster as one tile (window = core = extent), or the given core with a halo.
TileImage readTile(const std::string& path, const Window* core = nullptr, int halo = 0) {
    RasterInput in = RasterInput::open(path, InputOptions{});
    RasterReader reader(in);
    TileImage tile;
    std::vector<int> bands{in.bandIndex("red"), in.bandIndex("green"), in.bandIndex("blue")};
    const Window c = core ? *core : in.extent();
    const Window w = Window{c.x - halo, c.y - halo, c.w + 2 * halo, c.h + 2 * halo}.intersect(in.extent());
    reader.read(w, c, bands, tile);
    return tile;
}

// Luminance in every band, re-quantised to 8 bits (as the prototype's greyscale variant).
void toGreyscale(TileImage& t) {
    cv::Mat r = t.band("red").clone(), g = t.band("green").clone(), b = t.band("blue").clone();
    for (const char* n : {"red", "green", "blue"}) {
        cv::Mat p = t.plane(t.bandIndex(n));
        for (int y = 0; y < p.rows; ++y)
            for (int x = 0; x < p.cols; ++x) {
                const double lum = 0.299 * r.at<float>(y, x) + 0.587 * g.at<float>(y, x) + 0.114 * b.at<float>(y, x);
                p.at<float>(y, x) = static_cast<float>(std::round(lum * 255.0) / 255.0);
            }
    }
}

std::vector<Detection> detectIn(const RgbSceneSpec& spec, const TempDir& dir, std::vector<std::string> sets = {}) {
    TileImage tile = readTile(writeRgbScene(dir.file("scene.tif"), spec));
    return KilnDetector(options(sets)).detect(tile);
}

std::string text(const Detection& d, std::size_t i) { return std::get<std::string>(d.attributes[i]); }
double num(const Detection& d, std::size_t i) { return std::get<double>(d.attributes[i]); }

// Three kilns of 120 x 50 m beside 220 x 160 m drying yards in green fields, at 10 m.
RgbSceneSpec threeKilns(Rgb kiln = kKiln, Rgb yard = kYard, Rgb fields = {62, 82, 56}) {
    RgbSceneSpec s;
    s.background = fields;
    for (auto [x, y, a] : {std::tuple{300.0, 300.0, 0.0}, std::tuple{900.0, 350.0, 60.0}, std::tuple{600.0, 950.0, 120.0}}) {
        s.shapes.push_back({RgbShape::Rectangle, x + 90, y, 220, 160, a, yard});
        s.shapes.push_back({RgbShape::Ellipse, x, y, 120, 50, a, kiln});
    }
    return s;
}

std::string devChip(const std::string& name) { return std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev/chips/" + name + ".tif"; }

const KilnCandidate* candidateAtPeak(const std::vector<KilnCandidate>& cs, int x, int y) {
    for (const auto& c : cs)
        if (c.peak == cv::Point(x, y)) return &c;
    return nullptr;
}

}  // namespace

TEST(KilnShape, EllipseAxesInMetres) {
    // A 12 x 5 pixel ellipse at 10 m: moment length and width near 120 m and 50 m.
    std::vector<cv::Point> pts;
    for (int y = -10; y <= 10; ++y)
        for (int x = -10; x <= 10; ++x)
            if ((x * x) / 36.0 + (y * y) / 6.25 <= 1) pts.emplace_back(x, y);
    auto s = KilnDetector::measureShape(pts, 10, 10);
    EXPECT_NEAR(s.length, 120, 12);
    EXPECT_NEAR(s.width, 50, 8);
    EXPECT_NEAR(std::fmod(s.angle + M_PI, M_PI), 0, 0.05);
    EXPECT_NEAR(s.area, static_cast<double>(pts.size()) * 100, 1e-9);
}

TEST(KilnShape, RectangleFillsItsBoxAndTypesAsZigzagAtFineGsd) {
    std::vector<cv::Point> rect, oval;
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 130; ++x) rect.emplace_back(x, y);
    // An oval (bull's trench kiln) of the same size at 1 m.
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 130; ++x)
            if ((x - 64.5) * (x - 64.5) / (65.0 * 65.0) + (y - 24.5) * (y - 24.5) / (25.0 * 25.0) <= 1) oval.emplace_back(x, y);
    auto r = KilnDetector::measureShape(rect, 1, 1);
    auto o = KilnDetector::measureShape(oval, 1, 1);
    EXPECT_GT(r.fill, 0.95);
    EXPECT_LT(o.fill, 0.93);
    EXPECT_EQ(KilnDetector::classify(r, 1.0, false, 5).first, "zigzag");
    EXPECT_EQ(KilnDetector::classify(o, 1.0, false, 5).first, "fcbk");
    // At 10 m an elongated body cannot be typed, and an edge-cut one never.
    EXPECT_EQ(KilnDetector::classify(o, 10.0, false, 5).first, "unknown");
    EXPECT_EQ(KilnDetector::classify(r, 1.0, true, 5).first, "unknown");
}

TEST(KilnShape, DiscIsCircular) {
    std::vector<cv::Point> disc;
    for (int y = -40; y <= 40; ++y)
        for (int x = -40; x <= 40; ++x)
            if (x * x + y * y <= 40 * 40) disc.emplace_back(x, y);
    auto s = KilnDetector::measureShape(disc, 1, 1);
    EXPECT_NEAR(s.length / s.width, 1.0, 0.02);
    EXPECT_EQ(KilnDetector::classify(s, 1.0, false, 5).first, "circular");
}

TEST(KilnDetector, FindsKilnsBesideYardsAt10m) {
    TempDir dir;
    auto dets = detectIn(threeKilns(), dir);
    ASSERT_EQ(dets.size(), 3u);
    for (const auto& d : dets) {
        EXPECT_GE(d.score, 0.4);  // the balanced operating point
        EXPECT_EQ(d.cls, "kiln");
        EXPECT_EQ(text(d, kMode), "colour");
        // The painted body is a 120 x 50 m oval: 12 x 5 pixels at 10 m. Moments give a filled
        // ellipse's full axes exactly; the 4 x 4 supersampled edge pixels are mixed, so the body
        // the detector segments may gain or lose up to 1.5 pixels (15 m) on each side of its
        // length: 120 +- 30 m. Across a body only 5 pixels wide the detector's smoothing adds
        // about half a pixel more per side (measured widths 70-81 m): 50 +- 40 m, 2 pixels.
        const double length = num(d, kLength), width = num(d, kWidth);
        EXPECT_NEAR(length, 120, 30) << "width " << width;
        EXPECT_NEAR(width, 50, 40) << "length " << length;
        EXPECT_EQ(d.geometry.parts.size(), 1u);
        EXPECT_EQ(d.geometry.parts[0].outer.size(), 4u);  // the oriented outline
    }
}

TEST(KilnDetector, FindsGreyKilnsWithoutColour) {
    // No colour at all: bright bodies in paler yards in darker fields. A redness gate saw nothing here.
    TempDir dir;
    auto dets = detectIn(threeKilns({200, 200, 200}, {150, 150, 150}, {70, 70, 70}), dir);
    ASSERT_EQ(dets.size(), 3u);
    for (const auto& d : dets) {
        EXPECT_EQ(text(d, kMode), "free");
        EXPECT_EQ(text(d, kFoundBy), "bright");
        EXPECT_EQ(num(d, kChroma), 0.0);
        EXPECT_GE(d.score, 0.4);
    }
}

TEST(KilnDetector, FindsKilnsOfAnyHue) {
    // The brick's chroma turned blue-violet and green: the chroma contrast has no preferred hue.
    for (Rgb kiln : {Rgb{112, 140, 205}, Rgb{112, 205, 140}}) {
        TempDir dir;
        auto dets = detectIn(threeKilns(kiln), dir);
        EXPECT_EQ(dets.size(), 3u) << kiln.r << "," << kiln.g << "," << kiln.b;
        for (const auto& d : dets) EXPECT_EQ(text(d, kMode), "colour");
    }
}

TEST(KilnDetector, RejectsRoadsPondsRoofsAndBrownFields) {
    TempDir dir;
    RgbSceneSpec s;
    s.shapes = {
        {RgbShape::Rectangle, 640, 200, 1100, 12, 10, kRoad},       // a road
        {RgbShape::Ellipse, 300, 700, 150, 90, 0, kPond},           // a pond
        {RgbShape::Rectangle, 900, 700, 9, 9, 0, kRoof},            // a red roof
        {RgbShape::Rectangle, 1000, 700, 9, 9, 0, kRoof},
        {RgbShape::Rectangle, 600, 1050, 320, 220, 20, kBrownField},  // bare brown field
        // The recall half: one true kiln beside its yard in the same fields, clear of the rest.
        {RgbShape::Rectangle, 390, 420, 220, 160, 0, kYard},
        {RgbShape::Ellipse, 300, 420, 120, 50, 0, kKiln},
    };
    auto dets = detectIn(s, dir);
    ASSERT_EQ(dets.size(), 1u) << "the kiln alone; a detector finding nothing fails here too";
    // Its outline's centre within 2 pixels (20 m) of the painted body's (30, 42 in pixels).
    double cx = 0, cy = 0;
    const auto& ring = dets[0].geometry.parts.at(0).outer;
    for (const auto& p : ring) {
        cx += p.x / static_cast<double>(ring.size());
        cy += p.y / static_cast<double>(ring.size());
    }
    EXPECT_NEAR(cx, 30.0, 2.0);
    EXPECT_NEAR(cy, 42.0, 2.0);
}

TEST(KilnDetector, RingKilnAtFineResolutionIsTyped) {
    // A 2 m scene: an oval ring wall (bull's trench) and a sharp rectangle (zigzag), with yards.
    TempDir dir;
    RgbSceneSpec s;
    s.gsd = 2;
    s.widthM = s.heightM = 1200;
    s.shapes = {{RgbShape::Rectangle, 420, 400, 240, 170, 0, kYard},
                {RgbShape::Ellipse, 340, 400, 130, 55, 0, kKiln},
                {RgbShape::Rectangle, 820, 820, 240, 170, 0, kYard},
                {RgbShape::Rectangle, 740, 820, 130, 55, 0, kKiln}};
    auto dets = detectIn(s, dir);
    ASSERT_EQ(dets.size(), 2u);
    const Detection& oval = dets[0].anchor.y < dets[1].anchor.y ? dets[0] : dets[1];
    const Detection& rect = dets[0].anchor.y < dets[1].anchor.y ? dets[1] : dets[0];
    EXPECT_EQ(text(oval, kType), "fcbk");
    EXPECT_EQ(text(rect, kType), "zigzag");
    // Measured at native resolution: both bodies are 130 x 55 m, 65 x 27.5 pixels at 2 m; up to
    // 1.5 mixed edge pixels (3 m) gained or lost on each side allow +- 6 m. (Moments give a
    // filled ellipse's full axes; for a rectangle they give 4 sd = 2 / sqrt(3) = 1.155 x its
    // sides, 150 x 63.5 m.)
    EXPECT_NEAR(num(oval, kLength), 130, 6);
    EXPECT_NEAR(num(oval, kWidth), 55, 6);
    EXPECT_NEAR(num(rect, kLength), 130 * 2 / std::sqrt(3.0), 6);
    EXPECT_NEAR(num(rect, kWidth), 55 * 2 / std::sqrt(3.0), 6);
}

TEST(KilnDetector, ScoreIsThePlattCalibratedLogitOfTheDocumentedModel) {
    // Coefficients as research/kiln/REPORT.md step 7 lists them (5 significant digits).
    struct Term {
        const char* name;
        double mean, sd, coef;
    };
    const Term freeTerms[] = {{"b_peak", 1.14986, 0.30136, 1.94913},   {"b_lift", -0.03866, 0.28817, 0.11589},
                              {"bb_mis", 2.07407, 1.12330, 0.46636},   {"y_con", 0.50104, 0.40827, -0.69663},
                              {"y_homog", 0.67856, 0.28605, -2.18936}, {"ln_area", 0.07673, 0.92632, 1.35722},
                              {"c_fill", 0.50116, 0.12906, 0.40641},   {"c_wid", 116.978, 55.9226, 0.71250},
                              {"c_solid", 0.64768, 0.14259, 1.51552}};
    const Term colourTerms[] = {{"ccz", 1.71424, 0.68416, 3.54662}, {"cc_yard", 1.14476, 1.03754, 1.65941}, {"cb_mis", 0.48993, 0.25625, -0.61898}};
    TileImage tile = readTile(devChip("tangail_demo_tile_07"));
    const auto cands = KilnDetector(options()).candidates(tile);
    ASSERT_GT(cands.size(), 20u);
    int colour = 0;
    for (const auto& c : cands) {
        double logit = -3.61858;
        for (const Term& t : freeTerms) logit += t.coef * (c.feature(t.name) - t.mean) / t.sd;
        if (c.colour) {
            ++colour;
            logit += -2.76007;
            for (const Term& t : colourTerms) logit += t.coef * (c.feature(t.name) - t.mean) / t.sd;
        }
        EXPECT_NEAR(c.logit, logit, 1e-3 * (1 + std::fabs(logit)));
        const double a = c.colour ? 0.614273 : 0.679230, b = c.colour ? -2.332345 : -2.202693;
        EXPECT_NEAR(c.probability, 1 / (1 + std::exp(-(a * c.logit + b))), 1e-5);
    }
    EXPECT_GT(colour, 0);
    // Greyscale: the colour term is absent (free mode everywhere), not zero-valued evidence.
    toGreyscale(tile);
    for (const auto& c : KilnDetector(options()).candidates(tile)) {
        EXPECT_FALSE(c.colour);
        EXPECT_EQ(c.source, "bright");
    }
}

TEST(KilnDetector, ReproducesThePythonPrototypeOnADevChip) {
    // research/kiln/kiln.py (extract + Model.probability) on manikganj_demo_tile_02 and its
    // greyscale copy: peak, probability, brightness, chroma contrast, complex and body centre.
    TileImage tile = readTile(devChip("manikganj_demo_tile_02"));
    const KilnDetector det(options());
    auto cands = det.candidates(tile);
    const KilnCandidate* c = candidateAtPeak(cands, 127, 12);
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->colour);
    EXPECT_NEAR(c->probability, 0.9571, 0.005);
    EXPECT_NEAR(c->feature("b_peak"), 1.5530, 0.002);
    EXPECT_NEAR(c->feature("ccz"), 2.7777, 0.002);
    EXPECT_NEAR(c->feature("c_area"), 2.2481, 0.01);
    EXPECT_NEAR(c->centre.x, 124.700, 0.05);
    EXPECT_NEAR(c->centre.y, 11.373, 0.05);
    toGreyscale(tile);
    cands = det.candidates(tile);
    c = candidateAtPeak(cands, 126, 12);
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->colour);
    EXPECT_NEAR(c->probability, 0.5330, 0.005);
    EXPECT_NEAR(c->feature("b_peak"), 1.5021, 0.002);
    EXPECT_NEAR(c->centre.x, 124.473, 0.05);
    EXPECT_NEAR(c->centre.y, 12.932, 0.05);
}

TEST(KilnDetector, OperatingPointsMapToDocumentedThresholds) {
    EXPECT_EQ(KilnDetector::operatingPointThreshold("high_precision"), 0.7);
    EXPECT_EQ(KilnDetector::operatingPointThreshold("balanced"), 0.4);
    EXPECT_EQ(KilnDetector::operatingPointThreshold("high_recall"), 0.2);
    EXPECT_EQ(KilnDetector(options()).threshold(), 0.4);
    EXPECT_EQ(KilnDetector(options({"min_score=0.55"})).threshold(), 0.55);
    EXPECT_THROW(options({"operating_point=greedy"}), UsageError);
    // Looser points keep every detection of stricter ones, and nothing below their threshold.
    TileImage tile = readTile(devChip("tangail_demo_tile_10"));
    std::map<std::string, std::set<std::pair<int, int>>> found;
    for (const char* op : {"high_precision", "balanced", "high_recall"}) {
        const KilnDetector det(options({std::string("operating_point=") + op}));
        for (const auto& d : det.detect(tile)) {
            EXPECT_GE(d.score, det.threshold()) << op;
            found[op].insert({d.anchor.x, d.anchor.y});
        }
    }
    EXPECT_LT(found["high_precision"].size(), found["high_recall"].size());
    for (const auto& a : found["high_precision"]) EXPECT_TRUE(found["balanced"].count(a));
    for (const auto& a : found["balanced"]) EXPECT_TRUE(found["high_recall"].count(a));
}

TEST(KilnDetector, ExplainsEveryCandidateItDoesNotReport) {
    TileImage tile = readTile(devChip("tangail_demo_tile_07"));
    const KilnDetector det(options());
    const std::set<std::string> gates{"ndvi", "ndbi", "complex_area_ha", "body_choice", "probability", "nms"};
    std::vector<Rejection> rejected;
    const auto dets = det.detect(tile, &rejected);
    EXPECT_EQ(dets.size() + rejected.size(), det.candidates(tile).size());
    std::map<std::string, int> n;
    for (const auto& r : rejected) {
        ++n[r.gate];
        EXPECT_TRUE(gates.count(r.gate)) << r.gate;
        std::map<std::string, double> m(r.measures.begin(), r.measures.end());
        for (const auto& f : {"probability", "b_peak", "ccz", "c_area", "y_con"}) EXPECT_TRUE(m.count(f)) << f;
        if (r.gate == "probability") {
            EXPECT_LT(r.value, r.limit);
            EXPECT_EQ(r.value, m["probability"]);
            EXPECT_EQ(r.limit, 0.4);
        }
        if (r.gate == "body_choice") {
            EXPECT_LE(r.value, r.limit);
        }
        EXPECT_EQ(r.candidate.score, m["probability"]);
        EXPECT_FALSE(r.candidate.geometry.empty());
    }
    EXPECT_GT(n["probability"], 10);
    EXPECT_GT(n["body_choice"], 0);
    // Measuring everything for --explain changes no detection (the cheap-first cascade is exact).
    const auto plain = det.detect(tile);
    ASSERT_EQ(plain.size(), dets.size());
    for (std::size_t i = 0; i < dets.size(); ++i) {
        EXPECT_EQ(plain[i].anchor, dets[i].anchor);
        EXPECT_EQ(plain[i].score, dets[i].score);
    }
}

TEST(KilnDetector, GatesVegetatedWetAndOversizedBodies) {
    TempDir dir;
    const std::string path = writeRgbScene(dir.file("scene.tif"), threeKilns());
    // Multispectral planes added to the RGB tile: nir and swir1 reflectance, uniform.
    auto withBands = [&](float nir, float swir) {
        TileImage t = readTile(path);
        for (std::size_t i = 0; i < 3; ++i) t.plane(i);
        for (auto [name, v] : {std::pair{"nir", nir}, std::pair{"swir1", swir}}) {
            t.names.push_back(name);
            t.planes.push_back(cv::Mat(t.window.h, t.window.w, CV_32F, cv::Scalar(v)));
            t.display.push_back(false);
        }
        return t;
    };
    auto gatesOf = [](const KilnDetector& det, const TileImage& t, std::map<std::string, int>& n) {
        std::vector<Rejection> rej;
        const auto dets = det.detect(t, &rej);
        for (const auto& r : rej) ++n[r.gate];
        return dets.size();
    };
    const KilnDetector det(options());
    std::map<std::string, int> veg, wet, dry, big;
    EXPECT_EQ(gatesOf(det, withBands(2.0f, 2.0f), veg), 0u);  // NDVI of the bodies ~0.4 > 0.3
    EXPECT_GE(veg["ndvi"], 3);
    EXPECT_EQ(gatesOf(det, withBands(0.5f, 0.1f), wet), 0u);  // NDBI ~ -0.67 < -0.2
    EXPECT_GE(wet["ndbi"], 3);
    EXPECT_EQ(gatesOf(det, withBands(0.5f, 0.8f), dry), 3u);  // bare and dry: as without the bands
    EXPECT_EQ(dry["ndvi"] + dry["ndbi"], 0);
    EXPECT_EQ(gatesOf(KilnDetector(options({"max_complex_ha=0.5"})), readTile(path), big), 0u);
    EXPECT_GE(big["complex_area_ha"], 3);
}

TEST(KilnDetector, SameDecisionsInEveryTiling) {
    // Nine kilns, some sharing yards 160-250 m apart, in a 3.2 km scene cut into 40-pixel cores
    // with the detector's halo: the owned detections and rejections equal the whole tile's.
    TempDir dir;
    RgbSceneSpec s;
    s.widthM = s.heightM = 3200;
    for (int i = 0; i < 9; ++i) {
        const double x = 500 + 1000 * (i % 3) + 37 * i, y = 500 + 1000 * (i / 3) + 23 * i;
        s.shapes.push_back({RgbShape::Rectangle, x + 100, y, 380, 200, 15.0 * i, kYard});
        s.shapes.push_back({RgbShape::Ellipse, x, y, 120, 50, 15.0 * i, kKiln});
        if (i % 2) s.shapes.push_back({RgbShape::Ellipse, x + 200, y + 60, 120, 50, 15.0 * i + 90, kKiln});
    }
    const std::string path = writeRgbScene(dir.file("scene.tif"), s);
    const KilnDetector det(options());
    auto key = [](const Detection& d) { return std::make_tuple(d.anchor.y, d.anchor.x, d.score, d.geometry.parts[0].outer[0].x); };
    std::vector<Rejection> allRej;
    TileImage whole = readTile(path);
    std::set<std::tuple<int, int, double, double>> want, got, wantRej, gotRej;
    for (const auto& d : det.detect(whole, &allRej)) want.insert(key(d));
    for (const auto& r : allRej) wantRej.insert(key(r.candidate));
    ASSERT_GE(want.size(), 9u);
    const int halo = static_cast<int>(std::ceil(det.haloMetres() / 10.0)) + 1;
    for (int y = 0; y < 320; y += 40)
        for (int x = 0; x < 320; x += 40) {
            const Window core{x, y, 40, 40};
            TileImage t = readTile(path, &core, halo);
            std::vector<Rejection> rej;
            for (const auto& d : det.detect(t, &rej))
                if (t.owns(d.anchor.x, d.anchor.y)) got.insert(key(d));
            for (const auto& r : rej)
                if (t.owns(r.candidate.anchor.x, r.candidate.anchor.y)) gotRej.insert(key(r.candidate));
        }
    EXPECT_EQ(got, want);
    EXPECT_EQ(gotRej, wantRej);
}

TEST(KilnDetector, CandidatesCarryTheFeaturesDetectUses) {
    TileImage tile = readTile(devChip("tangail_demo_tile_07"));
    const KilnDetector det(options());
    const auto cands = det.candidates(tile);
    for (const auto& c : cands) ASSERT_EQ(c.features.size(), KilnDetector::featureNames().size());
    const auto dets = det.detect(tile);
    ASSERT_GE(dets.size(), 3u);
    for (const auto& d : dets) {
        const KilnCandidate* c = nullptr;
        for (const auto& k : cands)
            if (k.anchor == d.anchor) c = &k;
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->probability, d.score);
        EXPECT_EQ(c->feature("b_peak"), num(d, kBrightness));
        EXPECT_EQ(c->feature("c_area"), num(d, kComplexHa));
        EXPECT_TRUE(c->gate.empty());
    }
    EXPECT_THROW(cands.front().feature("redness"), Error);
}

TEST(KilnDetector, ColourOffScoresEveryCandidateColourFree) {
    TileImage tile = readTile(devChip("tangail_demo_tile_07"));
    const auto on = KilnDetector(options()).candidates(tile);
    const auto off = KilnDetector(options({"colour=false"})).candidates(tile);
    int bright = 0;
    for (const auto& c : off) {
        EXPECT_FALSE(c.colour);
        EXPECT_EQ(c.source, "bright");
    }
    // The same brightness peaks, now without colour evidence.
    for (const auto& c : on) bright += c.source != "chroma";
    EXPECT_EQ(static_cast<int>(off.size()), bright);
}

TEST(KilnDetector, RefusesPixelsTooCoarse) {
    KilnDetector det(options());
    EXPECT_FALSE(det.inputWarning(28.5, 28.5).empty());
    EXPECT_TRUE(det.inputWarning(10, 10).empty());
    // Measure (250 + 200 m), NMS (150 + 2 x 250 m) and body-choice (250 m) reach, grid alignment.
    EXPECT_GE(det.haloMetres(), 450 + 650 + 250);
}

TEST(KilnDetector, NeedsRgbBands) {
    KilnDetector det(options());
    EXPECT_THROW(det.bandsFor({"red", "nir"}), UsageError);
    EXPECT_EQ(det.bandsFor({"blue", "green", "red", "nir"}).size(), 4u);
    EXPECT_EQ(det.bandsFor({"blue", "green", "red", "nir", "swir1"}).size(), 5u);
}
