#include "tiling/ScanPipeline.hpp"

#include <gdal.h>
#include <tbb/task_arena.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>

#include "core/Error.hpp"
#include "core/HugePageHeap.hpp"
#include "core/PeakRss.hpp"
#include "detection/DetectionPack.hpp"
#include "raster/RasterReader.hpp"
#include "tiling/SeamMerge.hpp"

namespace riskmap {

namespace {

struct TileJob {
    std::size_t input = 0;
    Tile tile;
};

// Which tiles of each input this run reads.
std::vector<std::vector<char>> visitedTiles(const std::vector<ScanPipeline::InputPlan>& plans, const std::vector<TileJob>& todo) {
    std::vector<std::vector<char>> visited(plans.size());
    for (std::size_t i = 0; i < plans.size(); ++i) visited[i].assign(plans[i].grid.size(), 0);
    for (const TileJob& job : todo) visited[job.input][job.tile.index] = 1;
    return visited;
}

// How many of this run's tile windows cover a rectangle: the block cache drops a block after
// that many reads instead of keeping every block until the cache is full (issue 14).
RasterReader::BlockUses blockUses(const TileGrid& grid, const std::vector<char>& visited) {
    return [&grid, &visited](const Window& r) {
        const int tw = grid.tileWidth(), th = grid.tileHeight();
        const int c0 = std::max(0, (r.x - grid.haloX()) / tw - 1), c1 = std::min(grid.columns() - 1, (r.right() + grid.haloX()) / tw + 1);
        const int r0 = std::max(0, (r.y - grid.haloY()) / th - 1), r1 = std::min(grid.rows() - 1, (r.bottom() + grid.haloY()) / th + 1);
        int n = 0;
        for (int row = r0; row <= r1; ++row)
            for (int col = c0; col <= c1; ++col) {
                const std::size_t t = static_cast<std::size_t>(row) * static_cast<std::size_t>(grid.columns()) + static_cast<std::size_t>(col);
                if (!visited[t]) continue;
                n += !grid.tile(t).window.intersect(r).empty();
            }
        return n;
    };
}

// A worker's open handles for the input it is reading; reopened when the input changes.
struct ReaderSlot {
    std::size_t input = static_cast<std::size_t>(-1);
    std::unique_ptr<RasterReader> reader;
    TileImage image;
};

// Bytes per pixel of `read` as the reader holds them (window buffers, cached blocks), with the
// bands it holds for the zero test: their stored type, or Float64 where the reader falls back
// to it (mixed or unusual types).
std::size_t storedBytesPerPixel(const RasterInput& in, const std::vector<int>& read) {
    const std::vector<int> bands = in.bandsHeld(read);
    std::size_t bytes = 0;
    for (int b : bands) {
        const std::string& type = in.bands()[static_cast<std::size_t>(b)].dataType;
        const int size = GDALGetDataTypeSizeBytes(GDALGetDataTypeByName(type.c_str()));
        if (type != in.bands()[static_cast<std::size_t>(bands.front())].dataType) return 8 * bands.size();
        bytes += size == 1 || size == 2 || size == 4 ? static_cast<std::size_t>(size) : 8;
    }
    return bytes;
}

}  // namespace

std::size_t PipelineOptions::threadCount() const {
    return threads > 0 ? static_cast<std::size_t>(threads)
                       : static_cast<std::size_t>(tbb::info::default_concurrency());
}

std::pair<int, int> haloPixels(double haloMetres, const RasterInput& input) {
    // The smallest GSD on the raster gives the most pixels, so the halo is never short.
    int h = static_cast<int>(std::ceil(haloMetres / input.minGsd())) + ScanPipeline::kHaloSlackPixels;
    return {h, h};
}

namespace {

// Memory of one tile in flight: stored values plus each file's mask band, the validity mask,
// and the detector's working images and planes, over the tile and its halo.
std::size_t windowBytes(const RasterInput& in, const Detector& detector, const TileGrid& grid, const std::vector<int>& idx,
                        bool explain) {
    const std::size_t windowPx = static_cast<std::size_t>(std::min(in.width(), grid.tileWidth() + 2 * grid.haloX())) *
                                 static_cast<std::size_t>(std::min(in.height(), grid.tileHeight() + 2 * grid.haloY()));
    std::size_t storedBytes = storedBytesPerPixel(in, idx);
    for (const auto& f : in.files()) storedBytes += f.maskBand > 0 ? 8 : 0;
    return windowPx * (storedBytes + 1 + detector.workingBytesPerPixel(idx.size(), explain));
}

// Under --explain the detector may look further (explainHaloMetres); the detections do not change.
double haloMetresOf(const Detector& detector, bool explain) {
    return explain ? detector.explainHaloMetres() : detector.haloMetres();
}

TileGrid gridFor(const RasterInput& in, const Detector& detector, int tileSize, bool explain) {
    auto [hx, hy] = haloPixels(haloMetresOf(detector, explain), in);
    return TileGrid(in.width(), in.height(), tileSize, hx, hy, in.blockWidth(), in.blockHeight());
}

// Tile windows up to this size (an index rule's 1124 px window is ~62 MB; kiln's 1308 px one
// ~234 MB) let threads allocate from their own arenas; larger ones keep the huge-page main heap.
constexpr std::size_t kThreadArenaWindowBytes = std::size_t{96} << 20;

constexpr std::size_t kProcessBytes = PipelineOptions::kProcessBytes;

// The block cache never gets less than this share of --ram (1/16).
constexpr std::size_t kCacheFloorShare = 16;

// GDAL's per-handle cache matters where the shared cache is bypassed (band files resampled
// onto the stack grid, blocks too big to share), under drivers other than GeoTIFF, and under a
// VRT, whose sources' blocks it holds between the VRT blocks that share them. For a plain
// GeoTIFF it only holds a tile's blocks in passing, and a small one keeps its memory hot.
constexpr std::size_t kGdalUnbounded = std::numeric_limits<std::size_t>::max();

// What GDAL's cache must hold for no stored block to be decoded twice while one tile window of
// `grid` is read block by block: for a VRT of unresampled sources, the source blocks that one
// VRT block row spans across the window (ram/8 held a 2 x 2 mosaic VRT's clearing tiles to 320 px
// at --ram 256, 65.5 s against 31.4 s in 576 px tiles; issue 14).
std::size_t gdalCacheNeed(const RasterInput& in, const TileGrid& grid, std::size_t cacheBytes) {
    const std::size_t blockBytes = static_cast<std::size_t>(std::max(1, in.blockWidth())) *
                                   static_cast<std::size_t>(std::max(1, in.blockHeight())) * in.bands().size() * 8;
    bool bypassed = blockBytes * 8 > cacheBytes;
    for (const auto& f : in.files()) bypassed |= !f.sameGrid;
    if (bypassed) return kGdalUnbounded;
    if (in.driver() == "GTiff") return 0;
    const std::optional<VrtSources>& v = in.vrtSources();
    if (!v || v->irregular) return kGdalUnbounded;
    std::vector<int> all(in.bands().size());
    std::iota(all.begin(), all.end(), 0);
    const auto up = [](std::size_t a, std::size_t b) { return (a + b - 1) / b; };
    const auto bw = static_cast<std::size_t>(v->blockWidth), bh = static_cast<std::size_t>(v->blockHeight);
    const auto width = static_cast<std::size_t>(std::min(in.width(), grid.tileWidth() + 2 * grid.haloX()));
    const std::size_t across = up(width, bw) + 1, rows = up(static_cast<std::size_t>(std::max(1, in.blockHeight())), bh) + 1;
    return across * rows * bw * bh * storedBytesPerPixel(in, all);
}

std::size_t gdalCacheNeed(const std::vector<RasterInput>& inputs, const std::vector<TileGrid>& grids, std::size_t cacheBytes) {
    std::size_t need = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) need = std::max(need, gdalCacheNeed(inputs[i], grids[i], cacheBytes));
    return need;
}

// GDAL's share of --ram, 1/d: the least of 1/64 .. 1/8 that holds `need`.
std::size_t gdalShare(std::size_t need, std::size_t ram) {
    for (std::size_t d : {64, 32, 16})
        if (ram / d >= need) return d;
    return 8;
}

// The least --ram that holds one tile window of `window` bytes: at most half of it, and beside
// the process itself, GDAL's share, the held detections', the writer's and the block cache's
// floor (a sixteenth each). Below it the peak would pass --ram whatever the pipeline did (a
// 1500 px raster at --ram 64 peaked at 66 MB).
std::size_t leastRam(std::size_t window, std::size_t gdalNeed) {
    std::size_t least = 0;
    for (std::size_t d : {64, 32, 16, 8}) {
        const std::size_t parts = 64 - 64 / PipelineOptions::kHeldShare - 64 / kCacheFloorShare - 64 / PipelineOptions::kWriterShare - 64 / d;
        least = std::max(2 * window, (kProcessBytes + window) / parts * 64 + 1);
        if (least / d >= gdalNeed) break;
    }
    return least;
}

}  // namespace

