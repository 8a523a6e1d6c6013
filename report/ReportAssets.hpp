#pragma once
// The report's static files (HTML, JavaScript, CSS, Leaflet), compiled into the binary.
#include <cstddef>
#include <vector>

namespace riskmap {

struct ReportAsset {
    const char* name;  // path inside the report folder
    const unsigned char* data;
    std::size_t size;
};

const std::vector<ReportAsset>& reportAssets();

}  // namespace riskmap
