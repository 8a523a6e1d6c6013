#include "raster/RasterReader.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace riskmap {

namespace {

GDALRIOResampleAlg resampleAlg(const std::string& name) {
    if (name == "nearest") return GRIORA_NearestNeighbour;
    if (name == "bilinear") return GRIORA_Bilinear;
    if (name == "cubic") return GRIORA_Cubic;
    if (name == "cubicspline") return GRIORA_CubicSpline;
    if (name == "lanczos") return GRIORA_Lanczos;
    if (name == "average") return GRIORA_Average;
    if (name == "mode") return GRIORA_Mode;
    throw UsageError("unknown resampling '" + name +
                     "': use nearest, bilinear, cubic, cubicspline, lanczos, average or mode");
}

}  // namespace

RasterReader::RasterReader(const RasterInput& input) : input_(input) {
    datasets_.resize(input.files().size());
    resampleAlg(input.resampling());  // fail early on a bad name
}

RasterReader::~RasterReader() = default;

GDALDataset& RasterReader::dataset(int file) {
    auto& ds = datasets_[static_cast<std::size_t>(file)];
    if (!ds) ds = openRaster(input_.files()[static_cast<std::size_t>(file)].path);
    return *ds;
}

void RasterReader::readFileBands(int file, const Window& window, const std::vector<int>& fileBands,
                                 GDALDataType type, void* dst, int bandCount) {
    const InputFile& f = input_.files()[static_cast<std::size_t>(file)];
    GDALDataset& ds = dataset(file);
    const int bytes = GDALGetDataTypeSizeBytes(type);
    const GSpacing pixel = bytes;
    const GSpacing line = static_cast<GSpacing>(bytes) * window.w;
    const GSpacing band = line * window.h;
    std::vector<int> map(fileBands.begin(), fileBands.end());
    CPLErr err;
    if (f.sameGrid) {
        MapPoint origin = input_.geoTransform().apply(window.x, window.y);
        MapPoint off = f.gt.inverse(origin.x, origin.y);
        int fx = static_cast<int>(std::lround(off.x)), fy = static_cast<int>(std::lround(off.y));
        err = ds.RasterIO(GF_Read, fx, fy, window.w, window.h, dst, window.w, window.h, type,
                          bandCount, map.data(), pixel, line, band, nullptr);
    } else {
        // Resample a coarser (or offset) band file onto the stack grid.
        const GeoTransform& gt = input_.geoTransform();
        MapPoint a = gt.apply(window.x, window.y), b = gt.apply(window.right(), window.bottom());
        MapPoint fa = f.gt.inverse(a.x, a.y), fb = f.gt.inverse(b.x, b.y);
        double x0 = std::max(0.0, std::min(fa.x, fb.x)), x1 = std::min<double>(f.width, std::max(fa.x, fb.x));
        double y0 = std::max(0.0, std::min(fa.y, fb.y)), y1 = std::min<double>(f.height, std::max(fa.y, fb.y));
        GDALRasterIOExtraArg extra;
        INIT_RASTERIO_EXTRA_ARG(extra);
        extra.eResampleAlg = resampleAlg(input_.resampling());
        extra.bFloatingPointWindowValidity = TRUE;
        extra.dfXOff = x0;
        extra.dfYOff = y0;
        extra.dfXSize = x1 - x0;
        extra.dfYSize = y1 - y0;
        int ix0 = static_cast<int>(std::floor(x0)), iy0 = static_cast<int>(std::floor(y0));
        int ix1 = std::min(f.width, static_cast<int>(std::ceil(x1)));
        int iy1 = std::min(f.height, static_cast<int>(std::ceil(y1)));
        err = ds.RasterIO(GF_Read, ix0, iy0, std::max(1, ix1 - ix0), std::max(1, iy1 - iy0), dst,
                          window.w, window.h, type, bandCount, map.data(), pixel, line, band,
                          &extra);
    }
    if (err != CE_None)
        throw DataError("reading '" + f.path + "' failed at pixel window (" +
                        std::to_string(window.x) + "," + std::to_string(window.y) + " " +
                        std::to_string(window.w) + "x" + std::to_string(window.h) +
                        "): " + lastGdalError("I/O error") +
                        " (the file may be truncated or unreachable)");
}

