#include "provenance/Manifest.hpp"

#include <filesystem>
#include <map>

#include "core/Error.hpp"
#include "core/Paths.hpp"

namespace riskmap {

namespace {

// Limits on what a manifest may declare (a hostile file must not make a reader allocate freely).
constexpr std::size_t kMaxInputs = 1000000;
constexpr std::size_t kMaxFootprintPoints = 100000;

Json optionalNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(); }

std::optional<double> readOptionalNumber(const JsonReader& r, const std::string& key) {
    if (!r.has(key)) return std::nullopt;
    return r.at(key).number();
}

Json bandsJson(const std::vector<BandSpec>& bands) {
    Json out = Json::array();
    for (const auto& b : bands) {
        Json x = Json::object();
        x["name"] = b.name;
        x["path"] = b.path;
        x["index"] = b.index;
        x["scale"] = optionalNumber(b.scale);
        x["offset"] = optionalNumber(b.offset);
        out.push_back(x);
    }
    return out;
}

std::vector<LonLat> readRing(const JsonReader& polygon) {
    std::vector<LonLat> ring;
    const auto rings = polygon.at("coordinates").items();
    if (rings.empty()) polygon.fail("has no ring");
    for (const auto& pt : rings.front().items(kMaxFootprintPoints)) {
        const auto xy = pt.items(3);
        if (xy.size() < 2) pt.fail("must hold a longitude and a latitude");
        ring.push_back({xy[0].number(-540, 540), xy[1].number(-90, 90)});
    }
    return ring;
}

Json outputJson(const Manifest::Output& o) {
    Json j = Json::object();
    j["path"] = o.path;
    j["format"] = o.format;
    j["crs"] = o.crs;
    j["features"] = o.features;
    j["file_mode"] = o.fileMode;
    j["coordinate_precision"] = o.coordinatePrecision;
    j["overlap_merge"] = o.overlapMerge;
    if (o.simplifyMetres) j["simplify_m"] = *o.simplifyMetres < 0 ? Json("half a pixel") : Json(*o.simplifyMetres);
    if (o.outCrs) j["out_crs"] = *o.outCrs;
    return j;
}

Manifest::Output readOutput(const JsonReader& r) {
    Manifest::Output o;
    o.path = r.at("path").str();
    o.format = r.at("format").str();
    o.crs = r.at("crs").str();
    o.features = static_cast<std::size_t>(r.at("features").integer(0));
    o.fileMode = r.at("file_mode").str();
    o.coordinatePrecision = static_cast<int>(r.at("coordinate_precision").integer(0, 15));
    o.overlapMerge = r.at("overlap_merge").number(0, 1);
    if (r.has("simplify_m"))
        o.simplifyMetres = r.at("simplify_m").json().is_string() ? -1.0 : r.at("simplify_m").number(0, 1e4);
    if (r.has("out_crs")) o.outCrs = r.at("out_crs").str();
    return o;
}

Json diffSideJson(const Manifest::DiffSide& d) {
    return Json{{"path", d.path},
                {"date", d.date.empty() ? Json() : Json(d.date)},
                {"detector", d.detector},
                {"features", d.features}};
}

Manifest::DiffSide readDiffSide(const JsonReader& r) {
    Manifest::DiffSide d;
    d.path = r.at("path").str();
    d.date = r.str("date", "");
    d.detector = r.at("detector").str();
    d.features = static_cast<std::size_t>(r.at("features").integer(0));
    return d;
}

Json diffJson(const Manifest::Diff& d) {
    return Json{{"before", diffSideJson(d.before)},
                {"after", diffSideJson(d.after)},
                {"radius_m", d.radiusMetres},
                {"min_score", d.minScore},
                {"matching", "one-to-one, most pairs then least total distance, geodesic metres"},
                {"counts", d.counts}};
}

Manifest::Diff readDiff(const JsonReader& r) {
    Manifest::Diff d;
    d.before = readDiffSide(r.at("before"));
    d.after = readDiffSide(r.at("after"));
    d.radiusMetres = r.at("radius_m").number(0, 1e7);
    d.minScore = r.at("min_score").number(0, 1);
    d.counts = r.at("counts").object();
    return d;
}

Manifest::Input readInput(const JsonReader& in) {
    return {in.at("source").str(), readRing(in.at("footprint")), in.object(), in.str("acquired", "")};
}

}  // namespace

