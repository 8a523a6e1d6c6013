// riskmap eval: precision, recall and F1 of detections against truth, overall and per source.
#include <cctype>
#include <iostream>
#include <memory>

#include "cli/ParseHelp.hpp"
#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "eval/Evaluation.hpp"
#include "eval/PrPlot.hpp"
#include "output/FileCommit.hpp"
#include "provenance/Manifest.hpp"

namespace riskmap {

namespace {

// --plot is checked before the evaluation runs: a PNG, and none of the files read (with
// --overwrite it replaced the detections, truth or AOI it had just measured; an audit).
void checkPlotPath(const EvalRequest& req, bool overwrite) {
    const std::string& p = req.plotPath;
    const auto dot = p.rfind('.');
    std::string ext = dot == std::string::npos ? "" : p.substr(dot);
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".png")
        throw UsageError("--plot '" + p + "' must name a .png file (the curve is drawn as PNG)");
    std::vector<std::string> read{req.truthPath, req.detectionsPath,
                                  Manifest::pathFor(req.detectionsPath)};
    if (!req.aoiPath.empty()) read.push_back(req.aoiPath);
    for (const auto& in : req.inputs) read.push_back(in);
    const std::string target = FileCommit::identity(p);
    for (const auto& in : read)
        if (FileCommit::identity(in) == target)
            throw UsageError("--plot '" + p + "' is '" + in +
                             "', a file eval reads: choose another name");
    FileCommit::checkDestination(p, overwrite);
}

}  // namespace

void addEvalCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        EvalRequest req;
        std::string method = "optimal";
        bool json = false;
        bool overwrite = false;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(
        "eval", "Measure detections against truth points or polygons: TP, FP, FN, precision, recall, F1");
    cmd->add_option("--truth", a->req.truthPath, "truth points or polygons (any OGR format and CRS)")
        ->required()
        ->type_name("TRUTH");
    cmd->add_option("--detections", a->req.detectionsPath, "a layer written by riskmap scan")->required()->type_name("DET");
    cmd->add_option("--radius-m", a->req.radiusMetres, "match distance in metres (geodesic)")->capture_default_str();
    cmd->add_option("--method", a->method, "optimal (most matches, then least distance) or greedy (closest first)")
        ->check(CLI::IsMember({"optimal", "greedy"}))
        ->capture_default_str();
    cmd->add_option("--aoi", a->req.aoiPath, "polygons of the scanned area (instead of the scan's footprints)")
        ->type_name("FOOTPRINT");
    cmd->add_option("--inputs", a->req.inputs, "the scanned rasters, for footprints (default: the scan manifest)")
        ->type_name("RASTERS");
    cmd->add_option("--truth-source-field", a->req.truthSourceField,
                    "truth field naming the source each object was labelled in (e.g. chip)")
        ->type_name("FIELD");
    cmd->add_option("--difficult-field", a->req.difficultField, "truth field marking don't-care objects")
        ->capture_default_str();
    cmd->add_option("--min-score", a->req.minScore, "ignore detections scoring below this")->capture_default_str();
    cmd->add_option("--group-field", a->req.groupField,
                    "truth field grouping sources into a table (e.g. district); a source takes its truth's value")
        ->type_name("FIELD");
    cmd->add_option("--bootstrap", a->req.bootstrapResamples,
                    "resamples of sources for 95 % intervals: 0 = none, else at least 100 (1000 "
                    "recommended)")
        ->check(CLI::Range(0, 100000))
        ->check(CLI::Validator(
            [](std::string& v) {
                // 1-99 resamples put the 2.5 and 97.5 percentiles on the same few values (1: a
                // zero-width interval).
                return v != "0" && std::stod(v) < 100
                           ? std::string("0 (none) or at least 100 resamples; 1000 recommended")
                           : std::string();
            },
            "", "bootstrap"))
        ->capture_default_str();
    cmd->add_option("--seed", a->req.seed, "seed of the bootstrap")->check(seedNumber())->capture_default_str();
    cmd->add_option("--plot", a->req.plotPath, "also draw the precision-recall curve as a PNG")->type_name("FILE.png");
    cmd->add_flag("--overwrite", a->overwrite, "replace an existing --plot file");
    cmd->add_flag("--json", a->json, "print machine-readable JSON (with the curve, AP, best F1 and intervals)");
    cmd->footer(
        "Truth marked difficult counts neither way (PASCAL VOC). Only truth inside the scanned footprint counts;\n"
        "with the scan manifest's footprints, truth and detections deep in its nodata gaps do not either.\n"
        "The precision-recall curve matches greedily in score order per source (as VOC and mAP50 do); the\n"
        "counts at --min-score use --method. Intervals resample whole sources (images).\n"
        "Example: riskmap eval --truth data/kilns-s2-bd-dev/labels.geojson --detections kilns.geojson "
        "--truth-source-field chip");
    CLI::Option* plot = cmd->get_option("--plot");
    CLI::Option* difficult = cmd->get_option("--difficult-field");
    cmd->callback([a, plot, difficult, &ctx] {
        a->req.cancel = ctx.cancel;
        a->req.method = parseMatchMethod(a->method);
        a->req.difficultFieldGiven = difficult->count() > 0;
        if (plot->count() > 0) checkPlotPath(a->req, a->overwrite);
        EvalReport r = Evaluation::run(a->req);
        if (!a->req.plotPath.empty()) {
            const std::vector<unsigned char> png = plotPrecisionRecall(r);
            FileCommit::writeFile(a->req.plotPath, std::string(png.begin(), png.end()), a->overwrite, 0600);
        }
        if (a->json)
            std::cout << dumpJson(r.toJson(), 2) << "\n";
        else
            std::cout << r.toText();
    });
}

}  // namespace riskmap
