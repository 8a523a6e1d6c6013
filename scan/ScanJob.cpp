#include "scan/ScanJob.hpp"

#include <cpl_vsi.h>
#include <gdal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <tuple>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "core/JsonReader.hpp"
#include "core/Paths.hpp"
#include "core/SpillFile.hpp"
#include "core/UtcTime.hpp"
#include "core/Version.hpp"
#include "detection/onnx/Sha256.hpp"
#include "geo/CoordinateMapper.hpp"
#include "geo/GdalRuntime.hpp"
#include "output/GeoJsonWriter.hpp"
#include "output/QgisStyle.hpp"
#include "raster/RasterReader.hpp"
#include "risk/ContextScorer.hpp"
#include "risk/RiskGrid.hpp"
#include "tiling/ScanPipeline.hpp"
#include "tiling/ShardPlan.hpp"

namespace riskmap {

Detection explainedDetection(const Rejection& r) {
    Detection d = r.candidate;
    Json m = Json::object();
    for (const auto& [k, v] : r.measures) m[k] = v;
    d.attributes = {AttributeValue(r.gate), AttributeValue(r.value), AttributeValue(r.limit),
                    AttributeValue(dumpJson(m))};
    return d;
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Results sized for the inputs, before any tile.
ScanResults emptyResults(const std::vector<RasterInput>& inputs) {
    ScanResults res;
    res.perInput.resize(inputs.size());
    res.rejectedPerInput.resize(inputs.size());
    res.tilesPerInput.assign(inputs.size(), 0);
    for (const auto& in : inputs) res.coverage.emplace_back(in.width(), in.height());
    return res;
}

// A finished tile into the results. Its coverage must be the cells of the tile's own core: a
// record that passed its CRC but claims other cells is damaged or forged, and is refused before
// it can write anywhere.
void addTile(ScanResults& res, const TileGrid& grid, JournalTile& t, const std::string& origin) {
    const Tile tile = grid.tile(t.tile);
    const TileCoverage expect = TileCoverage::cellsOf(tile.core);
    const TileCoverage& c = t.coverage;
    if (c.cx0 != expect.cx0 || c.cy0 != expect.cy0 || c.ncx != expect.ncx || c.ncy != expect.ncy)
        throw DataError("'" + origin + "' holds tile " + std::to_string(t.tile) +
                        " with coverage cells that are not its own: the journal is damaged; start "
                        "over with --overwrite");
    res.tilesPerInput[t.input]++;
    res.coverage[t.input].add(c);
    for (const auto& d : t.detections) res.perInput[t.input].push(d);
    std::vector<Detection>().swap(t.detections);
    for (const auto& r : t.rejections) res.rejectedPerInput[t.input].push(explainedDetection(r));
    std::vector<Rejection>().swap(t.rejections);
}

// What the results in memory hold (a resumed run's replayed tiles count against --ram).
std::size_t heldBytes(const ScanResults& res) {
    std::size_t n = 0;
    for (const auto& v : res.perInput) n += v.heapBytes();
    for (const auto& v : res.rejectedPerInput) n += v.heapBytes();
    return n;
}

void takePipelineStats(const ScanPipeline& p, ScanResults& res) {
    res.blockCacheMinBytes = p.blockCacheMinBytes();
    res.threads = p.threads();
    res.tilesInFlight = p.tilesInFlight();
    res.scanWarnings = p.warnings();
    res.blockCacheBytes = p.blockCacheBytes();
    res.gdalCacheBytes = p.gdalCacheBytes();
    res.cacheHits = p.cacheHits();
    res.cacheMisses = p.cacheMisses();
}

std::unique_ptr<ShardPlan> shardPlan(const ScanPipeline& pipeline,
                                     const std::vector<RasterInput>& inputs, int count) {
    std::vector<TileGrid> grids;
    std::vector<double> pxKm2;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        grids.push_back(pipeline.plans()[i].grid);
        pxKm2.push_back(inputs[i].gsdX() * inputs[i].gsdY() / 1e6);
    }
    return std::make_unique<ShardPlan>(grids, pxKm2, count);
}

// An 8-bit rendering whose brightest ground is clipped at 255: 0.85 % of the dev chips' pixels
// after a 0.5-99.5 % stretch, which cost the kiln detector 19 of 41 kilns; none in the chips
// themselves, 0.09 % after a harmless saturation boost (docs/kilns.md).
constexpr double kClippedShareWarn = 0.0025;

std::string clippingWarning(double share) {
    if (share < kClippedShareWarn) return "";
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.2f", 100.0 * share);
    return std::string(pct) +
           " % of the pixels sampled are at 255 in a band (clipped by a contrast stretch, or "
           "clouds): bright ground clipped white loses its shape and colour, and kilns are missed "
           "there (docs/kilns.md); scan an unclipped product (16-bit, or exported without a "
           "stretch)";
}

// Surface reflectance lies in [0, 1]: a band whose sampled median reads above 1 was read with the
// wrong scale, and every index and threshold means nothing (an EO Browser export is reflectance
// x 65535, a sentinel2 profile reads it x 10000: medians of 3-6). Thermal bands are in Kelvin.
std::string scaleWarning(const RasterInput& in, const std::vector<int>& bands) {
    std::vector<int> reflective;
    for (int b : bands)
        if (in.bands()[static_cast<std::size_t>(b)].name.rfind("tir", 0) != 0)
            reflective.push_back(b);
    const std::vector<double> medians = sampledMedians(in, reflective);
    for (std::size_t k = 0; k < medians.size(); ++k) {
        if (!(medians[k] > 1.0)) continue;
        const InputBand& b = in.bands()[static_cast<std::size_t>(reflective[k])];
        char text[200];
        std::snprintf(text, sizeof text,
                      "band '%s' reads as reflectance %.3g at its median (scale %.6g, offset %.6g)",
                      b.name.c_str(), medians[k], b.scale.scale, b.scale.offset);
        return std::string(text) +
               ": reflectance lies between 0 and 1, so the scale is wrong and the detector's "
               "thresholds mean nothing; "
               "give --scale and --offset (an EO Browser export is reflectance x 65535: --scale "
               "1.5259e-5)";
    }
    return "";
}

}  // namespace

