// `riskmap merge`: a scan rebuilt from the journals of its shards, equal to one process's.
#include <cpl_vsi.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/Error.hpp"
#include "core/Paths.hpp"
#include "core/JsonReader.hpp"
#include "core/MemoryBudget.hpp"
#include "core/UtcTime.hpp"
#include "output/FileCommit.hpp"
#include "scan/ScanJob.hpp"
#include "tiling/ShardPlan.hpp"

namespace riskmap {

namespace {

struct Shards {
    std::vector<Json> fingerprints;
    std::vector<int> index;  // 1-based shard index of each output
    int count = 0;
};

// Each output's journal fingerprint, checked to be a shard of one and the same scan.
Shards readShards(const std::vector<std::string>& outputs) {
    Shards s;
    for (const auto& p : outputs) {
        const std::string jpath = ScanJournal::pathFor(p);
        VSIStatBufL st;
        if (VSIStatL(jpath.c_str(), &st) != 0)
            throw DataError("'" + p + "' has no journal '" + jpath + "': is it the output of a riskmap scan --shard?");
        // A shard still running holds its journal locked; merged then, its tiles so far would
        // pass for the whole shard or fail as "missing" without the reason.
        if (ScanJournal::inUse(jpath))
            throw UsageError("'" + p + "' is still being scanned (its journal '" + jpath +
                             "' is locked by the running riskmap scan --shard): merge when every shard has finished");
        s.fingerprints.push_back(ScanJournal::read(jpath, nullptr, nullptr));
        const Json& fp = s.fingerprints.back();
        if (!fp.is_object() || !fp.contains("shard") || !fp["shard"].is_string())
            throw DataError("'" + p + "' is not a shard (it was scanned without --shard)");
        ShardSpec spec = ShardSpec::parse(fp["shard"].get<std::string>());
        if (s.count && spec.count != s.count)
            throw UsageError("'" + p + "' is shard " + spec.text() + " of a " + std::to_string(spec.count) +
                             "-way split, the others of a " + std::to_string(s.count) + "-way one");
        s.count = spec.count;
        s.index.push_back(spec.index);
        const std::string diff = ScanJournal::differences(fp, s.fingerprints.front(), {"shard"});
        if (!diff.empty())
            throw UsageError("'" + p + "' comes from a different scan than '" + outputs.front() + "' (" + diff +
                             "): merge the shards of one scan, every 'scan --shard K/N' run with the same inputs and options");
    }
    std::vector<int> seen(static_cast<std::size_t>(s.count) + 1, 0);
    for (int k : s.index) seen[static_cast<std::size_t>(k)]++;
    std::string problem;
    for (int k = 1; k <= s.count; ++k) {
        const int n = seen[static_cast<std::size_t>(k)];
        if (n != 1) problem += (problem.empty() ? "shard " : ", shard ") + std::to_string(k) + (n ? " is given twice" : " is missing");
    }
    if (!problem.empty()) throw UsageError("cannot merge a " + std::to_string(s.count) + "-way split: " + problem);
    return s;
}

// What a merge holds at its peak: one shard's tiles as read (~3 MB per MB of its journal), then
// what every object keeps until it is written (sort key, id, index: ~0.55 MB per MB of journal)
// and the packed outlines up to a sixteenth of --ram, on 80 MB of libraries and buffers.
// Measured: 2 shards of a 562,500-object scan (37 + 36 MB of journals), 196 MB held; this asks
// 241 MB. Holding every shard's tiles at once (before) took 295 MB, ~3 MB per MB of all journals.
double mergeNeedMB(const std::vector<std::string>& outputs) {
    double total = 0, largest = 0;
    for (const auto& p : outputs) {
        VSIStatBufL st;
        if (VSIStatL(ScanJournal::pathFor(p).c_str(), &st) != 0) continue;
        total += static_cast<double>(st.st_size);
        largest = std::max(largest, static_cast<double>(st.st_size));
    }
    const double mb = 1024.0 * 1024.0;
    // The packed share grows with --ram itself: the budget named must hold with its own share.
    constexpr double share = PipelineOptions::kHeldShare;
    return (80.0 + 3.0 * largest / mb + 0.55 * total / mb) * share / (share - 1);
}

// A merge writing over a shard it reads (-o s1.geojson, --publish s2.geojson) replaced it, with
// --overwrite, and exited 0 (an audit).
void refuseShardsAsOutputs(const ScanFiles& out, const std::vector<std::string>& shardOutputs) {
    std::map<std::string, std::string> shardFiles;
    for (const auto& shard : shardOutputs)
        for (const auto& p : ScanFiles::plan(shard, true, "").written())
            shardFiles.emplace(FileCommit::identity(p), shard);
    for (const auto& p : out.written()) {
        if (p.size() > 4 && p.compare(p.size() - 4, 4, ".qml") == 0)
            continue;  // styles are shared by stem
        const auto it = shardFiles.find(FileCommit::identity(p));
        if (it != shardFiles.end())
            throw UsageError("output '" + p + "' is a file of the shard '" + it->second +
                             "' being merged: choose another -o");
    }
}

// The shards name their inputs as given, relative to the folder they ran in. A merge run from
// another folder (another node of a cluster) found none of them and said only "does not
// exist" (an audit): it now says where to run.
void refuseElsewhere(const InputRequest& input, const std::string& shard) {
    std::vector<std::string> paths = input.paths;
    for (const auto& b : input.bands) paths.push_back(b.path);
    const auto missing = std::find_if(paths.begin(), paths.end(), [](const std::string& p) {
        std::error_code ec;
        return !p.empty() && p[0] != '/' && !isRemotePath(p) && !std::filesystem::exists(p, ec);
    });
    if (missing == paths.end()) return;
    const std::string manifest = Manifest::pathFor(shard);
    std::string dir;
    try {
        dir = Manifest::read(manifest).workingDir;
    } catch (const Error&) {
        return;  // no manifest to tell: the scan's own message names the file
    }
    std::error_code ec;
    if (dir.empty() || std::filesystem::equivalent(dir, std::filesystem::current_path(), ec)) return;
    throw UsageError("the shards name their input '" + *missing + "' relative to the folder they ran in, '" + dir +
                     "' (their manifest '" + manifest + "'): run riskmap merge from that folder (cd " + dir + ")");
}

}  // namespace

ScanSummary ScanJob::merge(const std::vector<std::string>& shardOutputs, const ScanRequest& mergeRequest,
                           const DetectorRegistry& registry, const std::atomic<bool>* cancel) {
    const std::string started = utcNow();
    if (shardOutputs.empty()) throw UsageError("merge needs the outputs of the shards");
    const Shards shards = readShards(shardOutputs);
    requireRam("merge", mergeRequest.pipeline.ramMB, mergeNeedMB(shardOutputs), "these shards' objects");

    // The scan as the shards ran it, with the merge's output options.
    const std::string origin = ScanJournal::pathFor(shardOutputs.front());
    const RecordedRequest rec = RecordedRequest::fromJson(JsonReader(shards.fingerprints.front(), origin).at("request"));
    ScanRequest r = mergeRequest;
    r.input = rec.input;
    r.recipe = rec.recipe;
    r.detector = JsonReader(rec.recipe, origin, "request.recipe").at("detector").str();
    r.pipeline.tileSize = rec.tileSize;
    r.pipeline.tileSizeGiven = true;  // the shards' size, whatever the merge's --ram
    r.shard = ShardSpec{};
    refuseElsewhere(r.input, shardOutputs.front());
    ScanJob job(r, registry);
    job.cancel_ = cancel;
    refuseShardsAsOutputs(job.files(), shardOutputs);
    const std::string changed = ScanJournal::differences(job.fingerprint(), shards.fingerprints.front(), {"shard", "explain"});
    if (!changed.empty()) throw DataError("the inputs changed since the shards ran: " + changed);
    if (!r.explainPath.empty() && !shards.fingerprints.front().contains("explain"))
        throw UsageError("--explain needs shards that ran with --explain: rerun them with it, or merge without it");

    // Only the tile grids are used: no pixel is read, so --ram (the merge's own) is not the tiles'.
    PipelineOptions gridsOnly = r.pipeline;
    gridsOnly.ramMB = std::size_t{1} << 24;
    ScanPipeline pipeline(job.inputs(), *job.detector_, gridsOnly);
    std::vector<TileGrid> grids;
    std::vector<double> pxKm2;
    for (std::size_t i = 0; i < job.inputs().size(); ++i) {
        grids.push_back(pipeline.plans()[i].grid);
        pxKm2.push_back(job.inputs()[i].gsdX() * job.inputs()[i].gsdY() / 1e6);
    }
    ShardPlan plan(grids, pxKm2, shards.count);
    ScanResults res = job.freshResults();
    // One shard's tiles at a time: they are packed (and spilled past --ram's share) before the
    // next journal is read, so a merge holds one shard's outlines, not all of them.
    for (std::size_t s = 0; s < shardOutputs.size(); ++s) {
        std::vector<JournalTile> tiles;
        ScanJournal::read(ScanJournal::pathFor(shardOutputs[s]), &job.detector_->info(), &tiles);
        for (const auto& t : tiles)
            if (t.input >= grids.size() || t.tile >= grids[t.input].size() || plan.shardOf(t.input, t.tile) != shards.index[s])
                throw DataError("the journal of '" + shardOutputs[s] + "' holds a tile that is not shard " +
                                std::to_string(shards.index[s]) + "'s: it is damaged");
        if (tiles.size() != plan.tilesIn(shards.index[s]))
            throw DataError("shard " + std::to_string(shards.index[s]) + "/" + std::to_string(shards.count) + " ('" +
                            shardOutputs[s] + "') is incomplete: " + std::to_string(tiles.size()) + " of " +
                            std::to_string(plan.tilesIn(shards.index[s])) + " tiles; rerun it with --resume");
        job.replay(tiles, pipeline, res);
        // What each shard's sample of the pixels showed (the merge reads none); a shard copied
        // without its manifest has none to give.
        const std::string manifest = Manifest::pathFor(shardOutputs[s]);
        if (std::ifstream(manifest))
            for (const auto& w : Manifest::read(manifest).sampleWarnings) job.addSampleWarning(w);
    }
    res.resumedTiles = 0;
    res.merged = true;
    NullProgress quiet;
    ScanSummary summary = job.writeOutputs(res, started, quiet);
    // The job's own (and the shards' sample warnings) first, as a scan prints them.
    summary.warnings.insert(summary.warnings.begin(), job.warnings().begin(), job.warnings().end());
    return summary;
}

}  // namespace riskmap
