#pragma once
// How a VRT's sources are stored, as far as GDAL's own block cache is concerned: the shared block
// cache reads the VRT block by block, and GDAL decodes the source blocks each VRT block covers.
// Where source blocks are larger than the VRT's, or straddle them, a source block is read for
// several VRT blocks and GDAL's cache must hold it between those reads (ScanPipeline sizes it).
#include <gdal_priv.h>

#include <optional>

namespace riskmap {

struct VrtSources {
    int blockWidth = 0;  // the largest stored block among the sources sampled
    int blockHeight = 0;
    // A source resampled, filtered or not opened: GDAL's cache is sized as for any other driver.
    bool irregular = false;
};

// Empty for a dataset that is not a VRT. Sources are sampled: the first kSampledFiles distinct
// files are opened for their block size (mosaics repeat one layout; a wrong guess costs speed,
// never memory: the cache's size is a cap).
std::optional<VrtSources> describeVrtSources(GDALDataset& ds);

}  // namespace riskmap
