#pragma once
// Shared by the fuzz targets: riskmap's own errors are the expected answer to bad input; anything
// else (a crash, a sanitizer report, another exception type) is a bug the fuzzer reports.
#include <cpl_error.h>
#include <cpl_vsi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// A file in GDAL's memory file system holding the input (no disk traffic per execution).
inline std::string memFile(const std::string& name, const std::string& content) {
    static bool quiet = [] {
        ensureGdalRegistered();
        CPLSetErrorHandler(CPLQuietErrorHandler);
        return true;
    }();
    (void)quiet;
    const std::string path = "/vsimem/fuzz/" + name;
    VSILFILE* f = VSIFOpenL(path.c_str(), "wb");
    VSIFWriteL(content.data(), 1, content.size(), f);
    VSIFCloseL(f);
    return path;
}

}  // namespace riskmap::fuzz

// Runs `body`; riskmap's typed errors are fine, anything else propagates and is reported.
#define RISKMAP_FUZZ_BODY(body)           \
    try {                                 \
        body;                             \
    } catch (const riskmap::Error&) {     \
    }                                     \
    return 0
