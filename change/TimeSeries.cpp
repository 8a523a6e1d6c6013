#include "change/TimeSeries.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/Error.hpp"
#include "core/Paths.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "geo/GdalRuntime.hpp"
#include "output/LayerSet.hpp"
#include "output/QgisStyle.hpp"
#include "provenance/Manifest.hpp"
#include "raster/InputCatalog.hpp"
#include "readback/LayerReader.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

namespace {

const std::set<std::string> kListFields{"sources", "risk_factors"};

bool exists(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

std::string modeText(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

}  // namespace

std::string TimeSeries::dateOutput(const std::string& output, const std::string& date) {
    const ScanFiles f = ScanFiles::plan(output, false, "");
    return f.stem + "." + date + f.format.extension;
}

std::string TimeSeries::diffOutput(const std::string& output, const std::string& before,
                                   const std::string& after) {
    const ScanFiles f = ScanFiles::plan(output, false, "");
    return f.stem + ".diff." + before + "_" + after + f.format.extension;
}

TimeSeries::TimeSeries(SeriesRequest request, const DetectorRegistry& registry)
    : request_(std::move(request)), registry_(registry) {
    const ScanRequest& s = request_.scan;
    if (!s.input.paths.empty() || !s.input.bands.empty() || !s.input.inputList.empty())
        throw UsageError(
            "--time-series takes every date's inputs from LIST: give no INPUT, --band or "
            "--input-list");
    if (!s.input.date.empty())
        throw UsageError("--date does not go with --time-series: LIST gives each date");
    if (s.shard.active())
        throw UsageError("--shard does not go with --time-series: shard each date's scan instead");
    if (!s.publishPath.empty() || !s.explainPath.empty())
        throw UsageError(
            "--publish and --explain do not go with --time-series: run them on a date's scan");
    if (!(request_.radiusMetres > 0)) throw UsageError("--diff-radius-m must be positive");
    ScanFiles::plan(s.output, false, "");  // an unknown extension fails first
    dates_ = readSeriesList(request_.list, s.input);
    checkFiles();
    checkOutputsAreNotInputs();
}

ScanRequest TimeSeries::requestFor(const SeriesDate& d) const {
    ScanRequest r = request_.scan;
    r.input = d.input;
    r.output = dateOutput(request_.scan.output, d.date);
    return r;
}

std::vector<std::string> TimeSeries::plannedFiles() const {
    std::vector<std::string> out;
    for (const auto& d : dates_)
        for (const auto& p : ScanFiles::plan(dateOutput(request_.scan.output, d.date),
                                             request_.scan.gridMetres > 0, "")
                                 .written())
            out.push_back(p);
    for (std::size_t i = 1; i < dates_.size(); ++i)
        for (const auto& p : ScanDiff::filesOf(
                 diffOutput(request_.scan.output, dates_[i - 1].date, dates_[i].date)))
            out.push_back(p);
    return out;
}

// The QGIS styles the series writes beside its dates' and diffs' layers, by path.
std::map<std::string, std::string> TimeSeries::plannedStyles() const {
    const ScanRequest& s = request_.scan;
    std::map<std::string, std::string> out;
    for (const auto& d : dates_) {
        const ScanFiles f = ScanFiles::plan(dateOutput(s.output, d.date), s.gridMetres > 0, "");
        out[f.stylePath("")] = QgisStyle::detections(s.risk.medium, s.risk.high);
        out[f.stylePath("grid")] = QgisStyle::grid(s.risk.medium, s.risk.high);
        out[f.stylePath("footprints")] = QgisStyle::footprints();
        out[f.stylePath("nodata_gaps")] = QgisStyle::gaps();
    }
    for (std::size_t i = 1; i < dates_.size(); ++i)
        out[ScanDiff::filesOf(diffOutput(s.output, dates_[i - 1].date, dates_[i].date)).back()] = QgisStyle::changes();
    return out;
}

// Every file of the series is usable before any date is scanned: no link, no two alike, and
// none left from an earlier run unless --resume or --overwrite says what to do with it.
void TimeSeries::checkFiles() const {
    const ScanRequest& s = request_.scan;
    std::set<std::string> seen;
    std::vector<std::string> all = plannedFiles();
    for (const auto& p : ScanDiff::filesOf(s.output)) all.push_back(p);
    for (const auto& p : all)
        if (!seen.insert(FileCommit::identity(p)).second)
            throw UsageError("two files of this time series would both be '" + p +
                             "': choose another -o");
    for (const auto& d : dates_) {
        const std::string out = dateOutput(s.output, d.date);
        if (exists(out) && !s.resume && !s.overwrite)
            throw UsageError(
                "'" + out +
                "' exists from an earlier time series: pass --resume to keep the dates it " +
                "finished, or --overwrite to scan every date again");
    }
    const std::map<std::string, std::string> styles = plannedStyles();
    auto sameStyle = [&](const std::string& p) {
        const auto it = styles.find(p);
        return it != styles.end() && holdsExactly(p, it->second);
    };
    // Journals too: a link at the second date's journal was refused only after the first date's
    // files were written (a sweep). A style the run would write as it is stays: shared by t.fgb
    // beside t.geojson (a format sweep).
    for (const auto& p : plannedFiles())
        if (!sameStyle(p)) FileCommit::checkDestination(p, s.overwrite || s.resume);
    for (const auto& p : ScanDiff::filesOf(s.output)) {
        if (p == ScanDiff::filesOf(s.output).back() &&
            holdsExactly(p, QgisStyle::detections(s.risk.medium, s.risk.high)))
            continue;
        // --resume rewrites the combined layer a killed run may have half-committed (an audit).
        FileCommit::checkDestination(p, s.overwrite || s.resume);
    }
}

// No file of the series replaces what it reads: LIST itself, or a date's raster, band file or
// input list (a sweep of every option path: -o over LIST replaced it, and a diff layer named
// like an input raster overwrote it; each date's own layer was already checked by its scan).
void TimeSeries::checkOutputsAreNotInputs() const {
    std::set<std::string> outs;
    for (const auto& p : plannedFiles()) outs.insert(FileCommit::identity(p));
    for (const auto& p : ScanDiff::filesOf(request_.scan.output))
        outs.insert(FileCommit::identity(p));
    std::vector<std::string> read{request_.list};
    for (const auto& d : dates_) {
        for (const auto& p : InputCatalog::expandPaths(d.input.paths, d.input.inputList))
            read.push_back(p);
        for (const auto& b : d.input.bands) read.push_back(b.path);
        if (!d.input.inputList.empty()) read.push_back(d.input.inputList);
    }
    for (const auto& p : read) {
        if (!isRemotePath(p) && outs.count(FileCommit::identity(p)))
            throw UsageError("'" + p +
                             "' is read by this time series and would be replaced by one of its "
                             "outputs: choose another -o");
    }
}

// With --resume, a date whose scan an earlier run committed is kept, once its manifest shows it
// was scanned with this series' inputs and options.
bool TimeSeries::finishedEarlier(const SeriesDate& d) const {
    ScanRequest r = requestFor(d);
    if (!r.resume || r.overwrite || !exists(r.output)) return false;
    const Manifest m = Manifest::read(Manifest::pathFor(r.output));
    r.overwrite = true;  // only to build the job: nothing is written
    const ScanJob job(r, registry_);
    std::string differs;
    if (dumpJson(m.request.toJson()) != dumpJson(job.recorded().toJson()))
        differs = "inputs or detector options";
    else if (dumpJson(m.risk) != dumpJson(job.request().risk.toJson()))
        differs = "risk options";
    else if (m.output.coordinatePrecision != r.coordinatePrecision ||
             m.output.overlapMerge != r.overlapMerge)
        differs = "output options";
    if (!differs.empty())
        throw UsageError(
            "'" + r.output + "' was scanned with other " + differs +
            " than this time series asks for: pass --overwrite to scan every date again");
    return true;
}

SeriesSummary TimeSeries::run(const ProgressFactory& progress, const Log& log,
                              const std::atomic<bool>* cancel) {
    const std::string started = utcNow();
    // Every date's inputs open before the first date is written: a missing file on a later date
    // failed after the earlier dates had replaced their files (--overwrite), leaving a set of old
    // and new files that disagree.
    std::vector<bool> kept;
    for (const auto& d : dates_) {
        kept.push_back(finishedEarlier(d));
        if (!kept.back()) ScanJob(requestFor(d), registry_);
    }
    const std::vector<std::string> earlier = earlierSeriesFiles(request_.scan.output);
    dropCombined();
    SeriesSummary s;
    for (std::size_t i = 0; i < dates_.size(); ++i) {
        const SeriesDate& d = dates_[i];
        SeriesSummary::Date run{d.date, dateOutput(request_.scan.output, d.date)};
        if (kept[i]) {
            run.kept = true;
            run.features = Manifest::read(Manifest::pathFor(run.output)).output.features;
            log(d.date + ": kept " + run.output + " (" + std::to_string(run.features) +
                " feature(s)), finished earlier");
        } else {
            const ScanSummary r = scanDate(i, progress, log, cancel);
            for (const auto& w : r.warnings) log(d.date + ": warning: " + w);
            run.features = r.detections;
            run.resumedTiles = r.resumedTiles;
            log(d.date + ": wrote " + std::to_string(r.detections) + " feature(s) from " +
                std::to_string(r.tiles) + " tile(s)" +
                (r.resumedTiles ? " (" + std::to_string(r.resumedTiles) + " from the journal)"
                                : "") +
                " to " + run.output);
        }
        s.features += run.features;
        s.dates.push_back(run);
    }
    writeDiffs(s, log, cancel);
    noteFilesLeftBehind(earlier, s);
    for (const auto& w : s.warnings) log("warning: " + w);
    writeCombined(s, started, cancel);
    return s;
}

// One date's scan. A date failing after earlier ones were written said nothing of them, though
// --resume keeps them (an audit): the message says so, the error keeps its kind (exit code).
ScanSummary TimeSeries::scanDate(std::size_t i, const ProgressFactory& progress, const Log& log,
                                 const std::atomic<bool>* cancel) {
    const SeriesDate& d = dates_[i];
    auto more = [&](const std::string& what) {
        if (i == 0) return what;
        std::string before;
        for (std::size_t k = 0; k < i; ++k) before += (k ? ", " : "") + dates_[k].date;
        return d.date + ": " + what + " (the dates before it, " + before +
               ", are written: fix this one and run again with --resume to keep them)";
    };
    try {
        ScanJob job(requestFor(d), registry_);
        job.lookAtSamples();
        for (const auto& w : job.warnings()) log(d.date + ": warning: " + w);
        return job.run(*progress(i), cancel);
    } catch (const UsageError& e) {
        throw UsageError(more(e.what()));
    } catch (const Cancelled& e) {
        throw Cancelled(more(e.what()));
    } catch (const Error& e) {
        throw Error(more(e.what()));
    }
}

// The date scans and diffs an earlier series of this output wrote, from its manifest (read before
// --overwrite drops it); empty when there is none.
std::vector<std::string> TimeSeries::earlierSeriesFiles(const std::string& output) {
    std::vector<std::string> files;
    try {
        const Manifest m = Manifest::read(Manifest::pathFor(output));
        if (!m.series) return files;
        for (const auto& d : m.series->at("dates"))
            files.push_back(m.resolve(d.at("scan").get<std::string>()));
        for (const auto& d : m.series->at("diffs"))
            files.push_back(m.resolve(d.at("path").get<std::string>()));
    } catch (const std::exception&) {
        files.clear();  // none, or not readable: nothing is known to be left
    }
    return files;
}

// A rerun with fewer dates leaves the earlier run's other dates and diffs as they were: not
// deleted (they are the user's), but said, so that they are not taken for part of this series.
void TimeSeries::noteFilesLeftBehind(const std::vector<std::string>& earlier, SeriesSummary& s) {
    std::set<std::string> now;
    for (const auto& d : s.dates) now.insert(FileCommit::identity(d.output));
    for (const auto& d : s.diffs) now.insert(FileCommit::identity(d.first));
    for (const auto& f : earlier)
        if (!now.count(FileCommit::identity(f)) && exists(f))
            s.warnings.push_back("'" + f +
                                 "' of an earlier series of this output is not part of this one; "
                                 "it was left as it was");
}

// With --overwrite the dates are replaced one by one: the old combined layer goes first, so that a
// series stopped half-way (a damaged block, a kill) never leaves OUT beside dates it does not
// hold. OUT exists only when the whole series does; --resume finishes it.
void TimeSeries::dropCombined() const {
    const ScanRequest& r = request_.scan;
    if (!r.overwrite) return;
    const auto files = ScanDiff::filesOf(r.output);
    for (const std::string& p : {files[0], files[1]})
        if (exists(p) && ::unlink(p.c_str()) != 0)
            throw IoError("cannot remove '" + p +
                          "' before scanning the series again: " + std::strerror(errno));
}

void TimeSeries::writeDiffs(SeriesSummary& s, const Log& log,
                            const std::atomic<bool>* cancel) const {
    const ScanRequest& r = request_.scan;
    for (std::size_t i = 1; i < dates_.size(); ++i) {
        DiffRequest d;
        d.before = s.dates[i - 1].output;
        d.after = s.dates[i].output;
        d.output = diffOutput(r.output, dates_[i - 1].date, dates_[i].date);
        d.radiusMetres = request_.radiusMetres;
        d.overwrite = r.overwrite || r.resume;
        d.fileMode = r.fileMode;
        d.coordinatePrecision = r.coordinatePrecision;
        d.outCrs = r.outCrs;
        d.commandLine = r.commandLine;
        const DiffSummary sum = ScanDiff(d).write(cancel);
        for (const auto& w : sum.warnings) log(dates_[i].date + ": diff: warning: " + w);
        log(dates_[i - 1].date + " -> " + dates_[i].date + ": " + std::to_string(sum.counts.added) +
            " new, " + std::to_string(sum.counts.gone) + " gone, " +
            std::to_string(sum.counts.persists) + " persist, " +
            std::to_string(sum.counts.unknown) + " unknown in " + d.output);
        s.diffs.emplace_back(d.output, sum);
    }
}

namespace {

struct DateLayers {
    std::vector<Manifest> manifests;
    std::vector<LayerContent> layers;
};

DateLayers readDates(const SeriesSummary& s) {
    DateLayers out;
    for (const auto& d : s.dates) {
        out.manifests.push_back(Manifest::read(Manifest::pathFor(d.output)));
        const Manifest& m = out.manifests.back();
        const Manifest::Layer* det = m.layer("detections");
        out.layers.push_back(readLayer(d.output, det ? det->layer : m.detectorName, kListFields,
                                       "scan of " + d.date));
    }
    return out;
}

// Every field any date has, in the first date's order, then `date`.
std::vector<FieldSpec> seriesFields(const std::vector<LayerContent>& layers) {
    std::vector<FieldSpec> fields;
    std::set<std::string> names;
    for (const auto& l : layers)
        for (const auto& f : l.fields)
            if (f.name != "date" && names.insert(f.name).second) fields.push_back(f);
    fields.push_back({"date", OFTDate});
    return fields;
}

Json seriesJson(const SeriesRequest& r, const SeriesSummary& s) {
    Json dates = Json::array(), diffs = Json::array();
    for (const auto& d : s.dates)
        dates.push_back(
            Json{{"date", d.date}, {"scan", d.output}, {"features", d.features}, {"kept", d.kept}});
    for (std::size_t i = 0; i < s.diffs.size(); ++i) {
        const DiffCounts& c = s.diffs[i].second.counts;
        diffs.push_back(Json{{"before", s.dates[i].date},
                             {"after", s.dates[i + 1].date},
                             {"path", s.diffs[i].first},
                             {"counts", Json{{"new", c.added},
                                             {"gone", c.gone},
                                             {"persists", c.persists},
                                             {"unknown", c.unknown}}}});
    }
    return Json{
        {"list", r.list}, {"diff_radius_m", r.radiusMetres}, {"dates", dates}, {"diffs", diffs}};
}

Manifest seriesManifest(const SeriesRequest& req, const SeriesSummary& s, const DateLayers& in,
                        const std::string& started) {
    const ScanRequest& r = req.scan;
    const Manifest& first = in.manifests.front();
    const OutputFormat format = outputFormatFor(r.output);
    Manifest m;
    m.kind = "series";
    m.riskmapVersion = kRiskmapVersion;
    m.commandLine = r.commandLine;
    m.workingDir = std::filesystem::current_path().string();
    m.startedUtc = started;
    m.finishedUtc = utcNow();
    const std::string crs = format.rfc7946     ? "EPSG:4326"
                            : r.outCrs.empty() ? first.output.crs
                                               : r.outCrs;
    m.output = {r.output,
                format.driver,
                crs,
                modeText(r.fileMode),
                s.features,
                r.coordinatePrecision,
                r.overlapMerge,
                r.simplifyMetres,
                r.outCrs};
    m.layers.push_back({"detections", r.output, first.detectorName});
    m.detectorName = first.detectorName;
    m.haloMetres = first.haloMetres;
    m.recipe = first.recipe;
    m.risk = first.risk;
    Json perDate = Json::object();
    for (std::size_t i = 0; i < in.manifests.size(); ++i) {
        for (const auto& input : in.manifests[i].inputs) m.inputs.push_back(input);
        for (const auto& w : in.manifests[i].warnings)
            m.warnings.push_back(s.dates[i].date + ": " + w);
        perDate[s.dates[i].date] = s.dates[i].features;
    }
    m.series = seriesJson(req, s);
    m.warnings.insert(m.warnings.end(), s.warnings.begin(), s.warnings.end());
    m.counts = Json{{"detections", s.features}, {"per_date", perDate}};
    m.tiling = Json::object();
    m.timings = Json::object();
    return m;
}

}  // namespace

// Every date's objects in one layer with a `date` field, committed last with its style and
// manifest: when OUT exists, the whole series does.
void TimeSeries::writeCombined(SeriesSummary& s, const std::string& started,
                               const std::atomic<bool>* cancel) const {
    const ScanRequest& r = request_.scan;
    const DateLayers in = readDates(s);
    const ScanFiles files = ScanFiles::plan(r.output, false, "");
    const std::string target = files.format.rfc7946 ? ""
                               : !r.outCrs.empty()  ? crsWktFromUser(r.outCrs, "--out-crs")
                                                    : in.layers.front().crsWkt;
    const std::string name = in.manifests.front().detectorName;
    LayerSet out(files, r.overwrite, r.overwrite || r.resume, r.fileMode, r.coordinatePrecision);
    out.replacing(Manifest::earlierLayers(files.main));
    OutputLayer* layer =
        out.main().createLayer(name, target, wkbMultiPolygon, seriesFields(in.layers));
    const auto toTarget = lonLatTo(target);
    for (std::size_t i = 0; i < in.layers.size(); ++i)
        for (const auto& f : in.layers[i].features) {
            if (cancel && cancel->load()) throw Cancelled("interrupted while writing");
            auto values = f.values;
            values.emplace_back("date", s.dates[i].date);
            out.main().writeFeature(
                layer, f.geometry ? polygonsOf(*f.geometry, toTarget.get()) : MapPolygons{}, values,
                f.lists);
        }
    const std::string style = QgisStyle::detections(r.risk.medium, r.risk.high);
    out.main().setDefaultStyle(name, "riskmap risk", style);
    s.output = r.output;
    s.manifestPath = files.manifest;
    out.addText(files.manifest,
                dumpJson(seriesManifest(request_, s, in, started).toJson(), 2) + "\n", r.fileMode);
    out.addText(files.stylePath(""), style, r.fileMode, true);
    out.commit();
}

}  // namespace riskmap
