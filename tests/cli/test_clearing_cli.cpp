// The clearing detector on the real Sundarbans scene (bundled in data/): planted-camp recall,
// false alarms in the unmodified reserve and the farmed north, tiling, and coarse Landsat.
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <stdexcept>

#include "core/Json.hpp"
#include "support/CampPlanter.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kScene = std::string(RISKMAP_SOURCE_DIR) + "/data/sundarbans-s2-l2a-2020-01-27";

std::vector<std::string> bandArgs(const std::string& dir) {
    std::string p = dir + "/Sentinel-2_L2A_";
    // EO Browser exports hold reflectance x 65535.
    return {"--scale", "1.5259e-5", "--band", "blue=" + p + "B02_Raw.tiff", "--band", "green=" + p + "B03_Raw.tiff",
            "--band", "red=" + p + "B04_Raw.tiff", "--band", "nir=" + p + "B08_Raw.tiff",
            "--band", "swir1=" + p + "B11_Raw.tiff"};
}

CliResult scanClearing(const std::string& dir, const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"scan", "--detector", "clearing", "-o", out, "-q", "--overwrite"};
    auto b = bandArgs(dir);
    args.insert(args.end(), b.begin(), b.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return runRiskmap(args);
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

TEST(CliClearing, PlantedCampsOfAtLeastTwoTenthsOfAHectareAreFound) {
    std::size_t tp = 0, fn = 0, fp = 0;
    for (std::uint64_t seed : {200, 201, 202, 203}) {
        TempDir dir;
        PlantOptions o;
        o.seed = seed;
        o.camps = 15;
        auto camps = plantCamps(kScene, dir.path(), o);
        ASSERT_GE(camps.size(), 10u);
        // Camps under 0.2 ha are don't-care: the target is recall for 0.2 ha and more.
        writeCampTruth(dir.file("truth.geojson"), camps, 2000.0);
        auto r = scanClearing(dir.path(), dir.file("det.geojson"));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        auto e = runRiskmap({"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file("det.geojson"),
                             "--radius-m", "100", "--json"});
        ASSERT_EQ(e.exitCode, 0) << e.err;
        Json o2 = *parseJson(e.out, "eval").find("overall");
        tp += static_cast<std::size_t>(o2.at("tp").get<std::int64_t>());
        fn += static_cast<std::size_t>(o2.at("fn").get<std::int64_t>());
        fp += static_cast<std::size_t>(o2.at("fp").get<std::int64_t>());
    }
    ASSERT_GT(tp + fn, 30u);
    EXPECT_GE(static_cast<double>(tp) / static_cast<double>(tp + fn), 0.95) << tp << " of " << tp + fn;
    EXPECT_LE(fp, 2u);  // no natural false alarms; a camp split by a creek may count twice
}

TEST(CliClearing, UnmodifiedReserveAndFarmedNorthStayDark) {
    TempDir dir;
    auto r = scanClearing(kScene, dir.file("clearings.geojson"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // 27 km2 of reserve land and 42 km2 of farms, villages and ponds: at most 1 false detection
    // per 100 km2 of reserve means none here, and the farmed north must not light up.
    EXPECT_EQ(readLayer(dir.file("clearings.geojson")).features.size(), 0u);
    Json m = parseJsonFile(dir.file("clearings.geojson") + ".manifest.json");
    EXPECT_DOUBLE_EQ(m.at("detector").at("halo_m").get<double>(), 3100.0);
    // The recall half on the same scene: camps planted into a copy of it are all found (so a
    // detector that finds nothing fails here), and nothing else lights up.
    PlantOptions o;
    o.seed = 210;
    o.camps = 6;
    o.minHa = 0.5;  // well above the 0.2 ha floor
    const auto camps = plantCamps(kScene, dir.path(), o);
    writeCampTruth(dir.file("truth.geojson"), camps, 2000.0);
    const auto large = std::count_if(camps.begin(), camps.end(), [](const PlantedCamp& c) { return c.areaLandM2 >= 2000.0; });
    ASSERT_GE(large, 4);
    r = scanClearing(dir.path(), dir.file("planted.geojson"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto e = runRiskmap({"eval", "--truth", dir.file("truth.geojson"), "--detections", dir.file("planted.geojson"),
                         "--radius-m", "100", "--json"});
    ASSERT_EQ(e.exitCode, 0) << e.err;
    const Json overall = *parseJson(e.out, "eval").find("overall");
    EXPECT_EQ(overall.at("tp").get<std::int64_t>(), large) << e.out;
    EXPECT_EQ(overall.at("fn").get<std::int64_t>(), 0) << e.out;
    EXPECT_EQ(overall.at("fp").get<std::int64_t>(), 0) << e.out;
}

TEST(CliClearing, SameCampsForAnyTileSize) {
    TempDir dir;
    PlantOptions o;
    o.seed = 104;
    plantCamps(kScene, dir.path(), o);
    std::vector<std::string> outputs;
    for (const char* tile : {"48", "150", "4096"}) {
        std::filesystem::create_directory(dir.file(tile));
        auto r = scanClearing(dir.path(), dir.file(tile) + "/c.geojson", {"--tile-size", tile});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        outputs.push_back(readFile(dir.file(tile) + "/c.geojson"));
    }
    ASSERT_NE(outputs[0].find("enclosure"), std::string::npos);
    EXPECT_EQ(outputs[0], outputs[2]);
    EXPECT_EQ(outputs[1], outputs[2]);
}

// Landsat 7 ETM+ at 28.5 m through --sensor landsat7: the clearing detector runs to the end on
// it with the six bands named in file order, and the index detector's area for a rule over all
// six bands equals a count made here from the raw bands with GDAL, placed where those pixels
// are, in the raster's own CRS. A band taken from the wrong position, a wrong scale or offset,
// or a misplaced footprint changes the figures.
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
