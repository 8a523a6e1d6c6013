#pragma once
// The dates of `riskmap scan --time-series LIST`. LIST is either
//   - a text file of lines `DATE INPUT...` (DATE as YYYY-MM-DD; an INPUT is a raster, glob,
//     folder or STAC file, or NAME=PATH[:INDEX] for one file per band as with --band; relative
//     paths are taken from LIST's folder; '#' starts a comment; "quotes" keep spaces), or
//   - a STAC ItemCollection whose items carry a datetime: the items of one day are one date.
// Lines of the same date are one scan of all their scenes.
#include <string>
#include <vector>

#include "raster/InputCatalog.hpp"

namespace riskmap {

struct SeriesDate {
    std::string date;    // YYYY-MM-DD
    InputRequest input;  // the date's scenes, with input.date set to `date`
};

// `shared` gives every date's input options and STAC asset choices. Dates come sorted. Throws
// UsageError naming the line at fault, DataError when LIST cannot be read.
std::vector<SeriesDate> readSeriesList(const std::string& path, const InputRequest& shared);

}  // namespace riskmap
