#include "report/ReportWriter.hpp"

#include <fcntl.h>
#include <gdal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "core/MemoryBudget.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "output/FileCommit.hpp"
#include "provenance/Manifest.hpp"
#include "raster/InputCatalog.hpp"
#include "report/ChipRenderer.hpp"
#include "report/DiffReport.hpp"
#include "report/GeoJsonExport.hpp"
#include "report/ReportAssets.hpp"

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

bool isReportFolder(const fs::path& dir) { return fs::exists(dir / "data.js") && fs::exists(dir / "index.html"); }

// Whether a report writes `rel` (a path inside its folder): data.js, its static files and their
// folders, chips/ and PNG chips in it.
bool reportWrites(const fs::path& rel, bool isDir) {
    const std::string r = rel.generic_string();
    if (r == "data.js" || (r == "chips" && isDir)) return true;
    if (!isDir && rel.parent_path() == "chips" && rel.extension() == ".png") return true;
    for (const auto& a : reportAssets()) {
        const std::string name = a.name;
        if (!isDir && name == r) return true;
        if (isDir && name.rfind(r + "/", 0) == 0) return true;
    }
    return false;
}

// The first entry of `dir` a report does not write (a link counts as foreign), or empty: an
// --overwrite replaces the whole folder, so it must hold nothing else (an audit lost notes.txt
// and photos/ from a folder that merely held an index.html and a data.js).
// With `chips`, a PNG under chips/ is the report's only when its data.js names it (an audit lost
// the user's annotated photo put among the chips).
std::string foreignEntry(const fs::path& dir, const std::set<std::string>* chips = nullptr) {
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        const bool link = it->is_symlink();
        const bool isDir = !link && it->is_directory();
        // Lexically: fs::relative follows a link and named its target ('../../victim.txt'), not
        // the entry in the folder (a sweep).
        const fs::path rel = it->path().lexically_relative(dir);
        const bool listedChip = !chips || rel.parent_path() != "chips" || chips->count(rel.generic_string()) > 0;
        if (link || (!isDir && !it->is_regular_file()) || !reportWrites(rel, isDir) || !listedChip) return rel.generic_string();
    }
    return "";
}

// The chip files an earlier report's data.js names ("chip": "chips/....png").
std::set<std::string> chipsNamed(const fs::path& dir) {
    std::set<std::string> out;
    std::ifstream in(dir / "data.js", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string key : {"\"chip\":\"", "\"chip_before\":\""})  // compact JSON, as writeData writes
        for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
            const std::size_t start = at + key.size(), end = text.find('"', start);
            if (end != std::string::npos) out.insert(text.substr(start, end - start));
        }
    return out;
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

// The folder a report is built in, removed unless it was moved into place; locked (flock on the
// folder) while this run holds it: a later run removes only leftovers no run holds (a run killed
// before it finished).
class TempDir {
public:
    explicit TempDir(fs::path p) : path_(std::move(p)) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~TempDir() {
        std::error_code ec;
        if (!kept_) fs::remove_all(path_, ec);
        if (fd_ >= 0) ::close(fd_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    void keep() { kept_ = true; }

private:
    fs::path path_;
    int fd_ = -1;
    bool kept_ = false;
};

// Whether a ".NAME.tmp-XXXXXX[.old]" folder is one a report run made: mkdtemp's six characters,
// owner-only (mkdtemp makes 0700) and ours, holding nothing a report does not write. An audit lost
// a folder of the user's named ".rep.tmp-x", and had one named "...tmp-archive.old" moved over
// the report.
bool madeByReport(const fs::path& p, const std::string& prefix) {
    std::string rest = p.filename().string().substr(prefix.size());
    if (rest.size() > 4 && rest.compare(rest.size() - 4, 4, ".old") == 0) rest.resize(rest.size() - 4);
    if (rest.size() != 6 || !std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isalnum(c) != 0; }))
        return false;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || st.st_uid != ::getuid() || (st.st_mode & 0777) != 0700) return false;
    try {
        return foreignEntry(p).empty();
    } catch (const fs::filesystem_error&) {
        return false;
    }
}

