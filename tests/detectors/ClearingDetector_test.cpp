// The clearing detector on small synthetic grids: enclosure, remoteness, shape, and the exact
// disk sums and distance transform underneath.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "core/Error.hpp"
#include "detection/detectors/ClearingDetector.hpp"
#include "detection/imgproc/ExactFilters.hpp"

using namespace riskmap;

namespace {

struct Cover {
    float blue, green, red, nir, swir1, swir2 = 0.05f;
};
// Median reflectances measured in the Sundarbans scene (mangrove, river, bare farmland).
constexpr Cover kForest{0.020f, 0.051f, 0.030f, 0.295f, 0.115f, 0.053f};
constexpr Cover kWater{0.075f, 0.096f, 0.077f, 0.032f, 0.012f, 0.007f};
constexpr Cover kBare{0.082f, 0.112f, 0.143f, 0.235f, 0.307f, 0.20f};

// A linear mixture: `share` of a and the rest b, as a pixel sees a camp under part canopy.
Cover mix(const Cover& a, const Cover& b, float share) {
    auto m = [share](float x, float y) { return share * x + (1 - share) * y; };
    return {m(a.blue, b.blue), m(a.green, b.green), m(a.red, b.red), m(a.nir, b.nir), m(a.swir1, b.swir1), m(a.swir2, b.swir2)};
}

// A whole-raster tile at `gsd` metres painted by `paint(x, y)`.
template <typename F>
TileImage scene(int w, int h, double gsd, F paint) {
    TileImage t;
    t.window = {0, 0, w, h};
    t.core = t.window;
    t.rasterWidth = w;
    t.rasterHeight = h;
    t.gsdX = t.gsdY = gsd;
    const char* names[] = {"blue", "green", "red", "nir", "swir1", "swir2"};
    for (const char* n : names) {
        t.names.push_back(n);
        t.planes.emplace_back(h, w, CV_32F);
        t.display.push_back(false);
    }
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            Cover c = paint(x, y);
            const float v[] = {c.blue, c.green, c.red, c.nir, c.swir1, c.swir2};
            for (int b = 0; b < 6; ++b) t.planes[static_cast<std::size_t>(b)].at<float>(y, x) = v[b];
        }
    }
    t.valid = cv::Mat(h, w, CV_8U, cv::Scalar(255));
    t.validCount = static_cast<std::size_t>(w) * h;
    return t;
}

bool inRect(int x, int y, int x0, int y0, int w, int h) { return x >= x0 && y >= y0 && x < x0 + w && y < y0 + h; }

// The tile of a rasterW x rasterH raster whose core is columns [x0, x1), read with `halo` px
// on each side as the pipeline does.
template <typename F>
TileImage tileOf(int rasterW, int rasterH, double gsd, int x0, int x1, int halo, F paint) {
    const int wx0 = std::max(0, x0 - halo), wx1 = std::min(rasterW, x1 + halo);
    TileImage t = scene(wx1 - wx0, rasterH, gsd, [&](int x, int y) { return paint(x + wx0, y); });
    t.window = {wx0, 0, wx1 - wx0, rasterH};
    t.core = {x0, 0, x1 - x0, rasterH};
    t.rasterWidth = rasterW;
    return t;
}

std::vector<Detection> run(const TileImage& t, std::vector<std::string> set = {}, std::vector<Rejection>* rejected = nullptr) {
    OptionValues o(ClearingDetector::describe().options);
    for (const auto& a : set) o.setAssignment(a);
    return ClearingDetector(o).detect(t, rejected);
}

// The rejections whose anchor lies in the rectangle.
std::vector<Rejection> rejectedIn(const std::vector<Rejection>& r, int x0, int y0, int w, int h) {
    std::vector<Rejection> out;
    for (const auto& q : r)
        if (inRect(q.candidate.anchor.x, q.candidate.anchor.y, x0, y0, w, h)) out.push_back(q);
    return out;
}

double attr(const Detection& d, std::size_t i) { return std::get<double>(d.attributes[i]); }

// How many of the rejections anchored in the rectangle were turned down by `gate`.
int turnedDownBy(const std::vector<Rejection>& r, const std::string& gate, int x0, int y0, int w, int h) {
    int n = 0;
    for (const auto& q : rejectedIn(r, x0, y0, w, h)) n += q.gate == gate;
    return n;
}

// Mixed ground that is neither forest, water nor bare (NDVI 0.23, NDBI -0.33): a camp's fringe.
constexpr Cover kFringe{0.05f, 0.08f, 0.10f, 0.16f, 0.08f, 0.05f};

// A 6 x 5 px bare camp at (147, 147) ringed by `fringe` px of kFringe, at 20 m; `around(x, y)`
// paints the rest.
template <typename F>
TileImage fringedCamp(int fringe, F around) {
    return scene(300, 300, 20, [&](int x, int y) {
        if (inRect(x, y, 147, 147, 6, 5)) return kBare;
        if (inRect(x, y, 147 - fringe, 147 - fringe, 6 + 2 * fringe, 5 + 2 * fringe)) return kFringe;
        return around(x, y);
    });
}

TileImage fringedCamp(int fringe) {
    return fringedCamp(fringe, [](int, int) { return kForest; });
}

constexpr float kWideShare = 0.35f;  // char's share in the faint hectare camp

}  // namespace

TEST(ClearingDetector, FindsAnEnclosedRemoteClearing) {
    // 6 x 6 km of forest at 20 m with a 1.2 ha bare patch in the middle.
    auto t = scene(300, 300, 20, [](int x, int y) { return inRect(x, y, 147, 147, 6, 5) ? kBare : kForest; });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NEAR(attr(d[0], 0), 1.0, 1e-9);     // enclosure: all forest
    EXPECT_DOUBLE_EQ(attr(d[0], 1), 2000.0);   // no open land anywhere: the capped distance
    EXPECT_DOUBLE_EQ(attr(d[0], 2), 2000.0);   // no water either
    EXPECT_NEAR(attr(d[0], 3), 30 * 400.0, 1e-6);  // every pixel is clearly bare
    EXPECT_GT(d[0].score, 0.8);
    EXPECT_DOUBLE_EQ(d[0].geometry.areaPixels(), 30.0);
}

