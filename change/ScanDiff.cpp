#include "change/ScanDiff.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <set>

#include "core/Error.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "eval/PointMatcher.hpp"
#include "geo/GdalRuntime.hpp"
#include "output/FileCommit.hpp"
#include "output/GeoJsonWriter.hpp"
#include "output/LayerSet.hpp"
#include "output/QgisStyle.hpp"
#include "provenance/Manifest.hpp"
#include "readback/Antimeridian.hpp"
#include "readback/LayerReader.hpp"
#include "readback/ScanCoverage.hpp"

namespace riskmap {

namespace fs = std::filesystem;

struct ScanDiff::Side {
    std::string label;  // "BEFORE" or "AFTER", for messages
    std::string path;
    Manifest manifest;
    LayerContent layer;
    std::unique_ptr<ScanCoverage> coverage;
};

struct ScanDiff::Change {
    std::string kind, reason;
    const LayerFeature* before = nullptr;
    const LayerFeature* after = nullptr;
    double distance = std::numeric_limits<double>::quiet_NaN();
    std::string dateBefore, dateAfter;

    const LayerFeature& later() const { return after ? *after : *before; }
    std::string id() const { return kind + "-" + later().text("id"); }
};

namespace {

// Fields riskmap writes as lists (JSON text in GeoPackage and FlatGeobuf).
const std::set<std::string> kListFields{"sources", "risk_factors"};

// The order investigators work in: what appeared, what went quiet, what could not be compared
// (it may be new), what was already known.
int rankOf(const std::string& kind) {
    if (kind == "new") return 0;
    if (kind == "gone") return 1;
    if (kind == "unknown") return 2;
    return 3;
}

// A side's manifest, checked: enough to refuse two scans that do not compare.
std::unique_ptr<ScanDiff::Side> openSide(const std::string& path, const std::string& label) {
    if (path.empty())
        throw UsageError("diff needs two scans: riskmap diff BEFORE AFTER -o CHANGES");
    if (!fs::exists(path))
        throw DataError(label + " scan '" + path +
                        "' does not exist: pass a layer written by riskmap scan");
    const std::string mpath = Manifest::pathFor(path);
    if (!fs::exists(mpath))
        throw DataError(label + " scan '" + path + "' has no manifest '" + mpath +
                        "': diff needs the manifest riskmap scan writes beside its layer");
    auto s = std::make_unique<ScanDiff::Side>();
    s->label = label;
    s->path = path;
    s->manifest = Manifest::read(mpath);
    if (!s->manifest.isScan())
        throw UsageError(
            label + " '" + path + "' is the output of " +
            (s->manifest.diff ? "riskmap diff" : "scan --time-series") +
            ", not of a scan: diff compares two scans (the dates of a series are OUT.DATE.ext)");
    return s;
}

// Its objects (those with a geometry) and where it saw the ground.
void readSide(ScanDiff::Side& s, std::vector<std::string>& notes) {
    const Manifest::Layer* det = s.manifest.layer("detections");
    s.layer = readLayer(s.path, det ? det->layer : s.manifest.detectorName, kListFields,
                        s.label + " scan");
    auto& f = s.layer.features;
    const auto before = f.size();
    f.erase(
        std::remove_if(f.begin(), f.end(),
                       [](const LayerFeature& x) { return !x.geometry || x.geometry->IsEmpty(); }),
        f.end());
    if (f.size() != before)
        notes.push_back(s.label + ": " + std::to_string(before - f.size()) +
                        " feature(s) without geometry left out");
    s.coverage = std::make_unique<ScanCoverage>(s.manifest, s.path, notes);
}

std::vector<EvalPoint> pointsOf(const std::vector<LayerFeature>& features) {
    std::vector<EvalPoint> out;
    for (std::size_t i = 0; i < features.size(); ++i) {
        out.push_back(
            {lonLatCentroid(*features[i].geometry), features[i].number("score", 0), false, i});
    }
    return out;
}

std::vector<std::size_t> indices(std::size_t n) {
    std::vector<std::size_t> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

std::string reasonOf(ScanCoverage::Sight sight, const std::string& side) {
    if (sight == ScanCoverage::Sight::NoData)
        return side + " saw no data there (cloud mask, nodata or missing band)";
    if (sight == ScanCoverage::Sight::Outside) return side + " did not scan all of the place";
    return "";
}

double scoreOf(const LayerFeature* f) {
    return f ? f->number("score", 0) : -1;
}

std::string modeText(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

}  // namespace

ScanDiff::ScanDiff(DiffRequest request) : request_(std::move(request)) {
    if (!(request_.radiusMetres > 0)) throw UsageError("--radius-m must be positive");
    if (request_.minScore < 0 || request_.minScore > 1)
        throw UsageError("--min-score must lie between 0 and 1");
    outputFormatFor(request_.output);  // an unknown extension fails before any reading
    before_ = openSide(request_.before, "BEFORE");
    after_ = openSide(request_.after, "AFTER");
    checkSameDetector();  // before reading layers of millions of objects
    readSide(*before_, warnings_);
    readSide(*after_, warnings_);
    checkOutput();
    checkComparable();
}

ScanDiff::~ScanDiff() = default;

std::vector<std::string> ScanDiff::filesOf(const std::string& output) {
    const ScanFiles f = ScanFiles::plan(output, false, "");
    return {f.main, f.manifest, f.stylePath("")};
}

// Every file of both scans: none may be an output of the diff.
std::set<std::string> ScanDiff::inputFiles() const {
    std::set<std::string> in;
    for (const Side* s : {before_.get(), after_.get()}) {
        in.insert(FileCommit::identity(s->path));
        in.insert(FileCommit::identity(Manifest::pathFor(s->path)));
        for (const auto& l : s->manifest.layers)
            in.insert(FileCommit::identity(besideMain(s->path, l.path)));
    }
    return in;
}

// The finest pixel of both scans' inputs, in degrees (GeoJsonWriter::pixelDegrees; 0 when their
// manifests do not say).
double ScanDiff::finestPixel() const {
    double finest = 0;
    for (const Side* s : {before_.get(), after_.get()})
        for (const auto& in : s->manifest.inputs) {
            const Json& g = in.description.is_object() ? in.description.value("gsd_m", Json()) : Json();
            if (!g.is_object() || !g.value("x", Json()).is_number() || !g.value("y", Json()).is_number()) continue;
            const double d = GeoJsonWriter::pixelDegrees(g["x"].get<double>(), g["y"].get<double>(), in.footprint);
            if (d > 0 && (finest == 0 || d < finest)) finest = d;
        }
    return finest;
}

void ScanDiff::checkOutput() {
    const OutputFormat format = outputFormatFor(request_.output);
    if (format.rfc7946) checkOutCrsForGeoJson(request_.outCrs);
    if (!format.rfc7946)
        targetCrs_ = request_.outCrs.empty() ? after_->layer.crsWkt
                                             : crsWktFromUser(request_.outCrs, "--out-crs");
    if (format.rfc7946) GeoJsonWriter::checkPrecision(request_.coordinatePrecision, finestPixel());
    const std::set<std::string> inputs = inputFiles();
    const std::string style = filesOf(request_.output).back();
    for (const auto& p : filesOf(request_.output)) {
        if (inputs.count(FileCommit::identity(p)))
            throw UsageError("output '" + p +
                             "' is also a file of a scan being compared: choose another -o");
        if (p == style && holdsExactly(p, QgisStyle::changes()))
            continue;  // shared by CHANGES.gpkg and .geojson
        FileCommit::checkDestination(p, request_.overwrite);
    }
}

// Scans of different detectors do not compare; different options or dates are said.
void ScanDiff::checkSameDetector() const {
    const Manifest& b = before_->manifest;
    const Manifest& a = after_->manifest;
    if (b.detectorName != a.detectorName)
        throw UsageError("BEFORE '" + before_->path + "' was scanned with the " + b.detectorName +
                         " detector and AFTER '" + after_->path + "' with " + a.detectorName +
                         ": diff compares two scans of one detector");
}

void ScanDiff::checkComparable() {
    const Manifest& b = before_->manifest;
    const Manifest& a = after_->manifest;
    std::vector<std::string> differ;
    const Json& ob = b.recipe.contains("options") ? b.recipe["options"] : Json::object();
    const Json& oa = a.recipe.contains("options") ? a.recipe["options"] : Json::object();
    for (const auto& [k, v] : oa.items())
        if (!ob.contains(k) || ob[k] != v) differ.push_back(k);
    if (!differ.empty()) {
        std::string keys;
        for (const auto& k : differ) keys += (keys.empty() ? "" : ", ") + k;
        warnings_.push_back("the scans ran with different detector options (" + keys +
                            "): some changes may come from the options, not the ground");
    }
    // Scans of different places, or one scan twice, gave counts without a word (an audit).
    if (!before_->coverage->overlaps(*after_->coverage))
        warnings_.push_back("BEFORE '" + before_->path + "' and AFTER '" + after_->path +
                            "' share no ground: every object is unknown; diff two scans of one place");
    if (FileCommit::identity(before_->path) == FileCommit::identity(after_->path))
        warnings_.push_back("BEFORE and AFTER are the same layer '" + after_->path + "': nothing can change");
    const std::string db = before_->coverage->commonDate(), da = after_->coverage->commonDate();
    for (const Side* s : {before_.get(), after_.get()})
        if (s->coverage->commonDate().empty())
            warnings_.push_back(
                s->label + " '" + s->path +
                "' has no single acquisition date (scan it with --date " +
                "YYYY-MM-DD, or inputs with sensing-time metadata or a STAC datetime): dates of " +
                "its objects are null where unknown");
    if (!db.empty() && !da.empty() && db > da)
        warnings_.push_back("BEFORE (" + db + ") was acquired after AFTER (" + da +
                            "): new and gone are reversed in time; swap the two scans");
}

// Pairs persist; an object of one side alone is new or gone where the other side saw its place
// clearly, else unknown.
std::vector<ScanDiff::Change> ScanDiff::compare(DiffCounts& counts, const std::atomic<bool>* cancel) const {
    const auto& B = before_->layer.features;
    const auto& A = after_->layer.features;
    const auto pb = pointsOf(B), pa = pointsOf(A);
    const PointMatcher matcher(request_.radiusMetres, MatchMethod::Optimal, cancel);
    std::vector<char> pairedB(B.size(), 0), pairedA(A.size(), 0);
    std::vector<Change> out;
    for (const MatchPair& p : matcher.assign(pa, pb, indices(A.size()), indices(B.size()))) {
        pairedA[p.detection] = pairedB[p.truth] = 1;
        Change c;
        c.kind = "persists";
        c.before = &B[p.truth];
        c.after = &A[p.detection];
        c.distance = std::round(p.distance * 10) / 10;
        out.push_back(c);
    }
    for (std::size_t i = 0; i < A.size(); ++i)
        if (!pairedA[i]) out.push_back(single(nullptr, &A[i]));
    for (std::size_t i = 0; i < B.size(); ++i)
        if (!pairedB[i]) out.push_back(single(&B[i], nullptr));
    return finish(std::move(out), counts);
}

// An object that only one side holds, judged by what the other side saw of its place.
ScanDiff::Change ScanDiff::single(const LayerFeature* b, const LayerFeature* a) const {
    Change c;
    c.before = b;
    c.after = a;
    const Side& other = a ? *before_ : *after_;
    const auto sight = other.coverage->look(*(a ? a : b)->geometry);
    c.kind = sight != ScanCoverage::Sight::Clear ? "unknown" : a ? "new" : "gone";
    c.reason = reasonOf(sight, other.label);
    return c;
}

// Dates, the --min-score filter, counts and the ranking.
std::vector<ScanDiff::Change> ScanDiff::finish(std::vector<Change> all, DiffCounts& counts) const {
    std::vector<Change> out;
    for (auto& c : all) {
        if (std::max(scoreOf(c.before), scoreOf(c.after)) < request_.minScore) {
            ++counts.belowMinScore;
            continue;
        }
        const OGRGeometry& place = *c.later().geometry;
        auto dateOn = [&](const Side& s, const LayerFeature* f) {
            if (f && !s.coverage->dateOf(f->text("source")).empty())
                return s.coverage->dateOf(f->text("source"));
            return f || s.coverage->look(place) != ScanCoverage::Sight::Outside
                       ? s.coverage->dateAt(place)
                       : "";
        };
        c.dateBefore = dateOn(*before_, c.before);
        c.dateAfter = dateOn(*after_, c.after);
        const int k = rankOf(c.kind);
        ++(k == 0   ? counts.added
           : k == 1 ? counts.gone
           : k == 2 ? counts.unknown
                    : counts.persists);
        out.push_back(std::move(c));
    }
    std::stable_sort(out.begin(), out.end(), [](const Change& x, const Change& y) {
        if (rankOf(x.kind) != rankOf(y.kind)) return rankOf(x.kind) < rankOf(y.kind);
        const double rx = x.later().number("risk", -1), ry = y.later().number("risk", -1);
        if (rx != ry) return rx > ry;
        if (scoreOf(&x.later()) != scoreOf(&y.later()))
            return scoreOf(&x.later()) > scoreOf(&y.later());
        return x.id() < y.id();
    });
    return out;
}

namespace {

std::vector<FieldSpec> changeFields() {
    return {
        {"id", OFTString},           {"change", OFTString},          {"rank", OFTInteger64},
        {"risk", OFTReal},           {"risk_level", OFTString},      {"date_before", OFTDate},
        {"date_after", OFTDate},     {"id_before", OFTString},       {"id_after", OFTString},
        {"score_before", OFTReal},   {"score_after", OFTReal},       {"distance_m", OFTReal},
        {"reason", OFTString},       {"detector", OFTString},        {"class", OFTString},
        {"score", OFTReal},          {"area_m2", OFTReal},           {"source_before", OFTString},
        {"source_after", OFTString}, {"risk_factors", OFTStringList}};
}

}  // namespace

std::vector<std::pair<std::string, FieldValue>> ScanDiff::valuesOf(const Change& c,
                                                                   std::size_t rank) {
    const LayerFeature& l = c.later();
    std::vector<std::pair<std::string, FieldValue>> v{{"id", c.id()},
                                                      {"change", c.kind},
                                                      {"rank", static_cast<std::int64_t>(rank)},
                                                      {"detector", l.text("detector")},
                                                      {"class", l.text("class")},
                                                      {"risk_level", l.text("risk_level")}};
    auto number = [&v](const char* name, double x) {
        if (std::isfinite(x)) v.emplace_back(name, x);
    };
    auto text = [&v](const char* name, const std::string& x) {
        if (!x.empty()) v.emplace_back(name, x);
    };
    number("risk", l.number("risk"));
    number("score", l.number("score"));
    number("area_m2", l.number("area_m2"));
    number("distance_m", c.distance);
    text("date_before", c.dateBefore);
    text("date_after", c.dateAfter);
    text("reason", c.reason);
    for (const auto& [side, f] :
         {std::pair<std::string, const LayerFeature*>{"before", c.before}, {"after", c.after}}) {
        if (!f) continue;
        text(("id_" + side).c_str(), f->text("id"));
        number(("score_" + side).c_str(), f->number("score"));
        text(("source_" + side).c_str(), f->text("source"));
    }
    return v;
}

DiffSummary ScanDiff::write(const std::atomic<bool>* cancel) const {
    const std::string started = utcNow();
    const auto t0 = std::chrono::steady_clock::now();
    DiffSummary s;
    const std::vector<Change> changes = compare(s.counts, cancel);
    const ScanFiles files = ScanFiles::plan(request_.output, false, "");
    LayerSet out(files, request_.overwrite, request_.overwrite, request_.fileMode,
                 request_.coordinatePrecision);
    out.replacing(Manifest::earlierLayers(files.main));
    OutputLayer* layer =
        out.main().createLayer("changes", targetCrs_, wkbMultiPolygon, changeFields());
    const auto toTarget = lonLatTo(targetCrs_);
    for (std::size_t i = 0; i < changes.size(); ++i) {
        if ((i & 0x3ff) == 0 && cancel && cancel->load())
            throw Cancelled("interrupted while writing");
        const Change& c = changes[i];
        out.main().writeFeature(layer, polygonsOf(*c.later().geometry, toTarget.get()),
                                valuesOf(c, i + 1),
                                {{"risk_factors", c.later().list("risk_factors")}});
    }
    out.main().setDefaultStyle("changes", "riskmap changes", QgisStyle::changes());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Manifest m = manifest(s.counts, changes.size(), started, seconds);
    s.output = request_.output;
    s.manifestPath = files.manifest;
    s.warnings = warnings_;
    out.addText(files.manifest, dumpJson(m.toJson(), 2) + "\n", request_.fileMode);
    out.addText(files.stylePath(""), QgisStyle::changes(), request_.fileMode, true);
    out.commit();
    return s;
}

Manifest ScanDiff::manifest(const DiffCounts& counts, std::size_t features,
                            const std::string& started, double seconds) const {
    Manifest m;
    m.kind = "diff";
    m.riskmapVersion = kRiskmapVersion;
    m.commandLine = request_.commandLine;
    m.workingDir = fs::current_path().string();
    m.startedUtc = started;
    m.finishedUtc = utcNow();
    const OutputFormat format = outputFormatFor(request_.output);
    const std::string crs = format.rfc7946            ? "EPSG:4326"
                            : request_.outCrs.empty() ? after_->manifest.output.crs
                                                      : request_.outCrs;
    m.output = {request_.output,
                format.driver,
                crs,
                modeText(request_.fileMode),
                features,
                request_.coordinatePrecision,
                0,
                std::nullopt,
                request_.outCrs};  // outlines copied from the scans
    m.layers.push_back({"detections", request_.output, "changes"});
    m.detectorName = after_->manifest.detectorName;
    m.haloMetres = after_->manifest.haloMetres;
    m.risk = after_->manifest.risk;  // the risk of each change is its later object's
    Manifest::Diff d;
    for (const auto& [side, s] :
         {std::pair<Manifest::DiffSide*, const Side*>{&d.before, before_.get()},
          {&d.after, after_.get()}})
        *side = {s->path, s->coverage->commonDate(), s->manifest.detectorName,
                 s->layer.features.size()};
    d.radiusMetres = request_.radiusMetres;
    d.minScore = request_.minScore;
    d.counts = Json{{"new", counts.added},
                    {"gone", counts.gone},
                    {"persists", counts.persists},
                    {"unknown", counts.unknown},
                    {"below_min_score", counts.belowMinScore}};
    m.diff = d;
    m.counts = d.counts;
    m.warnings = warnings_;
    m.timings = Json{{"diff_s", seconds}};
    m.tiling = Json::object();
    return m;
}

}  // namespace riskmap
