// Options shared by scan and merge, bound straight to the ScanRequest fields they set, so that
// a default is written once (in ScanRequest, PipelineOptions and RiskOptions) and shown by
// --help from there.
#include <iostream>

#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "core/Json.hpp"

namespace riskmap {

unsigned parseFileMode(const std::string& text) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(text.c_str(), &end, 8);
    if (text.empty() || *end != '\0' || v > 0777)
        throw UsageError("--file-mode '" + text +
                         "' is not an octal permission such as 0600 or 0640");
    if ((v & 0600) != 0600)
        throw UsageError("--file-mode '" + text +
                         "' leaves the owner unable to read or write the outputs: keep 06 in the "
                         "owner's digit, e.g. 0600 or 0640");
    // Read bits matter as much as write bits: the layers hold exact locations (an audit: 0644 and
    // 0604 ran without a word).
    if (v & 0022)
        std::cerr
            << "riskmap: warning: --file-mode " << text
            << " lets others modify the outputs; sensitive locations may leak or be altered\n";
    else if (v & 0044)
        std::cerr << "riskmap: warning: --file-mode " << text
                  << " lets others read exact locations of possible victims; share --publish "
                     "layers instead\n";
    return static_cast<unsigned>(v);
}

std::string fileModeText(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

OutputOptionHandles addOutputOptions(CLI::App& cmd, ScanRequest& r) {
    OutputOptionHandles h;
    cmd.add_option("-o,--output", r.output, "output layer: .geojson (RFC 7946), .gpkg or .fgb")
        ->required()
        ->type_name("OUT");
    cmd.add_flag("--overwrite", r.overwrite,
                 "replace an existing output (and the companions of an earlier run)");
    cmd.add_option("--out-crs", r.outCrs,
                   "CRS for .gpkg/.fgb output, e.g. EPSG:32645 (default: the first input's)")
        ->type_name("CRS");
    h.fileMode =
        cmd.add_option_function<std::string>(
               "--file-mode", [&r](const std::string& m) { r.fileMode = parseFileMode(m); },
               "permissions of the outputs (octal)")
            ->default_str(fileModeText(r.fileMode));
    h.precision = cmd.add_option("--precision", r.coordinatePrecision,
                                 "decimal places of GeoJSON coordinates; places coarser than half "
                                 "a pixel are refused (they collapse outlines)")
                      ->check(CLI::Range(1, 15))
                      ->capture_default_str();
    h.simplify =
        cmd.add_option(
               "--simplify-m", r.simplifyMetres,
               "simplify outlines within this many metres, keeping topology; an object too small "
               "for it is simplified as far as it stays valid (default: half a pixel; 0 = exact "
               "pixel edges)")
            ->check(CLI::Range(0.0, 1e4))
            ->default_str("half a pixel");
    h.overlapMerge =
        cmd.add_option(
               "--overlap-merge", r.overlapMerge,
               "detections of overlapping scenes that overlap by this share of the smaller one are "
               "one object, listed with all its scenes in `sources` (0 = keep all)")
            ->check(CLI::Range(0.0, 1.0))
            ->capture_default_str();
    return h;
}

void addRiskOptions(CLI::App& cmd, ScanRequest& r) {
    cmd.add_option_function<std::vector<std::string>>(
           "--context",
           [&r](const std::vector<std::string>& specs) {
               for (const auto& c : specs) r.risk.context.push_back(ContextSpec::parse(c));
           },
           "context layer and rule: NAME=PATH:RULE:WEIGHT with RULE inside, outside, within=METRES "
           "or nearest[=METRES], e.g. school=schools.gpkg:within=1000:0.3 (repeatable)")
        ->type_name("SPEC");
    cmd.add_option_function<std::vector<double>>(
           "--risk-levels",
           [&r](const std::vector<double>& v) {
               r.risk.medium = v.at(0);
               r.risk.high = v.at(1);
           },
           "risk at or above MEDIUM is medium, at or above HIGH is high")
        ->type_name("MEDIUM,HIGH")
        ->delimiter(',')
        ->expected(2)
        ->default_str(formatDouble(r.risk.medium) + "," + formatDouble(r.risk.high));
    cmd.add_option("--grid", r.gridMetres,
                   "also write a risk grid of cells this size (metres, equal-area)")
        ->type_name("METRES")
        ->check(CLI::Range(10.0, 1e7));
    cmd.add_option("--grid-shape", r.gridShape, "square or hex")
        ->check(CLI::IsMember({"square", "hex"}))
        ->capture_default_str();
    cmd.add_option(
           "--publish", r.publishPath,
           "also write a layer safe to share: coarse cells with enough detections, no coordinates, "
           "images or paths")
        ->type_name("FILE");
    // The declared ranges feed the QGIS dialog too; ScanJob still says why (merge, recipes).
    cmd.add_option("--publish-min-count", r.publishMinCount,
                   "cells with fewer detections are withheld (at least 3)")
        ->check(CLI::Range(3, 1000000))
        ->capture_default_str();
    cmd.add_option(
           "--publish-cell-m", r.publishCellMetres,
           "published cell size, metres: 5000 times a power of two (5, 10, 20, 40 km...), so that "
           "shares of one area at two sizes nest")
        ->check(CLI::Range(5000.0, 1e7))
        ->capture_default_str();
}

void addPipelineOptions(CLI::App& cmd, PipelineOptions& p) {
    // Left at its default, the scan may take smaller tiles to fit --ram (same output).
    p.tileSizeGiven = false;
    cmd.add_option("--tile-size", p.tileSize,
                   "tile core size in pixels (rounded to whole blocks); by default smaller tiles "
                   "when one would not fit --ram")
        ->check(CLI::Range(16, 1 << 20))
        ->each([&p](const std::string&) { p.tileSizeGiven = true; })
        ->capture_default_str();
    cmd.add_option("--threads", p.threads, "worker threads (0 = all cores)")
        ->check(CLI::Range(0, 4096))
        ->capture_default_str();
    addRamOption(cmd, p.ramMB,
                 "memory budget in MB: tiles in flight, the block cache and the objects found");
}

void addRamOption(CLI::App& cmd, std::size_t& ramMB, const std::string& help) {
    cmd.add_option("--ram", ramMB, help)->check(CLI::Range(64, 1 << 24))->capture_default_str();
}

}  // namespace riskmap