// Tiles in flight and the block cache for tile windows of `window` bytes.
ScanPipeline::Share ScanPipeline::shareFor(std::size_t window, std::size_t ram, std::size_t threads) {
    window = std::max<std::size_t>(1, window);
    Share s{std::max<std::size_t>(1, std::min(2 * threads, (ram / 2) / window)), ram * 3 / 8};
    // Fewer tiles than threads leave cores idle (clearing's 1784 px windows: one in flight at
    // the default --ram). The cache drops each block at its last read and holds little more
    // than the block rows between two rows of tiles, so tiles may take up to three quarters of
    // --ram until every thread has one, when what is left after GDAL's share and the process
    // itself (~70 MB measured) still gives the cache an eighth.
    if (s.tokens < threads) {
        const std::size_t more = std::min(threads, (ram / 2 + ram / 4) / window);
        const std::size_t fixed = more * window + ram / 8 + kProcessBytes;
        const std::size_t left = ram > fixed ? ram - fixed : 0;
        if (more > s.tokens && left >= ram / 8) {
            s.tokens = more;
            s.cacheBytes = std::min(s.cacheBytes, left);
        }
    }
    s.tokens = std::min(s.tokens, tokensBeside(ram, window));
    return s;
}

// At small budgets the process alone takes more than the half given to tiles: the tiles in
// flight, with the objects each finds before they are packed, must fit beside it, the held
// results, the writer and the cache floor (250,000 objects at the 82 MB named peaked at 84.8
// with four 320 px tiles in flight).
std::size_t ScanPipeline::tokensBeside(std::size_t ram, std::size_t tile) {
    const std::size_t beside = kProcessBytes + ram / PipelineOptions::kHeldShare + ram / PipelineOptions::kWriterShare +
                               ram / kCacheFloorShare;
    return std::max<std::size_t>(1, ram > beside ? (ram - beside) / std::max<std::size_t>(1, tile) : 0);
}

