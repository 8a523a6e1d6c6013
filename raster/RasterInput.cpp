#include "raster/RasterInput.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "core/Error.hpp"
#include "geo/CoordinateMapper.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool validBandName(const std::string& n) {
    if (n.empty()) return false;
    for (char c : n)
        if (!(std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    return std::islower(static_cast<unsigned char>(n[0]));
}

// Reflectance scale when no profile is known: 8-bit renderings to 0..1, integer products in
// the common "reflectance x 10000" convention, floats as they are.
ReflectanceScale genericScale(const std::string& type) {
    if (type == "Byte" || type == "Int8") return {1.0 / 255.0, 0.0};
    if (type == "Float32" || type == "Float64") return {1.0, 0.0};
    return {1e-4, 0.0};
}

std::string wktOf(const OGRSpatialReference* srs) {
    if (!srs) return {};
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    std::string out = wkt ? wkt : "";
    CPLFree(wkt);
    return out;
}

GeoTransform requireGeoTransform(GDALDataset& ds, const std::string& path) {
    double c[6];
    if (ds.GetGeoTransform(c) != CE_None)
        throw DataError("'" + path +
                        "' has no georeferencing (no geotransform): riskmap needs a georeferenced "
                        "raster; add one with gdal_translate -a_ullr or use GCPs with gdalwarp");
    return GeoTransform(c);
}

const OGRSpatialReference& requireCrs(GDALDataset& ds, const std::string& path) {
    const OGRSpatialReference* srs = ds.GetSpatialRef();
    if (!srs || srs->IsEmpty())
        throw DataError("'" + path +
                        "' has no CRS: assign one with gdal_edit.py -a_srs EPSG:XXXX and retry");
    return *srs;
}

// What the blocks of a band read so far hold: only 0 and 1, and some 1.
struct MaskEvidence {
    bool binary = true, sawOne = false;
};

// Reads block (bx, by) whole into the evidence, then drops it from GDAL's cache, which lies
// outside --ram (1024 px tiles of two bands hold 4 MB each). False when it cannot be read.
bool readMaskBlock(GDALRasterBand& band, int bx, int by, int bw, int bh, std::vector<GByte>& buf, MaskEvidence& e) {
    const int x = bx * bw, y = by * bh, w = std::min(bw, band.GetXSize() - x), h = std::min(bh, band.GetYSize() - y);
    const bool read = band.RasterIO(GF_Read, x, y, w, h, buf.data(), w, h, GDT_Byte, 0, 0, nullptr) == CE_None;
    if (GDALDataset* ds = band.GetDataset()) ds->FlushCache(false);
    if (!read) return false;
    for (std::size_t k = 0; k < static_cast<std::size_t>(w) * static_cast<std::size_t>(h); ++k) {
        e.binary &= buf[k] <= 1;
        e.sawOne |= buf[k] == 1;
    }
    return true;
}

// A second band that holds only 0 and 1 in a sample of its blocks looks like EO Browser's
// dataMask. First 8 x 8 blocks spread over the band, whole; only when they hold nothing but 0
// are the others read, one at a time, until a 1 or another value. A decimated read of the band
// decoded every block of the file (0.3 s for six 8 Mpx band files, every block of a 10980 px
// Sentinel-2 tile) and left them in GDAL's cache outside --ram (270 MB at --ram 128).
bool looksLikeBinaryMask(GDALRasterBand& band) {
    std::string d = lower(band.GetDescription() ? band.GetDescription() : "");
    if (d == "datamask" || d == "mask") return true;
    if (!d.empty()) return false;
    int bw = 0, bh = 0;
    band.GetBlockSize(&bw, &bh);
    bw = std::max(1, std::min(bw, band.GetXSize())), bh = std::max(1, std::min(bh, band.GetYSize()));
    const int nx = (band.GetXSize() + bw - 1) / bw, ny = (band.GetYSize() + bh - 1) / bh;
    std::vector<GByte> buf(static_cast<std::size_t>(bw) * static_cast<std::size_t>(bh));
    MaskEvidence e;
    for (int j = 0; j < std::min(ny, 8) && e.binary; ++j)
        for (int i = 0; i < std::min(nx, 8) && e.binary; ++i)
            if (!readMaskBlock(band, nx <= 8 ? i : i * (nx - 1) / 7, ny <= 8 ? j : j * (ny - 1) / 7, bw, bh, buf, e)) return false;
    if (nx <= 8 && ny <= 8) return e.binary && e.sawOne;  // every block was read
    for (int by = 0; by < ny && e.binary && !e.sawOne; ++by)
        for (int bx = 0; bx < nx && e.binary && !e.sawOne; ++bx)
            if (!readMaskBlock(band, bx, by, bw, bh, buf, e)) return false;
    return e.binary && e.sawOne;
}

// GDAL 3.6 reads a signed 8-bit band (PIXELTYPE=SIGNEDBYTE) as Byte: -5 came out as 251, a
// bright pixel (an audit). Refused, with what to do, rather than read wrong; so are complex bands.
void refuseSignedBytes(GDALRasterBand& b, const std::string& path, int index) {
    // Complex bands (radar SLC) were read as their real part, with the 16-bit default scale for
    // CFloat32 (a sweep of hostile inputs): riskmap reads reflectance, not complex samples.
    if (GDALDataTypeIsComplex(b.GetRasterDataType()))
        throw DataError("band " + std::to_string(index) + " of '" + path + "' holds complex values (" +
                        GDALGetDataTypeName(b.GetRasterDataType()) +
                        "), which riskmap does not read: give an optical image, or the part you mean as a real band "
                        "(e.g. gdal_translate -ot Float32 IN OUT.tif keeps the real part)");
    const char* type = b.GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE");
    if (b.GetRasterDataType() == GDT_Byte && type && std::string(type) == "SIGNEDBYTE")
        throw DataError(
            "band " + std::to_string(index) + " of '" + path +
            "' holds signed 8-bit values (PIXELTYPE=SIGNEDBYTE), which riskmap would read as "
            "unsigned: convert it first (gdal_translate -ot Int16 does not sign it), e.g. "
            "gdal_calc.py -A IN "
            "--allBands=A --type=Int16 --calc=\"(A.astype(numpy.int16)+128)%256-128\" "
            "--outfile=OUT.tif");
}

InputBand describeBand(GDALRasterBand& b) {
    InputBand ib;
    ib.description = b.GetDescription() ? b.GetDescription() : "";
    ib.colorInterp = GDALGetColorInterpretationName(b.GetColorInterpretation());
    ib.dataType = GDALGetDataTypeName(b.GetRasterDataType());
    int has = 0;
    double nd = b.GetNoDataValue(&has);
    if (has) ib.nodata = nd;
    int hasScale = 0, hasOffset = 0;
    const double scale = b.GetScale(&hasScale), offset = b.GetOffset(&hasOffset);
    if ((hasScale && scale != 1.0) || (hasOffset && offset != 0.0))
        ib.fileScale = ReflectanceScale{hasScale ? scale : 1.0, hasOffset ? offset : 0.0};
    int flags = b.GetMaskFlags();
    if (flags & GMF_ALL_VALID)
        ib.mask = MaskSource::None;
    else if (flags & GMF_NODATA)
        ib.mask = MaskSource::Nodata;
    else if (flags & GMF_PER_DATASET)
        ib.mask = MaskSource::PerDataset;
    else
        ib.mask = MaskSource::PerBand;
    b.GetBlockSize(&ib.blockX, &ib.blockY);
    return ib;
}

// A file that declares its own scale and offset (GDAL's band metadata, e.g. a product's DN to
// reflectance) is read by them; otherwise by the sensor profile, or generically. A catalogue's
// (STAC raster:bands) or the user's --scale and --offset still override both.
ReflectanceScale scaleOf(const InputBand& b, const SensorProfile* profile) {
    if (b.fileScale) return *b.fileScale;
    return profile ? profile->scaleFor(b.dataType) : genericScale(b.dataType);
}

std::string baseName(const std::string& path) { return CPLGetFilename(path.c_str()); }

}  // namespace

