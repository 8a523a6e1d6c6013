#include "scan/ScanJob.hpp"

#include <sys/resource.h>

#include <cpl_vsi.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>

#include "core/Error.hpp"
#include "core/Version.hpp"
#include "detection/DetectorConfig.hpp"
#include "output/AtomicFile.hpp"
#include "output/FeatureAssembler.hpp"
#include "output/LayerWriter.hpp"
#include "tiling/ScanPipeline.hpp"
#include "tiling/ShardPlan.hpp"

namespace riskmap {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string utcNow() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

double peakRssMB() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::string modeText(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

}  // namespace

ScanJob::ScanJob(ScanRequest request, const DetectorRegistry& registry)
    : request_(std::move(request)) {
    auto t0 = Clock::now();
    outputFormatFor(request_.output);  // fail on a bad extension before any work
    AtomicFile::checkWritable(request_.output, request_.overwrite);
    AtomicFile::checkWritable(manifestPathFor(request_.output), request_.overwrite);
    if (!request_.outCrs.empty() && outputFormatFor(request_.output).rfc7946)
        throw UsageError("--out-crs does not apply to GeoJSON, which RFC 7946 fixes to EPSG:4326: "
                         "write .gpkg or .fgb for another CRS");

    std::unique_ptr<DetectorConfig> recipe;
    if (request_.recipe)
        recipe = std::make_unique<DetectorConfig>(DetectorConfig::fromJson(*request_.recipe, "journal"));
    else if (!request_.configPath.empty())
        recipe = std::make_unique<DetectorConfig>(DetectorConfig::load(request_.configPath));
    std::string name = request_.detector;
    if (name.empty()) name = recipe && !recipe->detector().empty() ? recipe->detector() : "index";
    const auto& entry = registry.get(name);
    options_ = std::make_unique<OptionValues>(DetectorConfig::resolve(entry.info, recipe.get(), request_.sets));
    detector_ = entry.create(*options_);

    catalog_ = std::make_unique<InputCatalog>(InputCatalog::open(request_.input));
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        std::string w = detector_->inputWarning(inputs()[i].gsdX(), inputs()[i].gsdY());
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
    }
    openSeconds_ = since(t0);
}

ScanJob::~ScanJob() = default;

Json ScanJob::fingerprint() const {
    Json req = Json::object();
    Json in = Json::object();
    Json paths = Json::array();
    for (const auto& p : InputCatalog::expandPaths(request_.input.paths, request_.input.inputList)) paths.push(p);
    in.set("paths", paths);
    Json bands = Json::array();
    for (const auto& b : request_.input.bands) {
        Json x = Json::object();
        x.set("name", b.name);
        x.set("path", b.path);
        x.set("index", b.index);
        x.set("scale", b.scale ? Json(*b.scale) : Json());
        x.set("offset", b.offset ? Json(*b.offset) : Json());
        bands.push(x);
    }
    in.set("bands", bands);
    Json stac = Json::object();
    for (const auto& kv : request_.input.stacAssets) stac.set(kv.first, kv.second);
    in.set("stac_assets", stac);
    req.set("inputs", in);
    const InputOptions& o = request_.input.options;
    Json io = Json::object();
    io.set("sensor", o.sensor);
    io.set("scale", o.scale ? Json(*o.scale) : Json());
    io.set("offset", o.offset ? Json(*o.offset) : Json());
    io.set("resampling", o.resampling);
    req.set("input_options", io);
    req.set("recipe", DetectorConfig::recipeJson(detector_->info().name, *options_));
    req.set("tile_size", request_.pipeline.tileSize);

    // What the inputs are now: a changed file refuses a resume.
    Json ids = Json::array();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        const RasterInput& r = inputs()[i];
        Json x = Json::object();
        x.set("source", sources()[i]);
        x.set("width", r.width());
        x.set("height", r.height());
        Json files = Json::array();
        for (const auto& f : r.files()) {
            Json y = Json::object();
            y.set("path", f.path);
            VSIStatBufL st;
            if (VSIStatL(f.path.c_str(), &st) == 0) {
                y.set("size", static_cast<long long>(st.st_size));
                y.set("mtime", static_cast<long long>(st.st_mtime));
            }
            files.push(y);
        }
        x.set("files", files);
        ids.push(x);
    }
    Json fp = Json::object();
    fp.set("riskmap_version", kRiskmapVersion);
    fp.set("request", req);
    fp.set("inputs", ids);
    fp.set("shard", request_.shard.active() ? Json(request_.shard.text()) : Json());
    return fp;
}