// Objects are seen only once a tile is read: when the first tile (run alone) took more than
// --ram leaves beside what was resident before it, the scan goes on and names the --ram that
// holds such tiles beside the process and its shares (the least budget named before the scan
// assumed few objects).
void ScanPipeline::warnIfTileDoesNotFit(std::size_t tile, std::size_t residentBefore) {
    // Resident memory counts what the detector set aside (a model's nets), so the whole budget.
    if (residentBefore + tile <= options_.budgetBytes()) return;
    const double mb = 1048576.0;
    const double parts = 1.0 - 1.0 / PipelineOptions::kHeldShare - 1.0 / PipelineOptions::kWriterShare - 1.0 / kCacheFloorShare;
    char b[256];
    std::snprintf(
        b, sizeof b,
        "the first tile and the objects it found took %.0f MB: beside the process, --ram %zu "
        "cannot keep one such tile; run with --ram %.0f or more, or a smaller --tile-size",
        std::ceil(static_cast<double>(tile) / mb), options_.ramMB,
        std::ceil((static_cast<double>(kProcessBytes + tile) / parts +
                   static_cast<double>(options_.reservedBytes)) /
                  mb));
    warnings_.push_back(b);
}

namespace {

// Work per core of tiles of `size` px: pixels read and filtered per pixel owned (the halo's
// share), over the threads kept busy by the tiles in flight, each sped up on its share of the
// threads by the part of its work that runs on all of them (Amdahl's law: many cores do not
// make one tile's serial part faster). perCore is negative when the size does not fit --ram.
struct TileCost {
    double perCore = -1, readPerOwned = 0;
};

TileCost tileCost(const std::vector<RasterInput>& inputs, const Detector& detector, int size,
                  std::size_t ram, std::size_t threads, bool explain) {
    std::size_t window = 0;
    double read = 0, owned = 0;
    std::vector<TileGrid> grids;
    for (const auto& in : inputs) {
        const TileGrid& grid = grids.emplace_back(gridFor(in, detector, size, explain));
        window = std::max(window,
                          windowBytes(in, detector, grid, ScanPipeline::bandsRead(in, detector), explain));
        for (std::size_t t = 0; t < grid.size(); ++t)
            read += static_cast<double>(grid.tile(t).window.area());
        owned += static_cast<double>(in.width()) * in.height();
    }
    TileCost c;
    c.readPerOwned = read / owned;
    const ScanPipeline::Share share = ScanPipeline::shareFor(window, ram, threads);
    if (leastRam(window, gdalCacheNeed(inputs, grids, share.cacheBytes)) > ram) return c;
    const double inFlight = static_cast<double>(std::min(share.tokens, threads));
    const double parallel = std::clamp(detector.tileParallelism(), 0.0, 1.0);
    c.perCore = c.readPerOwned /
                (inFlight / ((1 - parallel) + parallel * inFlight / static_cast<double>(threads)));
    return c;
}

}  // namespace

