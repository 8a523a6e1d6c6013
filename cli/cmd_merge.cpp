// riskmap merge: join the outputs of a sharded scan (scan --shard K/N) into one layer, identical
// to what a single process would have written.
#include <sys/stat.h>

#include <iostream>
#include <memory>
#include <tuple>

#include "cli/Commands.hpp"
#include "cli/ParseHelp.hpp"
#include "core/Error.hpp"
#include "core/Json.hpp"
#include "core/JsonReader.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

namespace {

// The risk options and grid the shards ran with, where the merge is not given its own: a merge
// that fell back to the defaults wrote other risk levels and no grid (an audit).
void takeRecordedRisk(const Manifest& shard, const std::string& origin, const CLI::App& cmd,
                      ScanRequest& r) {
    const RiskOptions::Recorded risk = RiskOptions::read(shard.risk, origin);
    if (!cmd.count("--risk-levels") && risk.levels)
        std::tie(r.risk.medium, r.risk.high) = *risk.levels;
    if (!cmd.count("--context"))
        r.risk.context.insert(r.risk.context.end(), risk.context.begin(), risk.context.end());
    const Json empty = Json::object();  // JsonReader keeps a pointer: no temporaries
    const JsonReader grid(shard.grid.is_object() ? shard.grid : empty, origin, "grid");
    if (!cmd.count("--grid") && grid.has("cell_m")) {
        r.gridMetres = grid.at("cell_m").number(10, 1e7);
        if (!cmd.count("--grid-shape")) r.gridShape = grid.str("shape", r.gridShape);
    }
}

}  // namespace

void addMergeCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        ScanRequest req;
        OutputOptionHandles given;
        std::vector<std::string> shards;
        bool quiet = false;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("merge", "Merge the outputs of a sharded scan into one layer");
    cmd->add_option("shards", a->shards, "outputs of 'riskmap scan --shard K/N' (each with its .journal)")
        ->required()
        ->type_name("SHARD_OUTPUT");
    a->given = addOutputOptions(*cmd, a->req);
    addRiskOptions(*cmd, a->req);
    cmd->add_option("--explain", a->req.explainPath, "also write the rejected candidates (the shards must have run with --explain)")
        ->type_name("FILE");
    addRamOption(*cmd, a->req.pipeline.ramMB,
                 "memory budget in MB; a merge whose objects would not fit is refused before it starts");
    cmd->add_flag("-q,--quiet", a->quiet, "no summary");
    cmd->footer(
        "--file-mode, --precision, --overlap-merge, --simplify-m, --risk-levels, --context and "
        "--grid default to "
        "what the shards recorded, so that the merge equals a single-process scan.\n"
        "Example: riskmap merge shard-*-of-8.geojson -o district.geojson");
    cmd->callback([a, cmd, &ctx] {
        ScanRequest r = a->req;
        const Manifest shard = Manifest::read(Manifest::pathFor(a->shards.front()));
        takeRecordedRisk(shard, Manifest::pathFor(a->shards.front()), *cmd, r);
        if (!a->given.precision->count()) r.coordinatePrecision = shard.output.coordinatePrecision;
        if (!a->given.overlapMerge->count()) r.overlapMerge = shard.output.overlapMerge;
        if (!a->given.simplify->count()) r.simplifyMetres = shard.output.simplifyMetres.value_or(0);
        if (!a->given.fileMode->count()) {
            char* end = nullptr;
            const unsigned long mode = std::strtoul(shard.output.fileMode.c_str(), &end, 8);
            if (*end || mode > 0777)
                throw DataError("the manifest of '" + a->shards.front() +
                                "' records no valid file_mode");
            r.fileMode = static_cast<unsigned>(mode);
        }
        r.commandLine = ctx.argv;
        ::umask(077);
        ScanSummary s = ScanJob::merge(a->shards, r, DetectorRegistry::builtin(), ctx.cancel);
        for (const auto& w : s.warnings) std::cerr << "riskmap: warning: " << printable(w) << "\n";
        if (!a->quiet)
            std::cout << "merged " << a->shards.size() << " shard(s): " << s.detections << " feature(s) from " << s.tiles
                      << " tile(s) to " << s.outputPath << "\n";
    });
}

}  // namespace riskmap