// Folders ".NAME.tmp-*" beside the report that no running report holds: a run killed while
// building (removed), or between the two renames where the file system cannot swap folders
// (".old": the earlier report, put back when NAME is missing). Returns what was done, for notes.
std::vector<std::string> tidyLeftovers(const fs::path& parent, const fs::path& target) {
    std::vector<std::string> done;
    const std::string prefix = "." + target.filename().string() + ".tmp-";
    std::error_code ec;
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(parent, ec))
        if (e.path().filename().string().rfind(prefix, 0) == 0 && e.is_directory() &&
            !e.is_symlink())
            found.push_back(e.path());
    std::sort(found.begin(), found.end());
    for (const auto& p : found) {
        if (!madeByReport(p, prefix)) continue;  // a folder of the user's that merely looks like one
        const int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        const bool idle = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        ::close(fd);
        if (!idle) continue;  // another report run is building there
        const bool earlier = p.extension() == ".old";
        if (earlier && !fs::exists(target, ec)) {
            fs::rename(p, target, ec);
            if (!ec)
                done.push_back("put back the earlier report '" + target.string() +
                               "' that an interrupted run had set aside");
            continue;
        }
        fs::remove_all(p, ec);
        if (!ec) done.push_back("removed '" + p.string() + "', left by an interrupted report run");
    }
    return done;
}

// A property of a feature read from a layer file (any type may be there).
double number(const Json& props, const std::string& key) {
    auto it = props.find(key);
    return it != props.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string text(const Json& props, const std::string& key) {
    auto it = props.find(key);
    return it != props.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Footprints from the manifest, for scans written before footprint layers existed.
Json footprintsFromManifest(const Manifest& m) {
    Json features = Json::array();
    for (const auto& in : m.inputs) {
        Json ring = Json::array();
        for (const auto& p : in.footprint) ring.push_back(Json::array({p.lon, p.lat}));
        features.push_back(Json{{"type", "Feature"},
                                {"properties", Json{{"source", in.source}}},
                                {"geometry", Json{{"type", "Polygon"}, {"coordinates", Json::array({ring})}}}});
    }
    return Json{{"type", "FeatureCollection"}, {"name", "footprints"}, {"features", features}};
}

struct ReportLayers {
    ExportedLayer detections;  // geometries as text: a scan may hold 100,000 outlines
    Json grid, footprints, gaps;
};

// The layers, as the manifest records them. The manifest records paths as the scan was given
// them; every layer file sits beside the scan's output, so look there, whatever the folder the
// report runs from.
ReportLayers loadLayers(const Manifest& m, const std::string& scan, const std::string& spool, std::vector<std::string>& notes) {
    // The layer's file beside the scan, or "" (with a note when the manifest names a missing one).
    auto fileOf = [&](const Manifest::Layer* l, const std::string& role) -> std::string {
        if (!l) return {};
        const std::string path = (fs::path(scan).parent_path() / fs::path(l->path).filename()).string();
        if (fs::exists(path)) return path;
        // Named where it was looked for: the manifest's path may exist elsewhere (a sweep).
        notes.push_back("the " + role + " layer is not beside the scan: no '" + path + "' (the manifest records '" + l->path + "')");
        return {};
    };
    auto layerJson = [&](const std::string& role) -> Json {
        const Manifest::Layer* l = m.layer(role);
        const std::string path = fileOf(l, role);
        return path.empty() ? Json() : GeoJsonExport::layer(path, l->layer, kPrecision, kListFields);
    };
    ReportLayers r;
    const Manifest::Layer* det = m.layer("detections");
    const std::string detPath = fileOf(det, "detections");
    r.detections = !detPath.empty() ? GeoJsonExport::read(detPath, det->layer, kPrecision, kListFields, spool)
                                    : GeoJsonExport::read(scan, m.detectorName, kPrecision, kListFields, spool);
    r.grid = layerJson("grid");
    r.footprints = layerJson("footprints");
    if (r.footprints.is_null()) r.footprints = footprintsFromManifest(m);
    r.gaps = layerJson("nodata_gaps");
    if (r.gaps.is_null()) notes.push_back("no nodata-gap layer: the scan did not record one");
    if (r.grid.is_null()) notes.push_back("no risk grid: scan with --grid METRES to add one");
    return r;
}

// GDAL's block cache while chips are cut: the chips' blocks, not the whole budget (GDAL's
// default, 5 % of the machine's memory, took 95 MB for 200 chips of a 10000 px raster).
std::size_t gdalCacheMB(std::size_t ramMB) { return std::max<std::size_t>(16, ramMB / 8); }

// A report holds each lead's properties as text and ranking keys (outlines wait in a file):
// ~0.6 KB per lead on ~72 MB of libraries and buffers, plus GDAL's cache (measured on the
// real-texture bench, 13,000 to 82,000 leads, with a margin).
double needMB(std::size_t leads, std::size_t ramMB) {
    return 72.0 + static_cast<double>(gdalCacheMB(ramMB)) + 0.6 * static_cast<double>(leads) / 1024.0;
}

// Highest risk first, then score, then id: chips go to the leads that matter most.
std::vector<std::size_t> byRisk(const ExportedLayer& feats) {
    struct Key {
        double risk, score;
        std::string id;
    };
    std::vector<Key> keys;
    keys.reserve(feats.size());
    for (std::size_t i = 0; i < feats.size(); ++i) {
        const Json p = feats.properties(i);
        keys.push_back({number(p, "risk"), number(p, "score"), text(p, "id")});
    }
    std::vector<std::size_t> order(feats.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Key& ka = keys[a];
        const Key& kb = keys[b];
        if (ka.risk != kb.risk) return ka.risk > kb.risk;
        if (ka.score != kb.score) return ka.score > kb.score;
        return ka.id < kb.id;
    });
    return order;
}

// The scanned rasters reopened to cut chips: those that can be, each one that cannot with a note
// (one deleted raster of four cost every chip: a sweep of hostile inputs); none when none can.
std::unique_ptr<InputCatalog> reopenInputs(const Manifest& m, std::vector<std::string>& notes) {
    try {
        return std::make_unique<InputCatalog>(m.reopenInputs());
    } catch (const Error&) {
    }
    std::vector<std::string> skipped;
    try {
        auto c = std::make_unique<InputCatalog>(m.reopenReadableInputs(skipped));
        for (const auto& why : skipped) notes.push_back("no chips from an input that cannot be reopened (" + why + ")");
        return c;
    } catch (const Error& e) {
        notes.push_back(std::string("no image chips: cannot reopen the scanned rasters (") + e.what() + ")");
        return nullptr;
    }
}

std::vector<std::string> captionOf(const Json& props) {
    char line2[96];
    std::snprintf(line2, sizeof line2, "risk %.2f (%s), score %.2f", number(props, "risk"), text(props, "risk_level").c_str(),
                  number(props, "score"));
    std::vector<std::string> caption{text(props, "id"), line2, text(props, "source")};
    auto f = props.find("risk_factors");
    if (f != props.end() && f->is_array())
        for (const auto& x : *f)
            if (x.is_string()) caption.push_back("+ " + x.get<std::string>());
    return caption;
}

}  // namespace

