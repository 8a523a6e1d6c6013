#include "support/SceneEdits.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>

#include "geo/GdalRuntime.hpp"

namespace riskmap::test {

namespace {

const char* kBands[] = {"B02", "B03", "B04", "B08", "B11", "B12"};

std::string bandFile(const std::string& dir, int b) { return dir + "/Sentinel-2_L2A_" + kBands[b] + "_Raw.tiff"; }

DatasetPtr openUpdate(const std::string& path) {
    DatasetPtr ds(static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE, nullptr, nullptr, nullptr)));
    if (!ds) throw std::runtime_error("cannot open " + path + " for update");
    return ds;
}

void copyFile(const std::string& from, const std::string& to) {
    DatasetPtr in = openRaster(from);
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    DatasetPtr out(drv->CreateCopy(to.c_str(), in.get(), FALSE, nullptr, nullptr, nullptr));
    if (!out) throw std::runtime_error("cannot copy " + from);
}

// Pixels whose centre lies in the place (lon/lat), grown by `reach` pixels (a disk).
std::vector<std::size_t> pixelsNearPlace(const OGRGeometry& place, int reach, int w, int h, const double* gt) {
    OGREnvelope e;
    place.getEnvelope(&e);
    const int x0 = std::max(0, static_cast<int>(std::floor((e.MinX - gt[0]) / gt[1])) - 1);
    const int x1 = std::min(w - 1, static_cast<int>(std::ceil((e.MaxX - gt[0]) / gt[1])) + 1);
    const int y0 = std::max(0, static_cast<int>(std::floor((e.MaxY - gt[3]) / gt[5])) - 1);
    const int y1 = std::min(h - 1, static_cast<int>(std::ceil((e.MinY - gt[3]) / gt[5])) + 1);
    std::set<std::size_t> out;
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
            OGRPoint c(gt[0] + (x + 0.5) * gt[1], gt[3] + (y + 0.5) * gt[5]);
            if (!place.Contains(&c)) continue;
            for (int dy = -reach; dy <= reach; ++dy)
                for (int dx = -reach; dx <= reach; ++dx) {
                    const int xx = x + dx, yy = y + dy;
                    if (dx * dx + dy * dy > reach * reach || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    out.insert(static_cast<std::size_t>(yy) * static_cast<std::size_t>(w) + xx);
                }
        }
    return {out.begin(), out.end()};
}

double nd(double a, double b) { return a + b > 0 ? (a - b) / (a + b) : 0; }

}  // namespace