ScanSummary ScanJob::run(ProgressSink& progress, const std::atomic<bool>* cancel) {
    const std::string started = utcNow();
    auto t0 = Clock::now();
    PipelineOptions popts = request_.pipeline;
    popts.cancel = cancel;
    ScanPipeline pipeline(inputs(), *detector_, popts);

    ScanResults res;
    res.perInput.resize(inputs().size());
    res.tilesPerInput.assign(inputs().size(), 0);

    // The journal: resume from it, or start it afresh.
    const Json fp = fingerprint();
    const std::string jpath = ScanJournal::pathFor(request_.output);
    std::vector<JournalTile> done;
    VSIStatBufL st;
    const bool haveJournal = VSIStatL(jpath.c_str(), &st) == 0;
    if (haveJournal && !request_.resume && !request_.overwrite)
        throw UsageError("'" + jpath + "' holds the journal of an interrupted scan: pass --resume to continue it, "
                         "or --overwrite to start over");
    ScanJournal journal = haveJournal && request_.resume
                              ? ScanJournal::resume(jpath, fp, detector_->info(), done)
                              : ScanJournal::create(jpath, fp);
    std::set<std::pair<std::size_t, std::size_t>> finished;
    for (auto& t : done) {
        if (t.input >= inputs().size() || !finished.insert({t.input, t.tile}).second)
            throw DataError("journal '" + jpath + "' lists a tile twice or an unknown input: start over with --overwrite");
        res.tilesPerInput[t.input]++;
        for (auto& d : t.detections) res.perInput[t.input].push_back(std::move(d));
    }
    res.resumedTiles = done.size();
    done.clear();

    std::unique_ptr<ShardPlan> plan;
    if (request_.shard.active()) {
        std::vector<TileGrid> grids;
        std::vector<double> pxKm2;
        for (std::size_t i = 0; i < inputs().size(); ++i) {
            grids.push_back(pipeline.plans()[i].grid);
            pxKm2.push_back(inputs()[i].gsdX() * inputs()[i].gsdY() / 1e6);
        }
        plan = std::make_unique<ShardPlan>(grids, pxKm2, request_.shard.count);
    }
    auto include = [&](std::size_t input, std::size_t tile) {
        if (plan && plan->shardOf(input, tile) != request_.shard.index) return false;
        return finished.count({input, tile}) == 0;
    };
    pipeline.run(
        progress,
        [&](TileResult&& r) {
            journal.append({r.input, r.tile.index, r.detections});
            res.tilesPerInput[r.input]++;
            for (auto& d : r.detections) res.perInput[r.input].push_back(std::move(d));
        },
        include);
    journal.close();
    res.scanSeconds = since(t0);
    res.threads = pipeline.threads();
    res.tilesInFlight = pipeline.tilesInFlight();
    res.blockCacheBytes = pipeline.blockCacheBytes();
    res.gdalCacheBytes = pipeline.gdalCacheBytes();
    res.cacheHits = pipeline.cacheHits();
    res.cacheMisses = pipeline.cacheMisses();

    ScanSummary s = writeOutputs(res, started, res.scanSeconds);
    // A shard's journal is its hand-over to `riskmap merge`; otherwise it has done its job.
    if (!request_.shard.active() && !request_.keepJournal) std::remove(jpath.c_str());
    return s;
}