TEST(ClearingDetector, NearFarmlandIsNotRemote) {
    // Farmland (open land) covers the top 2 km; one patch 600 m below it, one 2.4 km below it.
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (y < 100) return kBare;
        if (inRect(x, y, 100, 130, 6, 5) || inRect(x, y, 200, 220, 6, 5)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);  // only the far one
    // 2.4 km from the farmland, beyond the 2 km cap: the capped distance is reported.
    EXPECT_DOUBLE_EQ(attr(d[0], 1), 2000.0);
}

TEST(ClearingDetector, RiverBankCampIsEnclosedByForestAndWater) {
    // A river 10 px wide at x = 140..149; a camp on its east bank, touching the water.
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (x >= 140 && x < 150) return kWater;
        if (inRect(x, y, 150, 150, 5, 6)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NEAR(attr(d[0], 0), 1.0, 1e-9);  // water counts towards enclosure
    EXPECT_LE(attr(d[0], 2), 20.0);         // distance to water: adjacent pixel centres
}

TEST(ClearingDetector, RejectsCreekChainsOpenPatchesAndLargeFields) {
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (y == 150 && x >= 100 && x < 130) return kBare;     // a 1-pixel chain: too thin
        if (inRect(x, y, 200, 200, 40, 40)) return kBare;     // 64 ha: too large
        // A clearly bare patch ringed by mixed ground that is neither forest nor water nor bare,
        // 100 m wide (more than a blended edge, edge_max_m): not enclosed.
        if (inRect(x, y, 60, 230, 6, 5)) return kBare;
        if (inRect(x, y, 55, 225, 16, 15)) return kFringe;
        // The recall half: a true 1.2 ha camp in the same forest, 2.9 km from the large field,
        // which must be found (a detector that finds nothing fails here).
        if (inRect(x, y, 230, 50, 6, 5)) return kBare;
        return kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u) << "only the camp";
    EXPECT_DOUBLE_EQ(d[0].geometry.areaPixels(), 30.0);
    EXPECT_TRUE(inRect(d[0].anchor.x, d[0].anchor.y, 230, 50, 6, 5)) << d[0].anchor;
}

TEST(ClearingDetector, PixelClasses) {
    auto t = scene(4, 1, 20, [](int x, int) { return x == 0 ? kForest : x == 1 ? kWater : x == 2 ? kBare : Cover{0.05f, 0.08f, 0.10f, 0.16f, 0.13f}; });
    OptionValues o(ClearingDetector::describe().options);
    ClearingDetector det(o);
    auto c = det.classify(t);
    EXPECT_TRUE(c[0] & ClearingDetector::kVegetation);
    EXPECT_TRUE(c[1] & ClearingDetector::kWater);
    EXPECT_TRUE(c[2] & ClearingDetector::kCore);
    // Neither vegetation nor water, some bare evidence (NDBI -0.10), not clearly bare.
    EXPECT_TRUE(c[3] & ClearingDetector::kBare);
    EXPECT_FALSE(c[3] & ClearingDetector::kCore);
}