const std::vector<std::string>& reservedBandNames() {
    static const std::vector<std::string> names = {"ndvi", "ndwi", "mndwi", "ndbi", "bsi", "nd", "ratio", "and", "or", "not"};
    return names;
}

BandSpec parseBandSpec(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size())
        throw UsageError("--band '" + text + "' is not NAME=PATH[:INDEX], e.g. --band red=B04.tif");
    BandSpec s;
    s.name = lower(text.substr(0, eq));
    s.path = text.substr(eq + 1);
    if (!validBandName(s.name))
        throw UsageError("--band '" + text +
                         "': band names are lower-case letters, digits and '_' (e.g. red, nir, swir1)");
    const auto& reserved = reservedBandNames();
    if (std::find(reserved.begin(), reserved.end(), s.name) != reserved.end())
        throw UsageError("--band '" + text + "': '" + s.name +
                         "' is a spectral index of rules, not a band name: give the band it is made of (red, nir...)");
    // A trailing :N selects a band; colons elsewhere belong to the path (/vsicurl/https://...).
    auto colon = s.path.rfind(':');
    if (colon != std::string::npos && colon + 1 < s.path.size()) {
        std::string tail = s.path.substr(colon + 1);
        if (std::all_of(tail.begin(), tail.end(),
                        [](unsigned char c) { return std::isdigit(c) != 0; })) {
            long long index = 0;
            auto r = std::from_chars(tail.data(), tail.data() + tail.size(), index);
            if (r.ec != std::errc() || index < 1 || index > 65535)
                throw UsageError("--band '" + text + "': the band index must be between 1 and 65535");
            s.index = static_cast<int>(index);
            s.path = s.path.substr(0, colon);
        } else if (tail.find_first_of("/\\.") == std::string::npos) {
            // FILE:-1 or FILE:abc was taken as a path and "does not exist" (exit 1): an index
            // that is not one is a usage error (a sweep of hostile inputs).
            VSIStatBufL st;
            if (VSIStatL(s.path.c_str(), &st) != 0 && VSIStatL(s.path.substr(0, colon).c_str(), &st) == 0)
                throw UsageError("--band '" + text + "': '" + tail + "' is not a band index: give :N with N from 1 to 65535");
        }
    }
    return s;
}

