#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"
#include "raster/RasterInput.hpp"
#include "raster/RasterReader.hpp"
#include "raster/VrtSources.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;

namespace {

// A GeoTIFF in /vsimem/ with `values(band, x, y)`.
template <typename F>
std::string memRaster(const std::string& name, int w, int h, int bands, GDALDataType type, double pixel,
                      double originX, double originY, F values, const char* epsg = "EPSG:32645") {
    ensureGdalRegistered();
    std::string path = "/vsimem/" + name;
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDataset* ds = drv->Create(path.c_str(), w, h, bands, type, nullptr);
    double gt[6] = {originX, pixel, 0, originY, 0, -pixel};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.SetFromUserInput(epsg);
    ds->SetSpatialRef(&srs);
    std::vector<double> buf(static_cast<std::size_t>(w) * h);
    for (int b = 1; b <= bands; ++b) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) buf[static_cast<std::size_t>(y * w + x)] = values(b, x, y);
        if (ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, w, h, buf.data(), w, h, GDT_Float64, 0, 0, nullptr) != CE_None)
            throw std::runtime_error("write failed");
    }
    GDALClose(ds);
    return path;
}

// A scene of w x h px in square blocks of `block` px (0: strips).
test::SceneSpec blockedScene(int w, int h, int block) {
    test::SceneSpec s;
    s.width = w;
    s.height = h;
    s.blockX = s.blockY = block;
    return s;
}

std::vector<int> all(const RasterInput& in) {
    std::vector<int> v;
    for (std::size_t i = 0; i < in.bands().size(); ++i) v.push_back(static_cast<int>(i));
    return v;
}

}  // namespace

TEST(RasterReader, ScalesToReflectanceAndHonoursNodata) {
    std::string p = memRaster("nodata.tif", 20, 10, 2, GDT_UInt16, 10, 500000, 2500000,
                              [](int b, int x, int) { return x < 5 ? 0.0 : 1000.0 * b; });
    {
        GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(p.c_str(), GA_Update));
        ds->GetRasterBand(1)->SetNoDataValue(0);
        ds->GetRasterBand(2)->SetNoDataValue(0);
        GDALClose(ds);
    }
    InputOptions o;
    o.sensor = "";
    RasterInput in = RasterInput::open(p, o);
    EXPECT_EQ(in.bands()[0].mask, MaskSource::Nodata);
    RasterReader r(in);
    TileImage t;
    r.read(Window{2, 0, 10, 10}, Window{2, 0, 10, 10}, all(in), t);
    EXPECT_EQ(t.validCount, 70u);  // columns 5..11 are data
    EXPECT_EQ(t.valid.at<uchar>(0, 0), 0);
    EXPECT_EQ(t.valid.at<uchar>(0, 3), 255);
    EXPECT_FLOAT_EQ(t.band("b1").at<float>(0, 3), 0.1f);  // 1000 * 1e-4
    EXPECT_FLOAT_EQ(t.band("b2").at<float>(0, 3), 0.2f);
    EXPECT_FLOAT_EQ(t.band("b2").at<float>(0, 0), 0.0f);  // invalid pixels are blanked
    VSIUnlink(p.c_str());
}

