#include "raster/StacItems.hpp"

#include <cpl_conv.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "core/Error.hpp"
#include "core/JsonReader.hpp"
#include "raster/SensorProfile.hpp"

namespace riskmap {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool startsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Limits on what one STAC file may ask of a run.
constexpr std::size_t kMaxStacBytes = 64u << 20;
constexpr std::size_t kMaxStacItems = 100000;

std::string readText(const std::string& path) {
    // VSI so that remote item files (/vsicurl/...) work as well as local ones.
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) throw DataError("cannot read STAC file '" + path + "'");
    std::string out;
    char buf[65536];
    std::size_t n;
    while ((n = VSIFReadL(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, n);
        if (out.size() > kMaxStacBytes) {
            VSIFCloseL(f);
            throw DataError("STAC file '" + path + "' is larger than 64 MB: split it into smaller ItemCollections");
        }
    }
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

// A string member, or "" when absent or of another type (STAC's optional fields).
std::string optionalText(const JsonReader& obj, const std::string& key) {
    auto v = obj.find(key);
    return v && v->json().is_string() ? v->str() : std::string();
}

bool isRasterAsset(const JsonReader& asset) {
    if (asset.has("type")) {
        std::string t = lower(optionalText(asset, "type"));
        return t.find("image/tiff") != std::string::npos || t.find("geotiff") != std::string::npos ||
               t.find("jp2") != std::string::npos || t.find("x-hdf") != std::string::npos;
    }
    std::string h = lower(optionalText(asset, "href"));
    for (const char* ext : {".tif", ".tiff", ".jp2", ".vrt"})
        if (h.size() >= std::char_traits<char>::length(ext) && h.compare(h.size() - std::char_traits<char>::length(ext), std::string::npos, ext) == 0)
            return true;
    return false;
}

// The band an asset holds, from its single eo:bands entry or else its key.
std::string bandOfAsset(const std::string& key, const JsonReader& asset) {
    std::string band;
    if (auto eo = asset.find("eo:bands"); eo && eo->json().is_array() && eo->json().size() == 1) {
        const JsonReader b0 = eo->items().front();
        if (b0.json().is_object()) {
            band = canonicalFor(optionalText(b0, "common_name"));
            if (band.empty()) band = canonicalFor(optionalText(b0, "name"));
        }
    }
    return band.empty() ? canonicalFor(key) : band;
}

BandSpec bandFromAsset(const std::string& band, const JsonReader& asset, const std::string& baseDir, int index = 1) {
    BandSpec b;
    b.name = band;
    b.path = stacHrefToGdalPath(asset.at("href").str(), baseDir);
    b.index = index;
    // The raster extension gives the scaling from stored values (e.g. L2A: 1e-4, -0.1).
    if (auto rb = asset.find("raster:bands"); rb && rb->json().is_array() && rb->json().size() >= static_cast<std::size_t>(index)) {
        const JsonReader r = rb->items()[static_cast<std::size_t>(index - 1)];
        if (r.has("scale")) b.scale = r.at("scale").number();
        if (r.has("offset")) b.offset = r.at("offset").number();
    }
    return b;
}

// The bands of an asset holding several (a true-colour "visual" asset: red, green, blue), each
// read from its own band of the file. Such assets were skipped, and an item holding only them
// was said to name no band (a hostile-input sweep).
void addMultiBandAsset(const JsonReader& asset, const std::string& baseDir, std::map<std::string, BandSpec>& chosen) {
    auto eo = asset.find("eo:bands");
    if (!eo || !eo->json().is_array() || eo->json().size() < 2) return;
    const auto bands = eo->items();
    for (std::size_t i = 0; i < bands.size(); ++i) {
        if (!bands[i].json().is_object()) continue;
        std::string band = canonicalFor(optionalText(bands[i], "common_name"));
        if (band.empty()) band = canonicalFor(optionalText(bands[i], "name"));
        if (!band.empty() && !chosen.count(band)) chosen.emplace(band, bandFromAsset(band, asset, baseDir, static_cast<int>(i) + 1));
    }
}

// Sentinel-2 processing baseline 04.00 and later (January 2022 on) store reflectance x 10000
// + 1000 (BOA_ADD_OFFSET / RADIO_ADD_OFFSET -1000). Catalogues that say so only through
// s2:processing_baseline (e.g. Microsoft Planetary Computer) would be read 0.1 too bright in every
// band; an asset's own raster:bands offset still wins.
void applyProcessingBaseline(const JsonReader& item, std::map<std::string, BandSpec>& bands) {
    auto props = item.find("properties");
    if (!props || !props->json().is_object()) return;
    const std::string baseline = optionalText(*props, "s2:processing_baseline");
    double version = 0;
    try {
        version = baseline.empty() ? 0 : std::stod(baseline);
    } catch (const std::exception&) {
        return;  // not a number: leave the scaling alone
    }
    if (version < 4.0) return;
    for (auto& [name, b] : bands)
        if (!b.offset) b.offset = -0.1;
}

StacScene sceneFromItem(const JsonReader& item, const std::string& baseDir, const std::map<std::string, std::string>& overrides) {
    StacScene s;
    s.id = optionalText(item, "id");
    if (s.id.empty()) s.id = "stac-item";
    if (auto props = item.find("properties"); props && props->json().is_object()) {
        s.datetime = optionalText(*props, "datetime");
        if (s.datetime.empty()) s.datetime = optionalText(*props, "start_datetime");
    }
    if (!item.has("assets") || !item.at("assets").json().is_object())
        item.fail("(STAC item '" + s.id + "') has no assets");
    const JsonReader assets = item.at("assets");
    std::map<std::string, BandSpec> chosen;
    for (const auto& [band, key] : overrides) {
        if (!assets.has(key)) throw UsageError("--stac-asset " + band + "=" + key + ": item '" + s.id + "' has no asset '" + key + "'");
        chosen.emplace(band, bandFromAsset(band, assets.at(key), baseDir));
    }
    for (const auto& [key, asset] : assets.members()) {
        if (!asset.json().is_object() || !isRasterAsset(asset) || !asset.has("href")) continue;
        const std::string band = bandOfAsset(key, asset);
        if (!band.empty() && !chosen.count(band)) chosen.emplace(band, bandFromAsset(band, asset, baseDir));
    }
    // Single-band assets first: a band of its own file wins over the same band in a composite.
    for (const auto& [key, asset] : assets.members())
        if (asset.json().is_object() && isRasterAsset(asset) && asset.has("href")) addMultiBandAsset(asset, baseDir, chosen);
    applyProcessingBaseline(item, chosen);
    if (chosen.empty())
        throw DataError(item.where() + ": no asset of STAC item '" + s.id +
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
    std::string rel = href;
    while (startsWith(rel, "./")) rel = rel.substr(2);  // "stac/./B02.tif" in messages otherwise
    return baseDir.empty() ? rel : baseDir + "/" + rel;
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
    if (head.find("stac_version") != std::string::npos || head.find("\"assets\"") != std::string::npos) return true;
    // An ItemCollection without items has neither key: read as STAC, it is told to hold no items
    // instead of 'not a raster GDAL can read' (an audit). A vector GeoJSON is left to GDAL.
    if (head.find("\"FeatureCollection\"") == std::string::npos || st.st_size > (1 << 20)) return false;
    try {
        const Json j = parseJson(readText(path), path);
        return j.is_object() && j.contains("features") && j.at("features").is_array() && j.at("features").empty();
    } catch (const Error&) {
        return false;
    }
}

std::vector<StacScene> readStac(const std::string& path, const std::map<std::string, std::string>& overrides) {
    const Json root = parseJson(readText(path), path);
    const JsonReader r(root, path);
    std::string base = CPLGetDirname(path.c_str());
    if (startsWith(path, "/vsicurl/")) base = path.substr(0, path.rfind('/'));
    std::vector<StacScene> out;
    const std::string t = root.is_object() ? optionalText(r, "type") : "";
    if (t == "Feature") {
        out.push_back(sceneFromItem(r, base, overrides));
    } else if (t == "FeatureCollection") {
        if (!r.has("features")) throw DataError(path + ": STAC ItemCollection without features");
        for (const auto& item : r.at("features").items(kMaxStacItems)) {
            item.object();
            out.push_back(sceneFromItem(item, base, overrides));
        }
    } else {
        throw DataError(path + " is not a STAC Item or ItemCollection (\"type\" must be Feature or FeatureCollection)");
    }
    if (out.empty()) throw DataError(path + ": the STAC ItemCollection holds no items");
    return out;
}

}  // namespace riskmap