void RasterReader::readMask(int file, GDALRasterBand& maskBand, const Window& window,
                            cv::Mat& scratch) {
    // Read a mask band through a one-band in-memory view so the same windowing code applies.
    const InputFile& f = input_.files()[static_cast<std::size_t>(file)];
    scratch.create(window.h, window.w, CV_8U);
    CPLErr err;
    if (f.sameGrid) {
        MapPoint origin = input_.geoTransform().apply(window.x, window.y);
        MapPoint off = f.gt.inverse(origin.x, origin.y);
        err = maskBand.RasterIO(GF_Read, static_cast<int>(std::lround(off.x)),
                                static_cast<int>(std::lround(off.y)), window.w, window.h,
                                scratch.data, window.w, window.h, GDT_Byte, 1,
                                static_cast<GSpacing>(scratch.step), nullptr);
    } else {
        const GeoTransform& gt = input_.geoTransform();
        MapPoint a = gt.apply(window.x, window.y), b = gt.apply(window.right(), window.bottom());
        MapPoint fa = f.gt.inverse(a.x, a.y), fb = f.gt.inverse(b.x, b.y);
        double x0 = std::max(0.0, std::min(fa.x, fb.x)), x1 = std::min<double>(f.width, std::max(fa.x, fb.x));
        double y0 = std::max(0.0, std::min(fa.y, fb.y)), y1 = std::min<double>(f.height, std::max(fa.y, fb.y));
        GDALRasterIOExtraArg extra;
        INIT_RASTERIO_EXTRA_ARG(extra);
        extra.eResampleAlg = GRIORA_NearestNeighbour;  // masks never blend
        extra.bFloatingPointWindowValidity = TRUE;
        extra.dfXOff = x0;
        extra.dfYOff = y0;
        extra.dfXSize = x1 - x0;
        extra.dfYSize = y1 - y0;
        int ix0 = static_cast<int>(std::floor(x0)), iy0 = static_cast<int>(std::floor(y0));
        int ix1 = std::min(f.width, static_cast<int>(std::ceil(x1)));
        int iy1 = std::min(f.height, static_cast<int>(std::ceil(y1)));
        err = maskBand.RasterIO(GF_Read, ix0, iy0, std::max(1, ix1 - ix0), std::max(1, iy1 - iy0),
                                scratch.data, window.w, window.h, GDT_Byte, 1,
                                static_cast<GSpacing>(scratch.step), &extra);
    }
    if (err != CE_None)
        throw DataError("reading the mask of '" + f.path + "' failed: " + lastGdalError());
}