// The tile size that asks least of each core (tileCost) among sizes that fit --ram, from the
// size asked for down in steps of kTileStep. Halving instead left clearing at --ram 256 on
// 256 px tiles, its 3.8 km halo 15x their pixels, one core idle (issue 14). Where the halo
// reads more than the tile owns, sizes up to twice the one asked for are weighed too, and taken
// when they cut the work per core by kGrowGain: clearing (2.7x) at the default --ram, 1024 ->
// 1280 px, 3.14 -> 2.94 s. Smaller halos lose more to larger planes than they save: kiln's 1.5x
// in 1408 px tiles ran 4.46 s against 4.15 s, an index rule's 1.2x 1.20 against 1.13 s.
std::vector<int> ScanPipeline::bandsRead(const RasterInput& in, const Detector& detector) {
    std::vector<std::string> names = in.bandNames();
    // Positional names are always available too (once: a message listed "b1, b1").
    for (std::size_t i = 0; i < in.bands().size(); ++i)
        if (in.bands()[i].name != "b" + std::to_string(i + 1))
            names.push_back("b" + std::to_string(i + 1));
    std::vector<int> idx;
    std::vector<std::string> wanted;
    try {
        wanted = detector.bandsFor(names);
    } catch (const UsageError& e) {
        // Which of 31 inputs lacks the bands (a hostile-input sweep: the message named none).
        throw UsageError("'" + in.files().front().path + (in.files().size() > 1 ? "' and its other band files" : "'") +
                         ": " + e.what());
    }
    for (const auto& n : wanted) idx.push_back(in.bandIndex(n));
    return idx;
}