ReportWriter::ReportWriter(ReportRequest request) : request_(std::move(request)) {
    if (request_.scan.empty()) throw UsageError("report needs the output of a scan (e.g. kilns.geojson)");
    if (request_.outDir.empty()) throw UsageError("report needs an output folder: -o DIR");
    manifestPath_ = Manifest::pathFor(request_.scan);
    if (!fs::exists(request_.scan)) throw DataError("'" + request_.scan + "' does not exist: pass a layer written by riskmap scan");
    if (!fs::exists(manifestPath_))
        throw DataError("'" + request_.scan + "' has no manifest '" + manifestPath_ +
                        "': pass a layer written by riskmap scan or merge, with its manifest beside it");
    const fs::path out(request_.outDir);
    if (fs::is_symlink(out))
        throw UsageError("'" + request_.outDir + "' is a symbolic link: riskmap never writes through links; choose a folder");
    // Before the checks below: an earlier report put back is one --overwrite must be asked for.
    tidied_ = tidyLeftovers(out.has_parent_path() ? out.parent_path() : fs::path("."), out);
    if (fs::exists(out)) {
        if (!fs::is_directory(out)) throw UsageError("'" + request_.outDir + "' exists and is not a folder");
        const bool empty = fs::is_empty(out);
        if (!empty && !isReportFolder(out))
            throw UsageError("'" + request_.outDir + "' is a folder that is not a riskmap report: choose a new folder");
        const std::set<std::string> chips = empty ? std::set<std::string>() : chipsNamed(out);
        const std::string foreign = empty ? "" : foreignEntry(out, &chips);
        if (!foreign.empty())
            throw UsageError("'" + request_.outDir + "' holds '" + foreign +
                             "', which no riskmap report writes, and a report replaces its whole folder: move it out, "
                             "or choose a new folder");
        if (!empty && !request_.overwrite)
            throw UsageError("'" + request_.outDir + "' already holds a report: pass --overwrite to replace it");
    }
}