// NaN is never data, in Float32 and Float64, with nodata NaN declared or none at all. OpenCV's
// compare(p, p, CMP_NE) found no NaN in a plane of more than a few pixels, so a float scene's
// NaN holes were scanned as data and never reported as gaps (an audit).
TEST(RasterReader, NaNIsNoDataInFloatScenes) {
    for (const GDALDataType type : {GDT_Float32, GDT_Float64})
        for (const bool declared : {true, false}) {
            const std::string p = memRaster(
                "nan.tif", 300, 120, 2, type, 10, 500000, 2500000, [](int b, int x, int y) {
                    return x >= 40 && x < 90 && y < 50 ? std::nan("") : 0.1 * b;
                });
            if (declared) {
                GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(p.c_str(), GA_Update));
                for (int b = 1; b <= 2; ++b) ds->GetRasterBand(b)->SetNoDataValue(std::nan(""));
                GDALClose(ds);
            }
            InputOptions o;
            o.sensor = "";
            RasterInput in = RasterInput::open(p, o);
            RasterReader r(in);
            TileImage t;
            r.read(Window{0, 0, 300, 120}, Window{0, 0, 300, 120}, all(in), t);
            EXPECT_EQ(t.validCount, 300u * 120u - 50u * 50u) << type << declared;
            EXPECT_EQ(t.valid.at<uchar>(10, 60), 0);
            EXPECT_EQ(t.valid.at<uchar>(60, 60), 255);
            EXPECT_FLOAT_EQ(t.band("b1").at<float>(10, 60), 0.0f);  // blanked, not NaN
            VSIUnlink(p.c_str());
        }
}

TEST(RasterReader, AlphaBandMasksRgb) {
    std::string p = memRaster("rgba.tif", 8, 8, 4, GDT_Byte, 3, 500000, 2500000,
                              [](int b, int x, int y) { return b == 4 ? (x + y < 4 ? 0.0 : 255.0) : 100.0; });
    {
        GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(p.c_str(), GA_Update));
        for (int b = 1; b <= 4; ++b)
            ds->GetRasterBand(b)->SetColorInterpretation(static_cast<GDALColorInterp>(GCI_RedBand + b - 1));
        GDALClose(ds);
    }
    RasterInput in = RasterInput::open(p, InputOptions{});
    EXPECT_EQ(in.profileName(), "rgb");
    EXPECT_EQ(in.bandNamesText(), "red, green, blue, alpha");
    RasterReader r(in);
    TileImage t;
    r.read(in.extent(), in.extent(), {in.bandIndex("red")}, t);
    EXPECT_EQ(t.validCount, 64u - 10u);  // x + y < 4 holds for 10 pixels
    EXPECT_NEAR(t.band("red").at<float>(7, 7), 100.0 / 255.0, 1e-6);
    VSIUnlink(p.c_str());
}

TEST(RasterReader, BandFilesWithDataMaskAndCoarserBand) {
    // 10 m red with an EO-Browser style dataMask as band 2, 20 m swir1 without one.
    std::string red = memRaster("red.tif", 40, 40, 2, GDT_UInt16, 10, 500000, 2500000,
                                [](int b, int x, int) { return b == 2 ? (x >= 30 ? 0.0 : 1.0) : 1000.0 + x; });
    std::string swir = memRaster("swir.tif", 20, 20, 1, GDT_UInt16, 20, 500000, 2500000,
                                 [](int, int x, int) { return 3000.0 + x; });
    RasterInput in = RasterInput::fromBandFiles({parseBandSpec("red=" + red), parseBandSpec("swir1=" + swir)}, InputOptions{});
    EXPECT_EQ(in.width(), 40);
    EXPECT_EQ(in.files()[0].maskBand, 2);
    EXPECT_TRUE(in.files()[0].sameGrid);
    EXPECT_FALSE(in.files()[1].sameGrid);
    EXPECT_NEAR(in.gsdX(), 10.0, 0.01);
    RasterReader r(in);
    TileImage t;
    r.read(Window{4, 4, 32, 32}, Window{4, 4, 32, 32}, all(in), t);
    EXPECT_EQ(t.validCount, static_cast<std::size_t>(26 * 32));  // columns 30.. masked
    // Nearest resampling: stack column 7 lies in 20 m column 3.
    EXPECT_FLOAT_EQ(t.band("swir1").at<float>(0, 7 - 4), (3000.0f + 3) * 1e-4f);
    EXPECT_FLOAT_EQ(t.band("red").at<float>(0, 0), (1000.0f + 4) * 1e-4f);
    VSIUnlink(red.c_str());
    VSIUnlink(swir.c_str());
}

