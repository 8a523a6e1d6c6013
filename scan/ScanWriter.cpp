// The output phase of a scan: detections become features (features/), are scored for risk
// (risk/), and go with the grid, coverage, published layer, styles and manifest into one
// LayerSet (output/) that is committed all together, the main layer last.
#include <ogr_spatialref.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/Error.hpp"
#include "core/HugePageHeap.hpp"
#include "core/PeakRss.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "features/CoverageLayers.hpp"
#include "features/FeatureAssembler.hpp"
#include "geo/CoordinateMapper.hpp"
#include "geo/GdalRuntime.hpp"
#include "output/LayerWriter.hpp"
#include "output/QgisStyle.hpp"
#include "risk/ContextScorer.hpp"
#include "risk/RiskGrid.hpp"
#include "scan/ScanJob.hpp"

namespace riskmap {

namespace {

using Clock = std::chrono::steady_clock;

// Features converted and written at a time: ~1.5 KB each with their outlines (issue 14), a
// thirty-second of --ram at most (8192 at --ram 87 took ~12 MB more than it had).
std::size_t writeChunk(const PipelineOptions& p) {
    return std::clamp<std::size_t>(p.ramBytes() / 32 / 1536, 1024, 8192);
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string modeText(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

std::string equalAreaWkt() {
    OGRSpatialReference eq;
    eq.importFromEPSG(6933);
    char* wkt = nullptr;
    eq.exportToWkt(&wkt);
    const std::string out = wkt ? wkt : "";
    CPLFree(wkt);
    return out;
}

// Writes the cells of a grid; `lonLat` moves them from EPSG:6933 to lon/lat (GeoJSON and the
// published layer). Returns how many were written.
std::size_t writeCells(OutputDataset& out, OutputLayer* layer, const RiskGrid& grid, const std::vector<RiskGrid::Cell>& cells,
                       bool lonLat, bool published) {
    auto ct = epsgTransform(6933, 4326);
    for (const auto& c : cells) {
        std::vector<MapPoint> ring = grid.outline(c);
        if (lonLat)
            for (auto& p : ring) {
                ct->Transform(1, &p.x, &p.y);
                if (published) {
                    p.x = FeatureAssembler::roundTo(p.x, 5);
                    p.y = FeatureAssembler::roundTo(p.y, 5);
                }
            }
        if (published)
            out.writeFeature(layer, {{ring}},
                             {{"count", static_cast<std::int64_t>(c.count)},
                              {"density_per_km2", FeatureAssembler::roundTo(c.density(), 2)},
                              {"mean_risk", FeatureAssembler::roundTo(c.meanRisk(), 1)},
                              {"area_scanned_km2", std::round(c.areaKm2)}});
        else
            out.writeFeature(layer, {{ring}},
                             {{"count", static_cast<std::int64_t>(c.count)},
                              {"density_per_km2", FeatureAssembler::roundTo(c.density(), 4)},
                              {"max_score", c.maxScore},
                              {"mean_risk", FeatureAssembler::roundTo(c.meanRisk(), 4)},
                              {"area_scanned_km2", FeatureAssembler::roundTo(c.areaKm2, 4)}});
    }
    return cells.size();
}


// Everything one scan writes, built step by step.
class ScanWriter {
public:
    ScanWriter(const ScanJob& job, ScanResults& res, ProgressSink& progress)
        : job_(job), req_(job.request()), res_(res), plan_(job.files()), progress_(progress) {}

    ScanSummary write(const std::string& started) {
        const auto t1 = Clock::now();
        std::size_t total = 0;
        for (const auto& v : res_.perInput) total += v.size();
        progress_.phase("writing", total);
        // The scan's blocks in GDAL's cache, and its tile buffers freed in the threads' arenas,
        // are not needed any more. The heap hands them back only when it holds a quarter of
        // --ram: the writer faults in what is handed back again, 4 % of an index scan's time
        // with 30,000 objects (1.41 -> 1.36 s at the default --ram, bench/ real mosaic).
        while (GDALFlushCacheBlock()) {
        }
        const std::size_t trimAbove = req_.pipeline.ramBytes() / 4;
        trimHeapAbove(trimAbove);
        LayerSet out(plan_, req_.overwrite, req_.overwrite || (req_.resume && res_.resumedTiles > 0), req_.fileMode,
                     req_.coordinatePrecision);
        out.replacing(Manifest::earlierLayers(plan_.main));
        // Grids take each feature as it is written: nothing per feature is kept until the end.
        if (req_.gridMetres > 0) grid_.emplace(req_.gridMetres, RiskGrid::parseShape(req_.gridShape));
        if (!req_.publishPath.empty()) publishGrid_.emplace(publishCell(), RiskGrid::Shape::Square);
        writeDetections(out);
        if (req_.gridMetres > 0) writeGrid(out);
        writeCoverage(out);
        if (!req_.publishPath.empty()) writePublished(out);
        if (!req_.explainPath.empty()) writeExplained(out);
        writeSeconds_ = since(t1) - assembleSeconds_;
        warnings_.insert(warnings_.begin(), res_.scanWarnings.begin(), res_.scanWarnings.end());
        checkPeak();
        ScanSummary s = summary();
        s.manifest = manifest(out, started);
        s.warnings = warnings_;
        // Everything is in the staging folder; now it moves into place, the main layer last.
        out.addText(s.manifestPath, dumpJson(s.manifest.toJson(), 2) + "\n", req_.fileMode);
        for (const auto& [path, qml] : job_.styleFiles()) out.addText(path, qml, req_.fileMode, true);
        if (!req_.publishPath.empty()) out.addText(plan_.publishAbout, dumpJson(aboutPublished(), 2) + "\n", 0644);
        // The published layer's style beside a GeoJSON or FlatGeobuf one, shared as the layer is.
        if (!plan_.publishStyle.empty()) out.addText(plan_.publishStyle, QgisStyle::published(), 0644, true);
        trimHeapAbove(trimAbove);  // closing files (FlatGeobuf's index) starts from a trimmed heap
                                   // where it is large
        out.commit();
        progress_.phase("written", written_);
        return s;
    }

private:
    // Detections become features a chunk at a time, are scored for risk and written; of a
    // written feature only what grids and the published layer need is kept. Overlap merging
    // (two or more inputs with detections) needs every outline at once.
    void writeDetections(LayerSet& out) {
        const auto t = Clock::now();
        double writing = 0;
        const std::string& name = job_.detector().info().name;
        indexWithinRam(out.main(), res_.perInput, "detection");
        LayerWriter writer(out.main(), name, job_.targetCrsWkt(), job_.detector().info().attributes);
        const ContextScorer& scorer = job_.contextScorer();
        auto sink = [&](std::vector<FeatureRecord>& chunk) {
            scorer.apply(chunk);
            const auto w = Clock::now();
            writer.writeAll(chunk, job_.cancel());
            writing += since(w);
            std::vector<RiskGrid::Point> points;
            if (grid_ || publishGrid_)
                for (const auto& f : chunk) points.push_back({f.centroid, f.score, f.risk});
            if (grid_) grid_->addPoints(points);
            if (publishGrid_) publishGrid_->addPoints(points);
            written_ += chunk.size();
            trimHeapAbove(req_.pipeline.ramBytes() / 8 * 7);
        };
        FeatureAssembler assembler(job_.inputs(), job_.sources(), name, job_.targetCrsWkt(), req_.overlapMerge,
                                   job_.cancel(), req_.simplifyMetres);
        std::size_t withDetections = 0;
        for (const auto& v : res_.perInput) withDetections += v.empty() ? 0 : 1;
        if (req_.overlapMerge > 0 && withDetections > 1) {  // merging compares inputs only
            std::vector<std::vector<Detection>> all(res_.perInput.size());
            for (std::size_t i = 0; i < all.size(); ++i)
                for (std::size_t k = 0; k < res_.perInput[i].size(); ++k) all[i].push_back(res_.perInput[i].at(k));
            std::vector<FeatureRecord> records = assembler.assemble(all);
            sink(records);
        } else {
            assembler.assembleInChunks(res_.perInput, writeChunk(req_.pipeline), sink);
        }
        // An empty detection layer still leads the GeoPackage: tools open the first layer.
        if (written_ == 0) writer.createNow();
        out.main().setDefaultStyle(name, "riskmap risk", QgisStyle::detections(req_.risk.medium, req_.risk.high));
        assembleSeconds_ = since(t) - writing;
    }

    // A grid that has taken every written feature, with the area each cell scanned.
    const RiskGrid& withCoverage(RiskGrid& grid) const {
        for (std::size_t i = 0; i < job_.inputs().size(); ++i) grid.addCoverage(job_.inputs()[i], res_.coverage[i]);
        return grid;
    }

    void writeGrid(LayerSet& out) {
        const RiskGrid& grid = withCoverage(*grid_);
        OutputDataset& ds = out.layerFile("grid");
        // Equal-area cells stay in EPSG:6933 where the format allows; GeoJSON is lon/lat.
        const bool lonLat = plan_.format.rfc7946;
        OutputLayer* layer = ds.createLayer("grid", lonLat ? "" : equalAreaWkt(), wkbMultiPolygon,
                                            {{"count", OFTInteger64}, {"density_per_km2", OFTReal}, {"max_score", OFTReal},
                                             {"mean_risk", OFTReal}, {"area_scanned_km2", OFTReal}});
        gridCells_ = writeCells(ds, layer, grid, grid.cells(), lonLat, false);
        ds.setDefaultStyle("grid", "riskmap grid", QgisStyle::grid(req_.risk.medium, req_.risk.high));
    }

    // Where was looked at, and where the scenes held no data: a reviewer must tell "nothing
    // found" from "not seen".
    void writeCoverage(LayerSet& out) {
        const std::string target = job_.targetCrsWkt();
        OutputDataset& fo = out.layerFile("footprints");
        OutputLayer* fl = fo.createLayer("footprints", target, wkbMultiPolygon, {{"source", OFTString}});
        OutputDataset& go = out.layerFile("nodata_gaps");
        OutputLayer* gl = go.createLayer("nodata_gaps", target, wkbMultiPolygon, {{"source", OFTString}});
        for (std::size_t i = 0; i < job_.inputs().size(); ++i) {
            fo.writeFeature(fl, CoverageLayers::footprint(job_.inputs()[i], target), {{"source", job_.sources()[i]}});
            MapPolygons g = CoverageLayers::gaps(job_.inputs()[i], res_.coverage[i], target);
            if (!g.empty()) go.writeFeature(gl, g, {{"source", job_.sources()[i]}});
        }
        fo.setDefaultStyle("footprints", "riskmap footprints", QgisStyle::footprints());
        go.setDefaultStyle("nodata_gaps", "riskmap gaps", QgisStyle::gaps());
    }

    // A layer safe to share: coarse cells with enough detections, nothing else.
    void writePublished(LayerSet& out) {
        const RiskGrid& grid = withCoverage(*publishGrid_);
        OutputDataset& pub = out.publish();
        OutputLayer* layer = pub.createLayer("published", "", wkbMultiPolygon,
                                             {{"count", OFTInteger64}, {"density_per_km2", OFTReal}, {"mean_risk", OFTReal},
                                              {"area_scanned_km2", OFTReal}});
        // A cell scanned only in part places its detections in that part (an audit: 8 detections
        // in a 190 m strip of a 25 km2 cell at the scene's edge): only cells at least half scanned.
        std::vector<RiskGrid::Cell> cells = grid.cells(req_.publishMinCount);
        const double cellKm2 = publishCell() * publishCell() / 1e6;
        cells.erase(std::remove_if(cells.begin(), cells.end(), [&](const RiskGrid::Cell& c) { return c.areaKm2 < 0.5 * cellKm2; }),
                    cells.end());
        publishedCells_ = writeCells(pub, layer, grid, cells, true, true);
        pub.setDefaultStyle("published", "riskmap published", QgisStyle::published());
    }

    // Every candidate the detector turned down, with the gate and what it measured: for an
    // analyst asking "why was this missed?" (scan --explain).
    void writeExplained(LayerSet& out) {
        // The explain file has its own format: a GeoJSON one is lon/lat whatever the main layer is.
        const std::string target = outputFormatFor(req_.explainPath).rfc7946 ? "" : job_.targetCrsWkt();
        FeatureAssembler assembler(job_.inputs(), job_.sources(), job_.detector().info().name, target, 0.0,
                                   job_.cancel(), req_.simplifyMetres);
        OutputDataset& ds = out.explain();
        indexWithinRam(ds, res_.rejectedPerInput, "explain");
        OutputLayer* layer = ds.createLayer("rejected", target, wkbMultiPolygon,
                                            {{"id", OFTString}, {"detector", OFTString}, {"class", OFTString},
                                             {"score", OFTReal}, {"area_m2", OFTReal}, {"source", OFTString},
                                             {"rejected_by", OFTString}, {"value", OFTReal}, {"limit", OFTReal},
                                             {"measures", OFTString, OFSTJSON}});
        // Attributes as explainedDetection() put them, a chunk at a time (packed, maybe spilled).
        auto sink = [&](std::vector<FeatureRecord>& chunk) {
            for (const auto& f : chunk)
                ds.writeFeature(layer, f.parts,
                                {{"id", f.id}, {"detector", f.detector}, {"class", f.cls}, {"score", f.score},
                                 {"area_m2", f.areaM2}, {"source", f.source}, {"rejected_by", f.attributes.at(0)},
                                 {"value", f.attributes.at(1)}, {"limit", f.attributes.at(2)}, {"measures", f.attributes.at(3)}});
            explained_ += chunk.size();
            trimHeapAbove(req_.pipeline.ramBytes() / 8 * 7);
        };
        assembler.assembleInChunks(res_.rejectedPerInput, writeChunk(req_.pipeline), sink);
    }

    // The --ram that leaves `need` bytes beside the process, the held results' and the writer's
    // shares (the shares grow with --ram itself).
    static std::size_t leastFor(std::size_t need) {
        const std::size_t parts = 64 - 64 / PipelineOptions::kHeldShare - 64 / PipelineOptions::kWriterShare;
        return (PipelineOptions::kProcessBytes + need) / parts * 64;
    }

    // FlatGeobuf's spatial index is built at close, in memory (OutputDataset::indexBytes). Where
    // that would pass --ram beside the process, the held results and the writer, the layer goes
    // without one, and says so: a promise about memory, not a silent change. The layer's size is bounded
    // from the packed results: a packed vertex takes at least a byte, a written one sixteen.
    void indexWithinRam(OutputDataset& ds, const std::vector<DetectionPack>& packs, const std::string& what) {
        std::size_t features = 0, packed = 0, sourceChars = 0;
        for (const auto& p : packs) features += p.size(), packed += p.heapBytes() + p.spilledBytes();
        for (const auto& src : job_.sources()) sourceChars += src.size();
        const std::size_t need = OutputDataset::indexBytes(ds.format(), features, 16 * packed + features * (512 + sourceChars));
        const std::size_t ram = req_.pipeline.ramBytes();
        const std::size_t beside = PipelineOptions::kProcessBytes + req_.pipeline.heldBytes() + req_.pipeline.writerBytes();
        if (need == 0 || beside + need <= ram) return;
        ds.skipSpatialIndex();
        const std::size_t mb = std::size_t{1} << 20;
        warnings_.push_back(
            "the " + what + " layer '" + ds.path() +
            "' is written without a spatial index: building one (" + std::to_string(features) +
            " features) needs ~" + std::to_string((need + mb - 1) / mb) + " MB, more than --ram " +
            std::to_string(req_.pipeline.ramMB) + " leaves; run with --ram " +
            std::to_string((leastFor(need) + req_.pipeline.reservedBytes) / mb + 1) +
            " for one, or write .gpkg");
    }

    // Never finer than --grid, and on the nested ladder (RiskGrid::publishedCellSize).
    double publishCell() const { return RiskGrid::publishedCellSize(std::max(req_.publishCellMetres, req_.gridMetres)); }

    // What the published layer is, without a single path or coordinate.
    Json aboutPublished() const {
        Json a = Json::object();
        a["riskmap_version"] = kRiskmapVersion;
        a["detector"] = job_.detector().info().name;
        a["cell_m"] = publishCell();
        a["min_count"] = req_.publishMinCount;
        a["note"] = "Counts of detections per equal-area cell (EPSG:6933); cells with fewer than min_count "
                    "detections, or less than half scanned, are withheld. No detection locations, images or source "
                    "files are included. Shares of one area made at other times, with other scenes or settings can be "
                    "compared cell by cell: publish one share per area, or keep the settings the same.";
        return a;
    }

    ScanSummary summary() const {
        ScanSummary s;
        for (auto n : res_.tilesPerInput) s.tiles += n;
        s.detections = written_;
        s.resumedTiles = res_.resumedTiles;
        s.outputPath = req_.output;
        s.manifestPath = Manifest::pathFor(req_.output);
        for (const auto& v : res_.perInput) s.perInput.push_back(v.size());
        return s;
    }

    Manifest manifest(const LayerSet& out, const std::string& started) const;
    Json tilingJson() const;
    Json countsJson() const;
    Json timingsJson() const;

    const ScanJob& job_;
    const ScanRequest& req_;
    ScanResults& res_;
    const ScanFiles plan_;
    ProgressSink& progress_;
    std::size_t written_ = 0;
    std::optional<RiskGrid> grid_, publishGrid_;  // fed as features are written
    std::size_t gridCells_ = 0, publishedCells_ = 0, explained_ = 0;
    std::vector<std::string> warnings_;  // of the scan and writing phases, after the job's own

    // --ram is a promise: a scan that broke it says so (tiles whose objects took more than
    // their first one showed). Under AddressSanitizer resident memory means nothing.
    void checkPeak() {
        const double peak = peakRssMB();
        if (!kResidentMemoryMeaningful || peak <= static_cast<double>(req_.pipeline.ramMB)) return;
        char b[64];
        std::snprintf(b, sizeof b, "%.0f", std::ceil(peak));
        warnings_.push_back("the scan peaked at " + std::string(b) + " MB, over --ram " + std::to_string(req_.pipeline.ramMB) +
                            ": a larger --ram or a smaller --tile-size keeps it");
    }
    double assembleSeconds_ = 0, writeSeconds_ = 0;
};

Manifest ScanWriter::manifest(const LayerSet& out, const std::string& started) const {
    Manifest m;
    m.riskmapVersion = kRiskmapVersion;
    m.commandLine = req_.commandLine;
    m.workingDir = std::filesystem::current_path().string();
    m.startedUtc = started;
    m.finishedUtc = utcNow();
    m.output = {req_.output, plan_.format.driver, plan_.format.rfc7946 ? std::string("EPSG:4326")
                                                                       : (req_.outCrs.empty() ? job_.inputs().front().crsName() : req_.outCrs),
                modeText(req_.fileMode), written_, req_.coordinatePrecision, req_.overlapMerge, req_.simplifyMetres,
                req_.outCrs};
    for (const auto& [role, path] : out.layers())
        m.layers.push_back({role, path, role == "detections" ? job_.detector().info().name : role});
    m.recipe = DetectorConfig::recipeJson(job_.detector().info().name, job_.options());
    m.request = job_.recorded();
    m.detectorName = job_.detector().info().name;
    m.haloMetres = job_.detector().haloMetres();
    if (Json res = job_.detector().resources(); !res.is_null()) m.detectorResources = res;
    m.risk = req_.risk.toJson();
    m.grid = Json{{"cell_m", req_.gridMetres > 0 ? Json(req_.gridMetres) : Json()}, {"shape", req_.gridShape},
                  {"crs", RiskGrid::kCrs}, {"cells", gridCells_}, {"coverage_cell_px", kCoverageCell}};
    if (!req_.explainPath.empty()) m.explain = Json{{"path", req_.explainPath}, {"rejected", explained_}};
    if (!req_.publishPath.empty())
        m.publish = Json{{"path", req_.publishPath}, {"cell_m", publishCell()}, {"min_count", req_.publishMinCount},
                         {"cells", publishedCells_}};
    for (std::size_t i = 0; i < job_.inputs().size(); ++i) {
        Json j = job_.catalog().describe(i);
        j["tiles"] = res_.tilesPerInput[i];
        j["detections"] = res_.perInput[i].size();
        m.inputs.push_back({job_.sources()[i], job_.inputs()[i].footprint(), j, job_.catalog().acquired()[i].date});
    }
    m.warnings = job_.warnings();
    m.sampleWarnings = job_.sampleWarnings();
    m.warnings.insert(m.warnings.end(), warnings_.begin(), warnings_.end());
    m.tiling = tilingJson();
    m.counts = countsJson();
    m.timings = timingsJson();
    return m;
}

Json ScanWriter::tilingJson() const {
    Json t = Json::object();
    t["tile_size"] = req_.pipeline.tileSize;
    t["threads"] = res_.threads;
    t["ram_mb"] = req_.pipeline.ramMB;
    t["tiles_in_flight"] = res_.tilesInFlight;
    t["block_cache_mb"] = static_cast<double>(res_.blockCacheBytes) / (1024.0 * 1024.0);
    t["block_cache_min_mb"] = static_cast<double>(res_.blockCacheMinBytes) / (1024.0 * 1024.0);
    t["gdal_cache_mb"] = static_cast<double>(res_.gdalCacheBytes) / (1024.0 * 1024.0);
    t["block_cache_hits"] = res_.cacheHits;
    t["block_cache_misses"] = res_.cacheMisses;
    t["shard"] = req_.shard.active() ? Json(req_.shard.text()) : Json();
    t["resumed_tiles"] = res_.resumedTiles;
    std::size_t spilled = 0;
    for (const auto& pack : res_.perInput) spilled += pack.spilledBytes();
    for (const auto& pack : res_.rejectedPerInput) spilled += pack.spilledBytes();
    t["detections_spilled_mb"] = static_cast<double>(spilled) / (1024.0 * 1024.0);  // held on disk to keep --ram
    return t;
}

Json ScanWriter::countsJson() const {
    std::size_t tiles = 0;
    for (auto n : res_.tilesPerInput) tiles += n;
    Json per = Json::object();
    for (std::size_t i = 0; i < job_.inputs().size(); ++i) per[job_.sources()[i]] = res_.perInput[i].size();
    return Json{{"tiles", tiles}, {"detections", written_}, {"per_input", per}};
}

Json ScanWriter::timingsJson() const {
    const double scanSeconds = res_.merged ? 0.0 : res_.scanSeconds;
    double areaKm2 = 0;
    for (const auto& in : job_.inputs()) areaKm2 += static_cast<double>(in.width()) * in.height() * in.gsdX() * in.gsdY() / 1e6;
    Json t = Json::object();
    t["open_s"] = job_.openSeconds();
    t["scan_s"] = scanSeconds;
    t["assemble_s"] = assembleSeconds_;
    t["write_s"] = writeSeconds_;
    t["area_km2"] = areaKm2;
    t["km2_per_s"] = scanSeconds > 0 ? areaKm2 / scanSeconds : 0.0;
    t["peak_rss_mb"] = peakRssMB();
    return t;
}

}  // namespace

ScanSummary ScanJob::writeOutputs(ScanResults& results, const std::string& started, ProgressSink& progress) const {
    return ScanWriter(*this, results, progress).write(started);
}

}  // namespace riskmap
