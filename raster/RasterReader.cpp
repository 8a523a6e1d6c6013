#include "raster/RasterReader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <tbb/parallel_for.h>

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

// The error of a failed read, in words a user can act on.
DataError readFailure(const std::string& path, const std::string& where) {
    const std::string gdal = lastGdalError("I/O error");
    // GDAL's VRT driver gives up on sources that open themselves again, with this message.
    if (gdal.find("cascaded") != std::string::npos || gdal.find("ecursi") != std::string::npos)
        return DataError("'" + path + "' refers to itself, directly or through other VRTs: fix its sources");
    return DataError("reading '" + path + "' failed " + where + ": " + gdal + " (the file may be truncated or unreachable)");
}

}  // namespace

RasterReader::RasterReader(const RasterInput& input, BlockCache* cache, BlockUses uses, HandlePool* handles)
    : input_(input), cache_(cache), uses_(std::move(uses)), handles_(handles), ownInUse_(input.files().size()) {
    datasets_.resize(input.files().size());
    resampleAlg(input.resampling());  // fail early on a bad name
}

RasterReader::~RasterReader() = default;

GDALDataset& RasterReader::dataset(int file) {
    auto& ds = datasets_[static_cast<std::size_t>(file)];
    if (!ds) ds = openRaster(input_.files()[static_cast<std::size_t>(file)].path);
    return *ds;
}

RasterReader::SourceWindow RasterReader::sourceWindow(int file, const Window& window) const {
    const InputFile& f = input_.files()[static_cast<std::size_t>(file)];
    SourceWindow sw;
    INIT_RASTERIO_EXTRA_ARG(sw.extra);
    const GeoTransform& gt = input_.geoTransform();
    MapPoint a = gt.apply(window.x, window.y);
    if (f.sameGrid) {
        MapPoint off = f.gt.inverse(a.x, a.y);
        sw.x = static_cast<int>(std::lround(off.x));
        sw.y = static_cast<int>(std::lround(off.y));
        sw.w = window.w;
        sw.h = window.h;
        return sw;
    }
    // A coarser (or offset) band file: a fractional source window resampled onto the stack grid.
    MapPoint b = gt.apply(window.right(), window.bottom());
    MapPoint fa = f.gt.inverse(a.x, a.y), fb = f.gt.inverse(b.x, b.y);
    double x0 = std::max(0.0, std::min(fa.x, fb.x)), x1 = std::min<double>(f.width, std::max(fa.x, fb.x));
    double y0 = std::max(0.0, std::min(fa.y, fb.y)), y1 = std::min<double>(f.height, std::max(fa.y, fb.y));
    sw.extra.eResampleAlg = resampleAlg(input_.resampling());
    sw.extra.bFloatingPointWindowValidity = TRUE;
    sw.extra.dfXOff = x0;
    sw.extra.dfYOff = y0;
    sw.extra.dfXSize = x1 - x0;
    sw.extra.dfYSize = y1 - y0;
    sw.x = static_cast<int>(std::floor(x0));
    sw.y = static_cast<int>(std::floor(y0));
    sw.w = std::max(1, std::min(f.width, static_cast<int>(std::ceil(x1))) - sw.x);
    sw.h = std::max(1, std::min(f.height, static_cast<int>(std::ceil(y1))) - sw.y);
    sw.resampled = true;
    return sw;
}

void RasterReader::readFileBands(int file, const Window& window, const std::vector<int>& fileBands,
                                 GDALDataType type, const cv::Mat& dst) {
    SourceWindow sw = sourceWindow(file, window);
    const GSpacing pixel = GDALGetDataTypeSizeBytes(type);
    const GSpacing line = static_cast<GSpacing>(dst.step);  // dst may be a view of a wider buffer
    std::vector<int> map(fileBands.begin(), fileBands.end());
    if (dataset(file).RasterIO(GF_Read, sw.x, sw.y, sw.w, sw.h, dst.data, window.w, window.h, type,
                               static_cast<int>(fileBands.size()), map.data(), pixel, line,
                               line * window.h, sw.resampled ? &sw.extra : nullptr) != CE_None)
        // One wording for every read (info's sample read said "Too many threads ... dataset
        // pool size" of a VRT that refers to itself, where scan said so: a sweep).
        throw readFailure(input_.files()[static_cast<std::size_t>(file)].path,
                          "at pixel window (" + std::to_string(window.x) + "," + std::to_string(window.y) + " " +
                              std::to_string(window.w) + "x" + std::to_string(window.h) + ")");
}

