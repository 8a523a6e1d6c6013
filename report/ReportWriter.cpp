#include "report/ReportWriter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "output/FileCommit.hpp"
#include "raster/InputCatalog.hpp"
#include "report/ChipRenderer.hpp"
#include "report/GeoJsonExport.hpp"
#include "report/ReportAssets.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

namespace fs = std::filesystem;

namespace {

constexpr int kPrecision = 7;  // ~1 cm: the layers' own precision
// Fields riskmap writes as lists; FlatGeobuf stores them as JSON text.
const std::set<std::string> kListFields{"sources", "risk_factors"};

// Files go only into the private folder being built (mkdtemp), never through a link.
void writeFile(const fs::path& path, const void* data, std::size_t size) {
    fs::create_directories(path.parent_path());
    writeNewFile(path.string(), data, size, 0600);
}

// A chip's file name from a feature id, which comes from a file and may hold anything
// ("../../x", "/etc/y", control bytes): only [A-Za-z0-9_-] survive, and a counter keeps
// names that sanitise alike apart.
std::string chipFileName(const std::string& id, std::set<std::string>& used) {
    std::string base;
    for (unsigned char c : id.substr(0, 80)) base += std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '_';
    if (base.empty()) base = "lead";
    std::string name = base;
    for (int k = 2; !used.insert(name).second; ++k) name = base + "-" + std::to_string(k);
    return "chips/" + name + ".png";
}

void writeText(const fs::path& path, const std::string& text) { writeFile(path, text.data(), text.size()); }

bool isReportFolder(const fs::path& dir) {
    return fs::exists(dir / "data.js") && fs::exists(dir / "index.html");
}

// Removes the folder being built unless it was moved into place.
class TempDir {
public:
    explicit TempDir(fs::path p) : path_(std::move(p)) {}
    ~TempDir() {
        std::error_code ec;
        if (!kept_) fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    void keep() { kept_ = true; }

private:
    fs::path path_;
    bool kept_ = false;
};

const Json* member(const Json& j, const std::string& key) {
    const Json* v = j.isObject() ? j.find(key) : nullptr;
    return v && !v->isNull() ? v : nullptr;
}

double number(const Json& props, const std::string& key) {
    const Json* v = member(props, key);
    return v && v->isNumber() ? v->asDouble() : 0.0;
}

std::string text(const Json& props, const std::string& key) {
    const Json* v = member(props, key);
    return v && v->isString() ? v->asString() : std::string();
}

// Relative paths in the scan's request are relative to the folder the scan ran in.
std::string resolve(const std::string& path, const std::string& workingDir) {
    if (path.empty() || path[0] == '/' || path.find("://") != std::string::npos || workingDir.empty()) return path;
    return (fs::path(workingDir) / path).string();
}

// The outer rings of a GeoJSON Polygon or MultiPolygon.
std::vector<std::vector<LonLat>> outerRings(const Json& geometry) {
    std::vector<std::vector<LonLat>> rings;
    if (!geometry.isObject()) return rings;
    const std::string type = text(geometry, "type");
    auto ring = [](const Json& r) {
        std::vector<LonLat> out;
        for (const auto& p : r.asArray()) out.push_back({p.asArray()[0].asDouble(), p.asArray()[1].asDouble()});
        return out;
    };
    const Json& c = *geometry.find("coordinates");
    if (type == "Polygon" && !c.asArray().empty()) rings.push_back(ring(c.asArray()[0]));
    if (type == "MultiPolygon")
        for (const auto& poly : c.asArray())
            if (!poly.asArray().empty()) rings.push_back(ring(poly.asArray()[0]));
    return rings;
}

// Footprints from the manifest, for scans written before footprint layers existed.
Json footprintsFromManifest(const Json& manifest) {
    Json features = Json::array();
    if (const Json* ins = member(manifest, "inputs"))
        for (const auto& in : ins->asArray()) {
            const Json* g = member(in, "footprint");
            if (!g) continue;
            Json props = Json::object();
            props.set("source", text(in, "source"));
            Json f = Json::object();
            f.set("type", "Feature");
            f.set("properties", props);
            f.set("geometry", *g);
            features.push(f);
        }
    Json fc = Json::object();
    fc.set("type", "FeatureCollection");
    fc.set("name", "footprints");
    fc.set("features", features);
    return fc;
}

}  // namespace

ReportWriter::ReportWriter(ReportRequest request) : request_(std::move(request)) {
    if (request_.scan.empty()) throw UsageError("report needs the output of a scan (e.g. kilns.geojson)");
    if (request_.outDir.empty()) throw UsageError("report needs an output folder: -o DIR");
    manifestPath_ = ScanJob::manifestPathFor(request_.scan);
    if (!fs::exists(request_.scan)) throw DataError("'" + request_.scan + "' does not exist: pass a layer written by riskmap scan");
    if (!fs::exists(manifestPath_))
        throw DataError("'" + request_.scan + "' has no manifest '" + manifestPath_ +
                        "': pass a layer written by riskmap scan or merge, with its manifest beside it");
    const fs::path out(request_.outDir);
    if (fs::is_symlink(out))
        throw UsageError("'" + request_.outDir + "' is a symbolic link: riskmap never writes through links; choose a folder");
    if (fs::exists(out)) {
        if (!fs::is_directory(out)) throw UsageError("'" + request_.outDir + "' exists and is not a folder");
        const bool empty = fs::is_empty(out);
        if (!empty && !isReportFolder(out))
            throw UsageError("'" + request_.outDir + "' is a folder that is not a riskmap report: choose a new folder");
        if (!empty && !request_.overwrite)
            throw UsageError("'" + request_.outDir + "' already holds a report: pass --overwrite to replace it");
    }
}

ReportSummary ReportWriter::write(const std::atomic<bool>* cancel) const {
    ReportSummary summary;
    const Json manifest = Json::parseFile(manifestPath_);
    const Json* det = member(manifest, "detector");
    const std::string detName = det ? text(*det, "name") : std::string();

    // The layers, as the manifest records them.
    const Json* layers = member(manifest, "layers");
    auto layerJson = [&](const std::string& role) -> Json {
        const Json* l = layers ? member(*layers, role) : nullptr;
        if (!l) return Json();
        // The manifest records paths as the scan was given them; every layer file sits beside
        // the scan's output, so look there, whatever the folder the report runs from.
        const std::string path = (fs::path(request_.scan).parent_path() / fs::path(text(*l, "path")).filename()).string();
        if (!fs::exists(path)) {
            summary.notes.push_back("the " + role + " layer '" + text(*l, "path") + "' is missing");
            return Json();
        }
        return GeoJsonExport::layer(path, text(*l, "layer"), kPrecision, kListFields);
    };
    Json detections = layerJson("detections");
    if (detections.isNull()) detections = GeoJsonExport::layer(request_.scan, detName, kPrecision, kListFields);
    Json grid = layerJson("grid");
    Json footprints = layerJson("footprints");
    if (footprints.isNull()) footprints = footprintsFromManifest(manifest);
    Json gaps = layerJson("nodata_gaps");
    if (gaps.isNull()) summary.notes.push_back("no nodata-gap layer: the scan did not record one");
    if (grid.isNull())
        summary.notes.push_back("no risk grid: scan with --grid METRES to add one");

    Json::Array& feats = detections.find("features")->asArray();
    summary.detections = feats.size();

    // Chips for the highest-risk leads first.
    std::vector<std::size_t> order(feats.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Json& pa = *feats[a].find("properties");
        const Json& pb = *feats[b].find("properties");
        if (number(pa, "risk") != number(pb, "risk")) return number(pa, "risk") > number(pb, "risk");
        if (number(pa, "score") != number(pb, "score")) return number(pa, "score") > number(pb, "score");
        return text(pa, "id") < text(pb, "id");
    });
    for (auto& f : feats) {
        f.find("properties")->set("chip", Json());
        f.find("properties")->set("chip_info", Json());
    }

