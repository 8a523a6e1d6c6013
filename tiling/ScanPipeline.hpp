#pragma once
// Runs a detector over the tiles of one or more inputs with TBB: a bounded number of tiles in
// flight, one GDAL handle set per worker thread, results delivered in tile order.
#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/ProgressSink.hpp"
#include "detection/Detector.hpp"
#include "raster/RasterInput.hpp"
#include "tiling/Coverage.hpp"
#include "tiling/TileGrid.hpp"

namespace riskmap {

struct PipelineOptions {
    int tileSize = 1024;
    // False when the user left --tile-size at its default: the scan may then take smaller tiles
    // to fit --ram (fittingTileSize); the output is the same for any tile size.
    bool tileSizeGiven = true;
    int threads = 0;          // 0: all cores
    // The threads a scan runs on: `threads`, or every core when 0.
    std::size_t threadCount() const;
    std::size_t ramMB = 1024;  // budget for tiles in flight plus GDAL's block cache
    bool explain = false;      // also collect rejected candidates (scan --explain)
    const std::atomic<bool>* cancel = nullptr;
    // Set aside out of --ram for what the detector holds beside its tiles (Detector::reserve).
    std::size_t reservedBytes = 0;
    // --ram in bytes (never below 64 MB).
    std::size_t budgetBytes() const { return (ramMB < 64 ? 64 : ramMB) * std::size_t{1024 * 1024}; }
    // What tiles, caches, results and the writer share: --ram less reservedBytes.
    std::size_t ramBytes() const {
        return budgetBytes() > reservedBytes ? budgetBytes() - reservedBytes : 0;
    }
    // Held detections (and --explain's rejections) may keep 1/kHeldShare of --ram in memory; the
    // rest waits in a spill file. The pipeline leaves that share out of tiles and cache.
    static constexpr std::size_t kHeldShare = 16;
    std::size_t heldBytes() const { return ramBytes() / kHeldShare; }
    // The writing phase's own share beyond the held results: a chunk of features being converted
    // (a thirty-second, ScanWriter) and the output driver's buffers. Without it, 118,806 objects
    // at the least budget named (87) peaked at 105.8 MB while writing.
    static constexpr std::size_t kWriterShare = 16;
    std::size_t writerBytes() const { return ramBytes() / kWriterShare; }
    // What the process holds besides tiles, caches and results: code, GDAL's drivers, PROJ's
    // database (~61 MB measured for a 64 px raster).
    static constexpr std::size_t kProcessBytes = std::size_t{64} << 20;
};

struct TileResult {
    std::size_t input = 0;
    Tile tile;
    std::vector<Detection> detections;  // owned by this tile only
    std::vector<Rejection> rejections;  // with PipelineOptions::explain, owned likewise
    double areaKm2 = 0;                 // of the core
    TileCoverage coverage;              // valid pixels of the core
};

class ScanPipeline {
public:
    // Extra pixels added to every halo: metres round to whole pixels in several places
    // (kernel radii, extents), each by at most one pixel.
    static constexpr int kHaloSlackPixels = 4;

    ScanPipeline(const std::vector<RasterInput>& inputs, const Detector& detector,
                 const PipelineOptions& options);
    // options.tileSize when the user gave it; otherwise, of the sizes from it down to
    // kMinAutoTile in steps of kTileStep that fit --ram, the one with the least work per core
    // (window pixels per owned pixel over the tiles in flight), or, where the halo reads more
    // than the tile owns, a size up to twice it that cuts the work per core by kGrowGain; when
    // none fits, the smallest (checkBudget then refuses it, naming the least --ram that works)
    // and *fits is set false.
    static int fittingTileSize(const std::vector<RasterInput>& inputs, const Detector& detector, const PipelineOptions& options,
                               bool* fits = nullptr);
    // The bands `detector` reads from `in`, as indices into in.bands().
    static std::vector<int> bandsRead(const RasterInput& in, const Detector& detector);
    static constexpr int kMinAutoTile = 256;
    static constexpr int kTileStep = 64;
    static constexpr double kGrowGain = 0.05;
    // Tiles in flight and the block cache's bytes for windows of `window` bytes.
    struct Share {
        std::size_t tokens, cacheBytes;
    };
    static Share shareFor(std::size_t window, std::size_t ram, std::size_t threads);
    // Tiles of `tile` bytes each (window, and the objects found before they are packed) that
    // fit --ram beside the process and the other shares (at least 1).
    static std::size_t tokensBeside(std::size_t ram, std::size_t tile);