BandFiles::BandFiles(std::string dir) : dir_(std::move(dir)) {
    ensureGdalRegistered();
    for (int b = 0; b < 6; ++b) {
        DatasetPtr ds = openRaster(bandFile(dir_, b));
        w_ = ds->GetRasterXSize();
        h_ = ds->GetRasterYSize();
        ds->GetGeoTransform(gt_);
        std::vector<std::uint16_t> v(static_cast<std::size_t>(w_) * h_);
        if (ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w_, h_, v.data(), w_, h_, GDT_UInt16, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot read " + bandFile(dir_, b));
        values_.push_back(std::move(v));
        if (b == 0) {
            mask_.resize(values_[0].size());
            if (ds->GetRasterBand(2)->RasterIO(GF_Read, 0, 0, w_, h_, mask_.data(), w_, h_, GDT_UInt16, 0, 0, nullptr) != CE_None)
                throw std::runtime_error("cannot read the dataMask of " + bandFile(dir_, b));
        }
    }
}

BandFiles BandFiles::copy(const std::string& from, const std::string& to) {
    ensureGdalRegistered();
    for (int b = 0; b < 6; ++b) copyFile(bandFile(from, b), bandFile(to, b));
    return BandFiles(to);
}

void BandFiles::save() const {
    for (int b = 0; b < 6; ++b) {
        DatasetPtr ds = openUpdate(bandFile(dir_, b));
        auto v = values_[static_cast<std::size_t>(b)];
        auto m = mask_;
        if (ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, w_, h_, v.data(), w_, h_, GDT_UInt16, 0, 0, nullptr) != CE_None ||
            ds->GetRasterBand(2)->RasterIO(GF_Write, 0, 0, w_, h_, m.data(), w_, h_, GDT_UInt16, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot write " + bandFile(dir_, b));
    }
}

std::vector<std::size_t> BandFiles::pixelsNear(const OGRGeometry& place, int reachPx) const {
    return pixelsNearPlace(place, reachPx, w_, h_, gt_);
}

std::size_t BandFiles::revegetate(const OGRGeometry& place, int reachPx, std::uint64_t seed) {
    const auto target = pixelsNear(place, reachPx);
    const auto inner = pixelsNear(place, reachPx + 4);
    const std::set<std::size_t> innerSet(inner.begin(), inner.end());
    std::vector<std::size_t> donors;
    for (std::size_t k : pixelsNear(place, reachPx + 12)) {
        if (innerSet.count(k) || !mask_[k]) continue;
        const double ndvi = nd(values_[3][k], values_[2][k]), mndwi = nd(values_[1][k], values_[4][k]);
        if (ndvi >= 0.5 && mndwi < 0) donors.push_back(k);
    }
    if (donors.size() < 20) return 0;
    std::mt19937_64 rng(seed);
    for (std::size_t t : target) {
        const std::size_t d = donors[rng() % donors.size()];
        for (auto& band : values_) band[t] = band[d];
    }
    return target.size();
}

std::size_t BandFiles::paint(const OGRGeometry& place, const std::array<double, 6>& reflectance) {
    const auto target = pixelsNear(place, 0);
    for (std::size_t b = 0; b < 6; ++b) {
        const auto v = static_cast<std::uint16_t>(std::lround(std::clamp(reflectance[b], 0.0, 1.0) * 65535.0));
        for (std::size_t k : target) values_[b][k] = v;
    }
    return target.size();
}

void BandFiles::cloud(const LonLat& centre, int halfPx) {
    const int cx = static_cast<int>((centre.lon - gt_[0]) / gt_[1]), cy = static_cast<int>((centre.lat - gt_[3]) / gt_[5]);
    for (int y = std::max(0, cy - halfPx); y <= std::min(h_ - 1, cy + halfPx); ++y)
        for (int x = std::max(0, cx - halfPx); x <= std::min(w_ - 1, cx + halfPx); ++x) mask_[index(x, y)] = 0;
}

void BandFiles::setDateTag(const std::string& value) const {
    for (int b = 0; b < 6; ++b) openUpdate(bandFile(dir_, b))->SetMetadataItem("TIFFTAG_DATETIME", value.c_str());
}

void paintOut(const std::string& from, const std::string& to, const OGRGeometry& place, int reachPx,
              const std::string& dateTag) {
    ensureGdalRegistered();
    copyFile(from, to);
    DatasetPtr ds = openUpdate(to);
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize(), nb = ds->GetRasterCount();
    double gt[6];
    ds->GetGeoTransform(gt);
    const std::size_t n = static_cast<std::size_t>(w) * h;
    std::vector<std::vector<double>> px(static_cast<std::size_t>(nb), std::vector<double>(n));
    for (int b = 0; b < nb; ++b)
        if (ds->GetRasterBand(b + 1)->RasterIO(GF_Read, 0, 0, w, h, px[b].data(), w, h, GDT_Float64, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot read " + to);
    std::vector<char> known(n, 1);
    for (std::size_t k : pixelsNearPlace(place, reachPx, w, h, gt)) known[k] = 0;
    // Onion peeling: each round fills the unknown pixels with at least 3 known neighbours.
    for (bool changed = true; changed;) {
        changed = false;
        std::vector<std::size_t> ring;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const std::size_t k = static_cast<std::size_t>(y) * w + x;
                if (known[k]) continue;
                std::vector<double> sum(static_cast<std::size_t>(nb), 0.0);
                int m = 0;
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx) {
                        const int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= w || yy >= h || !known[static_cast<std::size_t>(yy) * w + xx]) continue;
                        for (int b = 0; b < nb; ++b) sum[b] += px[b][static_cast<std::size_t>(yy) * w + xx];
                        ++m;
                    }
                if (m < 3) continue;
                for (int b = 0; b < nb; ++b) px[b][k] = sum[b] / m;
                ring.push_back(k);
            }
        for (std::size_t k : ring) known[k] = 1;
        changed = !ring.empty();
    }
    for (int b = 0; b < nb; ++b)
        if (ds->GetRasterBand(b + 1)->RasterIO(GF_Write, 0, 0, w, h, px[b].data(), w, h, GDT_Float64, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("cannot write " + to);
    if (!dateTag.empty()) ds->SetMetadataItem("TIFFTAG_DATETIME", dateTag.c_str());
}

}  // namespace riskmap::test