Json RecordedRequest::toJson() const {
    Json in = Json::object();
    Json paths = Json::array();
    for (const auto& p : input.paths) paths.push_back(p);
    in["paths"] = paths;
    in["bands"] = bandsJson(input.bands);
    Json stac = Json::object();
    for (const auto& [band, key] : input.stacAssets) stac[band] = key;
    in["stac_assets"] = stac;
    if (!input.stacItems.empty()) in["stac_items"] = input.stacItems;
    if (!input.date.empty()) in["date"] = input.date;
    Json io = Json::object();
    io["sensor"] = input.options.sensor;
    io["scale"] = optionalNumber(input.options.scale);
    io["offset"] = optionalNumber(input.options.offset);
    io["resampling"] = input.options.resampling;
    if (!input.options.zeroPixels.empty()) io["zero_pixels"] = input.options.zeroPixels;
    Json req = Json::object();
    req["inputs"] = in;
    req["input_options"] = io;
    req["recipe"] = recipe;
    req["tile_size"] = tileSize;
    return req;
}

RecordedRequest RecordedRequest::fromJson(const JsonReader& r) {
    RecordedRequest q;
    const JsonReader in = r.at("inputs");
    for (const auto& p : in.at("paths").items(kMaxInputs)) q.input.paths.push_back(p.str());
    for (const auto& b : in.at("bands").items(256)) {
        BandSpec spec;
        spec.name = b.at("name").str();
        spec.path = b.at("path").str();
        spec.index = static_cast<int>(b.at("index").integer(1, 65535));
        spec.scale = readOptionalNumber(b, "scale");
        spec.offset = readOptionalNumber(b, "offset");
        q.input.bands.push_back(spec);
    }
    for (const auto& [band, key] : in.at("stac_assets").members()) q.input.stacAssets[band] = key.str();
    if (auto items = in.find("stac_items"))
        for (const auto& id : items->items(kMaxInputs)) q.input.stacItems.push_back(id.str());
    q.input.date = in.str("date", "");
    const JsonReader io = r.at("input_options");
    q.input.options.sensor = io.at("sensor").str();
    q.input.options.scale = readOptionalNumber(io, "scale");
    q.input.options.offset = readOptionalNumber(io, "offset");
    q.input.options.resampling = io.at("resampling").str();
    // Empty for a manifest from before --zero-pixels: it replays as it ran (zeros were data).
    q.input.options.zeroPixels = io.str("zero_pixels", "");
    q.recipe = r.at("recipe").object();
    q.tileSize = static_cast<int>(r.at("tile_size").integer(1, 1 << 20));
    return q;
}

Json Manifest::toJson() const {
    Json m = Json::object();
    m["manifest_version"] = version;
    if (!isScan()) m["kind"] = kind;
    m["riskmap_version"] = riskmapVersion;
    m["command_line"] = commandLine;
    m["working_dir"] = workingDir;
    m["started_utc"] = startedUtc;
    m["finished_utc"] = finishedUtc;
    m["output"] = outputJson(output);
    Json ls = Json::object();
    for (const auto& l : layers) ls[l.role] = Json{{"path", l.path}, {"layer", l.layer}};
    m["layers"] = ls;
    // A scan writes every key; a diff or a series only those it has.
    if (isScan() || !recipe.is_null()) m["recipe"] = recipe;
    if (isScan()) m["request"] = request.toJson();
    if (isScan() || !detectorName.empty()) m["detector"] = Json{{"name", detectorName}, {"halo_m", haloMetres}};
    if (detectorResources) m["detector"]["resources"] = *detectorResources;
    if (isScan() || !risk.is_null()) m["risk"] = risk;
    if (isScan() || !grid.is_null()) m["grid"] = grid;
    if (publish) m["publish"] = *publish;
    if (explain) m["explain"] = *explain;
    if (diff) m["diff"] = diffJson(*diff);
    if (series) m["series"] = *series;
    Json ins = Json::array();
    for (const auto& in : inputs) ins.push_back(in.description);
    if (isScan() || !inputs.empty()) m["inputs"] = ins;
    m["warnings"] = warnings;
    if (!sampleWarnings.empty()) m["sample_warnings"] = sampleWarnings;
    m["tiling"] = tiling;
    m["counts"] = counts;
    m["timings"] = timings;
    return m;
}

