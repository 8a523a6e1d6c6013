#include "scan/ScanJob.hpp"

#include <sys/resource.h>

#include <chrono>
#include <ctime>

#include "core/Error.hpp"
#include "core/Version.hpp"
#include "detection/DetectorConfig.hpp"
#include "output/AtomicFile.hpp"
#include "output/FeatureAssembler.hpp"
#include "output/LayerWriter.hpp"
#include "tiling/ScanPipeline.hpp"

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
    if (!request_.configPath.empty())
        recipe = std::make_unique<DetectorConfig>(DetectorConfig::load(request_.configPath));
    std::string name = request_.detector;
    if (name.empty()) name = recipe && !recipe->detector().empty() ? recipe->detector() : "index";
    const auto& entry = registry.get(name);
    options_ = std::make_unique<OptionValues>(DetectorConfig::resolve(entry.info, recipe.get(), request_.sets));
    detector_ = entry.create(*options_);

    catalog_ = std::make_unique<InputCatalog>(
        InputCatalog::open(request_.input));
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        std::string w = detector_->inputWarning(inputs()[i].gsdX(), inputs()[i].gsdY());
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
    }
    openSeconds_ = since(t0);
}

ScanJob::~ScanJob() = default;

ScanSummary ScanJob::run(ProgressSink& progress, const std::atomic<bool>* cancel) {
    const std::string started = utcNow();
    auto t0 = Clock::now();
    PipelineOptions popts = request_.pipeline;
    popts.cancel = cancel;
    ScanPipeline pipeline(inputs(), *detector_, popts);

    std::vector<std::vector<Detection>> perInput(inputs().size());
    std::vector<std::size_t> tilesPerInput(inputs().size(), 0);
    pipeline.run(progress, [&](TileResult&& r) {
        tilesPerInput[r.input]++;
        auto& dst = perInput[r.input];
        for (auto& d : r.detections) dst.push_back(std::move(d));
    });
    const double scanSeconds = since(t0);

    auto t1 = Clock::now();
    const OutputFormat fmt = outputFormatFor(request_.output);
    std::string target = fmt.rfc7946 ? "" : (request_.outCrs.empty() ? inputs().front().crsWkt() : request_.outCrs);
    FeatureAssembler assembler(inputs(), sources(), detector_->info().name, target, request_.overlapMerge);
    std::vector<FeatureRecord> features = assembler.assemble(perInput);
    const double assembleSeconds = since(t1);

    LayerWriter::Options wopts;
    wopts.path = request_.output;
    wopts.overwrite = request_.overwrite;
    wopts.fileMode = request_.fileMode;
    wopts.coordinatePrecision = request_.coordinatePrecision;
    wopts.crsWkt = target;
    wopts.attributes = detector_->info().attributes;
    {
        LayerWriter writer(wopts);
        for (const auto& f : features) writer.write(f);
        writer.commit();
    }
    const double writeSeconds = since(t1);

    ScanSummary s;
    s.tiles = pipeline.totalTiles();
    s.detections = features.size();
    s.outputPath = request_.output;
    s.manifestPath = manifestPathFor(request_.output);
    for (const auto& v : perInput) s.perInput.push_back(v.size());

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
    m.set("output", out);
    m.set("recipe", DetectorConfig::recipeJson(detector_->info().name, *options_));
    Json det = Json::object();
    det.set("name", detector_->info().name);
    det.set("halo_m", detector_->haloMetres());
    m.set("detector", det);
    Json ins = Json::array();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        Json j = InputCatalog::describe(inputs()[i], sources()[i]);
        const auto& plan = pipeline.plans()[i];
        Json bandsRead = Json::array();
        for (int b : plan.bands) bandsRead.push(inputs()[i].bands()[static_cast<std::size_t>(b)].name);
        j.set("bands_read", bandsRead);
        j.set("tile_width", plan.grid.tileWidth());
        j.set("tile_height", plan.grid.tileHeight());
        j.set("halo_px", plan.grid.haloX());
        j.set("tiles", tilesPerInput[i]);
        j.set("detections", perInput[i].size());
        ins.push(j);
    }
    m.set("inputs", ins);
    Json warn = Json::array();
    for (const auto& w : warnings_) warn.push(w);
    m.set("warnings", warn);
    Json tiling = Json::object();
    tiling.set("tile_size", request_.pipeline.tileSize);
    tiling.set("threads", pipeline.threads());
    tiling.set("ram_mb", request_.pipeline.ramMB);
    tiling.set("tiles_in_flight", pipeline.tilesInFlight());
    tiling.set("block_cache_mb", static_cast<double>(pipeline.blockCacheBytes()) / (1024.0 * 1024.0));
    tiling.set("gdal_cache_mb", static_cast<double>(pipeline.gdalCacheBytes()) / (1024.0 * 1024.0));
    tiling.set("block_cache_hits", pipeline.cacheHits());
    tiling.set("block_cache_misses", pipeline.cacheMisses());
    m.set("tiling", tiling);
    Json counts = Json::object();
    counts.set("tiles", s.tiles);
    counts.set("detections", s.detections);
    Json per = Json::object();
    for (std::size_t i = 0; i < inputs().size(); ++i) per.set(sources()[i], perInput[i].size());
    counts.set("per_input", per);
    m.set("counts", counts);
    Json timings = Json::object();
    timings.set("open_s", openSeconds_);
    timings.set("scan_s", scanSeconds);
    timings.set("assemble_s", assembleSeconds);
    timings.set("write_s", writeSeconds - assembleSeconds);
    timings.set("area_km2", pipeline.totalAreaKm2());
    timings.set("km2_per_s", scanSeconds > 0 ? pipeline.totalAreaKm2() / scanSeconds : 0.0);
    timings.set("peak_rss_mb", peakRssMB());
    m.set("timings", timings);
    AtomicFile::write(s.manifestPath, m.dump(2) + "\n", request_.overwrite, request_.fileMode);
    s.manifest = std::move(m);
    return s;
}

}  // namespace riskmap
