#include "raster/GdalRuntime.hpp"

#include <cpl_error.h>

#include <mutex>

#include "core/Error.hpp"

namespace riskmap {

void ensureGdalRegistered() {
    static std::once_flag once;
    std::call_once(once, [] { GDALAllRegister(); });
}

std::string lastGdalError(const std::string& fallback) {
    const char* msg = CPLGetLastErrorMsg();
    if (msg && *msg) return msg;
    return fallback;
}

DatasetPtr openRaster(const std::string& path) {
    ensureGdalRegistered();
    CPLErrorReset();
    // Not shared: every worker gets its own handle because GDAL handles are not thread-safe.
    auto* ds = static_cast<GDALDataset*>(
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    if (!ds)
        throw DataError("cannot open raster '" + path + "': " +
                        lastGdalError("not a raster GDAL can read") +
                        " (check the path, or run 'riskmap info' on it)");
    if (ds->GetRasterCount() == 0) {
        GDALClose(ds);
        throw DataError("'" + path + "' has no raster bands: pass a raster file");
    }
    return DatasetPtr(ds);
}

}  // namespace riskmap