// Grid and published cells are equal-area cells of EPSG:6933, which holds from 86 S to 86 N: a
// scene beyond failed at writing with "(inf, inf)" in GeoJSON and wrote cells off the CRS in a
// GeoPackage. Refused before any pixel is read, naming the option.
void ScanJob::checkGridArea() const {
    if (request_.gridMetres <= 0 && request_.publishPath.empty()) return;
    constexpr double kLimit = 86.0;
    for (std::size_t i = 0; i < inputs().size(); ++i)
        for (const LonLat& p : inputs()[i].footprint(16))
            if (std::fabs(p.lat) > kLimit)
                throw UsageError(std::string(request_.gridMetres > 0 ? "--grid" : "--publish") +
                                 " uses equal-area cells (EPSG:6933), " +
                                 "which end at 86 degrees of latitude, and '" + sources()[i] +
                                 "' reaches " + optionValueText(p.lat) + ": scan it without them");
    checkCellsInsideTheMap();
}

// A square cell must end inside EPSG:6933's map at the poles (y = +-7,342,230 m): --grid 1e7
// failed after the whole scan, blaming the input's CRS for "(inf, inf)" (a hostile-input sweep).
// At the antimeridian cells are cut (RiskGrid::outline), not refused.
void ScanJob::checkCellsInsideTheMap() const {
    constexpr double kMaxY = 7342230.0;
    std::vector<std::pair<std::string, double>> sizes;
    if (request_.gridMetres > 0 && RiskGrid::parseShape(request_.gridShape) == RiskGrid::Shape::Square)
        sizes.emplace_back("--grid", request_.gridMetres);
    if (!request_.publishPath.empty())
        sizes.emplace_back("--publish-cell-m", RiskGrid::publishedCellSize(std::max(request_.publishCellMetres, request_.gridMetres)));
    if (sizes.empty()) return;
    const auto toMap = epsgTransform(4326, 6933);
    for (std::size_t i = 0; i < inputs().size(); ++i)
        for (const LonLat& p : inputs()[i].footprint(16)) {
            double x = p.lon, y = p.lat;
            if (!toMap->Transform(1, &x, &y)) continue;
            for (const auto& [option, size] : sizes) {
                const double y0 = std::floor(y / size) * size;
                if (y0 < -kMaxY || y0 + size > kMaxY)
                    throw UsageError(option + " " + optionValueText(size) + ": the cell holding '" + sources()[i] +
                                     "' would reach past the edge of the equal-area map (EPSG:6933) its cells are drawn on: "
                                     "choose smaller cells");
            }
        }
}