const std::vector<std::string>& zeroPixelModes() {
    static const std::vector<std::string> modes{"auto", "nodata", "data"};
    return modes;
}

void RasterInput::setZeroPixels(const std::string& mode) {
    if (mode.empty()) {  // a scan recorded before --zero-pixels existed
        zeroPixels_ = ZeroPixels::Data;
        return;
    }
    const auto& m = zeroPixelModes();  // in the enum's order
    const auto it = std::find(m.begin(), m.end(), mode);
    if (it == m.end())
        throw UsageError("--zero-pixels '" + mode + "' is not one of auto, nodata, data");
    zeroPixels_ = static_cast<ZeroPixels>(it - m.begin());
}

// "auto" judges the scene, not the bands a detector reads, so that every detector sees the same
// collar: two bands or more (a single-band raster's 0 is often data: an index, a dark band),
// integers (a float's fill is NaN or a declared nodata), and no band declaring its own validity.
bool RasterInput::zeroIsNodata() const {
    if (zeroPixels_ != ZeroPixels::Auto) return zeroPixels_ == ZeroPixels::Nodata;
    if (bands_.size() < 2) return false;
    for (const InputBand& b : bands_) {
        if (b.mask != MaskSource::None || files_[static_cast<std::size_t>(b.file)].maskBand > 0)
            return false;
        if (!GDALDataTypeIsInteger(GDALGetDataTypeByName(b.dataType.c_str()))) return false;
    }
    return true;
}

std::vector<int> RasterInput::bandsHeld(const std::vector<int>& bands) const {
    std::vector<int> held = bands;
    if (!zeroIsNodata()) return held;
    for (int b = 0; b < static_cast<int>(bands_.size()); ++b)
        if (std::find(bands.begin(), bands.end(), b) == bands.end()) held.push_back(b);
    return held;
}