// The tile without its SWIR bands: blue, green, red and NIR, as PlanetScope gives them.
TileImage withoutSwir(TileImage t) {
    for (const char* n : {"swir1", "swir2"}) {
        const auto i = static_cast<std::size_t>(std::find(t.names.begin(), t.names.end(), n) - t.names.begin());
        t.names.erase(t.names.begin() + static_cast<std::ptrdiff_t>(i));
        t.planes.erase(t.planes.begin() + static_cast<std::ptrdiff_t>(i));
        t.display.erase(t.display.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return t;
}

TEST(ClearingDetector, WithoutSwirBareGroundIsOnTheSoilLine) {
    // A creek mixed with mangrove (70 % water) is neither water nor vegetation, and turbid water
    // makes it bright, but it reflects less red than green; bare soil and dark wet mud do not.
    const Cover creekMix = mix(kWater, kForest, 0.7f);
    const Cover wetMud{0.040f, 0.050f, 0.052f, 0.090f, 0.10f, 0.08f};
    auto t = withoutSwir(scene(5, 1, 20, [&](int x, int) {
        const Cover c[] = {kForest, kWater, kBare, creekMix, wetMud};
        return c[x];
    }));
    ASSERT_FALSE(t.has("swir1"));
    OptionValues o(ClearingDetector::describe().options);
    auto c = ClearingDetector(o).classify(t);
    EXPECT_TRUE(c[0] & ClearingDetector::kVegetation);
    EXPECT_TRUE(c[1] & ClearingDetector::kWater);
    EXPECT_TRUE(c[2] & ClearingDetector::kCore);
    EXPECT_FALSE(c[3] & (ClearingDetector::kBare | ClearingDetector::kVegetation | ClearingDetector::kWater));
    EXPECT_TRUE(c[4] & ClearingDetector::kBare);
    EXPECT_FALSE(c[4] & ClearingDetector::kCore) << "dark: bare evidence, not clearly bare";
    // The old rule (any pixel that is neither) is bare_red_green_min = -1.
    o.setAssignment("bare_red_green_min=-1");
    EXPECT_TRUE(ClearingDetector(o).classify(t)[3] & ClearingDetector::kBare);
}

TEST(ClearingDetector, WithoutSwirTheAnomalyUsesVisibleAndNirIndices) {
    // The faint camp of FaintBurntCampIsACampSizedAnomaly, seen in blue, green, red and NIR:
    // it lowers NDVI and raises the albedo and NDWI over a camp-sized disk.
    std::mt19937 rng(21);
    std::uniform_real_distribution<float> jitter(-0.004f, 0.004f);
    const Cover camp = mix(kForest, Cover{0.035f, 0.045f, 0.06f, 0.10f, 0.15f, 0.13f}, 0.5f);
    auto t = withoutSwir(scene(300, 300, 20, [&](int x, int y) {
        Cover c = inRect(x, y, 147, 147, 6, 5) ? camp : kForest;
        c.nir += jitter(rng);
        return c;
    }));
    OptionValues o(ClearingDetector::describe().options);
    const ClearingDetector det(o);
    EXPECT_DOUBLE_EQ(det.anomalyThreshold(t), 15.0) << "anomaly_min_no_swir";
    std::vector<std::uint8_t> cls = det.classify(t);
    std::vector<float> z;
    det.markAnomalies(t, cls, &z);
    float inside = 0;
    for (int y = 147; y < 152; ++y)
        for (int x = 147; x < 153; ++x) inside = std::max(inside, z[static_cast<std::size_t>(y) * 300 + x]);
    EXPECT_GT(inside, 15.0f);
    o.setAssignment("anomaly_min_no_swir=0");
    std::vector<float> off;
    cls = det.classify(t);
    ClearingDetector(o).markAnomalies(t, cls, &off);
    EXPECT_EQ(*std::max_element(off.begin(), off.end()), 0.0f) << "0 turns it off";
}

TEST(ClearingDetector, UnmixingRecoversLinearMixtures) {
    OptionValues o(ClearingDetector::describe().options);
    const ClearingDetector det(o);
    auto spectrum = [](const Cover& c) { return std::array<double, 5>{c.blue, c.green, c.red, c.nir, c.swir1}; };
    const ClearingDetector::Unmixer u({0.024, 0.054, 0.033, 0.295, 0.115}, {0.074, 0.096, 0.076, 0.033, 0.012},
                                      {0.084, 0.110, 0.130, 0.200, 0.230});
    const Cover soil{0.084f, 0.110f, 0.130f, 0.200f, 0.230f}, forest{0.024f, 0.054f, 0.033f, 0.295f, 0.115f};
    const Cover water{0.074f, 0.096f, 0.076f, 0.033f, 0.012f};
    EXPECT_NEAR(u.fractions(spectrum(soil)).soil, 1.0, 1e-6);
    EXPECT_NEAR(u.fractions(spectrum(forest)).forest, 1.0, 1e-6);
    EXPECT_NEAR(u.fractions(spectrum(mix(soil, forest, 0.4f))).soil, 0.4, 1e-6);
    // A creek-bank pixel (water and mangrove) holds no soil, though its NDVI is low.
    EXPECT_NEAR(u.fractions(spectrum(mix(water, forest, 0.5f))).soil, 0.0, 1e-6);
    EXPECT_THROW(ClearingDetector::Unmixer({0.1, 0.1, 0.1, 0.1, 0.1}, {0.2, 0.2, 0.2, 0.2, 0.2}, {0.3, 0.3, 0.3, 0.3, 0.3}),
                 UsageError);
    o.setAssignment("endmember_soil=0.1,0.2");
    EXPECT_THROW(ClearingDetector{o}, UsageError);
    // Options refused together name both values (a sweep: unmix_candidate_min at its maximum was
    // refused by unmix_core_min's default, and the message did not say the values).
    OptionValues pair(ClearingDetector::describe().options);
    pair.setAssignment("unmix_candidate_min=1.5");
    try {
        ClearingDetector{pair};
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("unmix_core_min (0.55) is below unmix_candidate_min (1.5)"), std::string::npos) << e.what();
    }
}

TEST(ClearingDetector, CampUnderPartCanopyIsFoundThroughItsSoilFraction) {
    // 1.2 ha where 40 % of each pixel is still canopy: NDVI 0.45, NDBI -0.06, so no index calls
    // it clearly bare; its soil fraction does.
    const Cover camp = mix(kForest, kBare, 0.4f);
    auto t = scene(300, 300, 20, [&](int x, int y) { return inRect(x, y, 147, 147, 6, 5) ? camp : kForest; });
    auto d = run(t);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_GT(attr(d[0], 3), 0.0);  // core area
    EXPECT_TRUE(run(t, {"unmix_candidate_min=1.5", "unmix_core_min=1.5", "anomaly_min=0"}).empty())
        << "found without the soil fraction";
}

TEST(ClearingDetector, BurntGroundIsBareEvidence) {
    // Char under 15 % canopy: NIR falls and SWIR2 rises (NBR 0.05; Key & Benson 2006), while
    // NDVI (0.40) is too high for the indices' clearly bare core and it unmixes to little soil.
    const Cover burnt = mix(kForest, Cover{0.035f, 0.045f, 0.06f, 0.10f, 0.15f, 0.13f}, 0.15f);
    auto t = scene(300, 300, 20, [&](int x, int y) { return inRect(x, y, 147, 147, 6, 5) ? burnt : kForest; });
    EXPECT_EQ(run(t).size(), 1u);
    EXPECT_TRUE(run(t, {"burnt_nbr_max=-1", "anomaly_min=0"}).empty()) << "found without NBR";
}

TEST(ClearingDetector, FaintBurntCampIsACampSizedAnomaly) {
    // Half canopy over char: NDVI 0.63 (vegetation), NDBI -0.20, BSI -0.12, NBR 0.37, so no
    // pixel test sees it. Over a camp-sized disk its NBR lies far below the forest's (0.70, SD
    // ~0.02 in this texture): the anomaly marks it, and nothing in the texture around.
    std::mt19937 rng(21);
    std::uniform_real_distribution<float> jitter(-0.012f, 0.012f);
    const Cover camp = mix(kForest, Cover{0.035f, 0.045f, 0.06f, 0.10f, 0.15f, 0.13f}, 0.5f);
    auto t = scene(300, 300, 20, [&](int x, int y) {
        Cover c = inRect(x, y, 147, 147, 6, 5) ? camp : kForest;
        c.swir2 += jitter(rng);
        return c;
    });
    OptionValues o(ClearingDetector::describe().options);
    const ClearingDetector det(o);
    std::vector<std::uint8_t> cls = det.classify(t);
    for (int y = 147; y < 152; ++y)
        for (int x = 147; x < 153; ++x)
            ASSERT_FALSE(cls[static_cast<std::size_t>(y) * 300 + x] & ClearingDetector::kBare);
    std::vector<float> z;
    det.markAnomalies(t, cls, &z);
    float inside = 0, outside = 0;
    for (int y = 0; y < 300; ++y)
        for (int x = 0; x < 300; ++x) {
            const float v = z[static_cast<std::size_t>(y) * 300 + x];
            if (inRect(x, y, 143, 143, 14, 13))
                inside = std::max(inside, v);
            else
                outside = std::max(outside, v);
        }
    EXPECT_GT(inside, det.params().anomalyMin);
    EXPECT_LT(outside, 8.0f) << "the texture alone";
    EXPECT_EQ(run(t).size(), 1u);
    EXPECT_TRUE(run(t, {"anomaly_min=0"}).empty()) << "found without the anomaly";
    // Missed at a stricter anomaly_min, --explain tells how near it came.
    std::vector<Rejection> why;
    EXPECT_TRUE(run(t, {"anomaly_min=200", "anomaly_wide_min=0"}, &why).empty());
    double nearest = 0;
    for (const Rejection& r : rejectedIn(why, 147, 147, 6, 5))
        for (const auto& [name, value] : r.measures)
            if (name == "anomaly_max") nearest = std::max(nearest, value);
    EXPECT_NEAR(nearest, inside, 1e-3);
}

TEST(ClearingDetector, AFainterCampOfAHectareIsAWideAnomaly) {
    // 3 ha (9 x 9 px at 20 m) of two-thirds canopy over char: no pixel looks bare, and over the
    // 37 m disk it departs less than anomaly_min. Over the 74 m disk, four times the pixels,
    // it departs further than anomaly_wide_min: found, and not without the wide disk.
    std::mt19937 rng(21);
    std::uniform_real_distribution<float> jitter(-0.012f, 0.012f);
    const Cover camp = mix(kForest, Cover{0.035f, 0.045f, 0.06f, 0.10f, 0.15f, 0.13f}, kWideShare);
    auto t = scene(300, 300, 20, [&](int x, int y) {
        Cover c = inRect(x, y, 146, 146, 9, 9) ? camp : kForest;
        c.swir2 += jitter(rng);
        return c;
    });
    OptionValues o(ClearingDetector::describe().options);
    const ClearingDetector det(o);
    std::vector<std::uint8_t> cls = det.classify(t);
    std::vector<float> z, zWide;
    det.markAnomalies(t, cls, &z, &zWide);
    float small = 0, wide = 0, outside = 0;
    for (int y = 0; y < 300; ++y)
        for (int x = 0; x < 300; ++x) {
            const std::size_t k = static_cast<std::size_t>(y) * 300 + x;
            if (inRect(x, y, 140, 140, 21, 21))
                small = std::max(small, z[k]), wide = std::max(wide, zWide[k]);
            else
                outside = std::max(outside, zWide[k]);
        }
    std::printf("small disk %.2f, wide disk %.2f, texture %.2f\n", small, wide, outside);
    EXPECT_LT(small, det.params().anomalyMin);
    EXPECT_GE(wide, det.params().anomalyWideMin);
    EXPECT_LT(outside, 10.0f) << "the texture alone";
    EXPECT_EQ(run(t).size(), 1u);
    EXPECT_TRUE(run(t, {"anomaly_wide_min=0"}).empty()) << "found without the wide disk";
    EXPECT_TRUE(run(t, {"anomaly_min=0"}).empty()) << "the wide disk runs only with the anomaly on";
    std::vector<Rejection> why;
    run(t, {"anomaly_wide_min=200"}, &why);
    double nearest = 0;
    for (const Rejection& r : why)
        for (const auto& [name, value] : r.measures)
            if (name == "anomaly_wide_max") nearest = std::max(nearest, value);
    EXPECT_NEAR(nearest, wide, 1e-3) << "--explain tells how near the wide disk came";
}

TEST(ClearingDetector, AWideBlendedEdgeIsTheCampsNotItsRing) {
    // A camp whose fringe, three pixels wide (60 m), is neither forest, water nor bare: the ring
    // (20 m gap, 50 m wide) would lie on it. Grown through as the camp's blended edge, the ring
    // lies in the forest beyond; with edge_max_m=0 the camp fails enclosure_min. (The anomaly is
    // off: it would take so even a fringe as bare ground.)
    const TileImage t = fringedCamp(3);
    const auto found = run(t, {"anomaly_min=0"});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_GE(attr(found[0], 0), 0.9) << "enclosure";
    std::vector<Rejection> why;
    EXPECT_TRUE(run(t, {"anomaly_min=0", "edge_max_m=0"}, &why).empty());
    EXPECT_EQ(turnedDownBy(why, "enclosure_min", 144, 144, 12, 11), 1);
    // Bare ground that is not the camp's stops the edge: a camp with a one-pixel fringe between
    // mud banks on two sides (too long to join it) keeps its ring on the mud, however far
    // edge_max_m would let the edge grow.
    const TileImage mud = fringedCamp(1, [](int x, int y) {
        const bool west = inRect(x, y, 142, 146, 4, 40), north = inRect(x, y, 146, 142, 40, 4);  // mud banks
        return west || north ? mix(kBare, kForest, 0.6f) : kForest;
    });
    std::vector<Rejection> onMud;
    EXPECT_TRUE(run(mud, {"anomaly_min=0", "matrix_veg_share_min=0", "remote_min_m=0", "edge_max_m=200"}, &onMud).empty());
    EXPECT_EQ(turnedDownBy(onMud, "enclosure_min", 146, 146, 8, 7), 1);
    EXPECT_EQ(turnedDownBy(onMud, "max_extent_m", 0, 0, 300, 300), 1) << "the banks, one patch longer than max_extent_m, are not the camp";
}

TEST(ClearingDetector, EnclosureRingStartsBeyondTheBlendedEdge) {
    // A camp whose one-pixel edge is neither forest, water nor bare (NDVI 0.23, NDBI -0.33).
    const TileImage t = fringedCamp(1);
    EXPECT_EQ(run(t).size(), 1u);
    std::vector<Rejection> why;
    EXPECT_TRUE(run(t, {"ring_gap_m=0", "edge_max_m=0"}, &why).empty());
    EXPECT_EQ(turnedDownBy(why, "enclosure_min", 146, 146, 8, 7), 1);
}

TEST(ClearingDetector, AreaCapCountsClearedGround) {
    // 9 ha of pixels under 45 % canopy clear about 5 ha: a camp. 9 ha fully cleared is a field.
    const Cover thinned = mix(kForest, kBare, 0.45f);
    auto t = scene(300, 300, 20, [&](int x, int y) {
        if (inRect(x, y, 40, 40, 15, 15)) return kBare;
        if (inRect(x, y, 200, 200, 15, 15)) return thinned;
        return kForest;
    });
    std::vector<Rejection> why;
    auto d = run(t, {}, &why);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_GT(d[0].anchor.x, 150);
    EXPECT_LT(attr(d[0], 7), 80000.0);  // cleared_m2
    const auto field = rejectedIn(why, 40, 40, 15, 15);
    ASSERT_EQ(field.size(), 1u);
    EXPECT_EQ(field[0].gate, "max_area_m2");
    EXPECT_NEAR(field[0].value, 225 * 400.0, 1.0);
    EXPECT_DOUBLE_EQ(field[0].limit, 80000.0);
}

TEST(ClearingDetector, HutsOfOneCampAreOneDetection) {
    // Three 3 x 3 px huts 60 m apart (pixel centres) and a fourth 1 km away.
    auto hut = [](int x, int y, int x0, int y0) { return inRect(x, y, x0, y0, 3, 3); };
    auto t = scene(300, 300, 20, [&](int x, int y) {
        return hut(x, y, 140, 140) || hut(x, y, 145, 140) || hut(x, y, 140, 145) || hut(x, y, 190, 140) ? kBare : kForest;
    });
    auto d = run(t);
    ASSERT_EQ(d.size(), 2u);
    const Detection& camp = d[0].geometry.parts.size() == 3 ? d[0] : d[1];
    ASSERT_EQ(camp.geometry.parts.size(), 3u);
    EXPECT_EQ(std::get<std::int64_t>(camp.attributes[8]), 3);
    EXPECT_NEAR(attr(camp, 3), 27 * 400.0, 1e-6);  // core area summed over the huts
    // The anchor is the centroid of all 27 pixels.
    EXPECT_EQ(camp.anchor, cv::Point(143, 143));  // floor(142.67 + 0.5)
    EXPECT_EQ(run(t, {"group_gap_m=0"}).size(), 4u);
}

TEST(ClearingDetector, HutsUnderCanopyAreTheCampNotItsSurroundings) {
    // A bare yard (4 x 4 px) with four huts under part canopy (3 x 3 px, 40 % soil: bare
    // evidence, never clearly bare) one pixel off each side, inside the yard's own enclosure ring.
    const Cover hut = mix(kBare, kForest, 0.4f);
    auto t = scene(300, 300, 20, [&](int x, int y) {
        if (inRect(x, y, 148, 148, 4, 4)) return kBare;
        if (inRect(x, y, 153, 148, 3, 3) || inRect(x, y, 144, 149, 3, 3) || inRect(x, y, 148, 153, 3, 3) ||
            inRect(x, y, 149, 144, 3, 3))
            return hut;
        return kForest;
    });
    // In forest without any texture every hut is a camp-scale anomaly, and so clearly bare: the
    // anomaly is off here, as this is about huts that no pixel test calls clearly bare.
    auto d = run(t, {"anomaly_min=0"});
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(std::get<std::int64_t>(d[0].attributes[8]), 5);  // the yard and its four huts
    EXPECT_GE(attr(d[0], 0), 0.8);                                // enclosure around the whole camp
    // Drawn and placed by the clearly bare yard.
    EXPECT_EQ(d[0].geometry.parts.size(), 1u);
    EXPECT_EQ(d[0].anchor, cv::Point(150, 150));
    // Judged alone, the yard's ring holds the huts and is not forest or water.
    std::vector<Rejection> why;
    EXPECT_TRUE(run(t, {"group_gap_m=0", "anomaly_min=0"}, &why).empty());
    int enclosure = 0, core = 0;
    for (const auto& r : why) enclosure += r.gate == "enclosure_min", core += r.gate == "core_min_area_m2";
    EXPECT_EQ(enclosure, 1);
    EXPECT_EQ(core, 4);  // huts alone hold no clearly bare ground
}

TEST(ClearingDetector, CampsCutByATileSeamAreTheSame) {
    // Huts 80 m apart astride the seam at x = 300, and a chain of huts longer than max_extent
    // (reported hut by hut) crossing it further down.
    auto paint = [](int x, int y) {
        for (int i = 0; i < 4; ++i)
            if (inRect(x, y, 290 + 7 * i, 60, 3, 3)) return kBare;
        for (int i = 0; i < 12; ++i)
            if (inRect(x, y, 250 + 7 * i, 150, 3, 3)) return kBare;
        return kForest;
    };
    OptionValues o(ClearingDetector::describe().options);
    const ClearingDetector det(o);
    const int halo = static_cast<int>(std::ceil(det.haloMetres() / 20));
    auto anchors = [](const std::vector<Detection>& d, const TileImage& t) {
        std::vector<std::pair<int, int>> a;
        for (const auto& q : d)
            if (t.owns(q.anchor.x, q.anchor.y)) a.emplace_back(q.anchor.x, q.anchor.y);
        return a;
    };
    const TileImage whole = tileOf(600, 220, 20, 0, 600, halo, paint);
    auto want = anchors(det.detect(whole), whole);
    ASSERT_EQ(want.size(), 13u);  // the four huts as one camp, the chain as its twelve huts
    for (int cut : {296, 300, 305}) {
        const TileImage left = tileOf(600, 220, 20, 0, cut, halo, paint), right = tileOf(600, 220, 20, cut, 600, halo, paint);
        auto got = anchors(det.detect(left), left), r = anchors(det.detect(right), right);
        got.insert(got.end(), r.begin(), r.end());
        std::sort(got.begin(), got.end());
        std::sort(want.begin(), want.end());
        EXPECT_EQ(got, want) << "cut at x = " << cut;
    }
}

TEST(ClearingDetector, DistancesReachAPatchsFarEndOutsideTheCore) {
    // A 580 x 80 m patch whose anchor lies in a tile's core and whose east end lies 280 m beyond
    // it; farmland starts 900 m east of that end (1460 m from its west end). Distances are
    // computed only where measured patches can lie: were that area cut to the core, the far
    // end would lose its distance and the patch would pass as remote. With farmland 1100 m
    // away it is a camp, in every tiling.
    for (const int gap : {45, 55}) {
        auto paint = [gap](int x, int y) {
            if (x >= 128 + gap) return kBare;
            return inRect(x, y, 100, 100, 29, 4) ? kBare : kForest;
        };
        OptionValues o(ClearingDetector::describe().options);
        const ClearingDetector det(o);
        const int halo = static_cast<int>(std::ceil(det.haloMetres() / 20));
        auto owned = [](const std::vector<Detection>& d, const TileImage& t) {
            std::size_t n = 0;
            for (const auto& q : d) n += t.owns(q.anchor.x, q.anchor.y) ? 1 : 0;
            return n;
        };
        const TileImage whole = tileOf(300, 220, 20, 0, 300, halo, paint);
        const std::size_t want = owned(det.detect(whole), whole);
        EXPECT_EQ(want, gap == 45 ? 0u : 1u) << "farmland " << gap * 20 << " m from the east end";
        for (int cut : {105, 115, 120}) {
            const TileImage left = tileOf(300, 220, 20, 0, cut, halo, paint), right = tileOf(300, 220, 20, cut, 300, halo, paint);
            EXPECT_EQ(owned(det.detect(left), left) + owned(det.detect(right), right), want) << "cut at x = " << cut << ", gap " << gap;
        }
    }
}

TEST(ClearingDetector, EveryRejectedPatchCarriesItsGate) {
    auto t = scene(300, 300, 20, [](int x, int y) {
        if (y == 150 && x >= 100 && x < 130) return kBare;                  // a one-pixel chain
        if (inRect(x, y, 200, 100, 1, 1)) return kBare;                     // one pixel
        if (inRect(x, y, 60, 60, 5, 5)) return mix(kForest, kBare, 0.72f);  // faint: NDVI 0.64, little soil
        return kForest;
    });
    // Texture-free forest: every departure would be a camp-scale anomaly; the pixel gates are
    // asked.
    std::vector<Rejection> why;
    EXPECT_TRUE(run(t, {"anomaly_min=0"}, &why).empty());
    auto one = [&](int x0, int y0, int w, int h) {
        auto r = rejectedIn(why, x0, y0, w, h);
        EXPECT_EQ(r.size(), 1u) << x0 << "," << y0;
        return r.empty() ? Rejection{} : r[0];
    };
    const Rejection chain = one(100, 150, 30, 1);
    EXPECT_EQ(chain.gate, "max_elongation");
    EXPECT_GT(chain.value, 8.0);
    EXPECT_DOUBLE_EQ(chain.limit, 8.0);
    EXPECT_EQ(one(200, 100, 1, 1).gate, "min_area_m2");
    const Rejection faint = one(60, 60, 5, 5);
    EXPECT_EQ(faint.gate, "veg_ndvi_min");  // the vegetation mask took it
    EXPECT_GE(faint.value, 0.5);
    EXPECT_DOUBLE_EQ(faint.candidate.geometry.areaPixels(), 25.0);
    // The rejections are not reported without --explain, and do not change the detections.
    EXPECT_EQ(run(t, {"anomaly_min=0"}).size(), 0u);
}

TEST(ClearingDetector, HaloCoversExtentAndDistances) {
    OptionValues o(ClearingDetector::describe().options);
    // Two camp extents (a patch joining an owned camp), the grouping gap, distances and the matrix.
    EXPECT_DOUBLE_EQ(ClearingDetector(o).haloMetres(), 2 * 600 + 100 + 2000 + 500);
    o.setAssignment("remote_min_m=3000");
    EXPECT_THROW(ClearingDetector{o}, UsageError);
}

TEST(ClearingDetector, AnAnomalyDiskTooLargeForExactSumsIsRefusedBeforeAnyPixel) {
    OptionValues o(ClearingDetector::describe().options);
    o.setAssignment("anomaly_radius_m=1000");
    const ClearingDetector det(o);
    EXPECT_NO_THROW(det.checkInput(10, 10));  // 100 px
    try {
        det.checkInput(1, 1);  // 1000 px: 2001² x 4096 passes 2^31
        FAIL() << "accepted";
    } catch (const UsageError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("anomaly_radius_m=1000"), std::string::npos) << m;
        EXPECT_NE(m.find("at most 361 m"), std::string::npos) << m;  // (2 x 361 + 1)² x 4096 < 2^31
    }
    // The wide disk is checked the same way, and named.
    OptionValues w(ClearingDetector::describe().options);
    w.setAssignment("anomaly_wide_radius_m=1000");
    try {
        ClearingDetector(w).checkInput(1, 1);
        FAIL() << "accepted a wide disk of 1000 px";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("anomaly_wide_radius_m=1000"), std::string::npos) << e.what();
    }
    w.setAssignment("anomaly_wide_min=0");
    EXPECT_NO_THROW(ClearingDetector(w).checkInput(1, 1)) << "the wide disk off, no limit on it";
    o.setAssignment("anomaly_min=0");
    EXPECT_THROW(ClearingDetector(o).checkInput(1, 1), UsageError) << "the anomaly without SWIR still runs";
    o.setAssignment("anomaly_min_no_swir=0");
    EXPECT_NO_THROW(ClearingDetector(o).checkInput(1, 1)) << "no anomaly, no limit";
}

