#pragma once
// STAC Items and ItemCollections as scenes: each item becomes one band stack built from its
// assets, chosen by band name (eo:bands common_name, or the asset key), with scale and offset
// from the raster extension when given. Remote hrefs go through GDAL's virtual file systems.
#include <map>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "raster/RasterInput.hpp"

namespace riskmap {

struct StacScene {
    std::string id;
    std::vector<BandSpec> bands;
    std::string datetime;  // properties.datetime (else start_datetime); "" when absent
};

// True when `path` names a JSON file holding a STAC Item or ItemCollection.
bool looksLikeStac(const std::string& path);

// assetOverrides: band name -> asset key (from --stac-asset NAME=KEY), applied before matching.
std::vector<StacScene> readStac(const std::string& path, const std::map<std::string, std::string>& assetOverrides);

// http(s)://, s3://, gs:// and az:// hrefs as GDAL virtual paths; relative hrefs against base.
std::string stacHrefToGdalPath(const std::string& href, const std::string& baseDir);

}  // namespace riskmap