RasterInput RasterInput::open(const std::string& path, const InputOptions& options) {
    DatasetPtr ds = openRaster(path);
    RasterInput in;
    in.origin_ = path;
    in.name_ = baseName(path);
    in.driver_ = ds->GetDriver() ? ds->GetDriver()->GetDescription() : "";
    in.vrt_ = describeVrtSources(*ds);
    in.width_ = ds->GetRasterXSize();
    in.height_ = ds->GetRasterYSize();
    in.gt_ = requireGeoTransform(*ds, path);
    in.crsWkt_ = wktOf(&requireCrs(*ds, path));
    in.resampling_ = options.resampling;
    in.setZeroPixels(options.zeroPixels);

    InputFile file;
    file.path = path;
    file.width = in.width_;
    file.height = in.height_;
    file.gt = in.gt_;
    in.files_.push_back(file);

    std::vector<BandDescriptor> descs;
    for (int i = 1; i <= ds->GetRasterCount(); ++i) {
        refuseSignedBytes(*ds->GetRasterBand(i), path, i);
        InputBand ib = describeBand(*ds->GetRasterBand(i));
        ib.file = 0;
        ib.band = i;
        descs.push_back({ib.description, ib.colorInterp});
        in.bands_.push_back(ib);
    }
    const SensorProfile* profile = options.sensor.empty()
                                       ? SensorProfile::detect(descs)
                                       : &SensorProfile::byName(options.sensor);
    if (profile && !options.sensor.empty() && !profile->layoutFor(descs.size())) {
        bool anyDescribed = false;
        for (const auto& d : descs)
            anyDescribed |= !profile->nameForDescription(d.description).empty();
        if (!anyDescribed)
            throw UsageError("--sensor " + profile->name() + " does not fit '" + path + "' with " +
                             std::to_string(descs.size()) + " bands (it knows " +
                             profile->layoutsText() + "); use --band NAME=PATH:INDEX instead");
    }
    in.profile_ = profile ? profile->name() : "";
    auto names = resolveBandNames(descs, profile, &in.namingNotes_);
    for (std::size_t i = 0; i < names.size(); ++i) {
        InputBand& b = in.bands_[i];
        b.name = names[i];
        b.scale = scaleOf(b, profile);
        if (options.scale) b.scale.scale = *options.scale;
        if (options.offset) b.scale.offset = *options.offset;
        b.display = b.dataType == "Byte" || (profile && profile->name() == "rgb");
        // A band the profile calls alpha but GDAL does not treat as one still masks the rest.
        if (b.name == "alpha" && b.colorInterp != "Alpha") in.files_[0].maskBand = b.band;
    }
    in.checkScales(options);
    in.finishGeoreference();
    return in;
}


// Band files of different extents are stacked over their overlap. A 1 px file among 200 px ones
// shrank the scene to one pixel without a word (an audit): less than 99 % of a file is said.
static std::string overlapNote(const RasterInput& in, const GeoTransform& grid) {
    const double stack = static_cast<double>(in.width()) * in.height() * std::fabs(grid.pixelWidth() * grid.pixelHeight());
    for (const auto& f : in.files()) {
        const double own = static_cast<double>(f.width) * f.height * std::fabs(f.gt.pixelWidth() * f.gt.pixelHeight());
        if (own <= 0 || stack >= 0.99 * own) continue;
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.3g %%", 100.0 * stack / own);
        return "the band files cover different extents: the scan covers only their overlap, " + std::string(buf) + " of '" +
               f.path + "'; clip them to one extent, or give the bands of one scene";
    }
    return {};
}