TEST(ExactFilters, DiskSumMatchesBruteForceOnAnisotropicPixels) {
    std::mt19937 rng(4);
    IntPlane p(40, 30);
    for (std::size_t i = 0; i < p.size(); ++i) p.v[i] = rng() % 2;
    const double rx = 5.3, ry = 3.7;
    IntPlane s = diskSum(p, rx, ry);
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            std::int64_t want = 0;
            for (int dy = -4; dy <= 4; ++dy)
                for (int dx = -6; dx <= 6; ++dx)
                    if ((dx / rx) * (dx / rx) + (dy / ry) * (dy / ry) <= 1.0 + 1e-12 && x + dx >= 0 && y + dy >= 0 &&
                        x + dx < p.w && y + dy < p.h)
                        want += p.at(x + dx, y + dy);
            ASSERT_EQ(s.at(x, y), want) << x << "," << y;
        }
}

TEST(ExactFilters, DiskSumsInParallelBandsMatchBruteForce) {
    // Rows are summed in bands of 64 on several threads, each band reading the rows its disks
    // reach above and below it: a plane of several bands must equal the brute-force sums.
    std::mt19937 rng(11);
    IntPlane p(300, 260);
    for (std::size_t i = 0; i < p.size(); ++i) p.v[i] = rng() % 3;
    const double rx = 9.3, ry = 7.1;
    const IntPlane s = diskSum(p, rx, ry);
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            std::int64_t want = 0;
            for (int dy = std::max(-7, -y); dy <= std::min(7, p.h - 1 - y); ++dy)
                for (int dx = std::max(-9, -x); dx <= std::min(9, p.w - 1 - x); ++dx)
                    if ((dx / rx) * (dx / rx) + (dy / ry) * (dy / ry) <= 1.0 + 1e-12)
                        want += p.at(x + dx, y + dy);
            ASSERT_EQ(s.at(x, y), want) << x << "," << y;
        }
}

