#include "support/CampPlanter.hpp"

#include <gdal_priv.h>

#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>

#include "core/Json.hpp"
#include "detection/imgproc/ExactFilters.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap::test {

namespace {

const char* kBands[] = {"B02", "B03", "B04", "B08", "B11", "B12"};

struct Rng {
    std::mt19937_64 g;
    explicit Rng(std::uint64_t seed) : g(seed) {}
    double uniform(double a, double b) { return a + (b - a) * static_cast<double>(g() >> 11) * 0x1.0p-53; }
    std::size_t index(std::size_t n) { return static_cast<std::size_t>(g() % n); }
};

bool insidePolygon(const std::vector<std::pair<double, double>>& poly, double x, double y) {
    bool in = false;
    for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
        const double xi = poly[i].first, yi = poly[i].second, xj = poly[j].first, yj = poly[j].second;
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

}  // namespace

std::vector<PlantedCamp> plantCamps(const std::string& sceneDir, const std::string& outDir, const PlantOptions& o) {
    ensureGdalRegistered();
    const std::string prefix = sceneDir + "/Sentinel-2_L2A_";
    int W = 0, H = 0;
    double gt[6];
    std::vector<std::vector<float>> band(6);  // reflectance
    std::vector<std::uint8_t> valid;
    for (int b = 0; b < 6; ++b) {
        DatasetPtr ds = openRaster(prefix + kBands[b] + "_Raw.tiff");
        W = ds->GetRasterXSize();
        H = ds->GetRasterYSize();
        ds->GetGeoTransform(gt);
        const std::size_t n = static_cast<std::size_t>(W) * H;
        std::vector<std::uint16_t> v(n), m(n);
        if (ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, W, H, v.data(), W, H, GDT_UInt16, 0, 0, nullptr) != CE_None ||
            ds->GetRasterBand(2)->RasterIO(GF_Read, 0, 0, W, H, m.data(), W, H, GDT_UInt16, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot read the scene");
        if (valid.empty()) valid.assign(n, 1);
        band[static_cast<std::size_t>(b)].resize(n);
        for (std::size_t k = 0; k < n; ++k) {
            band[static_cast<std::size_t>(b)][k] = v[k] / 65535.0f;  // EO Browser: reflectance x 65535
            if (!m[k]) valid[k] = 0;
        }
    }
    const std::size_t n = static_cast<std::size_t>(W) * H;
    const double px = std::fabs(gt[1]) * 111320.0 * std::cos((gt[3] + gt[5] * H / 2) * M_PI / 180.0);
    const double py = std::fabs(gt[5]) * 110574.0;
    auto idx = [W](int x, int y) { return static_cast<std::size_t>(y) * W + x; };

    // Reserve polygon (pixel-corner coordinates) and its mask.
    Json reserve = parseJsonFile(sceneDir + "/reserve.geojson");
    std::vector<std::pair<double, double>> poly;
    for (const auto& v : reserve.at("features").at(0).at("properties").at("pixel_vertices_col_row"))
        poly.emplace_back(v.at(0).get<double>(), v.at(1).get<double>());
    std::vector<std::uint8_t> inReserve(n);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) inReserve[idx(x, y)] = insidePolygon(poly, x + 0.5, y + 0.5);

    // Donors: Sen2Cor "not vegetated" (rendered yellow), away from class edges, outside the reserve.
    std::vector<std::uint8_t> donor(n, 0);
    {
        DatasetPtr scl = openRaster(prefix + "Scene_classification_map.tiff");
        std::vector<std::uint16_t> rgb(n * 3);
        if (scl->RasterIO(GF_Read, 0, 0, W, H, rgb.data(), W, H, GDT_UInt16, 3, nullptr, 0, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot read the scene classification");
        std::vector<std::uint8_t> nv(n);
        for (std::size_t k = 0; k < n; ++k) nv[k] = rgb[k] == 65535 && rgb[n + k] == 59111 && rgb[2 * n + k] == 23130;
        for (int y = 1; y < H - 1; ++y)
            for (int x = 1; x < W - 1; ++x) {
                bool all = true;
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx) all = all && nv[idx(x + dx, y + dy)];
                donor[idx(x, y)] = all && valid[idx(x, y)] && !inReserve[idx(x, y)];
            }
    }
    std::vector<int> donorX, donorY;
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
            if (donor[idx(x, y)]) {
                donorX.push_back(x);
                donorY.push_back(y);
            }
    if (donorX.empty()) throw std::runtime_error("no donor pixels");

    // Water (MNDWI > 0) and land; placement distances.
    std::vector<std::uint8_t> water(n), land(n), outsideLand(n);
    for (std::size_t k = 0; k < n; ++k) {
        const float g = band[1][k], s = band[4][k];
        water[k] = valid[k] && g + s > 0 && (g - s) / (g + s) > 0;
        land[k] = valid[k] && !water[k];
        outsideLand[k] = land[k] && !inReserve[k];
    }
    DistancePlane dOut = distanceTransform(outsideLand, W, H, px, py);
    DistancePlane dWat = distanceTransform(water, W, H, px, py);
    std::vector<std::uint8_t> occupied(n, 0);

    Rng rng(o.seed);
    std::vector<PlantedCamp> camps;
    int tries = 0;
    while (static_cast<int>(camps.size()) < o.camps && tries < 200 * o.camps) {
        ++tries;
        const double area = std::exp(rng.uniform(std::log(o.minHa), std::log(o.maxHa))) * 1e4;
        const bool bank = rng.uniform(0, 1) < o.bankShare;
        // A random pixel of the placement domain.
        std::vector<std::size_t> cand;
        for (std::size_t k = 0; k < n; ++k) {
            if (!inReserve[k] || !land[k] || occupied[k] || dOut.metres(k) < o.remoteFromOutsideM) continue;
            const double dw = dWat.metres(k);
            if (bank ? dw <= 1.01 * std::max(px, py) : dw >= 60.0) cand.push_back(k);
        }
        if (cand.empty()) continue;
        std::size_t k0 = cand[rng.index(cand.size())];
        int cx = static_cast<int>(k0 % static_cast<std::size_t>(W)), cy = static_cast<int>(k0 / static_cast<std::size_t>(W));
        if (bank) {
            // Move the centre inland, up the distance-to-water slope, by 0.6 of the radius, so
            // that the camp touches the water on one side.
            if (cx < 1 || cy < 1 || cx >= W - 1 || cy >= H - 1) continue;
            const double gxd = dWat.metres(idx(cx + 1, cy)) - dWat.metres(idx(cx - 1, cy));
            const double gyd = dWat.metres(idx(cx, cy + 1)) - dWat.metres(idx(cx, cy - 1));
            const double gn = std::hypot(gxd, gyd);
            if (gn > 0) {
                const double reff = std::sqrt(area / M_PI) * 0.6;
                cx = static_cast<int>(std::lround(cx + gxd / gn * reff / px));
                cy = static_cast<int>(std::lround(cy + gyd / gn * reff / py));
            }
            if (cx < 0 || cy < 0 || cx >= W || cy >= H || !inReserve[idx(cx, cy)] || !land[idx(cx, cy)]) continue;
        }
        // Irregular star-shaped outline, stretched up to 2.5:1 at a random angle.
        const int nv = 7 + static_cast<int>(rng.index(7));
        std::vector<double> ang(static_cast<std::size_t>(nv));
        for (auto& a : ang) a = rng.uniform(0, 2 * M_PI);
        std::sort(ang.begin(), ang.end());
        const double el = rng.uniform(1.0, 2.5), th = rng.uniform(0, M_PI);
        std::vector<std::pair<double, double>> star;
        for (int i = 0; i < nv; ++i) {
            const double r = rng.uniform(0.45, 1.0);
            const double ux = r * std::cos(ang[static_cast<std::size_t>(i)]) * el, uy = r * std::sin(ang[static_cast<std::size_t>(i)]);
            star.emplace_back(ux * std::cos(th) - uy * std::sin(th), ux * std::sin(th) + uy * std::cos(th));
        }
        double a0 = 0;
        for (std::size_t i = 0; i < star.size(); ++i) {
            const auto& p = star[i];
            const auto& q = star[(i + 1) % star.size()];
            a0 += p.first * q.second - q.first * p.second;
        }
        const double scale = std::sqrt(area / (std::fabs(a0) / 2));
        double hx = 0, hy = 0;
        for (auto& p : star) {
            p.first *= scale / px;  // pixels
            p.second *= scale / py;
            hx = std::max(hx, std::fabs(p.first));
            hy = std::max(hy, std::fabs(p.second));
        }
        const int rx = static_cast<int>(std::ceil(hx)) + 2, ry = static_cast<int>(std::ceil(hy)) + 2;
        const int x0 = cx - rx, y0 = cy - ry, bw = 2 * rx + 1, bh = 2 * ry + 1;
        if (x0 < 0 || y0 < 0 || x0 + bw > W || y0 + bh > H) continue;
        // Coverage from 5 x 5 sub-pixel samples; polygon centred at the window centre.
        std::vector<double> cov(static_cast<std::size_t>(bw) * bh, 0.0);
        std::vector<std::pair<double, double>> shifted;
        for (const auto& p : star) shifted.emplace_back(p.first + rx + 0.5, p.second + ry + 0.5);
        bool ok = true;
        for (int y = 0; y < bh && ok; ++y)
            for (int x = 0; x < bw; ++x) {
                int hits = 0;
                for (int sy = 0; sy < 5; ++sy)
                    for (int sx = 0; sx < 5; ++sx) hits += insidePolygon(shifted, x + (sx + 0.5) / 5, y + (sy + 0.5) / 5);
                const double c = hits / 25.0;
                cov[static_cast<std::size_t>(y) * bw + x] = c;
                const std::size_t k = idx(x0 + x, y0 + y);
                if (c > 0 && (!valid[k] || !inReserve[k] || occupied[k])) {
                    ok = false;
                    break;
                }
            }
        if (!ok) continue;
        double covered = 0, sx = 0, sy = 0;
        bool touches = false;
        for (int y = 0; y < bh; ++y)
            for (int x = 0; x < bw; ++x) {
                const std::size_t k = idx(x0 + x, y0 + y);
                const double c = cov[static_cast<std::size_t>(y) * bw + x] * (land[k] ? 1.0 : 0.0);  // never paint water
                cov[static_cast<std::size_t>(y) * bw + x] = c;
                covered += c;
                sx += c * (x0 + x + 0.5);
                sy += c * (y0 + y + 0.5);
                if (c > 0)
                    for (int dy = -1; dy <= 1; ++dy)
                        for (int dx = -1; dx <= 1; ++dx) {
                            const int xx = x0 + x + dx, yy = y0 + y + dy;
                            if (xx >= 0 && yy >= 0 && xx < W && yy < H && water[idx(xx, yy)]) touches = true;
                        }
            }
        if (covered <= 0) continue;
        // A window of real donor pixels; non-donor pixels in it are replaced by random donors.
        const std::size_t dk = rng.index(donorX.size());
        const int dx0 = donorX[dk] - bw / 2, dy0 = donorY[dk] - bh / 2;
        if (dx0 < 0 || dy0 < 0 || dx0 + bw > W || dy0 + bh > H) continue;
        for (int y = 0; y < bh; ++y)
            for (int x = 0; x < bw; ++x) {
                const double c = cov[static_cast<std::size_t>(y) * bw + x];
                std::size_t src = idx(dx0 + x, dy0 + y);
                if (!donor[src]) {
                    const std::size_t r = rng.index(donorX.size());
                    src = idx(donorX[r], donorY[r]);
                }
                if (c <= 0) continue;
                const std::size_t k = idx(x0 + x, y0 + y);
                for (auto& b : band) b[k] = static_cast<float>(c * b[src] + (1 - c) * b[k]);  // linear mixing
            }
        // Keep camps apart.
        const int sepx = static_cast<int>(std::ceil(o.minSeparationM / px)), sepy = static_cast<int>(std::ceil(o.minSeparationM / py));
        for (int y = std::max(0, y0 - sepy); y < std::min(H, y0 + bh + sepy); ++y)
            for (int x = std::max(0, x0 - sepx); x < std::min(W, x0 + bw + sepx); ++x) occupied[idx(x, y)] = 1;
        PlantedCamp camp;
        camp.id = static_cast<int>(camps.size());
        camp.kind = bank ? "bank" : "inland";
        camp.areaLandM2 = covered * px * py;
        camp.touchesWater = touches;
        auto toLonLat = [&](double col, double row) { return LonLat{gt[0] + gt[1] * col + gt[2] * row, gt[3] + gt[4] * col + gt[5] * row}; };
        camp.centroid = toLonLat(sx / covered, sy / covered);
        for (const auto& p : shifted) camp.polygon.push_back(toLonLat(x0 + p.first, y0 + p.second));
        camps.push_back(camp);
    }

    // Planted copies of every band file: same layout, new values in sample 1.
    for (int b = 0; b < 6; ++b) {
        const std::string src = prefix + kBands[b] + "_Raw.tiff";
        const std::string dst = outDir + "/Sentinel-2_L2A_" + kBands[b] + "_Raw.tiff";
        DatasetPtr in = openRaster(src);
        GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
        DatasetPtr out(drv->CreateCopy(dst.c_str(), in.get(), FALSE, nullptr, nullptr, nullptr));
        if (!out) throw std::runtime_error("cannot write " + dst);
        std::vector<std::uint16_t> v(n);
        for (std::size_t k = 0; k < n; ++k)
            v[k] = static_cast<std::uint16_t>(std::lround(std::min(1.0f, std::max(0.0f, band[static_cast<std::size_t>(b)][k])) * 65535.0f));
        if (out->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, W, H, v.data(), W, H, GDT_UInt16, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot write " + dst);
    }
    return camps;
}

void writeCampTruth(const std::string& path, const std::vector<PlantedCamp>& camps, double difficultBelowM2) {
    Json fc = Json::object();
    fc["type"] = "FeatureCollection";
    Json feats = Json::array();
    for (const auto& c : camps) {
        Json f = Json::object();
        f["type"] = "Feature";
        Json p = Json::object();
        p["id"] = c.id;
        p["kind"] = c.kind;
        p["area_land_m2"] = c.areaLandM2;
        p["touches_water"] = c.touchesWater;
        p["difficult"] = c.areaLandM2 < difficultBelowM2;
        std::string wkt = "POLYGON((";
        for (std::size_t i = 0; i <= c.polygon.size(); ++i) {
            const auto& q = c.polygon[i % c.polygon.size()];
            char b[64];
            std::snprintf(b, sizeof b, "%s%.7f %.7f", i ? "," : "", q.lon, q.lat);
            wkt += b;
        }
        p["outline_wkt"] = wkt + "))";
        f["properties"] = p;
        Json g = Json::object();
        g["type"] = "Point";
        Json xy = Json::array();
        xy.push_back(c.centroid.lon);
        xy.push_back(c.centroid.lat);
        g["coordinates"] = xy;
        f["geometry"] = g;
        feats.push_back(f);
    }
    fc["features"] = feats;
    std::ofstream(path) << dumpJson(fc, 1) << "\n";
}

}  // namespace riskmap::test