TEST(RasterInput, ErrorsNameTheFile) {
    try {
        RasterInput::open("/nonexistent/scene.tif", InputOptions{});
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/scene.tif"), std::string::npos);
    }
    std::string a = memRaster("a.tif", 10, 10, 1, GDT_Byte, 10, 500000, 2500000, [](int, int, int) { return 1.0; });
    std::string b = memRaster("b.tif", 10, 10, 1, GDT_Byte, 10, 500000, 2500000, [](int, int, int) { return 1.0; },
                              "EPSG:32646");
    EXPECT_THROW(RasterInput::fromBandFiles({parseBandSpec("red=" + a), parseBandSpec("nir=" + b)}, InputOptions{}),
                 DataError);
    EXPECT_THROW(RasterInput::fromBandFiles({parseBandSpec("red=" + a + ":3")}, InputOptions{}), UsageError);
    EXPECT_THROW(parseBandSpec("red"), UsageError);
    // An index that is not one (FILE:-1, FILE:abc) was a path that "does not exist" (a sweep).
    EXPECT_THROW(parseBandSpec("red=" + a + ":-1"), UsageError);
    EXPECT_THROW(parseBandSpec("red=" + a + ":abc"), UsageError);
    EXPECT_THROW(parseBandSpec("Red Band=x.tif"), UsageError);
    EXPECT_EQ(parseBandSpec("nir=/vsicurl/https://h/x.tif:2").index, 2);
    EXPECT_EQ(parseBandSpec("nir=/vsicurl/https://h/x.tif:2").path, "/vsicurl/https://h/x.tif");
    VSIUnlink(a.c_str());
    VSIUnlink(b.c_str());
    // A two-band GeoTIFF of `type` in /vsimem, and its refusal both as a file and as a band file,
    // naming the file and `what`.
    ensureGdalRegistered();
    auto create = [](const std::string& path, GDALDataType type, const char* const* opts) {
        GDALDataset* ds = GetGDALDriverManager()->GetDriverByName("GTiff")->Create(
            path.c_str(), 8, 8, 2, type, const_cast<char**>(opts));
        double gt[6] = {500000, 10, 0, 2500000, 0, -10};
        ds->SetGeoTransform(gt);
        OGRSpatialReference srs;
        srs.SetFromUserInput("EPSG:32645");
        ds->SetSpatialRef(&srs);
        GDALClose(ds);
    };
    auto refusedBothWays = [](const std::string& path, const std::string& what) {
        for (int way = 0; way < 2; ++way) {
            try {
                if (way == 0)
                    RasterInput::open(path, InputOptions{});
                else
                    RasterInput::fromBandFiles({parseBandSpec("red=" + path + ":2")}, InputOptions{});
                ADD_FAILURE() << path << ", way " << way;
            } catch (const DataError& e) {
                EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
                EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
            }
        }
        VSIUnlink(path.c_str());
    };
    // Signed bytes (GDAL 3.6's PIXELTYPE=SIGNEDBYTE) would read as unsigned (-5 as 251): refused,
    // naming the file and band, as a single file and as a band file (an audit).
    const char* signedOpts[] = {"PIXELTYPE=SIGNEDBYTE", nullptr};
    create("/vsimem/signed.tif", GDT_Byte, signedOpts);
    refusedBothWays("/vsimem/signed.tif", "signed 8-bit");
    // Complex bands were read as their real part, CFloat32 with the 16-bit default scale (a
    // sweep of hostile inputs): refused, naming the file, band and type, both ways.
    for (GDALDataType type : {GDT_CFloat32, GDT_CInt16}) {
        create("/vsimem/complex.tif", type, nullptr);
        refusedBothWays("/vsimem/complex.tif", "complex values (" + std::string(GDALGetDataTypeName(type)) + ")");
    }
}