int ScanPipeline::fittingTileSize(const std::vector<RasterInput>& inputs, const Detector& detector, const PipelineOptions& options,
                                  bool* fits) {
    if (fits) *fits = true;
    if (options.tileSizeGiven) return options.tileSize;
    const std::size_t ram = options.ramBytes();
    const std::size_t threads = options.threadCount();
    int best = 0, smallest = options.tileSize;
    double bestCost = 0;
    for (int size = options.tileSize; size >= kMinAutoTile; size -= kTileStep) {
        smallest = size;
        const double cost = tileCost(inputs, detector, size, ram, threads, options.explain).perCore;
        if (cost >= 0 && (best == 0 || cost < bestCost * 0.98))
            best = size, bestCost = cost;  // larger wins a near tie
    }
    const bool grow =
        best > 0 && tileCost(inputs, detector, options.tileSize, ram, threads, options.explain).readPerOwned > 2;
    for (int size = options.tileSize + kTileStep; grow && size <= 2 * options.tileSize;
         size += kTileStep) {
        const double cost = tileCost(inputs, detector, size, ram, threads, options.explain).perCore;
        if (cost >= 0 && cost < bestCost * (1 - kGrowGain)) best = size, bestCost = cost;
    }
    // When no tile fits, the smallest: the refusal then names the least budget that works.
    if (fits) *fits = best > 0;
    return best > 0 ? best : smallest;
}

ScanPipeline::ScanPipeline(const std::vector<RasterInput>& inputs, const Detector& detector,
                           const PipelineOptions& options)
    : inputs_(inputs), detector_(detector), options_(options) {
    threads_ = static_cast<int>(options.threadCount());
    std::size_t maxWindowBytes = 0;
    for (const auto& in : inputs) {
        std::vector<int> idx = ScanPipeline::bandsRead(in, detector);
        TileGrid grid = gridFor(in, detector, options.tileSize, options.explain);
        maxWindowBytes = std::max(maxWindowBytes, windowBytes(in, detector, grid, idx, options.explain));
        plans_.push_back({grid, idx});
        totalAreaKm2_ += static_cast<double>(in.width()) * in.height() * in.gsdX() * in.gsdY() / 1e6;
    }
    checkBudget(maxWindowBytes);
    windowBytes_ = maxWindowBytes;
    // Half of --ram for tiles in flight; most of the rest for the shared block cache, which
    // keeps blocks in the halos between tiles from being decoded twice; a little for GDAL's own
    // per-handle cache, which the shared one makes mostly redundant.
    std::size_t ram = options.ramBytes();
    const std::size_t window = std::max<std::size_t>(1, maxWindowBytes);
    const Share share = shareFor(window, ram, static_cast<std::size_t>(threads_));
    tokens_ = share.tokens;
    cacheBytes_ = share.cacheBytes;
    gdalCacheBytes_ = ram / gdalShare(gdalCacheNeed(inputs, grids(), cacheBytes_), ram);
    // The process itself (~70 MB) and the held detections' share are part of the promise too:
    // the cache gives way to them, down to a sixteenth of --ram (clearing on a 2 x 2 VRT at --ram
    // 256 peaked at 266 MB without the first; 250,000 --explain rejections at --ram 200 at 201 MB
    // on CI without the second).
    const std::size_t used = tokens_ * window + gdalCacheBytes_ + kProcessBytes + options.heldBytes();
    cacheBytes_ = std::max(std::min(cacheBytes_, ram > used ? ram - used : 0), ram / kCacheFloorShare);

    // Visit tiles in vertical swaths narrow enough that the block rows shared by one row of
    // tiles and the next still sit in the cache: reuse without memory growing with raster width.
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto& in = inputs[i];
        const auto& plan = plans_[i];
        const std::size_t bytesPerPixel = storedBytesPerPixel(in, plan.bands);
        std::size_t perTileColumn = 2 * static_cast<std::size_t>(plan.grid.tileWidth() + 2 * plan.grid.haloX()) *
                                    static_cast<std::size_t>(std::max(1, in.blockHeight())) * std::max<std::size_t>(1, bytesPerPixel);
        int swath = static_cast<int>(std::max<std::size_t>(1, (cacheBytes_ / 2) / std::max<std::size_t>(1, perTileColumn)));
        std::vector<std::size_t> order;
        for (int c0 = 0; c0 < plan.grid.columns(); c0 += swath)
            for (int r = 0; r < plan.grid.rows(); ++r)
                for (int c = c0; c < std::min(plan.grid.columns(), c0 + swath); ++c)
                    order.push_back(static_cast<std::size_t>(r) * static_cast<std::size_t>(plan.grid.columns()) +
                                    static_cast<std::size_t>(c));
        orders_.push_back(std::move(order));
    }
}

