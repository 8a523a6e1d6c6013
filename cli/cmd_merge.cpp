// riskmap merge: join the outputs of a sharded scan (scan --shard K/N) into one layer, identical
// to what a single process would have written.
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "core/Json.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

void addMergeCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        std::vector<std::string> shards;
        std::string output;
        bool overwrite = false;
        std::string outCrs;
        std::string fileMode;
        int precision = 0;
        double overlapMerge = -1;
        bool quiet = false;
        RiskArgs risk;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("merge", "Merge the outputs of a sharded scan into one layer");
    cmd->add_option("shards", a->shards, "outputs of 'riskmap scan --shard K/N' (each with its .journal)")
        ->required()
        ->type_name("SHARD_OUTPUT");
    cmd->add_option("-o,--output", a->output, "merged layer: .geojson, .gpkg or .fgb")->required()->type_name("OUT");
    cmd->add_flag("--overwrite", a->overwrite, "replace an existing output");
    cmd->add_option("--out-crs", a->outCrs, "CRS for .gpkg/.fgb output (default: the first input's)")->type_name("CRS");
    cmd->add_option("--file-mode", a->fileMode, "permissions of the outputs (default: the shards')");
    cmd->add_option("--precision", a->precision, "decimal places of GeoJSON coordinates (default: the shards')")
        ->check(CLI::Range(1, 15));
    cmd->add_option("--overlap-merge", a->overlapMerge, "overlap share that makes one object (default: the shards')");
    addRiskOptions(*cmd, a->risk);
    cmd->add_flag("-q,--quiet", a->quiet, "no summary");
    cmd->footer("Example: riskmap merge shard-*-of-8.geojson -o district.geojson");
    cmd->callback([a, &ctx] {
        // Output options default to what the shards recorded, so that the merge equals a
        // single-process scan.
        const Manifest shard = Manifest::read(Manifest::pathFor(a->shards.front()));
        const Manifest::Output& out = shard.output;
        ScanRequest r;
        r.output = a->output;
        r.overwrite = a->overwrite;
        r.outCrs = a->outCrs;
        r.coordinatePrecision = a->precision > 0 ? a->precision : out.coordinatePrecision;
        r.overlapMerge = a->overlapMerge >= 0 ? a->overlapMerge : out.overlapMerge;
        std::string mode = a->fileMode.empty() ? out.fileMode : a->fileMode;
        r.fileMode = static_cast<unsigned>(std::stoul(mode, nullptr, 8));
        r.commandLine = ctx.argv;
        applyRiskOptions(a->risk, r);
        ::umask(077);
        ScanSummary s = ScanJob::merge(a->shards, r, DetectorRegistry::builtin());
        if (!a->quiet)
            std::cout << "merged " << a->shards.size() << " shard(s): " << s.detections << " feature(s) from " << s.tiles
                      << " tile(s) to " << s.outputPath << "\n";
    });
}

}  // namespace riskmap
