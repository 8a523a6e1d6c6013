// riskmap scan: run a detector over rasters, tile by tile, and write one feature per object.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "core/HugePageHeap.hpp"
#include "core/JsonProgress.hpp"
#include "core/TtyProgress.hpp"
#include "detection/DetectorRegistry.hpp"
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

unsigned parseMode(const std::string& text) {
    char* end = nullptr;
    unsigned long v = std::strtoul(text.c_str(), &end, 8);
    if (text.empty() || *end != '\0' || v > 0777)
        throw UsageError("--file-mode '" + text + "' is not an octal permission such as 0600 or 0640");
    if (v & 0022)
        std::cerr << "riskmap: warning: --file-mode " << text
                  << " lets others modify the outputs; sensitive locations may leak or be altered\n";
    return static_cast<unsigned>(v);
}

}  // namespace

void addScanCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        InputArgs in;
        std::string output;
        std::string detector;
        std::vector<std::string> sets;
        std::string config;
        int tileSize = 1024;
        int threads = 0;
        std::size_t ram = 1024;
        bool overwrite = false;
        bool quiet = false;
        bool jsonProgress = false;
        std::string outCrs;
        std::string fileMode = "0600";
        int precision = 7;
        double overlapMerge = 0.3;
        bool resume = false;
        bool keepJournal = false;
        std::string shard;
        RiskArgs risk;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(
        "scan", "Scan rasters with a detector and write one feature per object found");
    cmd->add_option("-o,--output", a->output, "output layer: .geojson (RFC 7946), .gpkg or .fgb")
        ->required()
        ->type_name("OUT");
    cmd->add_option("--detector", a->detector, "detector to run (default: the recipe's, else index)")
        ->type_name("NAME");
    cmd->add_option("--set", a->sets, "detector option, e.g. --set min_area_m2=500")->type_name("KEY=VALUE");
    cmd->add_option("--config", a->config, "recipe JSON: {\"detector\": ..., \"options\": {...}}; a scan "
                                           "manifest works too")
        ->type_name("FILE.json");
    addInputOptions(*cmd, a->in);
    cmd->add_option("--tile-size", a->tileSize, "tile core size in pixels (rounded to whole blocks)")
        ->check(CLI::Range(16, 1 << 20))
        ->capture_default_str();
    cmd->add_option("--threads", a->threads, "worker threads (0 = all cores)")
        ->check(CLI::Range(0, 4096))
        ->capture_default_str();
    cmd->add_option("--ram", a->ram, "memory budget in MB for tiles in flight and GDAL's cache")
        ->check(CLI::Range(64, 1 << 24))
        ->capture_default_str();
    cmd->add_flag("--overwrite", a->overwrite, "replace an existing output");
    cmd->add_option("--out-crs", a->outCrs, "CRS for .gpkg/.fgb output (default: the first input's)")
        ->type_name("CRS");
    cmd->add_option("--file-mode", a->fileMode, "permissions of the outputs (octal)")->capture_default_str();
    cmd->add_option("--precision", a->precision, "decimal places of GeoJSON coordinates")
        ->check(CLI::Range(1, 15))
        ->capture_default_str();
    cmd->add_option("--overlap-merge", a->overlapMerge,
                    "detections of overlapping scenes that overlap by this share of the smaller one are one "
                    "object, listed with all its scenes in `sources` (0 = keep all)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    addRiskOptions(*cmd, a->risk);
    cmd->add_flag("--resume", a->resume,
                  "continue an interrupted scan from OUT.journal (refused if inputs or options changed)");
    cmd->add_option("--shard", a->shard,
                    "process only share K of N (area-balanced) and keep the journal for 'riskmap merge'")
        ->type_name("K/N");
    cmd->add_flag("--keep-journal", a->keepJournal, "keep OUT.journal after a successful scan");
    cmd->add_flag("-q,--quiet", a->quiet, "no progress bar and no summary");
    cmd->add_flag("--json-progress", a->jsonProgress, "NDJSON progress lines on stderr (for orchestrators)");
    cmd->footer(detectorHelp(DetectorRegistry::builtin()));

    cmd->callback([a, &ctx] {
        ScanRequest r;
        r.input = inputRequest(a->in);
        r.detector = a->detector;
        r.sets = a->sets;
        r.configPath = a->config;
        r.output = a->output;
        r.outCrs = a->outCrs;
        r.overwrite = a->overwrite;
        r.fileMode = parseMode(a->fileMode);
        r.coordinatePrecision = a->precision;
        r.overlapMerge = a->overlapMerge;
        r.resume = a->resume;
        applyRiskOptions(a->risk, r);
        r.keepJournal = a->keepJournal;
        if (!a->shard.empty()) r.shard = ShardSpec::parse(a->shard);
        r.pipeline.tileSize = a->tileSize;
        r.pipeline.threads = a->threads;
        r.pipeline.ramMB = a->ram;
        r.commandLine = ctx.argv;

        // Created files start owner-only; --file-mode may relax the final permissions.
        ::umask(077);
        reserveHugePageHeap(std::max<std::size_t>(a->ram, 64) << 20);
        DetectorRegistry registry = DetectorRegistry::builtin();
        ScanJob job(std::move(r), registry);

        for (const auto& w : job.warnings()) std::cerr << "riskmap: warning: " << w << "\n";
        std::unique_ptr<ProgressSink> progress;
        if (a->jsonProgress)
            progress = std::make_unique<JsonProgress>(stderr);
        else if (!a->quiet && ::isatty(STDERR_FILENO))
            progress = std::make_unique<TtyProgress>(stderr);
        else
            progress = std::make_unique<NullProgress>();

        ScanSummary s = job.run(*progress, ctx.cancel);
        if (!a->quiet) {
            std::cout << "wrote " << s.detections << " feature(s) from " << s.tiles << " tile(s)";
            if (s.resumedTiles) std::cout << " (" << s.resumedTiles << " from the journal)";
            std::cout << " to " << s.outputPath << " (provenance: " << s.manifestPath << ")\n";
        }
    });
}

}  // namespace riskmap
