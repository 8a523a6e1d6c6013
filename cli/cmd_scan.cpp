// riskmap scan: run a detector over rasters, tile by tile, and write one feature per object.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "cli/ParseHelp.hpp"
#include "core/Error.hpp"
#include "core/HugePageHeap.hpp"
#include "core/Json.hpp"
#include "core/JsonProgress.hpp"
#include "core/TtyProgress.hpp"
#include "change/TimeSeries.hpp"
#include "detection/DetectorRegistry.hpp"
#include "detection/OptionValues.hpp"
#include "output/OutputDataset.hpp"
#include "provenance/Manifest.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

namespace {

std::string detectorHelp(const DetectorRegistry& reg) {
    std::string s = "Detectors and their options (--set KEY=VALUE, or \"options\" in --config):\n";
    for (const auto& e : reg.entries()) {
        s += "  " + e.info.name + ":\n";
        for (const auto& o : e.info.options) {
            s += "    " + o.name + " = " + optionValueText(o.defaultValue);
            if (!o.unit.empty()) s += " [" + o.unit + "]";
            s += "  " + o.description + "\n";
        }
    }
    s += "Example: riskmap scan scene.tif -o out.geojson --set rule=\"ndvi < 0.2 and mndwi < 0\"";
    return s;
}

// The output options a manifest's run used, where the command line does not give them:
// returns them as options, for the note.
std::string outputOptionsFromManifest(ScanRequest& r, const Manifest& m, const CLI::App& cmd) {
    std::string said;
    auto restore = [&](const char* name, bool differs, const std::string& value) {
        if (cmd.count(name) || !differs) return false;
        said += std::string(" ") + name + " " + value;
        return true;
    };
    const Manifest::Output& o = m.output;
    // GeoJSON is always lon/lat: a manifest's CRS applies to a GeoPackage or FlatGeobuf rerun,
    // and a GeoJSON rerun says it is not applied (a format sweep: dropped without a word).
    if (o.outCrs && !outputFormatFor(r.output).rfc7946 && restore("--out-crs", !o.outCrs->empty(), *o.outCrs))
        r.outCrs = *o.outCrs;
    else if (o.outCrs && !o.outCrs->empty() && !cmd.count("--out-crs"))
        said += " (not its --out-crs " + *o.outCrs + ": GeoJSON is lon/lat)";
    if (restore("--grid", m.gridCellMetres() > 0, optionValueText(m.gridCellMetres()))) {
        r.gridMetres = m.gridCellMetres();
        if (restore("--grid-shape", m.gridShape() != r.gridShape, m.gridShape())) r.gridShape = m.gridShape();
    }
    if (o.simplifyMetres && restore("--simplify-m", *o.simplifyMetres != r.simplifyMetres, optionValueText(*o.simplifyMetres)))
        r.simplifyMetres = *o.simplifyMetres;
    if (restore("--precision", o.coordinatePrecision != r.coordinatePrecision, std::to_string(o.coordinatePrecision)))
        r.coordinatePrecision = o.coordinatePrecision;
    if (restore("--overlap-merge", o.overlapMerge != r.overlapMerge, optionValueText(o.overlapMerge)))
        r.overlapMerge = o.overlapMerge;
    if (restore("--file-mode", parseFileMode(o.fileMode) != r.fileMode, o.fileMode)) r.fileMode = parseFileMode(o.fileMode);
    return said;
}

// A manifest given as --config brings back the whole run: with no inputs on the command line,
// its inputs, input options and output options (CRS, grid, simplification, precision, overlap
// merge, file mode; not the paths of --explain or --publish) are used, and said so; with inputs,
// only its recipe.
void runFromManifest(ScanRequest& r, const CLI::App& cmd, bool quiet, bool json) {
    if (r.configPath.empty() || !r.input.paths.empty() || !r.input.bands.empty() || !r.input.inputList.empty()) return;
    const Json j = parseJsonFile(r.configPath);
    if (!j.is_object() || !j.contains("request") || !j.contains("riskmap_version")) return;
    const Manifest m = Manifest::fromJson(j, r.configPath);
    r.input = m.inputsAsRun();
    const std::string options = outputOptionsFromManifest(r, m, cmd);
    if (!quiet)
        tell("note",
             "scanning the inputs recorded in the manifest '" + r.configPath + "'" +
                 (options.empty() ? std::string() : ", with its output options" + options),
             json);
}

std::unique_ptr<ProgressSink> progressSink(bool json, bool quiet, Json tags = Json::object()) {
    if (json) return std::make_unique<JsonProgress>(stderr, 0.5, std::move(tags));
    if (!quiet && ::isatty(STDERR_FILENO)) return std::make_unique<TtyProgress>(stderr);
    return std::make_unique<NullProgress>();
}

// scan --time-series: one scan per date, the diffs between them, one layer of all dates.
void runTimeSeries(SeriesRequest r, bool quiet, bool json, const CliContext& ctx) {
    r.scan.commandLine = ctx.argv;
    DetectorRegistry registry = DetectorRegistry::builtin();
    TimeSeries series(std::move(r), registry);
    auto log = [quiet, json](const std::string& line) {
        const bool warning = line.find("warning") != std::string::npos;
        if (!quiet || warning)
            tell(json && warning ? "warning" : "note", line,
                 json);  // plain: the line says "warning"
    };
    // Each date's events say which date they are of.
    const auto dates = series.dates().size();
    const auto progress = [&](std::size_t i) {
        return progressSink(
            json, quiet,
            Json{{"date", series.dates()[i].date}, {"date_index", i + 1}, {"dates", dates}});
    };
    const SeriesSummary s = series.run(progress, log, ctx.cancel);
    if (!quiet)
        std::cout << "wrote " << s.features << " feature(s) of " << s.dates.size() << " dates and " << s.diffs.size()
                  << " diff(s) to " << s.output << " (provenance: " << s.manifestPath << ")\n";
}

}  // namespace

void addScanCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        ScanRequest req;
        InputArgs in;
        SeriesRequest series;
        std::string shard;
        bool quiet = false;
        bool jsonProgress = false;
    };
    auto a = std::make_shared<Args>();
    ScanRequest& req = a->req;
    CLI::App* cmd = app.add_subcommand("scan", "Scan rasters with a detector and write one feature per object found");
    addOutputOptions(*cmd, req);
    cmd->add_option("--detector", req.detector, "detector to run (default: the recipe's, else index)")->type_name("NAME");
    cmd->add_option("--set", req.sets, "detector option, e.g. --set min_area_m2=500")->type_name("KEY=VALUE");
    cmd->add_option("--config", req.configPath,
                    "recipe JSON: {\"detector\": ..., \"options\": {...}}; a scan manifest reruns that scan (its "
                    "inputs and output options too, when no inputs are given)")
        ->type_name("FILE.json");
    addInputOptions(*cmd, a->in);
    addPipelineOptions(*cmd, req.pipeline);
    addRiskOptions(*cmd, req);
    cmd->add_flag("--resume", req.resume, "continue an interrupted scan from OUT.journal (refused if inputs or options changed)");
    cmd->add_option("--shard", a->shard, "process only share K of N (area-balanced) and keep the journal for 'riskmap merge'")
        ->type_name("K/N");
    cmd->add_option("--explain", req.explainPath,
                    "also write every candidate the detector rejected, with the gate that rejected it and its measured "
                    "value (rejected_by, value, limit, measures): why was this one missed?")
        ->type_name("FILE");
    cmd->add_flag("--keep-journal", req.keepJournal, "keep OUT.journal after a successful scan");
    cmd->add_option("--time-series", a->series.list,
                    "scan each date of LIST (lines 'DATE INPUT...', or a STAC ItemCollection with datetimes) into "
                    "OUT.DATE.ext, diff consecutive dates into OUT.diff.DATE1_DATE2.ext, and write every date's objects "
                    "to OUT with a 'date' field; --resume keeps the dates an interrupted run finished")
        ->type_name("LIST");
    cmd->add_option("--diff-radius-m", a->series.radiusMetres, "with --time-series: the diffs' matching radius")
        ->check(CLI::Range(0.01, 1e6))
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", a->quiet, "no progress bar and no summary");
    cmd->add_flag("--json-progress", a->jsonProgress, "NDJSON progress lines on stderr (for orchestrators)");
    cmd->footer(detectorHelp(DetectorRegistry::builtin()));

    cmd->callback([a, cmd, &ctx] {
        ScanRequest r = a->req;
        r.input = inputRequest(a->in);
        if (!a->shard.empty()) r.shard = ShardSpec::parse(a->shard);
        if (!a->series.list.empty()) {
            ::umask(077);
            SeriesRequest series = a->series;
            series.scan = std::move(r);
            runTimeSeries(std::move(series), a->quiet, a->jsonProgress, ctx);
            return;
        }
        r.commandLine = ctx.argv;
        InputCatalog::refuseRepeats(r.input);  // before a manifest's own (older) inputs come in
        runFromManifest(r, *cmd, a->quiet, a->jsonProgress);
        // Created files start owner-only; --file-mode may relax the final permissions.
        ::umask(077);
        reserveHugePageHeap(std::max<std::size_t>(r.pipeline.ramMB, 64) << 20);
        DetectorRegistry registry = DetectorRegistry::builtin();
        ScanJob job(std::move(r), registry);
        job.lookAtSamples();
        for (const auto& w : job.warnings()) tell("warning", w, a->jsonProgress);
        std::unique_ptr<ProgressSink> progress = progressSink(a->jsonProgress, a->quiet);
        ScanSummary s = job.run(*progress, ctx.cancel);
        for (const auto& w : s.warnings) tell("warning", w, a->jsonProgress);
        if (!a->quiet) {
            std::cout << "wrote " << s.detections << " feature(s) from " << s.tiles << " tile(s)";
            if (s.resumedTiles) std::cout << " (" << s.resumedTiles << " from the journal)";
            std::cout << " to " << s.outputPath << " (provenance: " << s.manifestPath << ")\n";
        }
    });
}

}  // namespace riskmap