namespace {

// The keys every kind of manifest has.
void readCommon(const JsonReader& r, Manifest& m) {
    m.riskmapVersion = r.at("riskmap_version").str();
    for (const auto& a : r.at("command_line").items()) m.commandLine.push_back(a.str());
    m.workingDir = r.str("working_dir", "");
    m.startedUtc = r.str("started_utc", "");
    m.finishedUtc = r.str("finished_utc", "");
    m.output = readOutput(r.at("output"));
    if (auto ls = r.find("layers"))
        for (const auto& [role, l] : ls->members()) m.layers.push_back({role, l.at("path").str(), l.at("layer").str()});
    if (auto w = r.find("warnings"))
        for (const auto& x : w->items()) m.warnings.push_back(x.str());
    if (auto w = r.find("sample_warnings"))
        for (const auto& x : w->items()) m.sampleWarnings.push_back(x.str());
    m.tiling = r.has("tiling") ? r.at("tiling").json() : Json::object();
    m.counts = r.has("counts") ? r.at("counts").json() : Json::object();
    m.timings = r.has("timings") ? r.at("timings").json() : Json::object();
}

// What a scan recorded: the request, the recipe, the detector and the inputs (a diff or a series
// may hold some of these, without a request).
void readScanKeys(const JsonReader& r, Manifest& m) {
    const bool scan = m.isScan();
    if (scan || r.has("recipe")) m.recipe = r.at("recipe").object();
    if (scan) m.request = RecordedRequest::fromJson(r.at("request"));
    if (scan || r.has("detector")) {
        m.detectorName = r.at("detector").at("name").str();
        m.haloMetres = r.at("detector").number("halo_m", 0);
        if (r.at("detector").has("resources")) m.detectorResources = r.at("detector").at("resources").object();
    }
    if (scan || r.has("risk")) m.risk = r.has("risk") ? r.at("risk").object() : Json::object();
    if (scan || r.has("grid")) m.grid = r.has("grid") ? r.at("grid").object() : Json::object();
    if (r.has("publish")) m.publish = r.at("publish").object();
    if (r.has("explain")) m.explain = r.at("explain").object();
    if (scan || r.has("inputs"))
        for (const auto& in : r.at("inputs").items(kMaxInputs)) m.inputs.push_back(readInput(in));
}

}  // namespace

Manifest Manifest::fromJson(const Json& j, const std::string& origin) {
    const JsonReader r(j, origin);
    r.object();
    Manifest m;
    m.version = r.has("manifest_version") ? static_cast<int>(r.at("manifest_version").integer()) : 1;
    if (m.version > kVersion)
        throw DataError("'" + origin + "' is a manifest of a newer riskmap (version " + std::to_string(m.version) +
                        "): upgrade riskmap to read it");
    m.kind = r.str("kind", "scan");
    if (m.kind != "scan" && m.kind != "diff" && m.kind != "series")
        r.at("kind").fail("must be scan, diff or series, not '" + m.kind + "'");
    readCommon(r, m);
    readScanKeys(r, m);
    if (m.kind == "diff") m.diff = readDiff(r.at("diff"));
    if (m.kind == "series") m.series = r.at("series").object();
    return m;
}

std::vector<std::pair<std::string, std::string>> Manifest::earlierLayers(
    const std::string& output) {
    std::vector<std::pair<std::string, std::string>> out;
    try {
        const Manifest m = read(pathFor(output));
        for (const auto& l : m.layers) out.emplace_back(l.role, m.resolve(l.path));
    } catch (const std::exception&) {
        out.clear();  // no manifest, or not one riskmap can read: claim nothing
    }
    return out;
}

Manifest Manifest::read(const std::string& path) { return fromJson(parseJsonFile(path), path); }

