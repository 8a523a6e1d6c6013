#include "raster/SensorProfile.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/Error.hpp"

namespace riskmap {

namespace {

// A band description as matched: lower case, without surrounding blanks ("RED " is red; an
// audit found it unnamed).
std::string keyOf(std::string s) {
    const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
    s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), blank));
    s.erase(std::find_if_not(s.rbegin(), s.rend(), blank).base(), s.end());
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::vector<SensorProfile> makeProfiles() {
    using L = SensorProfile::Layout;
    std::vector<SensorProfile> p;
    // Sentinel-2 MSI. L1C/L2A digital numbers are reflectance x 10000 (ESA product spec).
    // Processing baseline 04.00+ adds 1000: STAC items say so (StacItems applies -0.1); files
    // opened alone need --offset -0.1.
    p.emplace_back(
        "sentinel2", "Sentinel-2 MSI (L1C/L2A, 10/20/60 m bands)",
        std::vector<L>{
            {{"coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
              "nir08", "wvp", "cirrus", "swir1", "swir2"}},
            {{"coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
              "nir08", "wvp", "swir1", "swir2"}},
            {{"blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir1",
              "swir2"}},
            {{"blue", "green", "red", "nir"}},
            {{"red", "green", "blue"}},
        },
        std::vector<std::pair<std::string, std::string>>{
            {"b01", "coastal"}, {"b02", "blue"},     {"b03", "green"},    {"b04", "red"},
            {"b05", "rededge1"}, {"b06", "rededge2"}, {"b07", "rededge3"}, {"b08", "nir"},
            {"b8a", "nir08"},   {"b09", "wvp"},      {"b10", "cirrus"},   {"b11", "swir1"},
            {"b12", "swir2"},   {"tci_r", "red"},    {"tci_g", "green"},  {"tci_b", "blue"}},
        1e-4, 0.0);
    // Landsat 8/9 OLI. Collection 2 Level-2 surface reflectance: DN * 2.75e-5 - 0.2 (USGS).
    for (const char* name : {"landsat8", "landsat9"}) {
        p.emplace_back(
            name, std::string("Landsat ") + (name[7] == '8' ? "8" : "9") + " OLI (Collection 2)",
            std::vector<L>{
                {{"coastal", "blue", "green", "red", "nir", "swir1", "swir2"}},
                {{"coastal", "blue", "green", "red", "nir", "swir1", "swir2", "pan", "cirrus",
                  "tir1", "tir2"}},
                {{"blue", "green", "red", "nir", "swir1", "swir2"}},
            },
            std::vector<std::pair<std::string, std::string>>{
                {"sr_b1", "coastal"}, {"sr_b2", "blue"},  {"sr_b3", "green"}, {"sr_b4", "red"},
                {"sr_b5", "nir"},     {"sr_b6", "swir1"}, {"sr_b7", "swir2"}, {"b1", "coastal"},
                {"b2", "blue"},       {"b3", "green"},    {"b4", "red"},      {"b5", "nir"},
                {"b6", "swir1"},      {"b7", "swir2"},    {"b8", "pan"},      {"b9", "cirrus"}},
            2.75e-5, -0.2);
    }
    // Landsat 7 ETM+. Same Collection 2 scaling; older 8-bit products fall back to 1/255.
    p.emplace_back(
        "landsat7", "Landsat 7 ETM+ (bands 1-5 and 7, optionally 6 and 8)",
        std::vector<L>{
            {{"blue", "green", "red", "nir", "swir1", "swir2"}},
            {{"blue", "green", "red", "nir", "swir1", "tir", "swir2"}},
            {{"blue", "green", "red", "nir", "swir1", "tir", "swir2", "pan"}},
        },
        std::vector<std::pair<std::string, std::string>>{
            {"sr_b1", "blue"}, {"sr_b2", "green"}, {"sr_b3", "red"},  {"sr_b4", "nir"},
            {"sr_b5", "swir1"}, {"sr_b7", "swir2"}, {"b1", "blue"},    {"b2", "green"},
            {"b3", "red"},      {"b4", "nir"},      {"b5", "swir1"},   {"b6", "tir"},
            {"b7", "swir2"},    {"b8", "pan"}},
        2.75e-5, -0.2);
    // PlanetScope analytic surface reflectance is reflectance x 10000 (Planet product spec).
    p.emplace_back(
        "planetscope", "PlanetScope 4-band, 8-band SuperDove, or 3-band visual",
        std::vector<L>{
            {{"blue", "green", "red", "nir"}},
            {{"coastal", "blue", "green1", "green", "yellow", "red", "rededge", "nir"}},
            {{"blue", "green", "red", "rededge", "nir"}},
            {{"red", "green", "blue"}},
        },
        std::vector<std::pair<std::string, std::string>>{
            {"coastal_blue", "coastal"}, {"green_i", "green1"}, {"red_edge", "rededge"}},
        1e-4, 0.0);
    p.emplace_back("rgb", "Any true-colour RGB or RGBA image (8-bit unless told otherwise)",
                   std::vector<L>{{{"red", "green", "blue"}}, {{"red", "green", "blue", "alpha"}}},
                   std::vector<std::pair<std::string, std::string>>{},
                   1.0 / 65535.0, 0.0);
    return p;
}

const std::set<std::string>& canonicalSet() {
    static const std::set<std::string> s = [] {
        std::set<std::string> out;
        for (const auto& n : SensorProfile::canonicalNames()) out.insert(n);
        return out;
    }();
    return s;
}

}  // namespace