void RasterReader::readMask(int file, GDALRasterBand& maskBand, const Window& window, cv::Mat& dst) {
    SourceWindow sw = sourceWindow(file, window);
    sw.extra.eResampleAlg = GRIORA_NearestNeighbour;  // masks never blend
    dst.create(window.h, window.w, CV_8U);
    if (maskBand.RasterIO(GF_Read, sw.x, sw.y, sw.w, sw.h, dst.data, window.w, window.h, GDT_Byte, 1,
                          static_cast<GSpacing>(dst.step), sw.resampled ? &sw.extra : nullptr) != CE_None)
        throw DataError("reading the mask of '" + input_.files()[static_cast<std::size_t>(file)].path +
                        "' failed: " + lastGdalError());
}

namespace {

// OpenCV depth for reading a GDAL type natively; -1 when it has none (read as Float32).
// valid = 0 where `plane` (CV_32F or CV_64F) is NaN or infinite (a sweep: rows of +Inf made a kiln
// of p 0.94), declared nodata or not. Not cv::compare(p, p,
// CMP_NE): OpenCV 4.6's vectorised path compares ordered and finds no NaN in a plane of more
// than a few pixels, so NaN pixels of float scenes were data (found by an audit).
template <typename T>
void clearNaNOf(const cv::Mat& plane, cv::Mat& valid) {
    for (int y = 0; y < plane.rows; ++y) {
        const T* p = plane.ptr<T>(y);
        std::uint8_t* v = valid.ptr<std::uint8_t>(y);
        for (int x = 0; x < plane.cols; ++x)
            if (!std::isfinite(p[x])) v[x] = 0;
    }
}

void clearNaN(const cv::Mat& plane, cv::Mat& valid) {
    if (plane.depth() == CV_32F)
        clearNaNOf<float>(plane, valid);
    else
        clearNaNOf<double>(plane, valid);
}

int cvDepthFor(GDALDataType t) {
    switch (t) {
        case GDT_Byte: return CV_8U;
        case GDT_UInt16: return CV_16U;
        case GDT_Int16: return CV_16S;
        case GDT_Int32: return CV_32S;
        case GDT_Float32: return CV_32F;
        case GDT_Float64: return CV_64F;
        default: return -1;
    }
}

}  // namespace

std::uint64_t RasterReader::sourceKey(int file, const std::vector<int>& bands, int depth) const {
    // FNV-1a over what makes a decoded block distinct: input, file, bands and type.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](std::uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xFF;
            h *= 1099511628211ULL;
        }
    };
    mix(reinterpret_cast<std::uintptr_t>(&input_));
    mix(static_cast<std::uint64_t>(file));
    mix(static_cast<std::uint64_t>(depth));
    for (int b : bands) mix(static_cast<std::uint64_t>(b));
    return h;
}

