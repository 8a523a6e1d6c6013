#include "raster/StacItems.hpp"

#include <cpl_conv.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "core/Error.hpp"
#include "raster/SensorProfile.hpp"

namespace riskmap {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool startsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

std::string readText(const std::string& path) {
    // VSI so that remote item files (/vsicurl/...) work as well as local ones.
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) throw DataError("cannot read STAC file '" + path + "'");
    std::string out;
    char buf[65536];
    std::size_t n;
    while ((n = VSIFReadL(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    VSIFCloseL(f);
    return out;
}

// STAC / Sentinel-2 / Landsat names for bands -> riskmap's canonical names.
std::string canonicalFor(const std::string& name) {
    std::string n = lower(name);
    static const std::map<std::string, std::string> extra = {
        {"swir16", "swir1"}, {"swir22", "swir2"}, {"nir08", "nir08"}, {"nir09", "wvp"},  {"lwir", "tir"},
        {"lwir11", "tir1"}, {"lwir12", "tir2"},  {"coastal", "coastal"}, {"rededge", "rededge"}};
    auto it = extra.find(n);
    if (it != extra.end()) return it->second;
    for (const auto& c : SensorProfile::canonicalNames())
        if (c == n) return c;
    for (const auto& p : SensorProfile::builtin()) {
        std::string m = p.nameForDescription(n);
        if (!m.empty()) return m;
    }
    return {};
}

bool isRasterAsset(const Json& asset) {
    const Json* type = asset.find("type");
    if (type && type->isString()) {
        std::string t = lower(type->asString());
        if (t.find("image/tiff") != std::string::npos || t.find("geotiff") != std::string::npos ||
            t.find("jp2") != std::string::npos || t.find("x-hdf") != std::string::npos)
            return true;
        return false;
    }
    const Json* href = asset.find("href");
    if (!href || !href->isString()) return false;
    std::string h = lower(href->asString());
    for (const char* ext : {".tif", ".tiff", ".jp2", ".vrt"})
        if (h.size() >= std::char_traits<char>::length(ext) && h.compare(h.size() - std::char_traits<char>::length(ext), std::string::npos, ext) == 0)
            return true;
    return false;
}

StacScene sceneFromItem(const Json& item, const std::string& baseDir, const std::map<std::string, std::string>& overrides,
                        const std::string& origin) {
    StacScene s;
    const Json* id = item.find("id");
    s.id = id && id->isString() ? id->asString() : "stac-item";
    const Json* assets = item.find("assets");
    if (!assets || !assets->isObject()) throw DataError(origin + ": STAC item '" + s.id + "' has no assets");
    std::map<std::string, BandSpec> chosen;
    auto add = [&](const std::string& band, const std::string& key, const Json& asset) {
        if (chosen.count(band)) return;
        const Json* href = asset.find("href");
        if (!href || !href->isString()) return;
        BandSpec b;
        b.name = band;
        b.path = stacHrefToGdalPath(href->asString(), baseDir);
        b.index = 1;
        // The raster extension gives the scaling from stored values (e.g. L2A: 1e-4, -0.1).
        if (const Json* rb = asset.find("raster:bands"); rb && rb->isArray() && !rb->asArray().empty()) {
            const Json& r0 = rb->asArray().front();
            if (const Json* sc = r0.find("scale"); sc && sc->isNumber()) b.scale = sc->asDouble();
            if (const Json* of = r0.find("offset"); of && of->isNumber()) b.offset = of->asDouble();
        }
        (void)key;
        chosen[band] = b;
    };
    for (const auto& [band, key] : overrides) {
        const Json* a = assets->find(key);
        if (!a) throw UsageError("--stac-asset " + band + "=" + key + ": item '" + s.id + "' has no asset '" + key + "'");
        add(band, key, *a);
    }
    for (const auto& [key, asset] : assets->asObject()) {
        if (!isRasterAsset(asset)) continue;
        std::string band;
        if (const Json* eo = asset.find("eo:bands"); eo && eo->isArray() && eo->asArray().size() == 1) {
            const Json& b0 = eo->asArray().front();
            if (const Json* cn = b0.find("common_name"); cn && cn->isString()) band = canonicalFor(cn->asString());
            if (band.empty())
                if (const Json* nm = b0.find("name"); nm && nm->isString()) band = canonicalFor(nm->asString());
        }
        if (band.empty()) band = canonicalFor(key);
        if (!band.empty()) add(band, key, asset);
    }
    if (chosen.empty())
        throw DataError(origin + ": no asset of STAC item '" + s.id +
                        "' names a band (red, nir, ...): pass --stac-asset NAME=ASSET_KEY");
    // Stable order: canonical band order.
    for (const auto& c : SensorProfile::canonicalNames()) {
        auto it = chosen.find(c);
        if (it != chosen.end()) s.bands.push_back(it->second);
    }
    return s;
}

}  // namespace

std::string stacHrefToGdalPath(const std::string& href, const std::string& baseDir) {
    if (startsWith(href, "http://") || startsWith(href, "https://")) return "/vsicurl/" + href;
    if (startsWith(href, "s3://")) return "/vsis3/" + href.substr(5);
    if (startsWith(href, "gs://")) return "/vsigs/" + href.substr(5);
    if (startsWith(href, "az://")) return "/vsiaz/" + href.substr(5);
    if (startsWith(href, "file://")) return href.substr(7);
    if (startsWith(href, "/")) return href;
    return baseDir.empty() ? href : baseDir + "/" + href;
}

bool looksLikeStac(const std::string& path) {
    std::string l = lower(path);
    if (l.size() < 5 || l.compare(l.size() - 5, 5, ".json") != 0) return false;
    VSIStatBufL st;
    if (VSIStatL(path.c_str(), &st) != 0) return false;
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) return false;
    char buf[4096];
    std::size_t n = VSIFReadL(buf, 1, sizeof buf, f);
    VSIFCloseL(f);
    std::string head(buf, n);
    return head.find("stac_version") != std::string::npos || head.find("\"assets\"") != std::string::npos;
}

std::vector<StacScene> readStac(const std::string& path, const std::map<std::string, std::string>& overrides) {
    Json root = Json::parse(readText(path), path);
    std::string base = CPLGetDirname(path.c_str());
    if (startsWith(path, "/vsicurl/")) base = path.substr(0, path.rfind('/'));
    std::vector<StacScene> out;
    const Json* type = root.find("type");
    std::string t = type && type->isString() ? type->asString() : "";
    if (t == "Feature") {
        out.push_back(sceneFromItem(root, base, overrides, path));
    } else if (t == "FeatureCollection") {
        const Json* feats = root.find("features");
        if (!feats || !feats->isArray()) throw DataError(path + ": STAC ItemCollection without features");
        for (const auto& item : feats->asArray()) out.push_back(sceneFromItem(item, base, overrides, path));
    } else {
        throw DataError(path + " is not a STAC Item or ItemCollection (\"type\" must be Feature or FeatureCollection)");
    }
    if (out.empty()) throw DataError(path + ": the STAC ItemCollection holds no items");
    return out;
}

}  // namespace riskmap
