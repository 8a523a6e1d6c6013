#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "raster/SensorProfile.hpp"

namespace riskmap {

void addInputOptions(CLI::App& cmd, InputArgs& a) {
    cmd.add_option("inputs", a.paths,
                   "rasters (anything GDAL opens, /vsicurl/ URLs too), globs, folders, or STAC "
                   "Item/ItemCollection JSON files; each is a scene")
        ->type_name("INPUT");
    cmd.add_option("--input-list", a.inputList, "a file naming one input per line ('#' starts a comment)")
        ->type_name("FILE");
    cmd.add_option("--stac-asset", a.stacAssets,
                   "which STAC asset holds a band, e.g. --stac-asset nir=B08 (default: eo:bands common names)")
        ->type_name("NAME=KEY");
    std::string profiles;
    for (const auto& p : SensorProfile::builtin()) profiles += (profiles.empty() ? "" : ", ") + p.name();
    cmd.add_option("--sensor", a.sensor,
                   "sensor profile naming the bands (" + profiles +
                       "); detected from band descriptions or colours when omitted")
        ->type_name("PROFILE");
    cmd.add_option("--band", a.bands,
                   "build a scene from one file per band, e.g. --band red=B04.tif --band "
                   "nir=B08.tif (INDEX defaults to 1; name 'mask' marks a validity band)")
        ->type_name("NAME=PATH[:INDEX]");
    a.scaleOpt = cmd.add_option("--scale", a.scale,
                                "reflectance = value * SCALE + OFFSET (overrides the profile)");
    a.offsetOpt = cmd.add_option("--offset", a.offset, "reflectance offset (see --scale)");
    cmd.add_option("--resampling", a.resampling,
                   "how band files coarser than the finest are resampled onto its grid")
        ->check(CLI::IsMember({"nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode"}))
        ->capture_default_str();
    cmd.add_option(
           "--zero-pixels", a.zeroPixels,
           "pixels that are 0 in every band of the scene: auto = no data unless a band declares "
           "nodata, a "
           "mask or an alpha (black collars of warped or exported imagery; two integer bands or "
           "more), nodata = always no data, data = always data")
        ->check(CLI::IsMember(zeroPixelModes()))
        ->capture_default_str();
    cmd.add_option("--date", a.date,
                   "acquisition date of every scene, overriding its metadata (TIFFTAG_DATETIME, Sentinel-2 "
                   "DATATAKE, STAC datetime); recorded in the manifest for 'riskmap diff'")
        ->type_name("YYYY-MM-DD");
}

InputOptions inputOptions(const InputArgs& a) {
    InputOptions o;
    o.sensor = a.sensor;
    if (a.scaleOpt && a.scaleOpt->count()) o.scale = a.scale;
    if (a.offsetOpt && a.offsetOpt->count()) o.offset = a.offset;
    o.resampling = a.resampling;
    o.zeroPixels = a.zeroPixels;
    return o;
}

InputRequest inputRequest(const InputArgs& a) {
    InputRequest r;
    r.paths = a.paths;
    r.inputList = a.inputList;
    r.bands = parseBandSpecs(a);
    r.options = inputOptions(a);
    r.date = a.date;
    for (const auto& s : a.stacAssets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
            throw UsageError("--stac-asset '" + s + "' is not NAME=ASSET_KEY, e.g. --stac-asset nir=B08");
        // The last of two silently won (a hostile-input sweep).
        if (!r.stacAssets.emplace(s.substr(0, eq), s.substr(eq + 1)).second)
            throw UsageError("--stac-asset gives band '" + s.substr(0, eq) + "' twice: give each band once");
    }
    return r;
}

std::vector<BandSpec> parseBandSpecs(const InputArgs& a) {
    std::vector<BandSpec> out;
    for (const auto& b : a.bands) out.push_back(parseBandSpec(b));
    return out;
}

}  // namespace riskmap