RasterInput RasterInput::fromBandFiles(const std::vector<BandSpec>& specs,
                                       const InputOptions& options, const std::string& sceneName) {
    if (specs.empty()) throw UsageError("no --band given");
    RasterInput in;
    in.resampling_ = options.resampling;
    in.setZeroPixels(options.zeroPixels);
    std::set<std::string> seen;
    std::map<std::string, int> fileIndex;
    std::vector<DatasetPtr> handles;
    const OGRSpatialReference* crs0 = nullptr;
    std::string crsPath;

    for (const auto& s : specs) {
        if (!seen.insert(s.name).second)
            throw UsageError("--band " + s.name + " is given twice: give each band name once");
        in.origin_ += (in.origin_.empty() ? "" : " ") + s.name + "=" + s.path + ":" +
                      std::to_string(s.index);
        if (fileIndex.count(s.path)) continue;
        DatasetPtr ds = openRaster(s.path);
        InputFile f;
        f.path = s.path;
        f.width = ds->GetRasterXSize();
        f.height = ds->GetRasterYSize();
        f.gt = requireGeoTransform(*ds, s.path);
        if (!f.gt.isNorthUp())
            throw DataError("'" + s.path +
                            "' has a rotated geotransform: warp it north-up (gdalwarp) before "
                            "stacking bands from separate files");
        const OGRSpatialReference& srs = requireCrs(*ds, s.path);
        if (!crs0) {
            crs0 = ds->GetSpatialRef();
            crsPath = s.path;
            in.crsWkt_ = wktOf(crs0);
            in.driver_ = ds->GetDriver() ? ds->GetDriver()->GetDescription() : "";
        } else if (!srs.IsSame(crs0)) {
            throw DataError("band files are in different CRSs ('" + crsPath + "' and '" + s.path +
                            "'): reproject them to one CRS with gdalwarp first");
        }
        fileIndex[s.path] = static_cast<int>(in.files_.size());
        in.files_.push_back(f);
        handles.push_back(std::move(ds));
    }

    // The finest file defines the stack grid; the stack covers the intersection of all files.
    std::size_t ref = 0;
    for (std::size_t i = 1; i < in.files_.size(); ++i) {
        const auto& a = in.files_[i].gt;
        const auto& b = in.files_[ref].gt;
        if (std::fabs(a.pixelWidth() * a.pixelHeight()) <
            std::fabs(b.pixelWidth() * b.pixelHeight()))
            ref = i;
    }
    const GeoTransform& rgt = in.files_[ref].gt;
    double c0 = -1e300, r0 = -1e300, c1 = 1e300, r1 = 1e300;
    for (const auto& f : in.files_) {
        MapPoint a = rgt.inverse(f.gt.apply(0, 0).x, f.gt.apply(0, 0).y);
        MapPoint b = rgt.inverse(f.gt.apply(f.width, f.height).x, f.gt.apply(f.width, f.height).y);
        c0 = std::max(c0, std::min(a.x, b.x));
        c1 = std::min(c1, std::max(a.x, b.x));
        r0 = std::max(r0, std::min(a.y, b.y));
        r1 = std::min(r1, std::max(a.y, b.y));
    }
    const double eps = 1e-6;
    int ic0 = static_cast<int>(std::ceil(c0 - eps)), ic1 = static_cast<int>(std::floor(c1 + eps));
    int ir0 = static_cast<int>(std::ceil(r0 - eps)), ir1 = static_cast<int>(std::floor(r1 + eps));
    if (ic1 <= ic0 || ir1 <= ir0) {
        std::string names;
        for (const auto& f : in.files_) names += (names.empty() ? "'" : ", '") + f.path + "'";
        throw DataError("the band files " + names + " do not overlap: check that they show the same place");
    }
    in.width_ = ic1 - ic0;
    in.height_ = ir1 - ir0;
    if (std::string note = overlapNote(in, rgt); !note.empty()) in.namingNotes_.push_back(note);
    MapPoint origin = rgt.apply(ic0, ir0);
    auto c = rgt.coefficients();
    c[0] = origin.x;
    c[3] = origin.y;
    in.gt_ = GeoTransform(c);
    for (auto& f : in.files_) {
        double relW = f.gt.pixelWidth() / in.gt_.pixelWidth();
        double relH = f.gt.pixelHeight() / in.gt_.pixelHeight();
        MapPoint off = f.gt.inverse(origin.x, origin.y);
        f.sameGrid = std::fabs(relW - 1) < 1e-9 && std::fabs(relH - 1) < 1e-9 &&
                     std::fabs(off.x - std::round(off.x)) < 1e-6 &&
                     std::fabs(off.y - std::round(off.y)) < 1e-6;
    }

    const SensorProfile* profile =
        options.sensor.empty() ? nullptr : &SensorProfile::byName(options.sensor);
    in.profile_ = profile ? profile->name() : "";
    for (const auto& s : specs) {
        int fi = fileIndex.at(s.path);
        GDALDataset& ds = *handles[static_cast<std::size_t>(fi)];
        if (s.index > ds.GetRasterCount())
            throw UsageError("--band " + s.name + "=" + s.path + ":" + std::to_string(s.index) +
                             ": the file has only " + std::to_string(ds.GetRasterCount()) +
                             " band(s)");
        InputFile& f = in.files_[static_cast<std::size_t>(fi)];
        if (s.name == "mask") {
            f.maskBand = s.index;
            continue;
        }
        refuseSignedBytes(*ds.GetRasterBand(s.index), f.path, s.index);
        InputBand ib = describeBand(*ds.GetRasterBand(s.index));
        ib.name = s.name;
        ib.file = fi;
        ib.band = s.index;
        ib.scale = scaleOf(ib, profile);
        if (s.scale) ib.scale.scale = *s.scale;
        if (s.offset) ib.scale.offset = *s.offset;
        if (options.scale) ib.scale.scale = *options.scale;
        if (options.offset) ib.scale.offset = *options.offset;
        ib.display = ib.dataType == "Byte" || (profile && profile->name() == "rgb");
        // EO Browser exports carry a 0/1 dataMask as the second sample of every band file.
        if (ds.GetRasterCount() == 2 && s.index == 1 && f.maskBand == 0 &&
            looksLikeBinaryMask(*ds.GetRasterBand(2)))
            f.maskBand = 2;
        in.bands_.push_back(ib);
    }
    if (in.bands_.empty()) throw UsageError("--band gives only a mask: add at least one data band");

    // Name the stack after the folder its files share, else generically.
    std::string dir = CPLGetDirname(specs.front().path.c_str());
    bool sameDir = true;
    for (const auto& s : specs) sameDir &= std::string(CPLGetDirname(s.path.c_str())) == dir;
    if (!sceneName.empty())
        in.name_ = sceneName;
    else
        in.name_ = sameDir && dir != "." && !dir.empty() ? std::string(CPLGetFilename(dir.c_str()))
                                                         : std::string("band-stack");
    in.checkScales(options);
    in.finishGeoreference();
    return in;
}