namespace {

// A projected CRS whose map ends inside a scene (EPSG:3857 at the antimeridian): outlines across
// that edge come out spanning the whole map. Adjacent points along the scene's border then lie
// far apart in the target CRS: one step more than 20 times the median step.
bool mapEndsInside(const CoordinateMapper& m, const RasterInput& in) {
    if (m.targetIsGeographic()) return false;  // lon/lat outlines are cut at the antimeridian
    constexpr int kPerEdge = 64;
    std::vector<MapPoint> ring;
    const double w = in.width(), h = in.height();
    for (int k = 0; k < kPerEdge; ++k) ring.push_back({w * k / kPerEdge, 0});
    for (int k = 0; k < kPerEdge; ++k) ring.push_back({w, h * k / kPerEdge});
    for (int k = 0; k < kPerEdge; ++k) ring.push_back({w - w * k / kPerEdge, h});
    for (int k = 0; k < kPerEdge; ++k) ring.push_back({0, h - h * k / kPerEdge});
    try {
        m.pixelsToTarget(ring);
    } catch (const DataError&) {
        return false;  // border points outside the target's reach: the centre was judged
    }
    std::vector<double> steps;
    for (std::size_t k = 0; k < ring.size(); ++k) {
        const MapPoint a = ring[k], b = ring[(k + 1) % ring.size()];
        steps.push_back(std::hypot(b.x - a.x, b.y - a.y));
    }
    const double largest = *std::max_element(steps.begin(), steps.end());
    const auto mid = steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2);
    std::nth_element(steps.begin(), mid, steps.end());
    return *mid > 0 && (!std::isfinite(largest) || largest > 20 * *mid);
}

}  // namespace

// An --out-crs PROJ knows but cannot reach from a scene's CRS (another planet's) failed after the
// whole scan, at writing, and left a journal no --resume could finish (an audit). One reachable
// only in part is warned of.
void ScanJob::checkOutCrs() {
    if (outCrsWkt_.empty()) return;
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        const RasterInput& in = inputs()[i];
        try {
            const CoordinateMapper m(in.crsWkt(), in.geoTransform(), outCrsWkt_);
            const MapPoint c = m.pixelToTarget(in.width() / 2.0, in.height() / 2.0);
            if (!std::isfinite(c.x) || !std::isfinite(c.y))
                throw DataError("the scene's centre has no coordinates there");
            if (mapEndsInside(m, in))
                warnings_.push_back(sources()[i] + ": --out-crs " + request_.outCrs +
                                    " ends its map inside this scene (e.g. at the antimeridian): "
                                    "outlines across that "
                                    "edge will span the whole map; keep the scene's own CRS (no "
                                    "--out-crs) or write "
                                    "EPSG:4326");
        } catch (const DataError& e) {
            throw UsageError("--out-crs '" + request_.outCrs +
                             "' cannot be reached from the CRS of '" + sources()[i] + "' (" +
                             e.what() +
                             "): choose a CRS of the same body, e.g. EPSG:4326 or the scene's own");
        }
    }
}

// GeoJSON rounded coarser than half the finest pixel collapses outlines (GeoJsonWriter).
void ScanJob::checkCoarsePrecision() const {
    if (!files().format.rfc7946) return;
    double finest = std::numeric_limits<double>::infinity();
    for (const RasterInput& in : inputs())
        finest = std::min(finest, GeoJsonWriter::pixelDegrees(in.gsdX(), in.gsdY(), in.footprint()));
    GeoJsonWriter::checkPrecision(request_.coordinatePrecision, finest);
}