void RasterReader::readRaw(int file, const Window& window, const std::vector<int>& fileBands,
                           GDALDataType type, const cv::Mat& raw) {
    const int n = static_cast<int>(fileBands.size());
    const int depth = raw.depth();
    const InputFile& f = input_.files()[static_cast<std::size_t>(file)];
    GDALDataset& ds = dataset(file);
    int bw = 0, bh = 0;
    ds.GetRasterBand(fileBands[0])->GetBlockSize(&bw, &bh);
    const std::size_t blockBytes = static_cast<std::size_t>(bw) * bh * n * raw.elemSize();
    if (!cache_ || !f.sameGrid || blockBytes * 8 > cache_->capacity()) {
        readFileBands(file, window, fileBands, type, raw);
        return;
    }
    // Assemble the window from whole decoded blocks shared through the cache, decoded on every
    // idle thread when handles can be borrowed: each block lands in its own part of `raw`.
    SourceWindow sw = sourceWindow(file, window);
    const std::uint64_t key = sourceKey(file, fileBands, depth);
    const int bx0 = sw.x / bw, by0 = sw.y / bh;
    const int nbx = (sw.x + sw.w - 1) / bw - bx0 + 1, nby = (sw.y + sw.h - 1) / bh - by0 + 1;
    auto decode = [&](int bx, int by, int wb, int hb) {
        cv::Mat m(n * hb, wb, CV_MAKETYPE(depth, 1));
        std::vector<int> map(fileBands.begin(), fileBands.end());
        const GSpacing pixel = static_cast<GSpacing>(m.elemSize());
        // The reader's own handle when no other thread decodes on it, else a borrowed one, else
        // (none could be opened) the own one once it is free.
        std::unique_lock<std::mutex> own(ownInUse_[static_cast<std::size_t>(file)], std::try_to_lock);
        GDALDataset* handle = own.owns_lock() || !handles_ ? nullptr : handles_->acquire(f.path);
        if (!handle) {
            if (!own.owns_lock()) own.lock();
            handle = &ds;
        }
        const CPLErr err = handle->RasterIO(GF_Read, bx * bw, by * bh, wb, hb, m.data, wb, hb, type, n, map.data(),
                                            pixel, pixel * wb, pixel * wb * hb, nullptr);
        if (handle != &ds) handles_->release(f.path, handle);
        if (err != CE_None)
            throw readFailure(f.path, "at block (" + std::to_string(bx) + "," + std::to_string(by) + ")");
        return m;
    };
    auto block = [&](int i) {
        const int bx = bx0 + i % nbx, by = by0 + i / nbx;
        const int x0 = bx * bw, y0 = by * bh;
        const int wb = std::min(bw, f.width - x0), hb = std::min(bh, f.height - y0);
        // The block's pixels on the stack grid (the file sits at a whole-pixel offset).
        const int uses = uses_ ? uses_(Window{x0 - sw.x + window.x, y0 - sw.y + window.y, wb, hb}) : 0;
        BlockCache::Block b = cache_->get({key, bx, by}, [&] { return decode(bx, by, wb, hb); }, uses);
        const int ix0 = std::max(x0, sw.x), iy0 = std::max(y0, sw.y);
        const int ix1 = std::min(x0 + wb, sw.x + sw.w), iy1 = std::min(y0 + hb, sw.y + sw.h);
        for (int k = 0; k < n; ++k) {
            cv::Mat src = (*b)(cv::Rect(ix0 - x0, k * hb + iy0 - y0, ix1 - ix0, iy1 - iy0));
            src.copyTo(raw(cv::Rect(ix0 - sw.x, k * window.h + iy0 - sw.y, ix1 - ix0, iy1 - iy0)));
        }
    };
    if (handles_)
        tbb::parallel_for(0, nbx * nby, block);
    else
        for (int i = 0; i < nbx * nby; ++i) block(i);
}