// A NaN, infinite or zero scale (or a NaN offset) turns every pixel into no data or into one
// value: a scan would find nothing and say nothing, and its manifest (JSON has no NaN) would
// not replay it. Refused, naming where the value came from. So is a negative scale (a STAC
// raster:bands scale of -1e-4 was taken: brighter ground read darker, a sweep).
void RasterInput::checkScales(const InputOptions& options) const {
    auto usable = [](double scale, double offset) {
        return std::isfinite(scale) && scale > 0 && std::isfinite(offset);
    };
    if ((options.scale && !(std::isfinite(*options.scale) && *options.scale > 0)) ||
        (options.offset && !std::isfinite(*options.offset)))
        throw UsageError(
            "--scale must be a finite number above 0 and --offset a finite number "
            "(reflectance = "
            "value * SCALE + OFFSET)");
    for (const InputBand& b : bands_) {
        if (usable(b.scale.scale, b.scale.offset)) continue;
        throw DataError("'" + files_[static_cast<std::size_t>(b.file)].path + "' band " +
                        std::to_string(b.band) + " declares reflectance scale " +
                        std::to_string(b.scale.scale) + " and offset " +
                        std::to_string(b.scale.offset) +
                        ", which no value can be read by: give --scale and --offset");
    }
}

void RasterInput::finishGeoreference() {
    OGRSpatialReference srs;
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    srs.importFromWkt(crsWkt_.c_str());
    crsName_ = srs.GetName() ? srs.GetName() : "";
    geographic_ = srs.IsGeographic();
    const char* auth = srs.GetAuthorityName(nullptr);
    const char* code = srs.GetAuthorityCode(nullptr);
    if (!auth || !code) {
        // Files often carry an unlabelled copy of an EPSG definition; find the code if unique.
        OGRSpatialReference probe(srs);
        if (probe.AutoIdentifyEPSG() == OGRERR_NONE) {
            auth = probe.GetAuthorityName(nullptr);
            code = probe.GetAuthorityCode(nullptr);
            if (auth && code && std::string(auth) == "EPSG") epsg_ = std::atoi(code);
        }
    } else if (std::string(auth) == "EPSG") {
        epsg_ = std::atoi(code);
    }

    checkGeographicExtent();
    try {
        measureGsd();
    } catch (const DataError& e) {
        throw DataError("'" + origin_ + "': " + e.what() + ": check its geotransform and CRS");
    }
    if (!(minGsd_ > 0) || !std::isfinite(minGsd_))
        throw DataError("cannot work out the ground sample distance of '" + origin_ +
                        "': check its geotransform and CRS");
}

