#pragma once
// Reads windows of a RasterInput. One reader per thread: it owns its GDAL handles.
#include <memory>
#include <vector>

#include "raster/GdalRuntime.hpp"
#include "raster/RasterInput.hpp"
#include "raster/TileImage.hpp"

namespace riskmap {

class RasterReader {
public:
    explicit RasterReader(const RasterInput& input);
    ~RasterReader();
    RasterReader(const RasterReader&) = delete;
    RasterReader& operator=(const RasterReader&) = delete;

    const RasterInput& input() const { return input_; }

    // Reads bands (indices into input().bands()) over `window` into `out`: reflectance planes,
    // the combined validity mask, and window bookkeeping. `core` is stored as given.
    void read(const Window& window, const Window& core, const std::vector<int>& bands,
              TileImage& out);

private:
    GDALDataset& dataset(int file);
    // Reads a GDAL window of `file` aligned to stack `window` into `dst` (CV_32F or CV_8U).
    void readFileBands(int file, const Window& window, const std::vector<int>& fileBands,
                       GDALDataType type, void* dst, int bandCount);
    void readMask(int file, GDALRasterBand& maskBand, const Window& window, cv::Mat& scratch);

    const RasterInput& input_;
    std::vector<DatasetPtr> datasets_;
};

}  // namespace riskmap
