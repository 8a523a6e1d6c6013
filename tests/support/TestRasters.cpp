#include "support/TestRasters.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "geo/GdalRuntime.hpp"

namespace riskmap::test {

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "riskmap-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string writeScene(const std::string& path, const SceneSpec& s) {
    ensureGdalRegistered();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    CPLStringList opts;
    if (s.blockX > 0) {
        opts.SetNameValue("TILED", "YES");
        opts.SetNameValue("BLOCKXSIZE", std::to_string(s.blockX).c_str());
        opts.SetNameValue("BLOCKYSIZE", std::to_string(s.blockY).c_str());
    }
    opts.SetNameValue("COMPRESS", s.compress.c_str());
    GDALDataset* ds = drv->Create(path.c_str(), s.width, s.height, s.bands, GDT_UInt16, opts.List());
    if (!ds) throw std::runtime_error("cannot create " + path);
    double gt[6] = {s.originX, s.pixel, 0, s.originY, 0, -s.pixel};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.SetFromUserInput(s.epsg.c_str());
    ds->SetSpatialRef(&srs);
    static const char* s2[] = {"B02", "B03", "B04", "B08", "B11"};
    static const char* rgb[] = {"red", "green", "blue"};

    // Row by row, so even large test rasters need little memory.
    std::mt19937 rng(s.seed);
    std::vector<std::uint16_t> row(static_cast<std::size_t>(s.width));
    for (int b = 0; b < s.bands; ++b) {
        GDALRasterBand* band = ds->GetRasterBand(b + 1);
        if (s.describeBands) band->SetDescription(s.bands == 3 ? rgb[b] : s2[b]);
        if (s.bands == 3) band->SetColorInterpretation(static_cast<GDALColorInterp>(GCI_RedBand + b));
        if (s.nodata) band->SetNoDataValue(s.nodataValue);
        // Band order: RGB files are red, green, blue; multispectral ones blue, green, red, nir, swir1.
        auto pick = [&](const Spectrum& sp) -> int {
            if (s.bands == 3) return b == 0 ? sp.red : b == 1 ? sp.green : sp.blue;
            switch (b) {
                case 0: return sp.blue;
                case 1: return sp.green;
                case 2: return sp.red;
                case 3: return sp.nir;
                default: return sp.swir1;
            }
        };
        for (int y = 0; y < s.height; ++y) {
            // Only blobs crossing this row matter; later blobs paint over earlier ones.
            std::vector<const Blob*> rowBlobs;
            for (const auto& bl : s.blobs)
                if (std::fabs(y + 0.5 - bl.cy) <= bl.ry) rowBlobs.push_back(&bl);
            for (int x = 0; x < s.width; ++x) {
                Spectrum sp = kVegetation;
                for (const Blob* bl : rowBlobs) {
                    double dx = (x + 0.5 - bl->cx) / bl->rx, dy = (y + 0.5 - bl->cy) / bl->ry;
                    if (dx * dx + dy * dy <= 1.0) sp = bl->spectrum;
                }
                int v = pick(sp);
                if (s.noise > 0) v += static_cast<int>(rng() % static_cast<unsigned>(2 * s.noise + 1)) - s.noise;
                v = std::max(1, std::min(65535, v));
                if (s.nodata && s.nodataRect.contains(x, y)) v = s.nodataValue;
                row[static_cast<std::size_t>(x)] = static_cast<std::uint16_t>(v);
            }
            if (band->RasterIO(GF_Write, 0, y, s.width, 1, row.data(), s.width, 1, GDT_UInt16, 0, 0,
                               nullptr) != CE_None)
                throw std::runtime_error("write failed");
        }
    }
    GDALClose(ds);
    return path;
}

std::string writeAntimeridianScene(const std::string& path, std::vector<Blob> blobs) {
    SceneSpec s;
    s.width = s.height = 200;
    s.epsg = "EPSG:32760";
    s.originX = 818449;
    s.originY = 8120006;
    s.blobs = std::move(blobs);
    return writeScene(path, s);
}

