#include "geo/GdalRuntime.hpp"

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

OGRSpatialReference epsgSpatialRef(int epsg) {
    OGRSpatialReference s;
    s.importFromEPSG(epsg);
    s.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

std::unique_ptr<OGRCoordinateTransformation> epsgTransform(int from, int to) {
    OGRSpatialReference a = epsgSpatialRef(from), b = epsgSpatialRef(to);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&a, &b));
    if (!ct)
        throw DataError("cannot build the EPSG:" + std::to_string(from) + " to EPSG:" + std::to_string(to) +
                        " transformation: " + lastGdalError());
    return ct;
}

}  // namespace riskmap

namespace riskmap {

std::string crsWktFromUser(const std::string& text, const std::string& what) {
    ensureGdalRegistered();
    OGRSpatialReference srs;
    if (text.empty() || srs.SetFromUserInput(text.c_str()) != OGRERR_NONE || srs.IsEmpty())
        throw UsageError(what + " '" + text + "' is not a CRS PROJ knows: give EPSG:CODE (e.g. EPSG:32645), WKT or PROJJSON");
    char* wkt = nullptr;
    const char* const options[] = {"FORMAT=WKT2_2019", nullptr};
    if (srs.exportToWkt(&wkt, options) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        throw UsageError(what + " '" + text + "' cannot be written as WKT: give an EPSG code instead");
    }
    std::string out(wkt);
    CPLFree(wkt);
    return out;
}

}  // namespace riskmap