TEST(RasterReader, SharedBlockCacheGivesTheSamePixels) {
    test::TempDir dir;
    test::SceneSpec s = blockedScene(700, 500, 128);
    s.nodata = true;
    s.nodataRect = {100, 100, 50, 300};
    s.blobs = test::scatterBlobs(s.width, s.height, 30, 9, 3, 20);
    std::string path = test::writeScene(dir.file("c.tif"), s);
    RasterInput in = RasterInput::open(path, InputOptions{});
    BlockCache cache(64 << 20);
    RasterReader plain(in), cached(in, &cache);
    for (Window w : {Window{0, 0, 700, 500}, Window{37, 51, 300, 211}, Window{600, 400, 100, 100}}) {
        TileImage a, b;
        plain.read(w, w, all(in), a);
        cached.read(w, w, all(in), b);
        ASSERT_EQ(a.validCount, b.validCount);
        for (std::size_t k = 0; k < a.planes.size(); ++k) EXPECT_EQ(cv::norm(a.plane(k), b.plane(k), cv::NORM_INF), 0.0);
        EXPECT_EQ(cv::norm(a.valid, b.valid, cv::NORM_INF), 0.0);
    }
    EXPECT_GT(cache.hits(), 0u);
}

// A cached read decodes a window's blocks on every idle thread, each with a GDAL handle of its
// own: the reader's, or one borrowed from the pool all readers share (issue 14). Several readers
// do so at once over one cache. Every window, in any order and on any thread, holds the plain
// read's pixels, and the pool never opens more handles of a file than threads decoded it at once.
TEST(RasterReader, BlocksDecodedOnManyThreadsAtOnceGiveThePlainPixels) {
    test::TempDir dir;
    test::SceneSpec s = blockedScene(1000, 900, 64);
    s.blobs = test::scatterBlobs(s.width, s.height, 60, 9, 3, 20);
    const std::string path = test::writeScene(dir.file("m.tif"), s);
    const RasterInput in = RasterInput::open(path, InputOptions{});
    std::vector<Window> windows;
    for (int k = 0; k < 24; ++k) windows.push_back(Window{(k * 137) % 600, (k * 211) % 500, 400 - k * 7, 300 + k * 5});
    std::vector<TileImage> plain(windows.size());
    RasterReader reader(in);
    for (std::size_t i = 0; i < windows.size(); ++i) reader.read(windows[i], windows[i], all(in), plain[i]);
    BlockCache cache(8 << 20);  // small: blocks are evicted and decoded again
    HandlePool pool;
    tbb::task_arena arena(4);
    const int threads = arena.max_concurrency();
    tbb::enumerable_thread_specific<std::unique_ptr<RasterReader>> readers;
    std::vector<double> worst(windows.size(), -1);
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, windows.size(), [&](std::size_t i) {
            auto& r = readers.local();
            if (!r) r = std::make_unique<RasterReader>(in, &cache, RasterReader::BlockUses{}, &pool);
            TileImage t;
            tbb::this_task_arena::isolate([&] { r->read(windows[i], windows[i], all(in), t); });
            double d = cv::norm(t.valid, plain[i].valid, cv::NORM_INF);
            for (std::size_t k = 0; k < t.planes.size(); ++k) d = std::max(d, cv::norm(t.plane(k), plain[i].plane(k), cv::NORM_INF));
            worst[i] = d;
        });
    });
    for (std::size_t i = 0; i < windows.size(); ++i) EXPECT_EQ(worst[i], 0.0) << "window " << i;
    EXPECT_LE(pool.opened(), static_cast<std::size_t>(threads - 1));
    // One reader at a time and a whole-raster window: its 240 blocks decode on every thread.
    const Window whole{0, 0, s.width, s.height};
    TileImage base;
    reader.read(whole, whole, all(in), base);
    for (int round = 0; round < 8; ++round) {
        BlockCache fresh(64 << 20);
        RasterReader one(in, &fresh, RasterReader::BlockUses{}, &pool);
        TileImage t;
        arena.execute([&] { one.read(whole, whole, all(in), t); });
        for (std::size_t k = 0; k < t.planes.size(); ++k)
            ASSERT_EQ(cv::norm(t.plane(k), base.plane(k), cv::NORM_INF), 0.0) << "round " << round << " band " << k;
        EXPECT_EQ(fresh.misses(), 240u);
    }
    EXPECT_LE(pool.opened(), static_cast<std::size_t>(threads - 1)) << "handles are reused, not opened per read";
}