TEST(ExactFilters, LargeDisksSplitIntoABoxAndChordsMatchRowChords) {
    // Disks of 15 px and more are summed as a box plus row chords above and below it and column
    // chords either side: the same sums as row chords alone (here, a reference summed row chord
    // by row chord), at every pixel, on planes narrower and shorter than the disk, with several
    // bands of rows, anisotropic pixels, negative values and only some pixels wanted.
    std::mt19937 rng(23);
    struct Case {
        int w, h;
        double rx, ry;
        int density;  // 1: every pixel wanted
    };
    for (const Case& c : std::vector<Case>{{170, 600, 15.5, 11.2, 1}, {61, 140, 30.0, 30.0, 1}, {330, 300, 50.0, 49.7, 3},
                                           {40, 30, 50.0, 50.0, 1}, {200, 520, 20.0, 40.0, 5}}) {
        IntPlane src(c.w, c.h), sums(c.w, c.h);
        std::vector<std::uint8_t> want(src.size());
        for (std::size_t i = 0; i < src.size(); ++i)
            src.v[i] = static_cast<std::int64_t>(rng() % 7) - 3, want[i] = rng() % static_cast<unsigned>(c.density) == 0;
        diskSumRows(
            c.w, c.h, c.rx, c.ry, [&](int y, std::int64_t* row) { std::copy(src.row(y), src.row(y) + c.w, row); },
            [&](int y, std::uint8_t* row) { std::copy(want.begin() + y * c.w, want.begin() + (y + 1) * c.w, row); },
            [&](int y, const std::int64_t* row) { std::copy(row, row + c.w, sums.row(y)); });
        const int iry = static_cast<int>(std::floor(c.ry));
        for (int y = 0; y < c.h; ++y) {
            for (int x = 0; x < c.w; ++x) {
                if (!want[static_cast<std::size_t>(y * c.w + x)]) continue;
                std::int64_t ref = 0;
                for (int dy = std::max(-iry, -y); dy <= std::min(iry, c.h - 1 - y); ++dy) {
                    const int hw = static_cast<int>(std::floor(c.rx * std::sqrt(1.0 - (dy / c.ry) * (dy / c.ry)) + 1e-9));
                    for (int xx = std::max(0, x - hw); xx <= std::min(c.w - 1, x + hw); ++xx) ref += src.at(xx, y + dy);
                }
                ASSERT_EQ(sums.at(x, y), ref) << c.w << "x" << c.h << " r " << c.rx << "," << c.ry << " at " << x << "," << y;
            }
        }
    }
}