ScanSummary ScanJob::merge(const std::vector<std::string>& shardOutputs, const ScanRequest& mergeRequest,
                           const DetectorRegistry& registry) {
    const std::string started = utcNow();
    auto t0 = Clock::now();
    if (shardOutputs.empty()) throw UsageError("merge needs the outputs of the shards");
    std::vector<Json> fps;
    std::vector<int> index;
    int count = 0;
    for (const auto& p : shardOutputs) {
        const std::string jpath = ScanJournal::pathFor(p);
        VSIStatBufL st;
        if (VSIStatL(jpath.c_str(), &st) != 0)
            throw DataError("'" + p + "' has no journal '" + jpath + "': is it the output of a riskmap scan --shard?");
        fps.push_back(ScanJournal::read(jpath, nullptr, nullptr));
        const Json* sh = fps.back().find("shard");
        if (!sh || !sh->isString()) throw DataError("'" + p + "' is not a shard (it was scanned without --shard)");
        ShardSpec spec = ShardSpec::parse(sh->asString());
        if (count && spec.count != count)
            throw UsageError("'" + p + "' is shard " + spec.text() + " of a " + std::to_string(spec.count) +
                             "-way split, the others of a " + std::to_string(count) + "-way one");
        count = spec.count;
        index.push_back(spec.index);
        if (fps.size() > 1) {
            std::string diff = ScanJournal::differences(fps.back(), fps.front(), {"shard"});
            if (!diff.empty())
                throw UsageError("'" + p + "' comes from a different scan than '" + shardOutputs.front() + "': " + diff);
        }
    }
    std::vector<int> seen(static_cast<std::size_t>(count) + 1, 0);
    for (int k : index) seen[static_cast<std::size_t>(k)]++;
    std::string problem;
    for (int k = 1; k <= count; ++k) {
        if (seen[static_cast<std::size_t>(k)] == 0) problem += (problem.empty() ? "" : ", ") + std::string("shard ") + std::to_string(k) + " is missing";
        if (seen[static_cast<std::size_t>(k)] > 1) problem += (problem.empty() ? "" : ", ") + std::string("shard ") + std::to_string(k) + " is given twice";
    }
    if (!problem.empty()) throw UsageError("cannot merge a " + std::to_string(count) + "-way split: " + problem);

    // The scan as the shards ran it, with the merge's output options.
    const Json& req = *fps.front().find("request");
    ScanRequest r = mergeRequest;
    for (const auto& p : req.find("inputs")->find("paths")->asArray()) r.input.paths.push_back(p.asString());
    for (const auto& b : req.find("inputs")->find("bands")->asArray()) {
        BandSpec spec;
        spec.name = b.find("name")->asString();
        spec.path = b.find("path")->asString();
        spec.index = static_cast<int>(b.find("index")->asInt());
        if (!b.find("scale")->isNull()) spec.scale = b.find("scale")->asDouble();
        if (!b.find("offset")->isNull()) spec.offset = b.find("offset")->asDouble();
        r.input.bands.push_back(spec);
    }
    for (const auto& kv : req.find("inputs")->find("stac_assets")->asObject()) r.input.stacAssets[kv.first] = kv.second.asString();
    const Json& io = *req.find("input_options");
    r.input.options.sensor = io.find("sensor")->asString();
    if (!io.find("scale")->isNull()) r.input.options.scale = io.find("scale")->asDouble();
    if (!io.find("offset")->isNull()) r.input.options.offset = io.find("offset")->asDouble();
    r.input.options.resampling = io.find("resampling")->asString();
    r.recipe = *req.find("recipe");
    r.detector = req.find("recipe")->find("detector")->asString();
    r.pipeline.tileSize = static_cast<int>(req.find("tile_size")->asInt());
    r.shard = ShardSpec{};
    ScanJob job(r, registry);
    std::string changed = ScanJournal::differences(job.fingerprint(), fps.front(), {"shard"});
    if (!changed.empty()) throw DataError("the inputs changed since the shards ran: " + changed);

    ScanPipeline pipeline(job.inputs(), *job.detector_, r.pipeline);
    std::vector<TileGrid> grids;
    std::vector<double> pxKm2;
    for (std::size_t i = 0; i < job.inputs().size(); ++i) {
        grids.push_back(pipeline.plans()[i].grid);
        pxKm2.push_back(job.inputs()[i].gsdX() * job.inputs()[i].gsdY() / 1e6);
    }
    ShardPlan plan(grids, pxKm2, count);
    ScanResults res;
    res.perInput.resize(job.inputs().size());
    res.tilesPerInput.assign(job.inputs().size(), 0);
    std::set<std::pair<std::size_t, std::size_t>> finished;
    for (std::size_t s = 0; s < shardOutputs.size(); ++s) {
        std::vector<JournalTile> tiles;
        ScanJournal::read(ScanJournal::pathFor(shardOutputs[s]), &job.detector_->info(), &tiles);
        std::size_t mine = 0;
        for (auto& t : tiles) {
            if (t.input >= job.inputs().size() || t.tile >= grids[t.input].size() || plan.shardOf(t.input, t.tile) != index[s] ||
                !finished.insert({t.input, t.tile}).second)
                throw DataError("the journal of '" + shardOutputs[s] + "' holds a tile that is not shard " +
                                std::to_string(index[s]) + "'s: it is damaged");
            ++mine;
            res.tilesPerInput[t.input]++;
            for (auto& d : t.detections) res.perInput[t.input].push_back(std::move(d));
        }
        if (mine != plan.tilesIn(index[s]))
            throw DataError("shard " + std::to_string(index[s]) + "/" + std::to_string(count) + " ('" + shardOutputs[s] +
                            "') is incomplete: " + std::to_string(mine) + " of " + std::to_string(plan.tilesIn(index[s])) +
                            " tiles; rerun it with --resume");
    }
    res.scanSeconds = since(t0);
    return job.writeOutputs(res, started, 0);
}

