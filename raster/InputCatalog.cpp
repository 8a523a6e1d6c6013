#include "raster/InputCatalog.hpp"

#include <cpl_vsi.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/Error.hpp"
#include "core/Paths.hpp"
#include "core/TextFile.hpp"
#include "raster/RasterReader.hpp"
#include "raster/StacItems.hpp"

namespace riskmap {

namespace {

std::vector<int> allBands(const RasterInput& in) {
    std::vector<int> all(in.bands().size());
    for (std::size_t b = 0; b < all.size(); ++b) all[b] = static_cast<int>(b);
    return all;
}

const char* maskText(MaskSource m) {
    switch (m) {
        case MaskSource::None: return "none";
        case MaskSource::Nodata: return "nodata";
        case MaskSource::PerDataset: return "dataset mask or alpha";
        case MaskSource::PerBand: return "per-band mask";
    }
    return "?";
}

std::string num(double v, int decimals) {
    char buf[64];
    // Fixed notation for 1e300 (a nodata value) printed 63 digits of noise.
    if (!std::isfinite(v) || std::fabs(v) >= 1e12)
        std::snprintf(buf, sizeof buf, "%.6g", v);
    else
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

}  // namespace

std::vector<std::string> InputCatalog::expandPaths(const std::vector<std::string>& paths, const std::string& inputList) {
    std::vector<std::string> all = paths;
    if (!inputList.empty()) {
        std::istringstream in(readTextFile(inputList, "--input-list", std::size_t(64) << 20));
        std::string line;
        while (std::getline(in, line)) {
            auto b = line.find_first_not_of(" \t\r");
            if (b == std::string::npos || line[b] == '#') continue;
            auto e = line.find_last_not_of(" \t\r");
            all.push_back(line.substr(b, e - b + 1));
        }
    }
    std::vector<std::string> out;
    for (const auto& p : all) {
        // GDAL virtual paths and connection strings pass through untouched.
        if (p.rfind("/vsi", 0) == 0 || p.find("://") != std::string::npos || p.find(':') != std::string::npos) {
            out.push_back(p);
            continue;
        }
        // A file whose name holds a glob character ("scene[1].tif") is itself, not a pattern.
        struct stat st {};
        const bool exists = ::stat(p.c_str(), &st) == 0;
        if (!exists && p.find_first_of("*?[") != std::string::npos) {
            glob_t g{};
            int rc = ::glob(p.c_str(), 0, nullptr, &g);
            if (rc == GLOB_NOMATCH) {
                globfree(&g);
                throw DataError("no file matches '" + p + "'");
            }
            std::vector<std::string> m(g.gl_pathv, g.gl_pathv + g.gl_pathc);
            globfree(&g);
            std::sort(m.begin(), m.end());
            out.insert(out.end(), m.begin(), m.end());
            continue;
        }
        if (exists && S_ISDIR(st.st_mode)) {
            std::vector<std::string> m;
            for (const auto& e : std::filesystem::directory_iterator(p)) {
                if (!e.is_regular_file()) continue;
                std::string ext = e.path().extension().string();
                std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                for (const char* r : {".tif", ".tiff", ".vrt", ".jp2", ".img", ".nc", ".hdf", ".h5", ".ecw", ".sid"})
                    if (ext == r) m.push_back(e.path().string());
            }
            if (m.empty()) throw DataError("folder '" + p + "' holds no raster files (.tif, .vrt, .jp2, ...)");
            std::sort(m.begin(), m.end());
            out.insert(out.end(), m.begin(), m.end());
            continue;
        }
        out.push_back(p);
    }
    return out;
}

InputCatalog InputCatalog::open(const std::vector<std::string>& paths,
                                const std::vector<BandSpec>& bands, const InputOptions& options) {
    InputRequest r;
    r.paths = paths;
    r.bands = bands;
    r.options = options;
    return open(r);
}

namespace {

// The STAC scenes of `path` that the request keeps (all, or the items it names).
std::vector<StacScene> stacScenes(const std::string& path, const InputRequest& req, std::set<std::string>& found) {
    std::vector<StacScene> kept;
    for (auto& scene : readStac(path, req.stacAssets)) {
        const bool wanted = req.stacItems.empty() ||
                            std::find(req.stacItems.begin(), req.stacItems.end(), scene.id) != req.stacItems.end();
        if (!wanted) continue;
        found.insert(scene.id);
        kept.push_back(std::move(scene));
    }
    return kept;
}

Acquisition stacAcquisition(const StacScene& scene) {
    const std::string d = calendarDate(scene.datetime);
    return d.empty() ? Acquisition{} : Acquisition{d, "STAC datetime = " + scene.datetime};
}

}  // namespace

// The same file given twice (a glob and a folder in one --input-list) became two scenes: its
// detections doubled where overlapping ones are not merged (an audit).
void InputCatalog::refuseRepeats(const InputRequest& req) {
    const std::vector<std::string> paths = expandPaths(req.paths, req.inputList);
    std::map<std::string, std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (isRemotePath(p)) continue;
        const std::string key = std::filesystem::weakly_canonical(p, ec).string();
        if (ec || key.empty()) continue;
        const auto [it, fresh] = files.emplace(key, p);
        if (!fresh)
            throw UsageError("input '" + p + "' is given twice (also as '" + it->second +
                             "'): give each scene once (check globs, folders and --input-list)");
    }
    if (!req.stacAssets.empty() && !paths.empty() && std::none_of(paths.begin(), paths.end(), looksLikeStac))
        throw UsageError("--stac-asset applies to STAC inputs, and none is given: drop it, or name bands with --band or --sensor");
}

// A STAC scene's band files, opened; a failure names the item and the STAC file (its hrefs are
// relative to that file, not to the current folder).
RasterInput openStacScene(const StacScene& scene, const std::string& stacPath, const InputOptions& options) {
    try {
        return RasterInput::fromBandFiles(scene.bands, options, scene.id);
    } catch (const UsageError& e) {
        throw UsageError("STAC item '" + scene.id + "' of '" + stacPath + "': " + e.what());
    } catch (const DataError& e) {
        throw DataError("STAC item '" + scene.id + "' of '" + stacPath + "': " + e.what());
    } catch (const IoError& e) {
        throw IoError("STAC item '" + scene.id + "' of '" + stacPath + "': " + e.what());
    }
}

InputCatalog InputCatalog::open(const InputRequest& req) {
    const InputOptions& options = req.options;
    std::vector<std::string> paths = expandPaths(req.paths, req.inputList);
    if (paths.empty() && req.bands.empty())
        throw UsageError("no input: give raster paths, a folder, --input-list FILE or --band NAME=PATH");
    const std::string date = req.date.empty() ? "" : checkedDate(req.date, "--date");
    InputCatalog c;
    std::set<std::string> found;
    for (const auto& p : paths) {
        if (looksLikeStac(p)) {
            for (const auto& scene : stacScenes(p, req, found)) {
                c.inputs_.push_back(openStacScene(scene, p, options));
                c.acquired_.push_back(stacAcquisition(scene));
            }
        } else {
            c.inputs_.push_back(RasterInput::open(p, options));
            c.acquired_.push_back(date.empty() ? acquisitionFromMetadata(p) : Acquisition{});
        }
    }
    for (const auto& id : req.stacItems)
        if (!found.count(id)) throw DataError("no STAC item '" + id + "' among the inputs: check the item ids");
    if (!req.bands.empty()) {
        c.inputs_.push_back(RasterInput::fromBandFiles(req.bands, options));
        c.acquired_.push_back(date.empty() ? acquisitionFromMetadata(req.bands.front().path) : Acquisition{});
    }
    if (!date.empty())
        for (auto& a : c.acquired_) a = {date, "given with the scan (--date or a --time-series list)"};
    std::map<std::string, int> seen;
    for (const auto& in : c.inputs_) seen[in.name()]++;
    for (const auto& in : c.inputs_) c.sources_.push_back(seen[in.name()] > 1 ? in.origin() : in.name());
    return c;
}

Json InputCatalog::describe(const RasterInput& in, const std::string& source, const Acquisition& acquired) {
    Json j = Json::object();
    j["source"] = source;
    j["origin"] = in.origin();
    j["acquired"] = acquired.date.empty() ? Json() : Json(acquired.date);
    j["acquired_from"] = acquired.from.empty() ? Json() : Json(acquired.from);
    j["driver"] = in.driver();
    j["width"] = in.width();
    j["height"] = in.height();
    j["band_count"] = in.bands().size();
    j["sensor_profile"] = in.profileName().empty() ? Json() : Json(in.profileName());
    Json bands = Json::array();
    for (std::size_t i = 0; i < in.bands().size(); ++i) {
        const InputBand& b = in.bands()[i];
        const InputFile& f = in.files()[static_cast<std::size_t>(b.file)];
        Json x = Json::object();
        x["index"] = i + 1;
        x["name"] = b.name;
        x["description"] = b.description;
        x["color_interp"] = b.colorInterp;
        x["type"] = b.dataType;
        // NaN has no JSON number: written as "nan", not as null, which reads as "no nodata" (a sweep).
        x["nodata"] = !b.nodata ? Json() : std::isnan(*b.nodata) ? Json("nan") : Json(*b.nodata);
        x["mask"] = maskText(b.mask);
        x["validity_band"] = f.maskBand ? Json(f.maskBand) : Json();
        Json block = Json::array();
        block.push_back(b.blockX);
        block.push_back(b.blockY);
        x["block"] = block;
        x["scale"] = b.scale.scale;
        x["offset"] = b.scale.offset;
        x["display_rendering"] = b.display;
        x["file"] = f.path;
        x["file_band"] = b.band;
        x["resampled"] = !f.sameGrid;
        bands.push_back(x);
    }
    j["bands"] = bands;
    Json crs = Json::object();
    crs["name"] = in.crsName();
    crs["epsg"] = in.epsg() ? Json(in.epsg()) : Json();
    crs["geographic"] = in.crsIsGeographic();
    j["crs"] = crs;
    Json gt = Json::array();
    for (double c : in.geoTransform().coefficients()) gt.push_back(c);
    j["geotransform"] = gt;
    Json gsd = Json::object();
    gsd["x"] = in.gsdX();
    gsd["y"] = in.gsdY();
    gsd["min"] = in.minGsd();
    j["gsd_m"] = gsd;
    Json ring = Json::array();
    for (const auto& p : in.footprint()) {
        Json pt = Json::array();
        pt.push_back(p.lon);
        pt.push_back(p.lat);
        ring.push_back(pt);
    }
    Json rings = Json::array();
    rings.push_back(ring);
    Json fp = Json::object();
    fp["type"] = "Polygon";
    fp["coordinates"] = rings;
    j["footprint"] = fp;
    j["area_km2"] = in.areaKm2();
    j["zero_pixels_are_nodata"] = in.zeroIsNodata();
    // 8-bit scenes: the share of sampled pixels at 255 in a band (a clipping stretch; scan warns).
    const std::optional<double> clipped = clippedShare(in, allBands(in));
    j["clipped_share"] = clipped ? Json(*clipped) : Json();
    j["files"] = fileStamps(in);
    return j;
}

Json InputCatalog::fileStamps(const RasterInput& in) {
    Json files = Json::array();
    for (const auto& f : in.files()) {
        Json y = Json::object();
        y["path"] = f.path;
        VSIStatBufL st;
        if (VSIStatL(f.path.c_str(), &st) == 0) {
            y["size"] = static_cast<long long>(st.st_size);
            y["mtime"] = static_cast<long long>(st.st_mtime);
        }
        files.push_back(y);
    }
    return files;
}

void InputCatalog::keepRecordedSources(const std::vector<std::string>& recorded) {
    if (recorded.size() == sources_.size()) sources_ = recorded;
}

Json InputCatalog::describe(std::size_t i) const { return describe(inputs_.at(i), sources_.at(i), acquired_.at(i)); }

Json InputCatalog::toJson() const {
    Json arr = Json::array();
    for (std::size_t i = 0; i < inputs_.size(); ++i) arr.push_back(describe(i));
    Json root = Json::object();
    root["inputs"] = arr;
    return root;
}

std::string InputCatalog::toText() const {
    std::ostringstream o;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const RasterInput& in = inputs_[i];
        if (i) o << "\n";
        o << sources_[i] << "  (" << in.origin() << ")\n";
        o << "  driver:    " << in.driver() << "\n";
        o << "  size:      " << in.width() << " x " << in.height() << " px, " << in.bands().size()
          << " band(s)\n";
        o << "  profile:   " << (in.profileName().empty() ? "(none detected: pass --sensor)" : in.profileName())
          << "\n";
        o << "  CRS:       " << in.crsName();
        if (in.epsg()) o << " (EPSG:" << in.epsg() << ")";
        o << "\n";
        o << "  GSD:       " << num(in.gsdX(), 2) << " m x " << num(in.gsdY(), 2) << " m at the centre"
          << (in.crsIsGeographic() ? " (geodesic, CRS in degrees)" : "") << "\n";
        o << "  area:      " << num(in.areaKm2(), 3) << " km2\n";
        const Acquisition& a = acquired_[i];
        o << "  acquired:  " << (a.date.empty() ? "unknown (give --date YYYY-MM-DD)" : a.date + " (" + a.from + ")") << "\n";
        o << "  zero px:   "
          << (in.zeroIsNodata()
                  ? "no data (0 in every band: a black collar; --zero-pixels data keeps them)"
                  : "data (--zero-pixels nodata makes them no data)")
          << "\n";
        if (const std::optional<double> clipped = clippedShare(in, allBands(in)))
            o << "  clipped:   " << num(100.0 * *clipped, 2)
              << " % of the pixels sampled are at 255 in a band (0.25 % or more: a clipping "
                 "stretch, or clouds; scan warns)\n";
        auto fp = in.footprint(1);
        double lon0 = fp[0].lon, lon1 = lon0, lat0 = fp[0].lat, lat1 = lat0;
        for (const auto& p : fp) {
            lon0 = std::min(lon0, p.lon);
            lon1 = std::max(lon1, p.lon);
            lat0 = std::min(lat0, p.lat);
            lat1 = std::max(lat1, p.lat);
        }
        o << "  footprint: lon " << num(lon0, 6) << " .. " << num(lon1, 6) << ", lat " << num(lat0, 6)
          << " .. " << num(lat1, 6) << "\n";
        for (const auto& note : in.namingNotes()) o << "  note:      " << note << "\n";
        o << "  bands:\n";
        for (std::size_t b = 0; b < in.bands().size(); ++b) {
            const InputBand& band = in.bands()[b];
            const InputFile& f = in.files()[static_cast<std::size_t>(band.file)];
            o << "    " << (b + 1) << " " << band.name << "  " << band.dataType;
            if (!band.description.empty()) o << "  " << dumpJson(Json(band.description));  // quoted, control characters escaped
            o << "  " << band.colorInterp << "  block " << band.blockX << "x" << band.blockY;
            o << "  mask: " << maskText(band.mask);
            if (band.nodata) o << " (nodata " << num(*band.nodata, 6) << ")";
            if (f.maskBand) o << " + validity band " << f.maskBand;
            o << "  scale " << band.scale.scale;
            if (band.scale.offset != 0) o << " offset " << band.scale.offset;
            if (in.files().size() > 1) o << "  from " << f.path << ":" << band.band << (f.sameGrid ? "" : " (resampled)");
            o << "\n";
        }
    }
    return o.str();
}

}  // namespace riskmap