TEST(ExactFilters, PackedDiskSumsEqualSeparateOnes) {
    // Three masks summed at once must give exactly the three sums, on planes wider and narrower
    // than the disk, and through the fallback when a value does not fit the packing.
    std::mt19937 rng(9);
    for (const auto& [w, h, r, top] : std::vector<std::tuple<int, int, double, int>>{{120, 70, 11.5, 1}, {9, 40, 15.2, 1}, {50, 50, 6.0, 3}}) {
        IntPlane a(w, h), b(w, h), c(w, h);
        for (std::size_t i = 0; i < a.size(); ++i) a.v[i] = rng() % 2, b.v[i] = rng() % 2, c.v[i] = rng() % (top + 1);
        IntPlane sa, sb, sc;
        diskSums3(a, b, c, r, r * 0.8, sa, sb, sc);
        const IntPlane ea = diskSum(a, r, r * 0.8), eb = diskSum(b, r, r * 0.8), ec = diskSum(c, r, r * 0.8);
        for (std::size_t i = 0; i < a.size(); ++i) {
            ASSERT_EQ(sa.v[i], ea.v[i]) << w << " px, pixel " << i;
            ASSERT_EQ(sb.v[i], eb.v[i]) << w << " px, pixel " << i;
            ASSERT_EQ(sc.v[i], ec.v[i]) << w << " px, pixel " << i;
        }
    }
}