void RasterReader::read(const Window& window, const Window& core, const std::vector<int>& bands,
                        TileImage& out) {
    if (window.empty() || !input_.extent().containsWindow(window))
        throw Error("tile window outside the raster (a tiling bug)");
    out.window = window;
    out.core = core;
    out.rasterWidth = input_.width();
    out.rasterHeight = input_.height();
    out.gsdX = input_.gsdX();
    out.gsdY = input_.gsdY();
    out.names.clear();
    out.planes.clear();

    const int nb = static_cast<int>(bands.size());
    // One contiguous block so that a whole file's bands come in a single RasterIO call.
    cv::Mat block(nb * window.h, window.w, CV_32F);
    for (int i = 0; i < nb; ++i) {
        out.names.push_back(input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(i)])].name);
        out.planes.push_back(block.rowRange(i * window.h, (i + 1) * window.h));
    }
    out.valid.create(window.h, window.w, CV_8U);
    out.valid.setTo(255);

    const auto& files = input_.files();
    cv::Mat scratch;
    for (int fi = 0; fi < static_cast<int>(files.size()); ++fi) {
        // Group this file's requested bands; they must be consecutive planes only if we read
        // them in one call, so read into a temporary block when they are not.
        std::vector<int> fileBands, planeIdx;
        for (int i = 0; i < nb; ++i) {
            const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(i)])];
            if (b.file == fi) {
                fileBands.push_back(b.band);
                planeIdx.push_back(i);
            }
        }
        bool standaloneMask = files[static_cast<std::size_t>(fi)].maskBand > 0;
        for (const auto& b : input_.bands()) standaloneMask &= b.file != fi;
        if (fileBands.empty() && !standaloneMask) continue;

        if (!fileBands.empty()) {
            bool consecutive = true;
            for (std::size_t k = 1; k < planeIdx.size(); ++k)
                consecutive &= planeIdx[k] == planeIdx[k - 1] + 1;
            if (consecutive) {
                readFileBands(fi, window, fileBands, GDT_Float32, out.planes[static_cast<std::size_t>(planeIdx[0])].data,
                              static_cast<int>(fileBands.size()));
            } else {
                cv::Mat tmp(static_cast<int>(fileBands.size()) * window.h, window.w, CV_32F);
                readFileBands(fi, window, fileBands, GDT_Float32, tmp.data,
                              static_cast<int>(fileBands.size()));
                for (std::size_t k = 0; k < planeIdx.size(); ++k)
                    tmp.rowRange(static_cast<int>(k) * window.h, static_cast<int>(k + 1) * window.h)
                        .copyTo(out.planes[static_cast<std::size_t>(planeIdx[k])]);
            }
        }

        GDALDataset& ds = dataset(fi);
        if (files[static_cast<std::size_t>(fi)].maskBand > 0) {
            readMask(fi, *ds.GetRasterBand(files[static_cast<std::size_t>(fi)].maskBand), window, scratch);
            // dataMask is 0/1 and alpha 0..255: anything non-zero is data.
            cv::Mat nz = scratch != 0;
            cv::bitwise_and(out.valid, nz, out.valid);
        }
        bool perDatasetDone = false;
        for (std::size_t k = 0; k < planeIdx.size(); ++k) {
            const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(planeIdx[k])])];
            cv::Mat& plane = out.planes[static_cast<std::size_t>(planeIdx[k])];
            switch (b.mask) {
                case MaskSource::None: break;
                case MaskSource::Nodata: {
                    if (!b.nodata) break;
                    cv::Mat bad;
                    if (std::isnan(*b.nodata)) {
                        bad = plane != plane;
                    } else {
                        cv::compare(plane, cv::Scalar(static_cast<float>(*b.nodata)), bad,
                                    cv::CMP_EQ);
                    }
                    out.valid.setTo(0, bad);
                    break;
                }
                case MaskSource::PerDataset:
                    if (perDatasetDone) break;
                    perDatasetDone = true;
                    [[fallthrough]];
                case MaskSource::PerBand: {
                    readMask(fi, *ds.GetRasterBand(b.band)->GetMaskBand(), window, scratch);
                    cv::Mat nz = scratch != 0;
                    cv::bitwise_and(out.valid, nz, out.valid);
                    break;
                }
            }
            if (b.dataType == "Float32" || b.dataType == "Float64") {
                cv::Mat nan = plane != plane;  // NaN is never data
                out.valid.setTo(0, nan);
            }
        }
    }

    // Scale to reflectance, then blank invalid pixels so no detector can see their values.
    cv::Mat invalid;
    cv::bitwise_not(out.valid, invalid);
    out.validCount = static_cast<std::size_t>(cv::countNonZero(out.valid));
    bool anyInvalid = out.validCount < static_cast<std::size_t>(window.area());
    for (int i = 0; i < nb; ++i) {
        const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(i)])];
        cv::Mat& plane = out.planes[static_cast<std::size_t>(i)];
        if (b.scale.scale != 1.0 || b.scale.offset != 0.0)
            plane.convertTo(plane, CV_32F, b.scale.scale, b.scale.offset);
        if (anyInvalid) plane.setTo(0, invalid);
    }
}

}  // namespace riskmap