SensorProfile::SensorProfile(std::string name, std::string description,
                             std::vector<Layout> layouts,
                             std::vector<std::pair<std::string, std::string>> aliases,
                             double integerScale, double integerOffset)
    : name_(std::move(name)),
      description_(std::move(description)),
      layouts_(std::move(layouts)),
      aliases_(std::move(aliases)),
      integerScale_(integerScale),
      integerOffset_(integerOffset) {}

const std::vector<std::string>& SensorProfile::canonicalNames() {
    static const std::vector<std::string> names = {
        "coastal", "blue",  "green1", "green", "yellow", "red",  "rededge", "rededge1", "rededge2",
        "rededge3", "nir",  "nir08",  "wvp",   "cirrus", "swir1", "swir2",  "pan",      "tir",
        "tir1",    "tir2", "alpha"};
    return names;
}

std::optional<std::vector<std::string>> SensorProfile::layoutFor(std::size_t count) const {
    for (const auto& l : layouts_)
        if (l.names.size() == count) return l.names;
    return std::nullopt;
}

std::string SensorProfile::nameForDescription(const std::string& description) const {
    std::string d = keyOf(description);
    for (const auto& a : aliases_)
        if (a.first == d) return a.second;
    return {};
}

ReflectanceScale SensorProfile::scaleFor(const std::string& type) const {
    // 8-bit data is a rendering or an old product: map 0..255 onto 0..1.
    if (type == "Byte" || type == "Int8") return {1.0 / 255.0, 0.0};
    if (type == "Float32" || type == "Float64") return {1.0, 0.0};
    return {integerScale_, integerOffset_};
}

std::string SensorProfile::layoutsText() const {
    std::string out;
    for (const auto& l : layouts_) {
        if (!out.empty()) out += "; ";
        out += std::to_string(l.names.size()) + " bands: ";
        for (std::size_t i = 0; i < l.names.size(); ++i) out += (i ? "," : "") + l.names[i];
    }
    return out;
}

const std::vector<SensorProfile>& SensorProfile::builtin() {
    static const std::vector<SensorProfile> profiles = makeProfiles();
    return profiles;
}

const SensorProfile& SensorProfile::byName(const std::string& name) {
    std::string n = keyOf(name);
    std::string known;
    for (const auto& p : builtin()) {
        if (p.name() == n) return p;
        known += (known.empty() ? "" : ", ") + p.name();
    }
    throw UsageError("unknown sensor profile '" + name + "': use one of " + known);
}

const SensorProfile* SensorProfile::detect(const std::vector<BandDescriptor>& bands) {
    if (bands.empty()) return nullptr;
    // Descriptions such as B8A or SR_B5 are product-specific: pick the profile that explains
    // every described band.
    std::size_t described = 0;
    for (const auto& b : bands)
        if (!b.description.empty()) ++described;
    if (described > 0) {
        for (const auto& p : builtin()) {
            std::size_t hits = 0;
            for (const auto& b : bands) {
                if (b.description.empty()) continue;
                if (!p.nameForDescription(b.description).empty() ||
                    canonicalSet().count(keyOf(b.description)))
                    ++hits;
            }
            // Canonical names alone (red, nir) fit every profile; require a product-specific hit.
            bool specific = false;
            for (const auto& b : bands)
                if (!p.nameForDescription(b.description).empty()) specific = true;
            if (hits == described && specific) return &p;
        }
    }
    // Colour interpretation R, G, B (and A) means a true-colour rendering.
    if (bands.size() == 3 || bands.size() == 4) {
        bool rgb = bands[0].colorInterp == "Red" && bands[1].colorInterp == "Green" &&
                   bands[2].colorInterp == "Blue";
        if (rgb && (bands.size() == 3 || bands[3].colorInterp == "Alpha")) return &byName("rgb");
    }
    return nullptr;
}

std::vector<std::string> resolveBandNames(const std::vector<BandDescriptor>& bands,
                                          const SensorProfile* profile,
                                          std::vector<std::string>* shadowed) {
    std::vector<std::string> names(bands.size());
    std::optional<std::vector<std::string>> layout;
    if (profile) layout = profile->layoutFor(bands.size());
    std::set<std::string> used;
    for (std::size_t i = 0; i < bands.size(); ++i) {
        std::string d = keyOf(bands[i].description);
        std::string n;
        if (canonicalSet().count(d)) n = d;
        if (n.empty() && profile) n = profile->nameForDescription(bands[i].description);
        if (n.empty() && layout) n = (*layout)[i];
        if (n.empty() && bands[i].colorInterp == "Alpha") n = "alpha";
        if (n.empty() && !profile && bands.size() >= 3) {
            if (bands[i].colorInterp == "Red") n = "red";
            if (bands[i].colorInterp == "Green") n = "green";
            if (bands[i].colorInterp == "Blue") n = "blue";
        }
        // Two bands may not share a name; the later one keeps its positional name.
        if (!n.empty() && used.count(n) && shadowed)
            shadowed->push_back("band " + std::to_string(i + 1) + " would also be '" + n +
                                "': the first such band is " + n + ", this one b" +
                                std::to_string(i + 1) +
                                " (name bands with --band NAME=PATH:INDEX)");
        if (n.empty() || used.count(n)) n = "b" + std::to_string(i + 1);
        used.insert(n);
        names[i] = n;
    }
    return names;
}

}  // namespace riskmap
