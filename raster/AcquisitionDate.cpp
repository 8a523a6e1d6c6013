#include "raster/AcquisitionDate.hpp"

#include <cpl_error.h>
#include <gdal_priv.h>

#include <cctype>
#include <memory>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

// Metadata items naming the acquisition, most trusted first (GDAL's SENTINEL2, SAFE, DIMAP and
// IMAGERY readers, Landsat MTL as GDAL exposes it, then the TIFF tag).
const char* const kItems[] = {"DATATAKE_1_DATATAKE_SENSING_START",
                              "SENSING_TIME",
                              "PRODUCT_START_TIME",
                              "ACQUISITIONDATETIME",
                              "ACQUISITION_DATE",
                              "DATE_ACQUIRED",
                              "TIFFTAG_DATETIME"};

bool leapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool validDate(int y, int m, int d) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
    return d <= days[m - 1] + (m == 2 && leapYear(y) ? 1 : 0);
}

int digits(const std::string& s, std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

}  // namespace

std::string calendarDate(const std::string& t) {
    if (t.size() < 10) return "";
    const char sep = t[4];
    if ((sep != '-' && sep != ':') || t[7] != sep) return "";
    if (t.size() > 10 && t[10] != 'T' && t[10] != ' ' && t[10] != 't' && t[10] != 'Z') return "";
    const int y = digits(t, 0, 4), m = digits(t, 5, 2), d = digits(t, 8, 2);
    if (!validDate(y, m, d)) return "";
    return t.substr(0, 4) + "-" + t.substr(5, 2) + "-" + t.substr(8, 2);
}

std::string checkedDate(const std::string& text, const std::string& what) {
    const std::string d = text.size() == 10 ? calendarDate(text) : "";
    if (d.empty() || text[4] != '-') {
        // A real date before 1900 or after 2999 is no satellite's: say so, not "not a date".
        const int y = text.size() == 10 && text[4] == '-' ? digits(text, 0, 4) : 0;
        if (y > 0 && (y < 1900 || y > 2999))
            throw UsageError(what + " '" + text + "' lies outside the years 1900-2999 riskmap accepts: give the scene's acquisition date");
        throw UsageError(what + " '" + text + "' is not a date: give it as YYYY-MM-DD, e.g. 2020-01-27");
    }
    return d;
}

Acquisition acquisitionFromMetadata(const std::string& path) {
    ensureGdalRegistered();
    // A file that will not open is reported by the raster reader, not here.
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    CPLErrorStateBackuper keep;
    DatasetPtr ds(static_cast<GDALDataset*>(
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
    if (!ds) return {};
    for (const char* item : kItems)
        for (const char* domain : {"", "IMAGERY"}) {
            const char* v = ds->GetMetadataItem(item, domain);
            if (!v) continue;
            const std::string date = calendarDate(v);
            if (!date.empty()) return {date, std::string(item) + " = " + v};
        }
    return {};
}

}  // namespace riskmap