ScanSummary ScanJob::writeOutputs(ScanResults& res, const std::string& started, double scanSeconds) {
    auto t1 = Clock::now();
    const OutputFormat fmt = outputFormatFor(request_.output);
    std::string target = fmt.rfc7946 ? "" : (request_.outCrs.empty() ? inputs().front().crsWkt() : request_.outCrs);
    FeatureAssembler assembler(inputs(), sources(), detector_->info().name, target, request_.overlapMerge);
    std::vector<FeatureRecord> features = assembler.assemble(res.perInput);
    const double assembleSeconds = since(t1);

    LayerWriter::Options wopts;
    wopts.path = request_.output;
    wopts.overwrite = request_.overwrite;
    wopts.fileMode = request_.fileMode;
    wopts.coordinatePrecision = request_.coordinatePrecision;
    wopts.crsWkt = target;
    wopts.attributes = detector_->info().attributes;
    wopts.layerName = detector_->info().name;
    LayerWriter writer(wopts);
    for (const auto& f : features) writer.write(f);
    const double writeSeconds = since(t1) - assembleSeconds;

    ScanSummary s;
    for (auto n : res.tilesPerInput) s.tiles += n;
    s.detections = features.size();
    s.resumedTiles = res.resumedTiles;
    s.outputPath = request_.output;
    s.manifestPath = manifestPathFor(request_.output);
    for (const auto& v : res.perInput) s.perInput.push_back(v.size());

    Json m = Json::object();
    m.set("riskmap_version", kRiskmapVersion);
    Json cmd = Json::array();
    for (const auto& a : request_.commandLine) cmd.push(a);
    m.set("command_line", cmd);
    m.set("started_utc", started);
    m.set("finished_utc", utcNow());
    Json out = Json::object();
    out.set("path", request_.output);
    out.set("format", fmt.driver);
    out.set("crs", fmt.rfc7946 ? std::string("EPSG:4326") : (request_.outCrs.empty() ? inputs().front().crsName() : request_.outCrs));
    out.set("features", features.size());
    out.set("file_mode", modeText(request_.fileMode));
    out.set("coordinate_precision", request_.coordinatePrecision);
    out.set("overlap_merge", request_.overlapMerge);
    m.set("output", out);
    m.set("recipe", DetectorConfig::recipeJson(detector_->info().name, *options_));
    Json det = Json::object();
    det.set("name", detector_->info().name);
    det.set("halo_m", detector_->haloMetres());
    m.set("detector", det);
    Json ins = Json::array();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        Json j = InputCatalog::describe(inputs()[i], sources()[i]);
        j.set("tiles", res.tilesPerInput[i]);
        j.set("detections", res.perInput[i].size());
        ins.push(j);
    }
    m.set("inputs", ins);
    Json warn = Json::array();
    for (const auto& w : warnings_) warn.push(w);
    m.set("warnings", warn);
    Json tiling = Json::object();
    tiling.set("tile_size", request_.pipeline.tileSize);
    tiling.set("threads", res.threads);
    tiling.set("ram_mb", request_.pipeline.ramMB);
    tiling.set("tiles_in_flight", res.tilesInFlight);
    tiling.set("block_cache_mb", static_cast<double>(res.blockCacheBytes) / (1024.0 * 1024.0));
    tiling.set("gdal_cache_mb", static_cast<double>(res.gdalCacheBytes) / (1024.0 * 1024.0));
    tiling.set("block_cache_hits", res.cacheHits);
    tiling.set("block_cache_misses", res.cacheMisses);
    tiling.set("shard", request_.shard.active() ? Json(request_.shard.text()) : Json());
    tiling.set("resumed_tiles", res.resumedTiles);
    m.set("tiling", tiling);
    Json counts = Json::object();
    counts.set("tiles", s.tiles);
    counts.set("detections", s.detections);
    Json per = Json::object();
    for (std::size_t i = 0; i < inputs().size(); ++i) per.set(sources()[i], res.perInput[i].size());
    counts.set("per_input", per);
    m.set("counts", counts);
    Json timings = Json::object();
    timings.set("open_s", openSeconds_);
    timings.set("scan_s", scanSeconds);
    timings.set("assemble_s", assembleSeconds);
    timings.set("write_s", writeSeconds);
    double areaKm2 = 0;
    for (const auto& in : inputs()) areaKm2 += static_cast<double>(in.width()) * in.height() * in.gsdX() * in.gsdY() / 1e6;
    timings.set("area_km2", areaKm2);
    timings.set("km2_per_s", scanSeconds > 0 ? areaKm2 / scanSeconds : 0.0);
    timings.set("peak_rss_mb", peakRssMB());
    m.set("timings", timings);

    // Both files appear together: the layer is committed only once the manifest is written.
    AtomicFile manifest(s.manifestPath, request_.overwrite, request_.fileMode);
    {
        std::ofstream mo(manifest.tempPath(), std::ios::binary | std::ios::trunc);
        mo << m.dump(2) << "\n";
        mo.flush();
        if (!mo) throw IoError("writing '" + manifest.tempPath() + "' failed (disk full?)");
    }
    writer.commit();
    manifest.commit();
    s.manifest = std::move(m);
    return s;
}

}  // namespace riskmap