// A pixel that is 0 in every band of the scene is no data (RasterInput::zeroIsNodata says
// when): the bands read and `others`, the scene's bands held for this test alone.
void RasterReader::maskZeroPixels(TileImage& out, const std::vector<cv::Mat>& others) {
    std::vector<cv::Mat> planes = others;
    for (const RawPlane& p : out.raw) planes.push_back(p.values);
    if (planes.empty()) return;
    cv::compare(planes.front(), cv::Scalar(0), zeros_, cv::CMP_EQ);
    for (std::size_t k = 1; k < planes.size(); ++k) {
        cv::compare(planes[k], cv::Scalar(0), scratch_, cv::CMP_EQ);
        cv::bitwise_and(zeros_, scratch_, zeros_);
    }
    out.valid.setTo(0, zeros_);
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
    out.positions.clear();
    out.display.clear();

    const int nb = static_cast<int>(bands.size());
    for (int i = 0; i < nb; ++i) {
        const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(i)])];
        out.names.push_back(b.name);
        out.positions.push_back(bands[static_cast<std::size_t>(i)] + 1);
        out.display.push_back(b.display);
    }
    // Planes are converted to reflectance only when a detector asks (TileImage::plane).
    out.planes.assign(static_cast<std::size_t>(nb), cv::Mat());
    out.raw.assign(static_cast<std::size_t>(nb), RawPlane{});
    // Buffers persist in `out` across tiles of the same size: no fresh pages per tile.
    out.valid = reuseBuffer(validBuffer_, window.h, window.w, CV_8U);
    out.valid.setTo(255);

    const auto& files = input_.files();
    // Bands after the first nb are held for the zero test only (RasterInput::bandsHeld).
    const std::vector<int> held = input_.bandsHeld(bands);
    std::vector<cv::Mat> zeroTestOnly;
    out.rawStorage.resize(files.size());
    for (int fi = 0; fi < static_cast<int>(files.size()); ++fi) {
        const InputFile& f = files[static_cast<std::size_t>(fi)];
        std::vector<int> fileBands, planeIdx, testBands;
        for (std::size_t i = 0; i < held.size(); ++i) {
            const InputBand& b = input_.bands()[static_cast<std::size_t>(held[i])];
            if (b.file != fi) continue;
            if (static_cast<int>(i) >= nb) {
                testBands.push_back(b.band);
                continue;
            }
            fileBands.push_back(b.band);
            planeIdx.push_back(static_cast<int>(i));
        }
        bool standaloneMask = f.maskBand > 0;
        for (const auto& b : input_.bands()) standaloneMask &= b.file != fi;
        if (fileBands.empty() && testBands.empty() && !standaloneMask) continue;
        GDALDataset& ds = dataset(fi);

        // The file's validity band (EO Browser dataMask, an alpha named by the profile) comes in
        // the same read as its data bands: in pixel-interleaved files they share blocks.
        std::vector<int> toRead = fileBands;
        toRead.insert(toRead.end(), testBands.begin(), testBands.end());
        if (f.maskBand > 0) toRead.push_back(f.maskBand);
        GDALDataType type = ds.GetRasterBand(toRead[0])->GetRasterDataType();
        for (int fb : toRead)
            if (ds.GetRasterBand(fb)->GetRasterDataType() != type) type = GDT_Float64;
        int depth = cvDepthFor(type);
        if (depth < 0) {
            type = GDT_Float64;
            depth = CV_64F;
        }
        const int n = static_cast<int>(toRead.size());
        cv::Mat raw = reuseBuffer(out.rawStorage[static_cast<std::size_t>(fi)], n * window.h, window.w,
                                  CV_MAKETYPE(depth, 1));
        readRaw(fi, window, toRead, type, raw);

        for (std::size_t k = 0; k < fileBands.size(); ++k) {
            const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(planeIdx[k])])];
            cv::Mat rawPlane = raw.rowRange(static_cast<int>(k) * window.h, static_cast<int>(k + 1) * window.h);
            if (b.mask == MaskSource::Nodata && b.nodata && !std::isnan(*b.nodata)) {
                cv::compare(rawPlane, cv::Scalar(*b.nodata), scratch_, cv::CMP_EQ);
                out.valid.setTo(0, scratch_);
            }
            if (depth == CV_32F || depth == CV_64F)
                clearNaN(rawPlane, out.valid);  // NaN is never data
            out.raw[static_cast<std::size_t>(planeIdx[k])] = {rawPlane, b.scale.scale, b.scale.offset};
        }
        for (std::size_t k = fileBands.size(); k < fileBands.size() + testBands.size(); ++k)
            zeroTestOnly.push_back(
                raw.rowRange(static_cast<int>(k) * window.h, static_cast<int>(k + 1) * window.h));
        if (f.maskBand > 0) {
            cv::Mat maskPlane = raw.rowRange((n - 1) * window.h, n * window.h);
            cv::compare(maskPlane, cv::Scalar(0), scratch_, cv::CMP_EQ);  // 0 = no data
            out.valid.setTo(0, scratch_);
        }
        // GDAL's own masks: alpha or a dataset mask once per file, per-band masks per band.
        bool perDatasetDone = false;
        for (std::size_t k = 0; k < planeIdx.size(); ++k) {
            const InputBand& b = input_.bands()[static_cast<std::size_t>(bands[static_cast<std::size_t>(planeIdx[k])])];
            if (b.mask == MaskSource::PerDataset) {
                if (perDatasetDone) continue;
                perDatasetDone = true;
            } else if (b.mask != MaskSource::PerBand) {
                continue;
            }
            readMask(fi, *ds.GetRasterBand(b.band)->GetMaskBand(), window, scratch_);
            cv::compare(scratch_, cv::Scalar(0), scratch_, cv::CMP_EQ);
            out.valid.setTo(0, scratch_);
        }
    }

    if (input_.zeroIsNodata()) maskZeroPixels(out, zeroTestOnly);
    // Invalid pixels read as 0 once converted (TileImage::plane), so no detector sees them.
    out.validCount = static_cast<std::size_t>(cv::countNonZero(out.valid));
}