// A geographic raster must lie on the globe: latitudes beyond the poles mean a wrong
// geotransform (or a projected raster labelled geographic), and would write footprints there.
void RasterInput::checkGeographicExtent() const {
    if (!geographic_) return;
    for (double fy : {0.0, 1.0}) {
        const double lat = gt_.coefficients()[3] + fy * height_ * gt_.coefficients()[5];
        if (!std::isfinite(lat) || std::fabs(lat) > 90.0 + 1e-9) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.6g", lat);
            throw DataError("'" + origin_ + "' is geographic but reaches latitude " + buf +
                            ": latitudes run from -90 to 90; check its geotransform and CRS");
        }
    }
}

void RasterInput::measureGsd() {
    CoordinateMapper mapper(crsWkt_, gt_);
    double cx = width_ / 2.0, cy = height_ / 2.0;
    gsdX_ = mapper.groundDistance(cx, cy, cx + 1, cy);
    gsdY_ = mapper.groundDistance(cx, cy, cx, cy + 1);
    minGsd_ = std::min(gsdX_, gsdY_);
    for (double fx : {0.0, 0.5, 1.0}) {
        for (double fy : {0.0, 0.5, 1.0}) {
            double px = std::min(fx * width_, width_ - 1.0), py = std::min(fy * height_, height_ - 1.0);
            minGsd_ = std::min({minGsd_, mapper.groundDistance(px, py, px + 1, py),
                                mapper.groundDistance(px, py, px, py + 1)});
        }
    }
}

int RasterInput::bandIndex(const std::string& name) const {
    for (std::size_t i = 0; i < bands_.size(); ++i)
        if (bands_[i].name == name) return static_cast<int>(i);
    // Positional names b1..bN always work.
    if (name.size() > 1 && name[0] == 'b' &&
        std::all_of(name.begin() + 1, name.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
        long long k = 0;
        auto r = std::from_chars(name.data() + 1, name.data() + name.size(), k);
        if (r.ec == std::errc() && k >= 1 && k <= static_cast<long long>(bands_.size())) return static_cast<int>(k - 1);
    }
    return -1;
}

std::vector<std::string> RasterInput::bandNames() const {
    std::vector<std::string> out;
    for (const auto& b : bands_) out.push_back(b.name);
    return out;
}

std::string RasterInput::bandNamesText() const {
    std::string out;
    for (const auto& b : bands_) out += (out.empty() ? "" : ", ") + b.name;
    return out;
}

std::vector<LonLat> RasterInput::footprint(int perEdge) const {
    CoordinateMapper mapper(crsWkt_, gt_);
    std::vector<LonLat> ring;
    auto edge = [&](double x0, double y0, double x1, double y1) {
        for (int i = 0; i < perEdge; ++i) {
            double t = static_cast<double>(i) / perEdge;
            ring.push_back(mapper.pixelToLonLat(x0 + t * (x1 - x0), y0 + t * (y1 - y0)));
        }
    };
    double w = width_, h = height_;
    // Counter-clockwise in lon/lat for north-up rasters (RFC 7946 exterior ring order).
    edge(0, 0, 0, h);
    edge(0, h, w, h);
    edge(w, h, w, 0);
    edge(w, 0, 0, 0);
    ring.push_back(ring.front());
    return ring;
}

double RasterInput::areaKm2() const { return geodesicRingArea(footprint()) / 1e6; }

}  // namespace riskmap