std::vector<TileGrid> ScanPipeline::grids() const {
    std::vector<TileGrid> g;
    for (const auto& p : plans_) g.push_back(p.grid);
    return g;
}

// ", beside the N MB the detector holds (a model's networks)" when it sets memory aside.
std::string ScanPipeline::besideReserve() const {
    if (options_.reservedBytes == 0) return {};
    return " beside the " + std::to_string((options_.reservedBytes + (1u << 20) - 1) >> 20) +
           " MB the detector holds whatever the tile (a model's networks and caches)";
}

// Refuses, before any pixel is read, a run that cannot fit --ram at all: one tile in flight, one
// decoded block, and the per-raster bookkeeping (coverage cells, tile lists) must all fit.
void ScanPipeline::checkBudget(std::size_t windowBytes) const {
    const std::size_t mb = 1024 * 1024;
    const std::size_t ram = options_.ramBytes();
    auto text = [](double v, int digits = 0) {
        char b[32];
        std::snprintf(b, sizeof b, "%.*f", digits, v);
        return std::string(b);
    };
    const std::size_t cache = shareFor(windowBytes, ram, static_cast<std::size_t>(threads_)).cacheBytes;
    const std::size_t least = leastRam(windowBytes, gdalCacheNeed(inputs_, grids(), cache));
    if (least > ram)
        throw UsageError(
            "one tile of this detector needs " + text(static_cast<double>(windowBytes) / mb, 1) +
            " MB (the tile plus a halo of " + text(haloMetresOf(detector_, options_.explain)) +
            " m) and the process itself ~" + text(static_cast<double>(kProcessBytes) / mb) +
            " MB, more than --ram " + std::to_string(options_.ramMB) + " holds" + besideReserve() +
            ": run with --ram " +
            text(std::ceil(static_cast<double>(least + options_.reservedBytes) / mb)) + " or more" +
            // At the smallest tile the planner tries, a smaller one is no advice (a sweep: the
            // halo alone did not fit, and --tile-size 256 was refused again).
            (options_.tileSize > kMinAutoTile ? ", or a smaller --tile-size" : ""));
    double bookkeeping = 0;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const RasterInput& in = inputs_[i];
        const double cells = std::ceil(in.width() / double(kCoverageCell)) * std::ceil(in.height() / double(kCoverageCell));
        bookkeeping += cells * 4 + static_cast<double>(plans_[i].grid.size()) * 96;
        const double block = static_cast<double>(std::max(1, in.blockWidth())) * std::max(1, in.blockHeight()) *
                             static_cast<double>(storedBytesPerPixel(in, plans_[i].bands));
        if (block > ram / 4.0)
            throw DataError("'" + in.origin() + "' is stored in blocks of " + std::to_string(in.blockWidth()) + " x " +
                            std::to_string(in.blockHeight()) + " pixels (" + text(block / mb) +
                            " MB each when decoded), more than --ram allows: re-tile it (gdal_translate -co TILED=YES) "
                            "or run with --ram " + text(4 * block / mb + 64));
        if (bookkeeping > ram / 4.0)
            throw DataError("'" + in.origin() + "' declares " + std::to_string(in.width()) + " x " + std::to_string(in.height()) +
                            " pixels: keeping track of what was scanned alone needs " + text(bookkeeping / mb) +
                            " MB, more than a quarter of --ram " + std::to_string(options_.ramMB) +
                            ": split it into smaller rasters or run with --ram " + text(4 * bookkeeping / mb + 64));
    }
}

std::size_t ScanPipeline::totalTiles() const {
    std::size_t n = 0;
    for (const auto& p : plans_) n += p.grid.size();
    return n;
}