    const fs::path target(request_.outDir);
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (!fs::is_directory(parent)) throw IoError("the folder '" + parent.string() + "' for the report does not exist");
    std::string tmpl = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw IoError("cannot create a folder in '" + parent.string() + "' for the report");
    TempDir tmp(tmpl);

    // Reopen the scanned rasters to cut chips; a report without chips is still a report.
    std::unique_ptr<InputCatalog> catalog;
    std::map<std::string, std::size_t> bySource;
    if (request_.maxChips > 0 && !feats.empty()) {
        try {
            const Json* req = member(manifest, "request");
            if (!req) throw DataError("the manifest does not record the scan's inputs");
            InputRequest ir = ScanJob::inputRequestFromJson(*req);
            const std::string wd = text(manifest, "working_dir");
            for (auto& p : ir.paths) p = resolve(p, wd);
            for (auto& b : ir.bands) b.path = resolve(b.path, wd);
            catalog = std::make_unique<InputCatalog>(InputCatalog::open(ir));
            for (std::size_t i = 0; i < catalog->sources().size(); ++i) bySource[catalog->sources()[i]] = i;
        } catch (const Error& e) {
            summary.notes.push_back(std::string("no image chips: cannot reopen the scanned rasters (") + e.what() + ")");
        }
    }
    std::vector<std::unique_ptr<ChipRenderer>> renderers(catalog ? catalog->inputs().size() : 0);
    std::size_t missingSource = 0, offRaster = 0;
    std::set<std::string> chipNames;
    for (std::size_t k = 0; catalog && k < order.size() && summary.chips < request_.maxChips; ++k) {
        if (cancel && cancel->load()) throw Cancelled("report cancelled");
        Json& props = *feats[order[k]].find("properties");
        auto it = bySource.find(text(props, "source"));
        if (it == bySource.end()) {
            ++missingSource;
            continue;
        }
        auto& r = renderers[it->second];
        if (!r) r = std::make_unique<ChipRenderer>(catalog->inputs()[it->second]);
        const std::string id = text(props, "id");
        char line2[96];
        std::snprintf(line2, sizeof line2, "risk %.2f (%s), score %.2f", number(props, "risk"),
                      text(props, "risk_level").c_str(), number(props, "score"));
        std::vector<std::string> caption{id, line2, text(props, "source")};
        if (const Json* factors = member(props, "risk_factors"); factors && factors->isArray())
            for (const auto& f : factors->asArray())
                if (f.isString()) caption.push_back("+ " + f.asString());
        ChipInfo info;
        std::vector<unsigned char> png =
            r->render(outerRings(*feats[order[k]].find("geometry")), caption, request_.chipMinMetres, info);
        if (png.empty()) {
            ++offRaster;
            continue;
        }
        const std::string name = chipFileName(id, chipNames);
        writeFile(tmp.path() / name, png.data(), png.size());
        Json ci = Json::object();
        Json centre = Json::array();
        centre.push(std::round(info.centre.lon * 1e6) / 1e6);
        centre.push(std::round(info.centre.lat * 1e6) / 1e6);
        ci.set("centre", centre);
        ci.set("scale_m", std::round(catalog->inputs()[it->second].gsdX() * 100) / 100);
        ci.set("width_m", std::round(info.widthMetres));
        ci.set("bands", info.bands);
        props.set("chip", name);
        props.set("chip_info", ci);
        ++summary.chips;
    }
    if (missingSource > 0)
        summary.notes.push_back(std::to_string(missingSource) + " leads name a source that is not among the reopened rasters");
    if (offRaster > 0) summary.notes.push_back(std::to_string(offRaster) + " leads lie off their raster and have no chip");
    if (feats.size() > request_.maxChips)
        summary.notes.push_back("image chips for the " + std::to_string(request_.maxChips) +
                                " highest-risk leads only (--max-chips)");