std::size_t ReportWriter::writeChips(const Manifest& m, ExportedLayer& feats, const fs::path& dir, const std::atomic<bool>* cancel,
                                     std::vector<std::string>& notes) const {
    if (request_.maxChips == 0 || feats.size() == 0) return 0;
    std::unique_ptr<InputCatalog> catalog = reopenInputs(m, notes);
    if (!catalog) return 0;
    std::map<std::string, std::size_t> bySource;
    for (std::size_t i = 0; i < catalog->sources().size(); ++i) bySource[catalog->sources()[i]] = i;
    // A raster replaced since the scan would show other ground than was scanned: evidence that
    // misleads. Its leads get no chip (an audit).
    const std::set<std::string> changed = m.changedInputs(*catalog);
    for (const auto& src : changed) {
        bySource.erase(src);
        notes.push_back("no chips from '" + src +
                        "': its file changed since the scan (size or modification time), so it "
                        "may not show what was scanned; scan it again for a report of it");
    }
    std::vector<std::unique_ptr<ChipRenderer>> renderers(catalog->inputs().size());
    std::size_t chips = 0, missingSource = 0, offRaster = 0;
    std::set<std::string> names;
    const auto order = byRisk(feats);
    for (std::size_t k = 0; k < order.size() && chips < request_.maxChips; ++k) {
        if (cancel && cancel->load()) throw Cancelled("report cancelled");
        Json props = feats.properties(order[k]);
        auto it = bySource.find(text(props, "source"));
        if (it == bySource.end()) {
            missingSource += changed.count(text(props, "source")) ? 0 : 1;
            continue;
        }
        auto& r = renderers[it->second];
        if (!r) r = std::make_unique<ChipRenderer>(catalog->inputs()[it->second]);
        ChipInfo info;
        std::vector<unsigned char> png = r->render(GeoJsonExport::outerRings(feats.geometry(order[k])), captionOf(props), request_.chipMinMetres, info);
        if (png.empty()) {
            ++offRaster;
            continue;
        }
        const std::string name = chipFileName(text(props, "id"), names);
        writeFile(dir / name, png.data(), png.size());
        props["chip"] = name;
        props["chip_info"] = Json{{"centre", Json::array({std::round(info.centre.lon * 1e6) / 1e6, std::round(info.centre.lat * 1e6) / 1e6})},
                                  {"scale_m", std::round(catalog->inputs()[it->second].gsdX() * 100) / 100},
                                  {"width_m", std::round(info.widthMetres)},
                                  {"bands", info.bands}};
        feats.setProperties(order[k], props);
        ++chips;
    }
    if (missingSource > 0) notes.push_back(std::to_string(missingSource) + " leads name a source that is not among the reopened rasters");
    if (offRaster > 0) notes.push_back(std::to_string(offRaster) + " leads lie off their raster and have no chip");
    return chips;
}

namespace {

// The output of `riskmap diff`: its changes, and the coverage of both scans.
ReportLayers diffLayers(const Manifest& m, const std::string& scan, const std::string& spool, const DiffReport& diff) {
    ReportLayers r;
    const Manifest::Layer* l = m.layer("detections");
    r.detections = GeoJsonExport::read(scan, l ? l->layer : "changes", kPrecision, kListFields, spool);
    r.footprints = diff.footprints();
    r.gaps = diff.gaps();
    return r;
}

// data.js: the page's data as one object, written member by member and the detections feature
// by feature (the same bytes as dumpJson of the whole), so the text is never held whole.
void writeData(const fs::path& path, const std::string& title, const Manifest& manifest, const std::vector<std::string>& notes,
               const ReportLayers& layers, const Json& diffSummary) {
    NewFile out(path.string(), 0600);
    std::string buf = "// riskmap evidence report data. SENSITIVE: exact locations of possible victims; do not publish.\n"
                      "window.RISKMAP_DATA = {";
    auto sink = [&](const std::string& text) {
        buf += text;
        if (buf.size() < (1u << 20)) return;
        out.write(buf);
        buf.clear();
    };
    bool first = true;
    auto member = [&](const char* key, const Json& value) {
        sink((first ? "" : ",") + jsonQuote(key) + ":" + dumpJson(value));
        first = false;
    };
    member("title", title);
    member("generated_by", std::string("riskmap ") + kRiskmapVersion);
    member("generated_utc", utcNow());
    member("notes", notes);
    member("manifest", manifest.toJson());
    sink(",\"detections\":");
    layers.detections.write(sink);
    member("grid", layers.grid);
    member("footprints", layers.footprints);
    member("gaps", layers.gaps);
    member("diff", diffSummary);
    sink("};\n");
    out.write(buf);
    out.close();
}

std::string defaultTitle(const Manifest& m, const std::string& scan) {
    const std::string name = m.detectorName.empty() ? std::string("riskmap") : m.detectorName;
    const std::string file = fs::path(scan).filename().string();
    if (!m.diff) return name + " leads: " + file;
    auto date = [](const Manifest::DiffSide& s) { return s.date.empty() ? std::string("(no date)") : s.date; };
    return name + " changes " + date(m.diff->before) + " to " + date(m.diff->after) + ": " + file;
}

}  // namespace

