#include "geo/GdalRuntime.hpp"

#include <cpl_error.h>
#include <cpl_vsi.h>

#include <mutex>

#include "core/TextFile.hpp"
#include "core/Error.hpp"

namespace riskmap {

namespace {

// A network read must never hang a run: a server that accepts and never answers, or trickles a
// byte now and then, fails the read with an error naming the URL. Users may set their own.
void setNetworkDefaults() {
    const std::pair<const char*, const char*> defaults[] = {
        {"GDAL_HTTP_CONNECTTIMEOUT", "30"},  // seconds to connect
        {"GDAL_HTTP_LOW_SPEED_TIME", "60"},  // abort when slower than the limit for this long
        {"GDAL_HTTP_LOW_SPEED_LIMIT", "256"},  // bytes per second
        {"GDAL_HTTP_TIMEOUT", "600"},  // whole request, seconds
    };
    for (const auto& [key, value] : defaults)
        if (!CPLGetConfigOption(key, nullptr)) CPLSetConfigOption(key, value);
}

// A GeoPackage records when it was written (gpkg_contents.last_change), so two identical scans
// gave different files. Layers carry no time (the manifest does): a fixed one, unless the user
// sets their own.
void setReproducibleDefaults() {
    if (!CPLGetConfigOption("OGR_CURRENT_DATE", nullptr))
        CPLSetConfigOption("OGR_CURRENT_DATE", "1970-01-01T00:00:00.000Z");
}

}  // namespace

void ensureGdalRegistered() {
    static std::once_flag once;
    std::call_once(once, [] {
        setNetworkDefaults();
        setReproducibleDefaults();
        GDALAllRegister();
    });
}

std::string lastGdalError(const std::string& fallback) {
    const char* msg = CPLGetLastErrorMsg();
    if (msg && *msg) return msg;
    return fallback;
}

DatasetPtr openRaster(const std::string& path) {
    ensureGdalRegistered();
    refuseSpecialFile(path, "input");
    CPLErrorReset();
    // Not shared: every worker gets its own handle because GDAL handles are not thread-safe.
    auto* ds = static_cast<GDALDataset*>(
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    const bool local = path.rfind("/vsi", 0) != 0 && path.find("://") == std::string::npos;
    VSIStatBufL st;
    if (!ds && local && VSIStatL(path.c_str(), &st) != 0)
        throw DataError("input '" + path + "' does not exist: check the path" +
                        (path.rfind('/', 0) == 0 ? std::string()  // lists resolve theirs from their own folder
                                                 : " (relative paths start from the current folder)"));
    // "run 'riskmap info' on it" was the advice riskmap info itself gave (an audit).
    if (!ds && local && st.st_size == 0)
        throw DataError("raster '" + path + "' is empty (0 bytes): copy or download it again");
    if (!ds)
        throw DataError("cannot open raster '" + path + "': " + lastGdalError("not a raster GDAL can read") +
                        " (is the file complete, and a raster format? gdalinfo shows what GDAL makes of it)");
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
    // Outlines are 2D map positions: a vertical CRS took them as swapped lat/lon and a geocentric
    // one as X/Y in metres from the Earth's centre (an audit), both written without a word.
    if (!srs.IsGeographic() && !srs.IsProjected())
        throw UsageError(what + " '" + text + "' is " + (srs.IsGeocentric() ? "geocentric" : srs.IsVertical() ? "a vertical CRS" : "not a map CRS") +
                         ": outlines need a 2D geographic or projected CRS (e.g. EPSG:4326, EPSG:32645)");
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

void checkOutCrsForGeoJson(const std::string& text) {
    if (text.empty()) return;
    ensureGdalRegistered();
    OGRSpatialReference given, wgs84;
    given.SetFromUserInput(crsWktFromUser(text, "--out-crs").c_str());
    wgs84.importFromEPSG(4326);
    // GeoJSON's own CRS, in either axis order (EPSG:4326, OGC:CRS84), is no change: accepted
    // (a format sweep found it refused while a manifest's CRS was dropped without a word).
    const char* const options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT", nullptr};
    if (given.IsSame(&wgs84, options)) return;
    given.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference crs84;
    crs84.SetFromUserInput("OGC:CRS84");
    if (given.IsSame(&crs84, options)) return;
    throw UsageError("--out-crs " + text + " does not apply to GeoJSON, which RFC 7946 fixes to WGS 84 lon/lat (EPSG:4326): "
                     "write .gpkg or .fgb for another CRS");
}

}  // namespace riskmap