// The look before a scan (scale and clipping warnings) decodes one block a band per window on a
// tiled raster: the windows between the raster's edges start on block edges. The first and last
// windows stay on the raster's edges, no two windows are the same, and strips (blocks wider
// than a window) keep the even spread across the width.
TEST(RasterReader, SampleWindowsStartOnBlockEdgesAndSpanTheRaster) {
    test::TempDir dir;
    struct Case {
        int w, h, block;
        std::size_t across, down;
    };
    for (const Case& c : {Case{1500, 700, 64, 4, 3}, Case{1000, 1000, 256, 4, 4}, Case{300, 300, 64, 2, 2},
                          Case{1500, 700, 0, 4, 3}}) {
        const std::string name = std::to_string(c.w) + "x" + std::to_string(c.h) + "b" + std::to_string(c.block);
        const RasterInput in = RasterInput::open(test::writeScene(dir.file(name + ".tif"), blockedScene(c.w, c.h, c.block)), InputOptions{});
        const std::vector<Window> t = sampleWindows(in);
        ASSERT_EQ(t.size(), c.across * c.down) << name;
        std::set<std::pair<int, int>> distinct;
        for (std::size_t k = 0; k < t.size(); ++k) {
            const Window& w = t[k];
            distinct.insert({w.x, w.y});
            EXPECT_EQ(w.w, std::min(256, c.w)) << name;
            EXPECT_GE(w.x, 0) << name;
            EXPECT_LE(w.x + w.w, c.w) << name;
            EXPECT_LE(w.y + w.h, c.h) << name;
            const bool innerX = k % c.across != 0 && k % c.across != c.across - 1;
            const bool innerY = k / c.across != 0 && k / c.across != c.down - 1;
            if (c.block > 0 && innerX) {
                EXPECT_EQ(w.x % c.block, 0) << name << " window " << k;
            }
            if (c.block > 0 && innerY) {
                EXPECT_EQ(w.y % c.block, 0) << name << " window " << k;
            }
        }
        EXPECT_EQ(distinct.size(), t.size()) << name;
        EXPECT_EQ(t.front().x, 0) << name;
        EXPECT_EQ(t.back().x + t.back().w, c.w) << name << ": the last column of windows reaches the edge";
        EXPECT_EQ(t.back().y + t.back().h, c.h) << name;
    }
}