ScanJob::ScanJob(ScanRequest request, const DetectorRegistry& registry)
    : request_(std::move(request)) {
    auto t0 = Clock::now();
    files();  // an unknown output extension fails before any work
    if (outputFormatFor(request_.output).rfc7946) checkOutCrsForGeoJson(request_.outCrs);
    else if (!request_.outCrs.empty()) outCrsWkt_ = crsWktFromUser(request_.outCrs, "--out-crs");
    std::unique_ptr<DetectorConfig> recipe = loadRecipe();
    std::string name = request_.detector;
    if (name.empty()) name = recipe && !recipe->detector().empty() ? recipe->detector() : "index";
    // Risk is a probability-like score in [0, 1]: a level outside it makes every object one level.
    for (const double v : {request_.risk.medium, request_.risk.high})
        if (!(v >= 0 && v <= 1))
            throw UsageError(
                "--risk-levels " + optionValueText(request_.risk.medium) + "," +
                optionValueText(request_.risk.high) +
                ": each level must lie between 0 and 1 (risk is a score in [0, 1]), e.g. 0.4,0.7");
    if (!(request_.risk.medium < request_.risk.high))
        throw UsageError("risk levels must rise: medium " + optionValueText(request_.risk.medium) +
                         " is not below high " + optionValueText(request_.risk.high));
    if (request_.gridMetres > 0) RiskGrid::parseShape(request_.gridShape);
    checkOutputPaths();
    if (!request_.publishPath.empty()) {
        // A cell of one or two detections points at them; cells of any size let two shares of one
        // area be subtracted down to a single site (an audit: 10 km and 7 km shares left one kiln
        // in an L of one chip). Sizes nest: 5 km times a power of two.
        if (request_.publishMinCount < 3)
            throw UsageError(
                "--publish-min-count must be at least 3: a published cell of one or two detections "
                "points at them");
        if (!RiskGrid::isPublishedCellSize(request_.publishCellMetres))
            throw UsageError(
                "--publish-cell-m " + optionValueText(request_.publishCellMetres) +
                ": published cells are 5000 m times a power of two (5000, 10000, 20000, 40000...), "
                "so that shares "
                "of one area at two sizes nest and cannot be subtracted down to a site");
    }
    const auto& entry = registry.get(name);
    options_ = std::make_unique<OptionValues>(
        DetectorConfig::resolve(entry.info, recipe.get(), request_.sets));
    detector_ = entry.create(*options_);
    warnChangedResources(recipe.get());

    catalog_ = std::make_unique<InputCatalog>(InputCatalog::open(request_.input));
    checkOutputsAreNotInputs();
    checkContextLayers();
    checkOutCrs();
    checkGridArea();
    for (const RasterInput& in : inputs()) detector_->checkInput(in.gsdX(), in.gsdY());
    checkCoarsePrecision();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        std::string w = detector_->inputWarning(inputs()[i].gsdX(), inputs()[i].gsdY());
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
        const RasterInput& in = inputs()[i];
        w = contextWarning(in);
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
        w = detector_->bandWarning(in.bandNames());
        if (!w.empty()) warnings_.push_back(sources()[i] + ": " + w);
        for (const auto& note : in.namingNotes()) warnings_.push_back(sources()[i] + ": " + note);
        // A sensor profile that reads an 8-bit three-colour file as its true-colour product (e.g.
        // Sentinel-2 TCI): say so, as the values are a rendering, not reflectance.
        const bool rendering =
            in.bands().size() <= 4 &&
            std::all_of(in.bands().begin(), in.bands().end(), [](const InputBand& b) {
                return b.display && (b.name == "red" || b.name == "green" || b.name == "blue" ||
                                     b.name == "alpha");
            });
        if (!request_.input.options.sensor.empty() && request_.input.options.sensor != "rgb" &&
            rendering)
            warnings_.push_back(
                sources()[i] + ": --sensor " + request_.input.options.sensor + " reads its " +
                std::to_string(in.bands().size()) +
                " 8-bit bands as a true-colour rendering (display values, not reflectance)");
    }
    // Set once, before tiles are chosen: --explain's halo and working planes count there (chosen
    // without them, tiles were then refused: clearing, six bands, --ram 512, "needs 260 MB").
    request_.pipeline.explain = !request_.explainPath.empty();
    fitTilesToRam();
    openSeconds_ = since(t0);
}

// A scene narrower than the ground the detector compares objects with: they are measured against
// a truncated background, and many are missed (small image chips, common in ~1 m datasets).
std::string ScanJob::contextWarning(const RasterInput& in) const {
    const double need = detector_->contextMetres();
    const double w = in.width() * in.gsdX(), h = in.height() * in.gsdY();
    if (need <= 0 || (w >= need && h >= need)) return {};
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "the scene is %.0f x %.0f m, and the %s detector compares each object with about %.0f m of "
                  "ground around it: objects in a smaller scene are often missed; scan a larger extent",
                  w, h, detector_->info().name.c_str(), need);
    return buf;
}

// Only a scan that will run looks (not a merge, nor the checks of a time series), and only
// after --ram and the block sizes were checked: a raster of one 32768 px block was decoded
// here, 4 GiB, before the check that refuses it. A sample that cannot be read says nothing:
// the scan names a damaged block where it reads it.
void ScanJob::lookAtSamples() {
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        const RasterInput& in = inputs()[i];
        const std::vector<int> read = ScanPipeline::bandsRead(in, *detector_);
        try {
            for (const std::string& note :
                 {clippingWarning(clippedShare(in, read).value_or(0.0)), scaleWarning(in, read)})
                if (!note.empty()) addSampleWarning(sources()[i] + ": " + note);
        } catch (const Error&) {
        }
    }
}

void ScanJob::addSampleWarning(const std::string& w) {
    if (std::find(sampleWarnings_.begin(), sampleWarnings_.end(), w) != sampleWarnings_.end())
        return;
    sampleWarnings_.push_back(w);
    warnings_.push_back(w);
}

ScanJob::~ScanJob() = default;