    struct InputPlan {
        TileGrid grid;
        std::vector<int> bands;  // indices into RasterInput::bands()
    };
    const std::vector<InputPlan>& plans() const { return plans_; }
    std::size_t totalTiles() const;
    double totalAreaKm2() const { return totalAreaKm2_; }
    int threads() const { return threads_; }
    // Tiles in flight: the most the last run kept (fewer than planned when its tiles found
    // many objects), else the planned number.
    std::size_t tilesInFlight() const { return tokensUsed_ ? tokensUsed_ : tokens_; }
    // Estimated bytes of the largest tile window in flight (what --ram is shared out by).
    std::size_t tileWindowBytes() const { return windowBytes_; }
    std::size_t blockCacheBytes() const { return cacheBytes_; }
    // Of the last run: a first tile whose footprint (objects included) no --ram this small holds.
    const std::vector<std::string>& warnings() const { return warnings_; }
    std::size_t gdalCacheBytes() const { return gdalCacheBytes_; }
    // Shared block cache statistics of the last run.
    std::uint64_t cacheHits() const { return cacheHits_; }
    std::uint64_t cacheMisses() const { return cacheMisses_; }
    // Bytes of decoded blocks still cached when the last tile was read: 0 when every block was
    // dropped at its last read.
    std::size_t cacheLeftBytes() const { return cacheLeftBytes_; }
    // The smallest the block cache became as results grew (the last run).
    std::size_t blockCacheMinBytes() const { return cacheMinBytes_; }

    // Calls onTile for every tile, input by input, from one thread at a time. Tiles come in
    // swath order (not row-major); callers sort what they need.
    // `include` (optional) picks the tiles to process: a shard's share, minus tiles a resumed
    // run already has.
    // The results the caller keeps count against --ram: as they grow, the block cache shrinks
    // by as much (to an eighth of its share at least), so that tiles, cache and results stay
    // within the budget. `heldBytes`: what the caller holds already (a resumed run's tiles).
    void run(ProgressSink& progress, const std::function<void(TileResult&&)>& onTile,
             const std::function<bool(std::size_t input, std::size_t tile)>& include = {}, std::size_t heldBytes = 0);

private:
    std::vector<TileGrid> grids() const;
    std::string besideReserve() const;
    void checkBudget(std::size_t windowBytes) const;
    void warnIfTileDoesNotFit(std::size_t tileBytes, std::size_t residentBefore);
    const std::vector<RasterInput>& inputs_;
    const Detector& detector_;
    PipelineOptions options_;
    std::vector<InputPlan> plans_;
    double totalAreaKm2_ = 0;
    int threads_ = 1;
    std::size_t tokens_ = 1;
    std::size_t tokensUsed_ = 0;
    std::vector<std::string> warnings_;
    std::size_t windowBytes_ = 0;
    std::size_t cacheBytes_ = 0;
    std::size_t gdalCacheBytes_ = 0;
    std::vector<std::vector<std::size_t>> orders_;  // tile visiting order per input
    std::uint64_t cacheHits_ = 0;
    std::uint64_t cacheMisses_ = 0;
    std::size_t cacheLeftBytes_ = 0;
    std::size_t cacheMinBytes_ = 0;
};

// Halo in pixels along x and y for a detector on an input.
std::pair<int, int> haloPixels(double haloMetres, const RasterInput& input);

}  // namespace riskmap