TEST(ExactFilters, DiskSumsOverWantedPixelsOnlyEqualTheFullOnesThere) {
    // Sums only where wanted (runs, short gaps summed with them, runs at both edges, empty
    // rows, a plane narrower than the disk): each wanted pixel exactly as the full sum, 0 elsewhere.
    std::mt19937 rng(17);
    for (const auto& c : std::vector<std::tuple<int, int, double, int>>{
             {300, 90, 12.5, 2}, {300, 90, 12.5, 40}, {7, 60, 20.0, 3}, {130, 40, 3.0, 1}}) {
        const int w = std::get<0>(c), h = std::get<1>(c), density = std::get<3>(c);  // lambdas capture these
        const double r = std::get<2>(c);
        IntPlane src(w, h), sums(w, h);
        std::vector<std::uint8_t> want(src.size());
        for (std::size_t i = 0; i < src.size(); ++i) src.v[i] = rng() % 5, want[i] = rng() % density == 0;
        for (int x = 0; x < w; ++x) want[static_cast<std::size_t>(x)] = 0;  // an empty row
        const IntPlane full = diskSum(src, r, r * 0.7);
        diskSumRows(
            w, h, r, r * 0.7, [&](int y, std::int64_t* row) { std::copy(src.row(y), src.row(y) + w, row); },
            [&](int y, std::uint8_t* row) { std::copy(want.begin() + y * w, want.begin() + (y + 1) * w, row); },
            [&](int y, const std::int64_t* row) { std::copy(row, row + w, sums.row(y)); });
        for (std::size_t i = 0; i < src.size(); ++i)
            if (want[i]) {
                ASSERT_EQ(sums.v[i], full.v[i]) << w << " px, pixel " << i;
            }
        std::size_t zeros = 0;
        for (std::size_t i = 0; i < src.size(); ++i) zeros += !want[i] && sums.v[i] == 0;
        EXPECT_GT(zeros, 0u) << "nothing was skipped";
    }
}