// Without --tile-size, tiles shrink until they fit --ram, or grow where a large halo makes that
// cheaper (the output is the same for any tile size); every later step, the journal and the
// manifest use the size chosen. Only shrinking is warned of: it costs time.
void ScanJob::fitTilesToRam() {
    bool fits = true;
    const std::size_t workers = reserveForDetector(fits);
    const int chosen =
        ScanPipeline::fittingTileSize(inputs(), *detector_, request_.pipeline, &fits);
    if (fits && chosen < request_.pipeline.tileSize)  // else the scan is refused, naming a --ram
        warnings_.push_back(
            "tiles of " + std::to_string(chosen) + " px instead of " +
            std::to_string(request_.pipeline.tileSize) + " to fit --ram " +
            std::to_string(request_.pipeline.ramMB) +
            ": the same output, more time spent on halos; a larger --ram is faster");
    request_.pipeline.tileSize = chosen;
    request_.pipeline.tileSizeGiven = true;
    // Else ScanPipeline refuses, naming a --ram, before the detector takes its memory.
    const PipelineOptions& p = request_.pipeline;
    if (fits && p.reservedBytes + PipelineOptions::kProcessBytes <= p.budgetBytes())
        detector_->limitWorkers(workers);
}

// What the detector holds beside its tiles (a model's nets, Detector::reserve) comes out of
// --ram first: a net per thread while half of --ram holds them, fewer (down to one, the others
// waiting for it) where tiles would then not fit. Returns the workers; `fits` as the tiles do.
std::size_t ScanJob::reserveForDetector(bool& fits) {
    const Detector::Reserve r = detector_->reserve();
    PipelineOptions& p = request_.pipeline;
    const std::size_t threads = p.threadCount();
    if (r.perWorker == 0) {
        p.reservedBytes = r.fixed;
        return threads;
    }
    const std::size_t half = p.budgetBytes() / 2 > r.fixed ? p.budgetBytes() / 2 - r.fixed : 0;
    std::size_t workers = std::clamp<std::size_t>(half / r.perWorker, 1, threads);
    for (;; --workers) {
        p.reservedBytes = r.fixed + workers * r.perWorker;
        ScanPipeline::fittingTileSize(inputs(), *detector_, p, &fits);
        if (fits || workers == 1) return workers;
    }
}

// A manifest rerun whose model was replaced since: the same command, other detections (an audit:
// a --resume refused it, a rerun said nothing).
void ScanJob::warnChangedResources(const DetectorConfig* recipe) {
    if (!recipe || !recipe->recordedResources().is_object()) return;
    const Json now = detector_->resources();
    for (const auto& [role, was] : recipe->recordedResources().items()) {
        const Json before = was.is_object() ? was.value("sha256", Json()) : Json();
        const Json after =
            now.is_object() && now.contains(role) ? now.at(role).value("sha256", Json()) : Json();
        if (!before.is_string() || before == after) continue;
        warnings_.push_back(
            "the " + role + " file is not the one the scan in '" + recipe->origin() +
            "' used (sha256 " + before.get<std::string>().substr(0, 12) + " then, " +
            (after.is_string() ? after.get<std::string>().substr(0, 12) : std::string("none")) +
            " now): this run will not repeat its detections");
    }
}

std::unique_ptr<DetectorConfig> ScanJob::loadRecipe() {
    if (request_.recipe)
        return std::make_unique<DetectorConfig>(
            DetectorConfig::fromJson(*request_.recipe, "journal"));
    if (request_.configPath.empty()) return nullptr;
    auto recipe = std::make_unique<DetectorConfig>(DetectorConfig::load(request_.configPath));
    RiskOptions::Recorded risk = RiskOptions::read(recipe->risk(), recipe->origin());
    // A manifest rerun from another folder: its context layers, like its inputs and model, are
    // where the scan ran (a review).
    for (auto& c : risk.context) c.path = resolveFrom(recipe->baseDir(), c.path);
    // A recipe's context layers come first, then --context ones.
    request_.risk.context.insert(request_.risk.context.begin(), risk.context.begin(),
                                 risk.context.end());
    if (risk.levels) std::tie(request_.risk.medium, request_.risk.high) = *risk.levels;
    return recipe;
}

ScanFiles ScanJob::files() const {
    return ScanFiles::plan(request_.output, request_.gridMetres > 0, request_.publishPath,
                           request_.explainPath);
}

std::string ScanJob::targetCrsWkt() const {
    if (files().format.rfc7946) return "";
    return outCrsWkt_.empty() ? inputs().front().crsWkt() : outCrsWkt_;
}

