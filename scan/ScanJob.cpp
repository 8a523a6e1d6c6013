#include "scan/ScanJob.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cpl_vsi.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/Error.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "detection/DetectorConfig.hpp"
#include "output/LayerSet.hpp"
#include "output/FeatureAssembler.hpp"
#include "output/LayerWriter.hpp"
#include "tiling/ScanPipeline.hpp"
#include "tiling/ShardPlan.hpp"
#include "raster/CoordinateMapper.hpp"
#include "raster/GdalRuntime.hpp"
#include "risk/ContextScorer.hpp"
#include "risk/CoverageLayers.hpp"
#include "risk/QgisStyle.hpp"
#include "risk/RiskGrid.hpp"
#include <ogr_spatialref.h>

namespace riskmap {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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
    files();  // an unknown output extension fails before any work
    if (!request_.outCrs.empty() && outputFormatFor(request_.output).rfc7946)
        throw UsageError("--out-crs does not apply to GeoJSON, which RFC 7946 fixes to EPSG:4326: "
                         "write .gpkg or .fgb for another CRS");
    if (!request_.outCrs.empty()) outCrsWkt_ = crsWktFromUser(request_.outCrs, "--out-crs");

    std::unique_ptr<DetectorConfig> recipe;
    if (request_.recipe)
        recipe = std::make_unique<DetectorConfig>(DetectorConfig::fromJson(*request_.recipe, "journal"));
    else if (!request_.configPath.empty())
        recipe = std::make_unique<DetectorConfig>(DetectorConfig::load(request_.configPath));
    std::string name = request_.detector;
    if (name.empty()) name = recipe && !recipe->detector().empty() ? recipe->detector() : "index";
    if (recipe && !request_.recipe) {
        // A recipe's context layers come first, then --context ones.
        if (const Json* ctx = recipe->risk().find("context")) {
            std::vector<ContextSpec> specs;
            for (const auto& c : ctx->asArray()) specs.push_back(ContextSpec::fromJson(c, recipe->origin()));
            request_.risk.context.insert(request_.risk.context.begin(), specs.begin(), specs.end());
        }
        if (const Json* lv = recipe->risk().find("risk_levels")) {
            request_.risk.medium = lv->asArray().at(0).asDouble();
            request_.risk.high = lv->asArray().at(1).asDouble();
        }
    }
    if (!(request_.risk.medium < request_.risk.high))
        throw UsageError("risk levels must rise: medium " + optionValueText(request_.risk.medium) + " is not below high " +
                         optionValueText(request_.risk.high));
    if (request_.gridMetres > 0) RiskGrid::parseShape(request_.gridShape);
    checkOutputPaths();
    if (!request_.publishPath.empty()) {
        if (request_.publishMinCount < 1) throw UsageError("--publish-min-count must be at least 1");
        if (request_.publishCellMetres < 1000) throw UsageError("--publish-cell-m must be at least 1000 m");
    }
    const auto& entry = registry.get(name);
    options_ = std::make_unique<OptionValues>(DetectorConfig::resolve(entry.info, recipe.get(), request_.sets));
    detector_ = entry.create(*options_);

    catalog_ = std::make_unique<InputCatalog>(InputCatalog::open(request_.input));
    checkOutputsAreNotInputs();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        std::string w = detector_->inputWarning(inputs()[i].gsdX(), inputs()[i].gsdY());
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
    }
    openSeconds_ = since(t0);
}

ScanJob::~ScanJob() = default;

ScanFiles ScanJob::files() const {
    return ScanFiles::plan(request_.output, request_.gridMetres > 0, request_.publishPath);
}

std::vector<std::pair<std::string, std::string>> ScanJob::styleFiles() const {
    const ScanFiles f = files();
    const RiskOptions& ro = request_.risk;
    std::vector<std::pair<std::string, std::string>> styles{{f.stylePath(""), QgisStyle::detections(ro.medium, ro.high)}};
    if (f.grid) styles.emplace_back(f.stylePath("grid"), QgisStyle::grid(ro.medium, ro.high));
    styles.emplace_back(f.stylePath("footprints"), QgisStyle::footprints());
    styles.emplace_back(f.stylePath("nodata_gaps"), QgisStyle::gaps());
    return styles;
}

