// riskmap report: an offline evidence report (map, ranked leads, image chips) from a scan.
#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "report/ReportWriter.hpp"

namespace riskmap {

void addReportCommand(CLI::App& app, const CliContext& ctx) {
    auto a = std::make_shared<ReportRequest>();
    auto quiet = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "report", "Write an offline evidence report for reviewers: map, ranked leads with image chips, grid, coverage");
    cmd->add_option("SCAN", a->scan, "a layer written by riskmap scan or merge (its .manifest.json beside it)")
        ->required();
    cmd->add_option("-o,--output", a->outDir, "the report folder to create (open index.html in a browser)")
        ->required()
        ->type_name("DIR");
    cmd->add_flag("--overwrite", a->overwrite, "replace an earlier report in DIR");
    cmd->add_option("--max-chips", a->maxChips, "image chips for this many highest-risk leads")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    cmd->add_option("--chip-min-m", a->chipMinMetres, "least ground a chip shows, in metres")
        ->check(CLI::Range(1.0, 1e5))  // PositiveNumber printed DBL_MAX in full, 309 digits (an audit)
        ->capture_default_str();
    cmd->add_option("--title", a->title, "report title (default: detector and file name)");
    addRamOption(*cmd, a->ramMB, "memory budget in MB; a report whose leads would not fit is refused before it starts");
    cmd->add_flag("-q,--quiet", *quiet, "print nothing on success");
    cmd->footer(
        "The report reads the rasters named in the scan's manifest again to cut image chips; relative\n"
        "paths are taken from the folder the scan ran in. It works offline (Leaflet is bundled; no\n"
        "basemap tiles are fetched). It holds exact locations: the folder is owner-only (0700) and must\n"
        "not be published; share `riskmap scan --publish` grids instead.\n"
        "Example: riskmap report kilns.gpkg -o kilns-report");
    const std::atomic<bool>* cancel = ctx.cancel;
    cmd->callback([a, quiet, cancel] {
        ReportWriter writer(*a);
        ReportSummary s = writer.write(cancel);
        for (const auto& n : s.notes) std::cerr << "riskmap report: note: " << n << "\n";
        if (!*quiet)
            std::cout << s.dir << "/index.html: " << s.detections << " leads, " << s.chips << " image chips\n";
    });
}

}  // namespace riskmap