std::set<std::string> Manifest::changedInputs(const InputCatalog& catalog) const {
    std::map<std::string, const Json*> recorded;
    for (const auto& in : inputs)
        if (in.description.is_object() && in.description.contains("files"))
            recorded[in.source] = &in.description.at("files");
    std::set<std::string> changed;
    auto same = [](const Json& a, const Json& b, const char* key) {
        return a.value(key, Json()) == b.value(key, Json());
    };
    for (std::size_t i = 0; i < catalog.inputs().size(); ++i) {
        const auto it = recorded.find(catalog.sources()[i]);
        if (it == recorded.end() || !it->second->is_array()) continue;
        const Json now = InputCatalog::fileStamps(catalog.inputs()[i]);
        bool differ = now.size() != it->second->size();
        for (std::size_t k = 0; !differ && k < now.size(); ++k)
            differ =
                !same(now[k], (*it->second)[k], "size") || !same(now[k], (*it->second)[k], "mtime");
        if (differ) changed.insert(catalog.sources()[i]);
    }
    return changed;
}

const Manifest::Layer* Manifest::layer(const std::string& role) const {
    for (const auto& l : layers)
        if (l.role == role) return &l;
    return nullptr;
}

double Manifest::gridCellMetres() const {
    const auto it = grid.is_object() ? grid.find("cell_m") : grid.end();
    return grid.is_object() && it != grid.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string Manifest::gridShape() const {
    const auto it = grid.is_object() ? grid.find("shape") : grid.end();
    return grid.is_object() && it != grid.end() && it->is_string() ? it->get<std::string>() : std::string("square");
}

std::string Manifest::resolve(const std::string& p) const {
    return resolveFrom(workingDir, p);
}

InputRequest Manifest::inputsAsRun() const {
    InputRequest r = request.input;
    for (auto& p : r.paths) p = resolve(p);
    for (auto& b : r.bands) b.path = resolve(b.path);
    return r;
}

namespace {

// Each reopened input under the source label the scan recorded for the same file.
InputCatalog labelledBy(const Manifest& m, InputCatalog c) {
    // By origin only: a folder or glob that now holds other files must not lend one raster's
    // label to another, and an input left out (reopenReadableInputs) shifts the others.
    std::map<std::string, std::string> byOrigin;
    for (const auto& in : m.inputs) {
        const Json& d = in.description;
        const std::string origin = d.is_object() && d.contains("origin") && d.at("origin").is_string() ? d.at("origin").get<std::string>() : "";
        byOrigin[m.resolve(origin)] = in.source;
    }
    std::vector<std::string> recorded;
    for (const auto& in : c.inputs()) {
        const auto it = byOrigin.find(in.origin());
        if (it == byOrigin.end()) return c;
        recorded.push_back(it->second);
    }
    c.keepRecordedSources(recorded);
    return c;
}

}  // namespace

InputCatalog Manifest::reopenReadableInputs(std::vector<std::string>& skipped) const {
    InputRequest all = inputsAsRun(), readable = all;
    readable.paths.clear();
    for (const auto& p : all.paths) {  // each named input alone, so one missing file costs only its own
        InputRequest one = all;
        one.paths = {p}, one.bands.clear(), one.inputList.clear();
        try {
            InputCatalog::open(one);
            readable.paths.push_back(p);
        } catch (const Error& e) {
            skipped.push_back(e.what());
        }
    }
    if (!all.bands.empty()) {
        InputRequest bands = all;
        bands.paths.clear(), bands.inputList.clear();
        try {
            InputCatalog::open(bands);
        } catch (const Error& e) {
            skipped.push_back(e.what());
            readable.bands.clear();
        }
    }
    if (readable.paths.empty() && readable.bands.empty() && readable.inputList.empty())
    {
        std::string why;
        for (const auto& w : skipped) why += (why.empty() ? "" : "; ") + w;
        throw DataError(why.empty() ? std::string("the scan names no raster") : why);
    }
    return labelledBy(*this, InputCatalog::open(readable));
}

InputCatalog Manifest::reopenInputs() const { return labelledBy(*this, InputCatalog::open(inputsAsRun())); }


}  // namespace riskmap