void ScanJob::checkOutputPaths() const {
    const ScanFiles f = files();
    // A resumed run may replace the companions (manifest, styles, grid...) that its interrupted
    // self left behind; the main layer is committed last, so it never exists in that case.
    struct stat st;
    const bool continuing = request_.resume && ::lstat(f.journal.c_str(), &st) == 0;
    const auto styles = styleFiles();
    std::set<std::string> seen;
    for (const auto& p : f.written()) {
        if (!seen.insert(FileCommit::identity(p)).second)
            throw UsageError("two outputs of this run would both be written to '" + p +
                             "': give --publish, -o and the other outputs different paths");
        if (p == f.journal) continue;  // checked when the scan starts (--resume, --overwrite)
        if (std::any_of(styles.begin(), styles.end(), [&](const auto& sty) { return sty.first == p && holdsExactly(p, sty.second); }))
            continue;  // the same style, shared with OUT.geojson beside OUT.fgb: left as it is
        FileCommit::checkDestination(p, p == f.main ? request_.overwrite : request_.overwrite || continuing);
    }
}

void ScanJob::checkOutputsAreNotInputs() const {
    std::set<std::string> outs;
    for (const auto& p : files().written()) outs.insert(FileCommit::identity(p));
    for (const auto& in : inputs())
        for (const auto& f : in.files()) {
            if (f.path.rfind("/vsi", 0) == 0 || f.path.find("://") != std::string::npos) continue;
            if (outs.count(FileCommit::identity(f.path)))
                throw UsageError("output '" + f.path + "' is also an input: choose another -o or --publish path");
        }
}

Json ScanJob::requestJson() const {
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
    return req;
}

InputRequest ScanJob::inputRequestFromJson(const Json& req) {
    InputRequest r;
    for (const auto& p : req.find("inputs")->find("paths")->asArray()) r.paths.push_back(p.asString());
    for (const auto& b : req.find("inputs")->find("bands")->asArray()) {
        BandSpec spec;
        spec.name = b.find("name")->asString();
        spec.path = b.find("path")->asString();
        spec.index = static_cast<int>(b.find("index")->asInt());
        if (!b.find("scale")->isNull()) spec.scale = b.find("scale")->asDouble();
        if (!b.find("offset")->isNull()) spec.offset = b.find("offset")->asDouble();
        r.bands.push_back(spec);
    }
    for (const auto& kv : req.find("inputs")->find("stac_assets")->asObject()) r.stacAssets[kv.first] = kv.second.asString();
    const Json& io = *req.find("input_options");
    r.options.sensor = io.find("sensor")->asString();
    if (!io.find("scale")->isNull()) r.options.scale = io.find("scale")->asDouble();
    if (!io.find("offset")->isNull()) r.options.offset = io.find("offset")->asDouble();
    r.options.resampling = io.find("resampling")->asString();
    return r;
}