TEST(ExactFilters, DistanceTransformOnLongRowsUsesWideArithmetic) {
    // 14000 px in a row of 10 m pixels 1 m tall: each step weighs 102400 units, the envelope's
    // products pass 2^63, so the 128-bit path must run and the squared distances stay exact.
    const int w = 14000;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w), 0);
    std::mt19937 rng(6);
    std::vector<int> at;
    for (int i = 0; i < 15; ++i) at.push_back(static_cast<int>(rng() % w));
    for (int x : at) f[static_cast<std::size_t>(x)] = 1;
    const DistancePlane d = distanceTransform(f, w, 1, 10.0, 1.0);
    for (int x = 0; x < w; ++x) {
        std::int64_t best = INT64_MAX;
        for (int p : at) best = std::min<std::int64_t>(best, static_cast<std::int64_t>(x - p) * (x - p));
        ASSERT_EQ(d.squared.at(x, 0), 102400 * best) << x;
    }
}

TEST(ExactFilters, DistanceTransformMatchesBruteForce) {
    std::mt19937 rng(5);
    const int w = 37, h = 23;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w) * h, 0);
    for (int i = 0; i < 12; ++i) f[rng() % f.size()] = 1;
    const double sx = 18.53, sy = 18.44;
    DistancePlane d = distanceTransform(f, w, h, sx, sy);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            double best = 1e300;
            for (int yy = 0; yy < h; ++yy)
                for (int xx = 0; xx < w; ++xx)
                    if (f[static_cast<std::size_t>(yy) * w + xx]) best = std::min(best, std::hypot((x - xx) * sx, (y - yy) * sy));
            ASSERT_NEAR(d.metres(static_cast<std::size_t>(y) * w + x), best, best * 1e-3 + 1e-9);
        }
    std::vector<std::uint8_t> none(16, 0);
    EXPECT_GT(distanceTransform(none, 4, 4, 10, 10).metres(5), 1e100);
}

TEST(ExactFilters, DistanceTransformFindsFeaturesOnTheFirstAndLastRows) {
    // The column pass tracks the last feature seen from the top and from the bottom, -1 for none:
    // features on row 0 and on the last row, alone in their columns, are the nearest for most of
    // the plane (an off-by-one there took row 0 for "none").
    const int w = 9, h = 40;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w) * h, 0);
    const std::vector<cv::Point> at{{2, 0}, {7, h - 1}};
    for (const cv::Point& q : at) f[static_cast<std::size_t>(q.y) * w + q.x] = 1;
    for (const cv::Rect& need : {cv::Rect(), cv::Rect(0, 5, w, 30)}) {
        const DistancePlane d = distanceTransform(f, w, h, 10.0, 10.0, need);
        const cv::Rect area = need.empty() ? cv::Rect(0, 0, w, h) : need;
        for (int y = area.y; y < area.br().y; ++y)
            for (int x = 0; x < w; ++x) {
                std::int64_t best = INT64_MAX;
                for (const cv::Point& q : at) best = std::min<std::int64_t>(best, (x - q.x) * (x - q.x) + (y - q.y) * (y - q.y));
                ASSERT_EQ(d.squared.at(x - area.x, y - area.y), 1024 * best) << x << "," << y;
            }
    }
}

TEST(ExactFilters, DistanceTransformInParallelBandsMatchesBruteForce) {
    // Columns and rows run in parallel bands (of 128 columns or fewer, 16 rows); a plane of several
    // of each, computed over an offset part, must hold the exact squared distances.
    std::mt19937 rng(12);
    const int w = 400, h = 170;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w) * h, 0);
    std::vector<cv::Point> at;
    for (int i = 0; i < 14; ++i)
        at.emplace_back(static_cast<int>(rng() % w), static_cast<int>(rng() % h));
    for (int x = 0; x < w; x += 3)
        at.emplace_back(x, static_cast<int>(rng() % h));  // some at a band's edge
    for (const cv::Point& q : at) f[static_cast<std::size_t>(q.y) * w + q.x] = 1;
    const cv::Rect need(13, 21, 350, 140);
    const DistancePlane d = distanceTransform(f, w, h, 10.0, 10.0, need);
    for (int y = need.y; y < need.br().y; ++y)
        for (int x = need.x; x < need.br().x; ++x) {
            std::int64_t best = INT64_MAX;
            for (const cv::Point& q : at)
                best = std::min<std::int64_t>(best, (x - q.x) * (x - q.x) + (y - q.y) * (y - q.y));
            ASSERT_EQ(d.squared.at(x - need.x, y - need.y), 1024 * best) << x << "," << y;
        }
}

TEST(ExactFilters, DistanceTransformOverPartOfThePlaneMatchesTheWhole) {
    // The clearing detector asks only for where patches can lie; features outside that part still
    // count, and the part must hold exactly the whole plane's values.
    std::mt19937 rng(7);
    const int w = 61, h = 47;
    std::vector<std::uint8_t> f(static_cast<std::size_t>(w) * h, 0);
    for (int i = 0; i < 9; ++i) f[rng() % f.size()] = 1;
    const DistancePlane whole = distanceTransform(f, w, h, 10.0, 12.5);
    const cv::Rect need(17, 9, 23, 30);
    const DistancePlane part = distanceTransform(f, w, h, 10.0, 12.5, need);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const std::size_t k = static_cast<std::size_t>(y) * w + x;
            if (need.contains({x, y})) {
                ASSERT_EQ(part.metres(k), whole.metres(k)) << x << "," << y;
            } else {
                ASSERT_GT(part.metres(k), 1e100) << x << "," << y;
            }
        }
}