// A black collar (0 in every band, no nodata declared: what gdalwarp and many exports leave)
// is no data by default; a pixel 0 in only some bands, a declared nodata, a one-band raster or
// floats are not.
TEST(RasterReader, ZeroInEveryBandIsNoDataUnlessTheFileSaysOtherwise) {
    auto collar = [](int b, int x, int y) {
        return x < 4 ? 0.0 : (x == 6 && y == 2 && b == 1) ? 0.0 : 50.0 + b;
    };
    const std::string p = memRaster("collar.tif", 12, 6, 3, GDT_Byte, 10, 500000, 2500000, collar);
    auto validCount = [&](const std::string& path, const std::string& mode,
                          std::vector<int> bands) {
        InputOptions o;
        o.zeroPixels = mode;
        RasterInput in = RasterInput::open(path, o);
        RasterReader r(in);
        TileImage t;
        if (bands.empty()) bands = all(in);
        r.read(Window{0, 0, 12, 6}, Window{0, 0, 12, 6}, bands, t);
        return t.validCount;
    };
    EXPECT_EQ(validCount(p, "auto", {}), 48u);  // the 4 collar columns; (6, 2) is 0 in band 1 only
    EXPECT_EQ(validCount(p, "data", {}), 72u);
    EXPECT_EQ(validCount(p, "nodata", {}), 48u);
    // One band of three read: the test still takes every band of the scene, so (6, 2), 0 in
    // one band only, stays data whichever band a detector reads.
    EXPECT_EQ(validCount(p, "auto", {0}), 48u);
    EXPECT_EQ(validCount(p, "auto", {1}), 48u);
    EXPECT_EQ(validCount(p, "nodata", {2}), 48u);
    const std::string one =
        memRaster("collar1.tif", 12, 6, 1, GDT_Byte, 10, 500000, 2500000, collar);
    EXPECT_EQ(validCount(one, "auto", {}), 72u);    // a one-band raster: a 0 there is often data
    EXPECT_EQ(validCount(one, "nodata", {}), 47u);  // ... unless asked: the collar and (6, 2)
    EXPECT_EQ(validCount(p, "", {}), 72u);          // a manifest from before the option
    EXPECT_THROW(validCount(p, "black", {}), UsageError);
    const std::string f =
        memRaster("collar32.tif", 12, 6, 3, GDT_Float32, 10, 500000, 2500000, collar);
    EXPECT_EQ(validCount(f, "auto", {}), 72u);  // floats: NaN or a declared nodata is their fill
    {
        GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(p.c_str(), GA_Update));
        for (int b = 1; b <= 3; ++b) ds->GetRasterBand(b)->SetNoDataValue(200);
        GDALClose(ds);
    }
    EXPECT_EQ(validCount(p, "auto", {}), 72u);  // the file declares its own nodata (200): it rules
    VSIUnlink(p.c_str());
    VSIUnlink(f.c_str());
    VSIUnlink(one.c_str());
}

// ScanPipeline sizes GDAL's cache for a VRT from its sources' blocks (issue 14): they are read
// through relative names too, and a source resampled or not found makes the VRT irregular.
TEST(VrtSources, BlocksOfUnresampledSourcesAndIrregularOnes) {
    const std::string tif = memRaster("vrtsrc.tif", 64, 48, 1, GDT_Byte, 10, 500000, 2500000, [](int, int x, int) { return x; });
    DatasetPtr plain = openRaster(tif);
    EXPECT_FALSE(describeVrtSources(*plain).has_value());
    auto vrt = [](const std::string& name, const std::string& file, int dstW) {
        const std::string path = "/vsimem/" + name;
        const std::string xml = "<VRTDataset rasterXSize=\"64\" rasterYSize=\"48\"><VRTRasterBand dataType=\"Byte\" band=\"1\">"
                                "<SimpleSource><SourceFilename relativeToVRT=\"1\">" + file + "</SourceFilename><SourceBand>1</SourceBand>"
                                "<SrcRect xOff=\"0\" yOff=\"0\" xSize=\"64\" ySize=\"48\"/><DstRect xOff=\"0\" yOff=\"0\" xSize=\"" +
                                std::to_string(dstW) + "\" ySize=\"48\"/></SimpleSource></VRTRasterBand></VRTDataset>";
        VSILFILE* f = VSIFOpenL(path.c_str(), "wb");
        VSIFWriteL(xml.data(), 1, xml.size(), f);
        VSIFCloseL(f);
        return openRaster(path);
    };
    int bw = 0, bh = 0;
    plain->GetRasterBand(1)->GetBlockSize(&bw, &bh);
    const auto same = describeVrtSources(*vrt("same.vrt", "vrtsrc.tif", 64));
    ASSERT_TRUE(same.has_value());
    EXPECT_FALSE(same->irregular);
    EXPECT_EQ(same->blockWidth, bw);
    EXPECT_EQ(same->blockHeight, bh);
    EXPECT_TRUE(describeVrtSources(*vrt("squeezed.vrt", "vrtsrc.tif", 32))->irregular);
    EXPECT_TRUE(describeVrtSources(*vrt("missing.vrt", "absent.tif", 64))->irregular);
}
