#pragma once
// Reads windows of a RasterInput. One reader per thread: it owns its GDAL handles, and threads
// that help decode its blocks borrow theirs from a HandlePool the scan's readers share.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "geo/GdalRuntime.hpp"
#include "raster/BlockCache.hpp"
#include "raster/HandlePool.hpp"
#include "raster/RasterInput.hpp"
#include "raster/TileImage.hpp"

namespace riskmap {

class RasterReader {
public:
    // How many reads of the whole run will cover a stack-grid rectangle (a block's pixels);
    // 0 when not known.
    using BlockUses = std::function<int(const Window&)>;

    // `cache`, when given, shares decoded blocks with the other workers' readers; `uses` lets it
    // drop a block at its last read. With `handles` too, a window's missing blocks decode on
    // every idle thread, each with a handle of its own (the first tile runs alone, and at a
    // small --ram every tile does; issue 14).
    explicit RasterReader(const RasterInput& input, BlockCache* cache = nullptr, BlockUses uses = {},
                          HandlePool* handles = nullptr);
    ~RasterReader();
    RasterReader(const RasterReader&) = delete;
    RasterReader& operator=(const RasterReader&) = delete;

    const RasterInput& input() const { return input_; }

    // Reads bands (indices into input().bands()) over `window` into `out`: reflectance planes,
    // the combined validity mask, and window bookkeeping. `core` is stored as given.
    void read(const Window& window, const Window& core, const std::vector<int>& bands,
              TileImage& out);

private:
    // Where a stack window lies in one band file, with resampling when grids differ.
    struct SourceWindow {
        int x = 0, y = 0, w = 0, h = 0;
        bool resampled = false;
        GDALRasterIOExtraArg extra;
    };
    SourceWindow sourceWindow(int file, const Window& window) const;
    GDALDataset& dataset(int file);
    // Reads `file`'s bands over stack `window` into `dst`, band-sequential, as `type`.
    void readFileBands(int file, const Window& window, const std::vector<int>& fileBands,
                       GDALDataType type, const cv::Mat& dst);
    void readMask(int file, GDALRasterBand& maskBand, const Window& window, cv::Mat& dst);
    void maskZeroPixels(TileImage& out, const std::vector<cv::Mat>& others);
    // Stored values of `fileBands` over `window` into `raw` (band-sequential rows), through the
    // shared block cache when the file is on the stack grid.
    void readRaw(int file, const Window& window, const std::vector<int>& fileBands, GDALDataType type,
                 const cv::Mat& raw);
    std::uint64_t sourceKey(int file, const std::vector<int>& bands, int depth) const;

    const RasterInput& input_;
    BlockCache* cache_;
    BlockUses uses_;
    std::vector<DatasetPtr> datasets_;
    HandlePool* handles_;
    // Per file: held while a block decodes on the reader's own handle (blocks decode on every
    // idle thread; the others borrow handles from `handles_`).
    std::vector<std::mutex> ownInUse_;
    cv::Mat validBuffer_;  // backing store of TileImage::valid
    cv::Mat scratch_;  // masks, reused across tiles
    cv::Mat zeros_;    // pixels 0 in every band, reused across tiles
};

// The windows of a cheap look at a scene before the scan: up to 4 x 4 of 256 px spread evenly
// over the raster from edge to edge, those between the edges starting on a block's edge where
// blocks are no larger; none where a block holds more than 4 Mpx.
std::vector<Window> sampleWindows(const RasterInput& input);

// Share of the valid pixels that sit at 255 in one of `bands`' 8-bit bands, sampled in
// sampleWindows(); none without such bands. A rendering clipped by a contrast stretch (or by
// clouds) scores high.
std::optional<double> clippedShare(const RasterInput& input, const std::vector<int>& bands);

// The median of each of `bands` over the valid pixels of the same sample, as a scan reads it
// (reflectance; 0..1 of white for a display band); NaN for a band with no valid pixel there.
std::vector<double> sampledMedians(const RasterInput& input, const std::vector<int>& bands);

}  // namespace riskmap