void ScanPipeline::run(ProgressSink& progress, const std::function<void(TileResult&&)>& onTile,
                       const std::function<bool(std::size_t, std::size_t)>& include, std::size_t heldBytes) {
    // Small windows mean many small allocations and few large ones: threads get their own arenas.
    if (windowBytes_ <= kThreadArenaWindowBytes) useThreadArenas(threads_ + 2);
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads_));
    GDALSetCacheMax64(static_cast<GIntBig>(gdalCacheBytes_));
    // An index rule can find 80,000 objects in a 10000 px scene, ~90 MB of outlines: they take
    // their room from the cache, which costs re-decoded blocks, not the promise (issue 14).
    const std::size_t cacheFloor = cacheBytes_ / 8;
    auto cacheFor = [&](std::size_t held) { return cacheBytes_ > held + cacheFloor ? cacheBytes_ - held : cacheFloor; };
    BlockCache blockCache(cacheFor(heldBytes));
    // Past this the heap hands back what it holds unused; the next tiles grow into the rest.
    HeapTrimmer trimmer(options_.ramBytes() - options_.ramBytes() / 8, options_.ramBytes() / 32);

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    // The tiles to visit, in each input's swath order.
    std::vector<TileJob> todo;
    ProgressState state;
    for (std::size_t i = 0; i < plans_.size(); ++i) {
        const double pxKm2 = inputs_[i].gsdX() * inputs_[i].gsdY() / 1e6;
        for (std::size_t t : orders_[i]) {
            if (include && !include(i, t)) continue;
            Tile tile = plans_[i].grid.tile(t);
            todo.push_back({i, tile});
            state.areaTotalKm2 += static_cast<double>(tile.core.area()) * pxKm2;
        }
    }
    state.tilesTotal = todo.size();
    progress.start(state);
    const std::vector<std::vector<char>> visited = visitedTiles(plans_, todo);

    HandlePool handles;  // outlives the readers that borrow from it
    tbb::enumerable_thread_specific<ReaderSlot> slots;
    std::size_t next = 0;
    const std::atomic<bool>* cancel = options_.cancel;
    auto cancelled = [cancel] { return cancel && cancel->load(std::memory_order_relaxed); };

    auto processTile = [&](const TileJob& job) {
        TileResult r;
        r.input = job.input;
        r.tile = job.tile;
        const RasterInput& in = inputs_[job.input];
        r.areaKm2 = static_cast<double>(job.tile.core.area()) * in.gsdX() * in.gsdY() / 1e6;
        if (cancelled()) return r;
        ReaderSlot& slot = slots.local();
        if (slot.input != job.input) {
            slot.reader = std::make_unique<RasterReader>(in, &blockCache, blockUses(plans_[job.input].grid, visited[job.input]),
                                                         &handles);
            slot.input = job.input;
        }
        slot.reader->read(job.tile.window, job.tile.core, plans_[job.input].bands, slot.image);
        slot.image.cancel = cancel;
        r.coverage = TileCoverage::count(slot.image.valid, job.tile.window, job.tile.core);
        if (slot.image.validCount > 0) {
            r.detections = detector_.detect(slot.image, options_.explain ? &r.rejections : nullptr);
            SeamMerge::keepOwned(job.tile.core, r.detections);
            SeamMerge::keepOwned(job.tile.core, r.rejections);
        }
        return r;
    };
    // Detectors run parallel loops inside a tile: isolated, a thread that waits in one takes no
    // other tile, which would reuse this thread's reader slot and overwrite the image in use
    // (the ONNX detector met this first, NetRunner).
    // Each tile also runs in a context of its own. When one tile throws, TBB cancels the
    // pipeline's context and every context bound to it, and a parallel loop inside another
    // tile then returns with iterations never run: the kiln detector went on with candidates
    // never measured and crashed (a hostile-input sweep: --explain beside a truncated file).
    // A tile's loops now run to their end; the pipeline drops its result and rethrows.
    auto process = [&](const TileJob& job) {
        TileResult r;
        tbb::task_group_context own(tbb::task_group_context::isolated);
        tbb::task_group group(own);
        tbb::this_task_arena::isolate([&] { group.run_and_wait([&] { r = processTile(job); }); });
        return r;
    };
    // Tiles in flight hold their objects unpacked until the in-order stage packs them, and more
    // beside (--explain's rejections as journal text): 16,000 in a 1024 px tile took ~40 MB. The
    // first tile runs alone and its whole footprint is measured (the peak it set, over what was
    // resident before it); the run goes on with as many tiles as fit beside the rest, and
    // drains and goes on with fewer when a later tile holds more objects (counted as heapBytes).
    std::size_t tokens = 1, results = 0, measured = 0;
    bool first = true;
    auto wanted = [&] { return std::min(tokens_, tokensBeside(options_.ramBytes(), std::max(windowBytes_ + results, measured))); };
    const double residentBefore = residentMB(), peakBefore = peakRssMB();
    tokensUsed_ = 0;
    warnings_.clear();
    // Tiles' results wait here between the stages, not in TBB's buffers: when one tile throws,
    // TBB drops the items in flight without destroying them, and the results of tiles finishing
    // beside it leaked (LeakSanitizer, Hostile.AFailingTileLeavesTheOthersWhole). Whatever is
    // held here when the pipeline throws is destroyed with the map.
    std::map<std::size_t, TileResult> held;
    std::mutex heldLock;
    std::atomic<std::size_t> heldNext{0};
    auto hold = [&](const TileJob& job) {
        TileResult r = process(job);
        const std::size_t key = heldNext++;
        std::lock_guard<std::mutex> lock(heldLock);
        held.emplace(key, std::move(r));
        return key;
    };
    auto release = [&](std::size_t key) {
        std::lock_guard<std::mutex> lock(heldLock);
        auto node = held.extract(key);
        return std::move(node.mapped());
    };
    while (next < todo.size()) {
        tokensUsed_ = std::max(tokensUsed_, tokens);
        tbb::parallel_pipeline(
            tokens,
            tbb::make_filter<void, TileJob>(
                tbb::filter_mode::serial_in_order,
                [&](tbb::flow_control& fc) -> TileJob {
                    if (cancelled()) throw Cancelled("interrupted");
                    if (next >= todo.size() || (first && next > 0) || wanted() < tokens) {
                        fc.stop();
                        return {};
                    }
                    return todo[next++];
                }) &
                tbb::make_filter<TileJob, std::size_t>(tbb::filter_mode::parallel, hold) &
                tbb::make_filter<std::size_t, void>(
                    tbb::filter_mode::serial_in_order, [&](std::size_t key) {
                        TileResult r = release(key);
                        if (cancelled()) throw Cancelled("interrupted");
                        state.tilesDone++;
                        state.areaDoneKm2 += r.areaKm2;
                        state.detections += r.detections.size();
                        state.elapsedSeconds = elapsed();
                        std::size_t unpacked = 0;
                        for (const auto& d : r.detections) {
                            heldBytes += DetectionPack::packedBytes(d);
                            unpacked += heapBytes(d);
                        }
                        for (const auto& d : r.rejections) {
                            const std::size_t bytes = heapBytes(d);
                            heldBytes += bytes;
                            unpacked += bytes;
                        }
                        results = std::max(results, unpacked);
                        if (cacheFor(heldBytes) < blockCache.capacity()) blockCache.setCapacity(cacheFor(heldBytes));
                        onTile(std::move(r));
                        trimmer.afterTile();
                        progress.update(state);
                    }));
        const double peak = peakRssMB();
        if (kResidentMemoryMeaningful && first && peak > peakBefore) {
            measured = static_cast<std::size_t>((peak - residentBefore) * 1048576.0);
            warnIfTileDoesNotFit(measured, static_cast<std::size_t>(residentBefore * 1048576.0));
        }
        tokens = wanted();
        first = false;
    }
    state.elapsedSeconds = elapsed();
    cacheHits_ = blockCache.hits();
    cacheMisses_ = blockCache.misses();
    cacheLeftBytes_ = blockCache.bytes();
    cacheMinBytes_ = blockCache.capacity();
    progress.finish(state);
}

}  // namespace riskmap