std::vector<Blob> scatterBlobs(int width, int height, int count, std::uint32_t seed,
                               double minRadius, double maxRadius) {
    std::mt19937 rng(seed);
    auto uni = [&](double a, double b) { return a + (b - a) * (rng() / 4294967296.0); };
    std::vector<Blob> out;
    for (int i = 0; i < count; ++i) {
        Blob b;
        b.rx = uni(minRadius, maxRadius);
        b.ry = uni(minRadius, maxRadius);
        b.cx = uni(b.rx + 2, width - b.rx - 2);
        b.cy = uni(b.ry + 2, height - b.ry - 2);
        b.spectrum = (i % 5 == 4) ? kWater : kBareSoil;
        out.push_back(b);
    }
    return out;
}

std::string writeRgbScene(const std::string& path, const RgbSceneSpec& s) {
    ensureGdalRegistered();
    const int w = static_cast<int>(std::lround(s.widthM / s.gsd)), h = static_cast<int>(std::lround(s.heightM / s.gsd));
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDataset* ds = drv->Create(path.c_str(), w, h, 3, GDT_Byte, nullptr);
    if (!ds) throw std::runtime_error("cannot create " + path);
    double gt[6] = {s.originX, s.gsd, 0, s.originY, 0, -s.gsd};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.SetFromUserInput(s.epsg.c_str());
    ds->SetSpatialRef(&srs);
    std::mt19937 rng(s.seed);
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(w) * h * 3);
    // Supersample 4 x 4 per pixel so that shapes have soft, realistic edges.
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            double acc[3] = {0, 0, 0};
            for (int sy = 0; sy < 4; ++sy) {
                for (int sx = 0; sx < 4; ++sx) {
                    const double mx = (x + (sx + 0.5) / 4) * s.gsd, my = (y + (sy + 0.5) / 4) * s.gsd;
                    Rgb c = s.background;
                    for (const auto& sh : s.shapes) {
                        const double a = sh.angleDeg * 3.14159265358979 / 180;
                        const double dx = mx - sh.cx, dy = my - sh.cy;
                        const double u = dx * std::cos(a) + dy * std::sin(a), v = -dx * std::sin(a) + dy * std::cos(a);
                        const double hu = sh.length / 2, hv = sh.width / 2;
                        bool in = false;
                        if (sh.kind == RgbShape::Rectangle) {
                            in = std::fabs(u) <= hu && std::fabs(v) <= hv;
                        } else {
                            const double e = (u * u) / (hu * hu) + (v * v) / (hv * hv);
                            in = e <= 1;
                            if (sh.kind == RgbShape::Ring) {
                                const double iu = hu - sh.ringWidth, iv = hv - sh.ringWidth;
                                in = in && (iu <= 0 || iv <= 0 || (u * u) / (iu * iu) + (v * v) / (iv * iv) > 1);
                            }
                        }
                        if (in) c = sh.colour;
                    }
                    acc[0] += c.r;
                    acc[1] += c.g;
                    acc[2] += c.b;
                }
            }
            for (int b = 0; b < 3; ++b) {
                int v = static_cast<int>(std::lround(acc[b] / 16));
                if (s.noise > 0) v += static_cast<int>(rng() % static_cast<unsigned>(2 * s.noise + 1)) - s.noise;
                buf[static_cast<std::size_t>(b) * w * h + static_cast<std::size_t>(y) * w + x] =
                    static_cast<std::uint8_t>(std::max(0, std::min(255, v)));
            }
        }
    }
    if (ds->RasterIO(GF_Write, 0, 0, w, h, buf.data(), w, h, GDT_Byte, 3, nullptr, 0, 0, 0, nullptr) != CE_None)
        throw std::runtime_error("write failed");
    for (int b = 1; b <= 3; ++b) ds->GetRasterBand(b)->SetColorInterpretation(static_cast<GDALColorInterp>(GCI_RedBand + b - 1));
    GDALClose(ds);
    return path;
}

bool sharedDataAvailable() {
    struct stat st;
    return ::stat(RISKMAP_SHARED_DATA "/README.md", &st) == 0;
}

std::string sharedData(const std::string& relative) { return std::string(RISKMAP_SHARED_DATA) + "/" + relative; }

}  // namespace riskmap::test

namespace {
// GDAL's warnings about the EO Browser files' TIFF tags are noise in test logs.
const bool kQuietGdal = [] {
    CPLSetErrorHandler(CPLQuietErrorHandler);
    return true;
}();
}  // namespace