std::vector<std::pair<std::string, std::string>> ScanJob::styleFiles() const {
    const ScanFiles f = files();
    const RiskOptions& ro = request_.risk;
    std::vector<std::pair<std::string, std::string>> styles{
        {f.stylePath(""), QgisStyle::detections(ro.medium, ro.high)}};
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
            throw UsageError(
                "two outputs of this run would both be written to '" + p +
                "': give -o, --explain, --publish and the other outputs different paths");
        if (p == f.journal) {  // checked when the scan starts (--resume, --overwrite)
            FileCommit::checkNameFits(p);
            continue;
        }
        auto same = [&](const auto& sty) { return sty.first == p && holdsExactly(p, sty.second); };
        if (std::any_of(styles.begin(), styles.end(), same) ||
            (p == f.publishStyle && holdsExactly(p, QgisStyle::published())))
            continue;  // a style shared with OUT.fgb beside OUT.geojson
        FileCommit::checkDestination(
            p, p == f.main ? request_.overwrite : request_.overwrite || continuing);
    }
}

void ScanJob::checkOutputsAreNotInputs() const {
    std::set<std::string> outs;
    for (const auto& p : files().written()) outs.insert(FileCommit::identity(p));
    for (const auto& in : inputs())
        for (const auto& f : in.files())
            if (!isRemotePath(f.path) && outs.count(FileCommit::identity(f.path)))
                throw UsageError("output '" + f.path +
                                 "' is also an input: choose another -o or --publish path");
    // The --input-list file, and a STAC file named as an input, are read too: -o over the list
    // replaced it with the layer (a sweep of every option path).
    std::vector<std::string> named = request_.input.paths;
    if (!request_.input.inputList.empty()) named.push_back(request_.input.inputList);
    for (const auto& p : named)
        if (!isRemotePath(p) && outs.count(FileCommit::identity(p)))
            throw UsageError("output '" + p +
                             "' is also an input: choose another -o, --explain or --publish path");
    // A context layer is read too: -o or --publish over it replaced it (an audit).
    for (const auto& c : request_.risk.context)
        if (!isRemotePath(c.path) && outs.count(FileCommit::identity(c.path)))
            throw UsageError("output '" + c.path + "' is also the context layer " + c.name +
                             ": choose another -o or --publish path");
}

// Context layers are opened when the objects are scored, after every tile: one that does not
// exist failed there, after the whole scan (an audit). Each is opened here first.
namespace {

// The centre of what was scanned: context distances are measured around it.
LonLat scannedCentre(const std::vector<RasterInput>& inputs) {
    LonLat centre{0, 0};
    for (const auto& in : inputs) {
        CoordinateMapper m(in.crsWkt(), in.geoTransform());
        LonLat c = m.pixelToLonLat(in.width() / 2.0, in.height() / 2.0);
        centre.lon += c.lon / static_cast<double>(inputs.size());
        centre.lat += c.lat / static_cast<double>(inputs.size());
    }
    return centre;
}

}  // namespace

