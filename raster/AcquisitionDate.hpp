#pragma once
// When a scene was acquired: from the product's metadata (Sentinel-2 datatake, product start,
// imagery metadata, Landsat MTL, TIFF date tag), a STAC item's datetime, or `--date`. `riskmap
// diff` labels changes with these dates; a scene without one is compared all the same.
#include <string>

namespace riskmap {

struct Acquisition {
    std::string date;  // YYYY-MM-DD, or "" when unknown
    std::string from;  // where it came from, e.g. "TIFFTAG_DATETIME = 2020:01:27 04:32:11"
};

// The date of a GDAL raster's metadata (default and IMAGERY domains), in order of trust: sensing
// and acquisition times first, TIFFTAG_DATETIME (often the processing time) last. Never throws:
// an unreadable file or no date gives an empty Acquisition.
Acquisition acquisitionFromMetadata(const std::string& path);

// The calendar date at the start of an ISO 8601 or TIFF ("YYYY:MM:DD HH:MM:SS") time stamp, as
// YYYY-MM-DD; "" when it does not start with a valid date.
std::string calendarDate(const std::string& timestamp);

// A user's date (`--date`, a time-series list): YYYY-MM-DD, checked against the calendar.
// Throws UsageError naming `what` when it is not one.
std::string checkedDate(const std::string& text, const std::string& what);

}  // namespace riskmap
