#include "change/SeriesList.hpp"

#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/Error.hpp"
#include "core/TextFile.hpp"
#include "raster/AcquisitionDate.hpp"
#include "raster/StacItems.hpp"

namespace riskmap {

namespace {

// Words of a line, "double quotes" keeping spaces; a '#' outside quotes ends the line.
std::vector<std::string> words(const std::string& line, const std::string& where) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
        } else if (!quoted && c == '#') {
            break;
        } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (any) out.push_back(cur);
            cur.clear();
            any = false;
        } else {
            cur += c;
            any = true;
        }
    }
    if (quoted) throw UsageError(where + ": a quote is not closed");
    if (any) out.push_back(cur);
    return out;
}

bool isBandSpec(const std::string& w) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0 || !std::isalpha(static_cast<unsigned char>(w[0]))) return false;
    for (std::size_t i = 0; i < eq; ++i)
        if (!std::isalnum(static_cast<unsigned char>(w[i])) && w[i] != '_') return false;
    return true;
}

std::string fromListFolder(const std::string& p, const std::filesystem::path& folder) {
    if (p.empty() || p[0] == '/' || p.find("://") != std::string::npos) return p;
    return (folder / p).lexically_normal().string();
}

void addLine(const std::vector<std::string>& w, const std::string& where, const std::filesystem::path& folder,
             std::map<std::string, SeriesDate>& dates) {
    const std::string date = checkedDate(w[0], where + ": the date");
    if (w.size() < 2) throw UsageError(where + ": date " + date + " names no input");
    SeriesDate& d = dates[date];
    d.date = date;
    for (std::size_t i = 1; i < w.size(); ++i) {
        if (isBandSpec(w[i])) {
            BandSpec b = parseBandSpec(w[i]);
            b.path = fromListFolder(b.path, folder);
            // Lines of one date add scenes; its band files make one scene, each band once (a date
            // on two lines said "--band blue is given twice", naming no line: a sweep).
            for (const auto& had : d.input.bands)
                if (had.name == b.name)
                    throw UsageError(where + ": date " + date + " has a '" + b.name + "' band already (" + had.path +
                                     "): a date's band files make one scene; list each band once, or give another "
                                     "scene of that date as one raster file");
            d.input.bands.push_back(b);
        } else {
            d.input.paths.push_back(fromListFolder(w[i], folder));
        }
    }
}

std::map<std::string, SeriesDate> readText(const std::string& path) {
    std::istringstream in(readTextFile(path, "--time-series", std::size_t(64) << 20));  // without a BOM
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    std::map<std::string, SeriesDate> dates;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        const std::string where = "--time-series '" + path + "' line " + std::to_string(n);
        const auto w = words(line, where);
        if (!w.empty()) addLine(w, where, folder, dates);
    }
    return dates;
}

// A STAC ItemCollection: the items of one day make one date.
std::map<std::string, SeriesDate> readItems(const std::string& path, const InputRequest& shared) {
    std::map<std::string, SeriesDate> dates;
    std::set<std::string> ids;
    for (const auto& scene : readStac(path, shared.stacAssets)) {
        // Each date takes its items by id: items without ids, or sharing one, put every date's
        // scenes into each date (a sweep: "new 0, persists 15" for a camp that was new).
        if (!ids.insert(scene.id).second)
            throw DataError("items of '" + path + "' share the id '" + scene.id + "' (items without an id all get it): " +
                            "a time series picks each date's items by id; give every item its own \"id\"");
        const std::string date = calendarDate(scene.datetime);
        if (date.empty())
            throw DataError("STAC item '" + scene.id + "' of '" + path + "' has " +
                            (scene.datetime.empty() ? std::string("no datetime")
                                                    : "a datetime riskmap cannot read ('" + scene.datetime + "')") +
                            ": give --time-series a list of DATE INPUT... lines instead");
        SeriesDate& d = dates[date];
        d.date = date;
        if (d.input.paths.empty()) d.input.paths.push_back(path);
        d.input.stacItems.push_back(scene.id);
    }
    return dates;
}

}  // namespace

std::vector<SeriesDate> readSeriesList(const std::string& path, const InputRequest& shared) {
    auto dates = looksLikeStac(path) ? readItems(path, shared) : readText(path);
    if (dates.size() < 2)
        throw UsageError("--time-series '" + path + "' holds " + std::to_string(dates.size()) +
                         " date(s): a time series needs at least two (one line per date: DATE INPUT...)");
    std::vector<SeriesDate> out;
    for (auto& [date, d] : dates) {
        d.input.options = shared.options;
        d.input.stacAssets = shared.stacAssets;
        d.input.date = date;
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace riskmap
