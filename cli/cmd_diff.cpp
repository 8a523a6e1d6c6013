// riskmap diff: what changed between two scans of one place (new, gone, persists, unknown).
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "change/ScanDiff.hpp"
#include "cli/Commands.hpp"
#include "cli/ParseHelp.hpp"
#include "core/Json.hpp"

namespace riskmap {

namespace {

void addDiffOptions(CLI::App& cmd, DiffRequest& r) {
    cmd.add_option("before", r.before,
                   "the earlier scan: a layer of riskmap scan or merge, its manifest beside it")
        ->required()
        ->type_name("BEFORE_SCAN");
    cmd.add_option("after", r.after, "the later scan of the same detector")
        ->required()
        ->type_name("AFTER_SCAN");
    cmd.add_option("-o,--output", r.output, "the changes: .geojson (RFC 7946), .gpkg or .fgb")
        ->required()
        ->type_name("CHANGES");
    cmd.add_option("--radius-m", r.radiusMetres,
                   "objects of the two scans closer than this are one object (geodesic)")
        ->check(CLI::Range(0.01, 1e6))
        ->capture_default_str();
    cmd.add_option("--min-score", r.minScore,
                   "leave out changes whose objects all score below this (matching still uses "
                   "every object)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd.add_flag("--overwrite", r.overwrite,
                 "replace an existing output (and its manifest and style)");
    cmd.add_option("--out-crs", r.outCrs, "CRS for .gpkg/.fgb output (default: the AFTER layer's)")
        ->type_name("CRS");
    cmd.add_option_function<std::string>(
           "--file-mode", [&r](const std::string& m) { r.fileMode = parseFileMode(m); },
           "permissions of the outputs (octal)")
        ->default_str(fileModeText(r.fileMode));
    cmd.add_option("--precision", r.coordinatePrecision,
                   "decimal places of GeoJSON coordinates; places coarser than half a pixel are "
                   "refused (they collapse outlines)")
        ->check(CLI::Range(1, 15))
        ->capture_default_str();
}

Json summaryJson(const DiffSummary& s) {
    return Json{{"output", s.output},
                {"manifest", s.manifestPath},
                {"new", s.counts.added},
                {"gone", s.counts.gone},
                {"persists", s.counts.persists},
                {"unknown", s.counts.unknown},
                {"below_min_score", s.counts.belowMinScore},
                {"warnings", s.warnings}};
}

}  // namespace

void addDiffCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        DiffRequest req;
        bool quiet = false, json = false;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("diff",
                                       "Compare two scans of one place: what is new, what is gone, "
                                       "what persists, what cannot be told");
    addDiffOptions(*cmd, a->req);
    cmd->add_flag("-q,--quiet", a->quiet, "print nothing on success but warnings");
    cmd->add_flag("--json", a->json, "print the counts as JSON");
    cmd->footer(
        "Objects are matched one to one within --radius-m. A pair persists. An object only AFTER "
        "holds is new\n"
        "where BEFORE looked and saw clearly (inside its footprints, outside its nodata gaps), "
        "else unknown;\n"
        "one only BEFORE holds is gone where AFTER saw clearly, else unknown. Changes are ranked "
        "new, gone,\n"
        "unknown, persists, then by risk; each carries both ids, scores and acquisition dates "
        "(scan --date,\n"
        "or the scenes' metadata). Outputs are owner-only (0600): they locate possible victims.\n"
        "Example: riskmap diff camps-2020-01.geojson camps-2020-03.geojson -o changes.gpkg");
    cmd->callback([a, &ctx] {
        DiffRequest r = a->req;
        r.commandLine = ctx.argv;
        ::umask(077);
        ScanDiff diff(r);
        const DiffSummary s = diff.write(ctx.cancel);
        for (const auto& w : s.warnings)
            std::cerr << "riskmap diff: warning: " << printable(w) << "\n";
        if (a->json)
            std::cout << dumpJson(summaryJson(s), 2) << "\n";
        else if (!a->quiet)
            std::cout << s.output << ": " << s.counts.added << " new, " << s.counts.gone
                      << " gone, " << s.counts.persists << " persist, " << s.counts.unknown
                      << " unknown (provenance: " << s.manifestPath << ")\n";
    });
}

}  // namespace riskmap