ReportSummary ReportWriter::write(const std::atomic<bool>* cancel) const {
    ReportSummary summary;
    const Manifest manifest = Manifest::read(manifestPath_);
    if (manifest.kind == "series")
        throw UsageError("'" + request_.scan + "' is the layer of a time series: report one date's scan (OUT.DATE.ext) " +
                         "or the diff of two dates (OUT.diff.DATE1_DATE2.ext)");
    requireRam("report", request_.ramMB, needMB(manifest.output.features, request_.ramMB),
               std::to_string(manifest.output.features) + " leads");
    GDALSetCacheMax64(static_cast<GIntBig>(gdalCacheMB(request_.ramMB)) << 20);
    std::unique_ptr<DiffReport> diff;
    if (manifest.diff) diff = std::make_unique<DiffReport>(manifest, request_.scan, summary.notes);
    const fs::path target(request_.outDir);
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (!fs::is_directory(parent)) throw IoError("the folder '" + parent.string() + "' for the report does not exist: create it first");
    // Outlines wait in an unlinked file beside the report, not in memory (issue 14).
    ReportLayers layers = diff ? diffLayers(manifest, request_.scan, parent.string(), *diff)
                               : loadLayers(manifest, request_.scan, parent.string(), summary.notes);
    ExportedLayer& feats = layers.detections;
    summary.detections = feats.size();
    for (std::size_t i = 0; i < feats.size(); ++i) {
        Json p = feats.properties(i);
        p["chip"] = Json();
        p["chip_info"] = Json();
        feats.setProperties(i, p);
    }

    summary.notes.insert(summary.notes.end(), tidied_.begin(), tidied_.end());
    std::string tmpl = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data()))
        throw IoError("cannot create a folder in '" + parent.string() + "' for the report: " + std::strerror(errno) +
                      (errno == ENAMETOOLONG ? " (the report is written beside as '." + target.filename().string() +
                                                   ".tmp-XXXXXX' first: choose a folder name 12 bytes shorter)"
                                             : ""));
    TempDir tmp(tmpl);

    std::set<std::string> names;
    const SaveChip save = [&](const std::string& id, const std::vector<unsigned char>& png) {
        const std::string name = chipFileName(id, names);
        writeFile(tmp.path() / name, png.data(), png.size());
        return name;
    };
    summary.chips = diff ? diff->writeChips(feats, request_.maxChips, request_.chipMinMetres, save, cancel, summary.notes)
                         : writeChips(manifest, feats, tmp.path(), cancel, summary.notes);
    if (feats.size() > request_.maxChips)
        summary.notes.push_back("image chips for the " + std::to_string(request_.maxChips) +
                                (diff ? " highest-ranked changes" : " highest-risk leads") + " only (--max-chips)");

    const std::string title = request_.title.empty() ? defaultTitle(manifest, request_.scan) : request_.title;
    writeData(tmp.path() / "data.js", title, manifest, summary.notes, layers, diff ? diff->summary() : Json());
    for (const auto& a : reportAssets()) writeFile(tmp.path() / a.name, a.data, a.size);
    for (auto& e : fs::recursive_directory_iterator(tmp.path()))
        if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::replace);
    if (!install(tmp.path(), target))
        tmp.keep();  // else it now holds the earlier report, to remove
    summary.dir = target.string();
    return summary;
}

// Into place: the old report (if --overwrite) goes only once the new one is complete. Swapped
// in one step where the file system can (renameat2 RENAME_EXCHANGE: a kill leaves the old or
// the new report, never none); else two renames. Returns whether `built` now holds the old one.
bool ReportWriter::install(const fs::path& built, const fs::path& target) const {
    if (fs::is_symlink(target)) throw UsageError("'" + target.string() + "' became a symbolic link: nothing was changed");
    stopBeforeCommitForTests();
    const bool replacing = fs::exists(target);
    try {
        injectedFailure(1);
        if (!replacing) {
            fs::rename(built, target);
            return false;
        }
        if (::renameat2(AT_FDCWD, built.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0)
            return true;
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            throw IoError(std::string("swapping in the new report failed: ") +
                          std::strerror(errno));
    } catch (const std::exception& e) {
        throw IoError("cannot move the report into '" + target.string() + "': " + e.what());
    }
    const fs::path old = built.string() + ".old";
    fs::rename(target, old);
    try {
        fs::rename(built, target);
    } catch (const std::exception& e) {
        fs::rename(old, target);
        throw IoError("cannot move the report into '" + target.string() + "': " + e.what());
    }
    fs::remove_all(old);
    return false;
}

}  // namespace riskmap