Json ScanJob::fingerprint() const {
    const Json req = requestJson();
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
    for (const auto& in : inputs()) res.coverage.emplace_back(in.width(), in.height());

    // The journal: resume from it, or start it afresh.
    const Json fp = fingerprint();
    const std::string jpath = ScanJournal::pathFor(request_.output);
    std::vector<JournalTile> done;
    struct stat st;
    const bool haveJournal = ::lstat(jpath.c_str(), &st) == 0;
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
        res.coverage[t.input].add(t.coverage);
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
            journal.append({r.input, r.tile.index, r.detections, r.coverage});
            res.tilesPerInput[r.input]++;
            res.coverage[r.input].add(r.coverage);
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
    r.input = inputRequestFromJson(req);
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
    for (const auto& in : job.inputs()) res.coverage.emplace_back(in.width(), in.height());
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
            res.coverage[t.input].add(t.coverage);
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
    const ScanFiles plan = files();
    const OutputFormat& fmt = plan.format;
    const std::string target = fmt.rfc7946 ? "" : (outCrsWkt_.empty() ? inputs().front().crsWkt() : outCrsWkt_);
    FeatureAssembler assembler(inputs(), sources(), detector_->info().name, target, request_.overlapMerge);
    std::vector<FeatureRecord> features = assembler.assemble(res.perInput);
    // Context: distances are measured around the middle of what was scanned.
    LonLat centre{0, 0};
    for (const auto& in : inputs()) {
        CoordinateMapper m(in.crsWkt(), in.geoTransform());
        LonLat c = m.pixelToLonLat(in.width() / 2.0, in.height() / 2.0);
        centre.lon += c.lon / static_cast<double>(inputs().size());
        centre.lat += c.lat / static_cast<double>(inputs().size());
    }
    ContextScorer(request_.risk, centre).apply(features);
    const double assembleSeconds = since(t1);

    const RiskOptions& ro = request_.risk;
    const std::string detName = detector_->info().name;
    // Companion files may be replaced when this run continues an interrupted one from its journal.
    const bool replaceCompanions = request_.overwrite || (request_.resume && res.resumedTiles > 0);
    LayerSet out(plan, request_.overwrite, replaceCompanions, request_.fileMode, request_.coordinatePrecision);
    {
        LayerWriter writer(out.main(), detName, target, detector_->info().attributes);
        for (const auto& f : features) writer.write(f);
    }
    out.main().setDefaultStyle(detName, "riskmap risk", QgisStyle::detections(ro.medium, ro.high));
    // Styles also go beside single-layer files: QGIS loads OUT.qml with OUT.geojson.

    const std::vector<FieldSpec> gridFields{{"count", OFTInteger64},      {"density_per_km2", OFTReal}, {"max_score", OFTReal},
                                            {"mean_risk", OFTReal},       {"area_scanned_km2", OFTReal}};
    // Grid cells are squares or hexagons in EPSG:6933; GeoJSON needs them in lon/lat.
    auto toLonLatFromEqualArea = [] { return epsgTransform(6933, 4326); };
    std::size_t gridCells = 0;
    if (request_.gridMetres > 0) {
        RiskGrid grid(request_.gridMetres, RiskGrid::parseShape(request_.gridShape));
        for (std::size_t i = 0; i < inputs().size(); ++i) grid.addCoverage(inputs()[i], res.coverage[i]);
        grid.addFeatures(features);
        OutputDataset& gout = out.layerFile("grid");
        // Equal-area cells stay in EPSG:6933 where the format allows; GeoJSON is lon/lat.
        auto ct = toLonLatFromEqualArea();
        OGRSpatialReference eq;
        eq.importFromEPSG(6933);
        char* wkt = nullptr;
        eq.exportToWkt(&wkt);
        const std::string eqWkt = wkt ? wkt : "";
        CPLFree(wkt);
        OutputLayer* layer = gout.createLayer("grid", fmt.rfc7946 ? "" : eqWkt, wkbMultiPolygon, gridFields);
        for (const auto& c : grid.cells()) {
            std::vector<MapPoint> ring = grid.outline(c);
            if (fmt.rfc7946)
                for (auto& p : ring) ct->Transform(1, &p.x, &p.y);
            gout.writeFeature(layer, {{ring}},
                              {{"count", static_cast<std::int64_t>(c.count)},
                               {"density_per_km2", FeatureAssembler::roundTo(c.density(), 4)},
                               {"max_score", c.maxScore},
                               {"mean_risk", FeatureAssembler::roundTo(c.meanRisk(), 4)},
                               {"area_scanned_km2", FeatureAssembler::roundTo(c.areaKm2, 4)}});
            ++gridCells;
        }
        gout.setDefaultStyle("grid", "riskmap grid", QgisStyle::grid(ro.medium, ro.high));
    }
    {
        // Where was looked at, and where the scenes held no data: a reviewer must tell "nothing
        // found" from "not seen".
        OutputDataset& fo = out.layerFile("footprints");
        OutputLayer* fl = fo.createLayer("footprints", target, wkbMultiPolygon, {{"source", OFTString}});
        OutputDataset& go = out.layerFile("nodata_gaps");
        OutputLayer* gl = go.createLayer("nodata_gaps", target, wkbMultiPolygon, {{"source", OFTString}});
        for (std::size_t i = 0; i < inputs().size(); ++i) {
            fo.writeFeature(fl, CoverageLayers::footprint(inputs()[i], target), {{"source", sources()[i]}});
            MapPolygons g = CoverageLayers::gaps(inputs()[i], res.coverage[i], target);
            if (!g.empty()) go.writeFeature(gl, g, {{"source", sources()[i]}});
        }
        fo.setDefaultStyle("footprints", "riskmap footprints", QgisStyle::footprints());
        go.setDefaultStyle("nodata_gaps", "riskmap gaps", QgisStyle::gaps());
    }
    Json layers = Json::object();
    for (const auto& [role, path] : out.layers()) {
        Json l = Json::object();
        l.set("path", path);
        l.set("layer", role == "detections" ? detName : role);
        layers.set(role, l);
    }

    // A layer safe to share: coarse cells with enough detections, nothing else.
    const bool publishing = !request_.publishPath.empty();
    std::size_t publishedCells = 0;
    if (publishing) {
        const double cell = std::max(request_.publishCellMetres, request_.gridMetres);
        RiskGrid grid(cell, RiskGrid::Shape::Square);
        for (std::size_t i = 0; i < inputs().size(); ++i) grid.addCoverage(inputs()[i], res.coverage[i]);
        grid.addFeatures(features);
        OutputDataset& pub = out.publish();
        OutputLayer* layer = pub.createLayer("published", "", wkbMultiPolygon,
                                             {{"count", OFTInteger64}, {"density_per_km2", OFTReal}, {"mean_risk", OFTReal},
                                              {"area_scanned_km2", OFTReal}});
        auto ct = toLonLatFromEqualArea();
        for (const auto& c : grid.cells(request_.publishMinCount)) {
            std::vector<MapPoint> ring = grid.outline(c);
            for (auto& p : ring) {
                ct->Transform(1, &p.x, &p.y);
                p.x = FeatureAssembler::roundTo(p.x, 5);
                p.y = FeatureAssembler::roundTo(p.y, 5);
            }
            pub.writeFeature(layer, {{ring}},
                             {{"count", static_cast<std::int64_t>(c.count)},
                              {"density_per_km2", FeatureAssembler::roundTo(c.density(), 3)},
                              {"mean_risk", FeatureAssembler::roundTo(c.meanRisk(), 2)},
                              {"area_scanned_km2", FeatureAssembler::roundTo(c.areaKm2, 1)}});
            ++publishedCells;
        }
        pub.setDefaultStyle("published", "riskmap published", QgisStyle::published());
    }
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
    // Relative input paths in "request" are relative to this folder.
    m.set("working_dir", std::filesystem::current_path().string());
    m.set("started_utc", started);
    m.set("finished_utc", utcNow());
    Json outJ = Json::object();
    outJ.set("path", request_.output);
    outJ.set("format", fmt.driver);
    outJ.set("crs", fmt.rfc7946 ? std::string("EPSG:4326") : (request_.outCrs.empty() ? inputs().front().crsName() : request_.outCrs));
    outJ.set("features", features.size());
    outJ.set("file_mode", modeText(request_.fileMode));
    outJ.set("coordinate_precision", request_.coordinatePrecision);
    outJ.set("overlap_merge", request_.overlapMerge);
    m.set("output", outJ);
    m.set("layers", layers);
    m.set("recipe", DetectorConfig::recipeJson(detector_->info().name, *options_));
    // The scan as requested, so that `riskmap report` can reopen the inputs for image chips.
    m.set("request", requestJson());
    Json det = Json::object();
    det.set("name", detector_->info().name);
    det.set("halo_m", detector_->haloMetres());
    m.set("detector", det);
    m.set("risk", ro.toJson());
    Json gridJ = Json::object();
    gridJ.set("cell_m", request_.gridMetres > 0 ? Json(request_.gridMetres) : Json());
    gridJ.set("shape", request_.gridShape);
    gridJ.set("crs", RiskGrid::kCrs);
    gridJ.set("cells", gridCells);
    gridJ.set("coverage_cell_px", kCoverageCell);
    m.set("grid", gridJ);
    if (publishing) {
        Json p = Json::object();
        p.set("path", request_.publishPath);
        p.set("cell_m", std::max(request_.publishCellMetres, request_.gridMetres));
        p.set("min_count", request_.publishMinCount);
        p.set("cells", publishedCells);
        m.set("publish", p);
    }
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

    // Everything is written to the staging folder first; only then are the files moved into
    // place, the main layer last (LayerSet).
    out.addText(s.manifestPath, m.dump(2) + "\n", request_.fileMode);
    for (const auto& [path, qml] : styleFiles()) out.addText(path, qml, request_.fileMode, true);
    if (publishing) {
        // What the published layer is, without a single path or coordinate.
        Json a = Json::object();
        a.set("riskmap_version", kRiskmapVersion);
        a.set("detector", detName);
        a.set("cell_m", std::max(request_.publishCellMetres, request_.gridMetres));
        a.set("min_count", request_.publishMinCount);
        a.set("note", "Counts of detections per equal-area cell (EPSG:6933); cells with fewer than min_count are "
                      "withheld. No detection locations, images or source files are included.");
        out.addText(plan.publishAbout, a.dump(2) + "\n", 0644);
    }
    out.commit();
    s.manifest = std::move(m);
    return s;
}

}  // namespace riskmap