// Each layer is opened and then read whole (projected, made GEOS geometries) before any pixel:
// a curved or unprojectable layer failed only after the whole scan, leaving a journal (a
// hostile-input sweep). The scorer is kept for the writing.
void ScanJob::checkContextLayers() {
    ensureGdalRegistered();
    std::set<std::string> names;
    for (const auto& c : request_.risk.context) {
        // Two layers of one name gave two risk factors no one could tell apart (an audit).
        if (!names.insert(c.name).second)
            throw UsageError("--context " + c.name + " is given twice: give each context layer its own name");
        VSIStatBufL st;
        if (!isRemotePath(c.path) && VSIStatL(c.path.c_str(), &st) != 0)
            throw DataError("--context " + c.name + ": '" + c.path + "' does not exist");
        refuseSpecialFile(c.path, "--context " + c.name + ":");
        GDALDatasetH ds = GDALOpenEx(c.path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
        if (!ds)
            throw DataError("--context " + c.name + ": '" + c.path +
                            "' is not a vector file OGR can read");
        GDALClose(ds);
    }
    try {
        scorer_ = std::make_shared<const ContextScorer>(request_.risk, scannedCentre(inputs()));
    } catch (const DataError& e) {
        throw DataError(std::string("--context: ") + e.what());
    }
    // An empty layer was taken in silence (an audit): a wrong file or layer gives no factor.
    for (const std::string& name : scorer_->emptyLayers())
        warnings_.push_back("--context " + name + " holds no features: it changes no risk (is it the right file?)");
}

RecordedRequest ScanJob::recorded() const {
    RecordedRequest r;
    r.input = request_.input;
    r.input.paths = InputCatalog::expandPaths(request_.input.paths, request_.input.inputList);
    r.input.inputList.clear();
    r.recipe = DetectorConfig::recipeJson(detector_->info().name, *options_);
    r.tileSize = request_.pipeline.tileSize;
    return r;
}

namespace {

// The files GDAL reads for an input besides the input's own (a VRT's sources, an .ovr): their
// sizes and times as one digest, since a mosaic may hold thousands. Only the VRT's own time was
// stamped, so a scan resumed and a merge combined tiles of a source that had changed since (a
// hostile-input sweep). PAM sidecars (.aux.xml) are left out: GDAL may write one itself.
Json readFilesStamp(const RasterInput& in) {
    std::string text;
    std::size_t n = 0;
    for (const auto& f : in.files()) {
        if (isRemotePath(f.path)) continue;
        CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
        CPLErrorStateBackuper keep;
        DatasetPtr ds(static_cast<GDALDataset*>(GDALOpenEx(f.path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
        if (!ds) continue;
        char** list = ds->GetFileList();
        for (char** p = list; p && *p; ++p) {
            const std::string path = *p;
            if (path == f.path || (path.size() > 8 && path.compare(path.size() - 8, 8, ".aux.xml") == 0)) continue;
            VSIStatBufL st;
            text += path + (VSIStatL(path.c_str(), &st) == 0
                                ? " " + std::to_string(st.st_size) + " " + std::to_string(static_cast<long long>(st.st_mtime))
                                : std::string(" absent")) +
                    "\n";
            ++n;
        }
        CSLDestroy(list);
    }
    if (n == 0) return Json();
    return Json{{"count", n}, {"sha256", onnx::sha256Hex(std::vector<std::uint8_t>(text.begin(), text.end()))}};
}

}  // namespace

Json ScanJob::fingerprint() const {
    // What the inputs are now: a changed file refuses a resume.
    Json ids = Json::array();
    for (std::size_t i = 0; i < inputs().size(); ++i) {
        const RasterInput& r = inputs()[i];
        Json x = Json::object();
        x["source"] = sources()[i];
        x["width"] = r.width();
        x["height"] = r.height();
        x["files"] = InputCatalog::fileStamps(r);
        if (Json read = readFilesStamp(r); !read.is_null()) x["files_read"] = read;
        ids.push_back(x);
    }
    Json fp = Json::object();
    fp["riskmap_version"] = kRiskmapVersion;
    fp["request"] = recorded().toJson();
    fp["inputs"] = ids;
    fp["shard"] = request_.shard.active() ? Json(request_.shard.text()) : Json();
    // A journal of a run with --explain holds rejections; one without cannot resume it.
    if (!request_.explainPath.empty()) fp["explain"] = true;
    // Files the detector read (a verifier model): one changed under the same path refuses a resume.
    if (Json res = detector_->resources(); !res.is_null()) fp["detector_resources"] = res;
    return fp;
}

std::set<std::pair<std::size_t, std::size_t>> ScanJob::replay(std::vector<JournalTile>& done,
                                                              const ScanPipeline& pipeline,
                                                              ScanResults& res) const {
    const std::string jpath = ScanJournal::pathFor(request_.output);
    std::set<std::pair<std::size_t, std::size_t>> finished;
    for (auto& t : done) {
        if (t.input >= inputs().size() || t.tile >= pipeline.plans()[t.input].grid.size() ||
            !finished.insert({t.input, t.tile}).second)
            throw DataError("journal '" + jpath +
                            "' lists a tile twice or an unknown tile: start over with --overwrite");
        addTile(res, pipeline.plans()[t.input].grid, t, jpath);
    }
    res.resumedTiles = done.size();
    done.clear();
    return finished;
}

PipelineOptions ScanJob::pipelineOptions(const std::atomic<bool>* cancel) const {
    PipelineOptions p = request_.pipeline;
    p.cancel = cancel;
    return p;
}

// A dense rule can find millions of objects (a million 4 x 4 px squares pack to ~60 MB): past a
// sixteenth of --ram they wait for writing in one unlinked file beside the journal (where the
// user chose to write), else in the temporary folder.
ScanResults ScanJob::freshResults() const {
    ScanResults res = emptyResults(inputs());
    std::vector<std::string> dirs;
    if (!isRemotePath(request_.output)) {
        const std::filesystem::path out(request_.output);
        dirs.push_back(out.has_parent_path() ? out.parent_path().string() : std::string("."));
    }
    std::error_code ec;
    const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    dirs.push_back(ec ? std::string("/tmp") : tmp.string());
    auto file = std::make_shared<SpillFile>(dirs);
    const std::size_t share = request_.pipeline.heldBytes();
    const std::size_t packs = res.perInput.size() * (request_.explainPath.empty() ? 1 : 2);
    const std::size_t resident = std::max<std::size_t>(share / packs, 1 << 20);
    for (auto& pack : res.perInput) pack.spillBeyond(resident, file);
    for (auto& pack : res.rejectedPerInput) pack.spillBeyond(resident, file);
    return res;
}

namespace {

// `e` again, of the same type, with `note` added.
[[noreturn]] void rethrowWithNote(const Error& e, const std::string& note) {
    const std::string what = std::string(e.what()) + note;
    if (dynamic_cast<const UsageError*>(&e)) throw UsageError(what);
    if (dynamic_cast<const DataError*>(&e)) throw DataError(what);
    if (dynamic_cast<const IoError*>(&e)) throw IoError(what);
    throw Error(what);
}

}  // namespace

ScanSummary ScanJob::run(ProgressSink& progress, const std::atomic<bool>* cancel) {
    cancel_ = cancel;
    const std::string started = utcNow();
    auto t0 = Clock::now();
    ScanPipeline pipeline(inputs(), *detector_, pipelineOptions(cancel));
    ScanResults res = freshResults();

    // The journal: resume from it, or start it afresh.
    const std::string jpath = ScanJournal::pathFor(request_.output);
    struct stat st;
    const bool haveJournal = ::lstat(jpath.c_str(), &st) == 0;
    if (haveJournal && !request_.resume && !request_.overwrite)
        throw UsageError(
            ScanJournal::inUse(jpath)                ? ScanJournal::inUseMessage(jpath)
            : !ScanJournal::looksLikeJournal(jpath) ? "'" + jpath + "' exists and is not a riskmap journal: move it away, or pass --overwrite to replace it"
                                                    : "'" + jpath +
                                                          "' holds the journal of an interrupted scan: pass --resume to continue it, "
                                                          "or --overwrite to start over");
    std::vector<JournalTile> done;
    ScanJournal journal = haveJournal && request_.resume
                              ? ScanJournal::resume(jpath, fingerprint(), detector_->info(), done)
                              : ScanJournal::create(jpath, fingerprint());
    if (!journal.repairNote().empty()) warnings_.push_back(journal.repairNote());
    std::size_t kept = done.size();
    try {
        const auto finished = replay(done, pipeline, res);
        std::unique_ptr<ShardPlan> plan;
        if (request_.shard.active()) plan = shardPlan(pipeline, inputs(), request_.shard.count);
        auto include = [&](std::size_t input, std::size_t tile) {
            if (plan && plan->shardOf(input, tile) != request_.shard.index) return false;
            return finished.count({input, tile}) == 0;
        };
        pipeline.run(
            progress,
            [&](TileResult&& r) {
                JournalTile t{r.input, r.tile.index, std::move(r.detections), std::move(r.coverage),
                              std::move(r.rejections)};
                journal.append(t);
                ++kept;
                addTile(res, pipeline.plans()[t.input].grid, t, jpath);
            },
            include, heldBytes(res));
        journal.sync();  // still locked while the files are written and committed
        res.scanSeconds = since(t0);
        takePipelineStats(pipeline, res);
        for (auto& n : detector_->scanNotes()) res.scanWarnings.push_back(std::move(n));
        ScanSummary s = writeOutputs(res, started, progress);
        // A shard's journal is its hand-over to `riskmap merge`; otherwise it has done its job.
        if (!request_.shard.active() && !request_.keepJournal) std::remove(jpath.c_str());
        journal.close();
        return s;
    } catch (const Cancelled& e) {
        // Ctrl-C said only "interrupted" (an audit): say what is kept and how to go on.
        if (kept == 0) {
            journal.close();
            std::remove(jpath.c_str());
            throw Cancelled(std::string(e.what()) +
                            " before any tile was finished: nothing was written");
        }
        throw Cancelled(std::string(e.what()) + ": the journal '" + jpath + "' keeps the " +
                        std::to_string(kept) +
                        " tile(s) finished; the same command with --resume continues from them");
    } catch (const Error& e) {
        // A failure (a damaged block, a full disk): a journal with finished tiles is kept for
        // --resume once the cause is fixed, and the message says so; an empty one is removed,
        // so that the same command runs again as it is.
        if (kept == 0) {
            journal.close();
            std::remove(jpath.c_str());
            throw;
        }
        rethrowWithNote(e, " (the journal '" + jpath + "' keeps the " + std::to_string(kept) +
                               " tile(s) finished: --resume continues from them once that is "
                               "fixed, --overwrite starts over)");
    }
}

}  // namespace riskmap