namespace {

// `n` windows of `size` px spread evenly over `extent` px (the first at 0, the last at the end).
std::vector<int> spreadStarts(int extent, int size, int n) {
    std::vector<int> out;
    for (int k = 0; k < n; ++k)
        out.push_back(
            n == 1 ? 0 : static_cast<int>(static_cast<long long>(extent - size) * k / (n - 1)));
    return out;
}

// Window starts moved to the nearest block edge where blocks are no larger than the window, so
// a window decodes one block a band, not up to four: the look runs before the scan, on one
// thread (40 ms of a 1.4 s index scan on the 6000 px bench mosaic; issue 14). The first and the
// last start stay where they are (the raster's edges), and a start that meets another is
// dropped.
std::vector<int> blockAligned(std::vector<int> starts, int block, int size, int extent) {
    if (block <= 0 || block > size || starts.size() < 3) return starts;
    for (std::size_t k = 1; k + 1 < starts.size(); ++k)
        starts[k] = std::min(extent - size, (starts[k] + block / 2) / block * block);
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    return starts;
}

// Calls `visit` with each of sampleWindows(input), read for `bands`.
template <class Visit>
void forSampleWindows(const RasterInput& input, const std::vector<int>& bands, Visit visit) {
    RasterReader reader(input);
    TileImage t;
    for (const Window& win : sampleWindows(input)) {
        reader.read(win, win, bands, t);
        visit(t);
    }
}

}  // namespace

std::vector<Window> sampleWindows(const RasterInput& input) {
    // Sixteen blocks of more than 4 Mpx would be decoded for the look (one block of 32768 px
    // took 9 s, and the scan refuses such a raster anyway).
    constexpr double kMaxBlockPixels = 4.0 * 1024 * 1024;
    if (static_cast<double>(input.blockWidth()) * input.blockHeight() > kMaxBlockPixels) return {};
    constexpr int kSize = 256, kPerSide = 4;
    const int w = std::min(kSize, input.width()), h = std::min(kSize, input.height());
    const int nx = std::min(kPerSide, (input.width() + kSize - 1) / kSize);
    const int ny = std::min(kPerSide, (input.height() + kSize - 1) / kSize);
    std::vector<Window> out;
    for (int y : blockAligned(spreadStarts(input.height(), h, ny), input.blockHeight(), h, input.height()))
        for (int x : blockAligned(spreadStarts(input.width(), w, nx), input.blockWidth(), w, input.width()))
            out.push_back(Window{x, y, w, h});
    return out;
}

std::optional<double> clippedShare(const RasterInput& input, const std::vector<int>& bands) {
    std::vector<int> display;
    for (int b : bands) {  // an alpha band is 255 wherever there is data: not a clipped colour
        const InputBand& band = input.bands()[static_cast<std::size_t>(b)];
        if (band.dataType == "Byte" && band.colorInterp != "Alpha") display.push_back(b);
    }
    if (display.empty()) return std::nullopt;
    cv::Mat top;
    std::size_t valid = 0, clipped = 0;
    forSampleWindows(input, display, [&](const TileImage& t) {
        cv::Mat any = cv::Mat::zeros(t.valid.size(), CV_8U);
        for (const RawPlane& p : t.raw) {
            cv::compare(p.values, cv::Scalar(255), top, cv::CMP_EQ);
            cv::bitwise_or(any, top, any);
        }
        cv::bitwise_and(any, t.valid, any);
        valid += t.validCount;
        clipped += static_cast<std::size_t>(cv::countNonZero(any));
    });
    return valid ? static_cast<double>(clipped) / static_cast<double>(valid) : 0.0;
}

std::vector<double> sampledMedians(const RasterInput& input, const std::vector<int>& bands) {
    std::vector<std::vector<float>> values(bands.size());
    constexpr int kStride = 4;  // every 16th pixel: ~65 k values a band, a quarter MB, not 4 MB
    std::vector<float> scratch;
    forSampleWindows(input, bands, [&](const TileImage& t) {
        scratch.resize(static_cast<std::size_t>(t.valid.cols));
        for (std::size_t k = 0; k < bands.size(); ++k)
            for (int r = 0; r < t.valid.rows; r += kStride) {
                const float* v = t.row(k, r, 0, t.valid.cols, scratch.data());  // the scan's own conversion
                const std::uint8_t* ok = t.valid.ptr<std::uint8_t>(r);
                for (int c = 0; c < t.valid.cols; c += kStride)
                    if (ok[c]) values[k].push_back(v[c]);
            }
    });
    std::vector<double> out;
    for (auto& v : values) {
        if (v.empty()) {
            out.push_back(std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
        std::nth_element(v.begin(), mid, v.end());
        out.push_back(*mid);
    }
    return out;
}

}  // namespace riskmap