    std::string title = request_.title;
    if (title.empty())
        title = (detName.empty() ? std::string("riskmap") : detName) + " leads: " + fs::path(request_.scan).filename().string();
    Json data = Json::object();
    data.set("title", title);
    data.set("generated_by", std::string("riskmap ") + kRiskmapVersion);
    data.set("generated_utc", utcNow());
    Json notes = Json::array();
    for (const auto& n : summary.notes) notes.push(n);
    data.set("notes", notes);
    data.set("manifest", manifest);
    data.set("detections", detections);
    data.set("grid", grid);
    data.set("footprints", footprints);
    data.set("gaps", gaps);
    writeText(tmp.path() / "data.js",
              "// riskmap evidence report data. SENSITIVE: exact locations of possible victims; do not publish.\n"
              "window.RISKMAP_DATA = " +
                  data.dump() + ";\n");
    for (const auto& a : reportAssets()) writeFile(tmp.path() / a.name, a.data, a.size);
    for (auto& e : fs::recursive_directory_iterator(tmp.path()))
        if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::replace);

    // Into place: the old report (if --overwrite) goes only once the new one is complete.
    const fs::path old = tmp.path().string() + ".old";
    if (fs::is_symlink(target)) throw UsageError("'" + target.string() + "' became a symbolic link: nothing was changed");
    const bool replacing = fs::exists(target);
    if (replacing) fs::rename(target, old);
    try {
        fs::rename(tmp.path(), target);
    } catch (const fs::filesystem_error&) {
        if (replacing) fs::rename(old, target);
        throw IoError("cannot move the report into '" + target.string() + "'");
    }
    tmp.keep();
    if (replacing) fs::remove_all(old);
    summary.dir = target.string();
    return summary;
}

}  // namespace riskmap
