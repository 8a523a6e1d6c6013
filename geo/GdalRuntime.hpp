#pragma once
// One-time GDAL set-up and RAII helpers for GDAL handles.
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <memory>
#include <string>

namespace riskmap {

// Registers GDAL/OGR drivers once; safe to call from any thread.
void ensureGdalRegistered();

// The last GDAL error message, or a fallback when GDAL gave none.
std::string lastGdalError(const std::string& fallback = "unknown GDAL error");

struct GdalDatasetCloser {
    void operator()(GDALDataset* ds) const {
        if (ds) GDALClose(ds);
    }
};
using DatasetPtr = std::unique_ptr<GDALDataset, GdalDatasetCloser>;

// Opens a raster read-only; throws DataError naming the path and what to do.
DatasetPtr openRaster(const std::string& path);

// The CRS of an EPSG code with x = easting or longitude and y = northing or latitude, whatever
// the authority's axis order (EPSG:4326 is lat/lon there).
OGRSpatialReference epsgSpatialRef(int epsg);
// A transformation between two EPSG codes in that axis order; throws DataError when PROJ
// cannot build it.
std::unique_ptr<OGRCoordinateTransformation> epsgTransform(int from, int to);

}  // namespace riskmap

namespace riskmap {

// The WKT of a CRS given by a user (EPSG:CODE, WKT, PROJJSON, PROJ string, ...); throws
// UsageError naming `what` (e.g. "--out-crs") when PROJ cannot make a CRS of it.
std::string crsWktFromUser(const std::string& text, const std::string& what);

// For a GeoJSON output: accepts an --out-crs that is WGS 84 lon/lat (RFC 7946's own, so no
// change) or empty; throws UsageError for any other CRS.
void checkOutCrsForGeoJson(const std::string& text);

}  // namespace riskmap
