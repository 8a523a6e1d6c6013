#include "raster/PngImage.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

// PNG through GDAL, which riskmap links anyway: OpenCV's imgcodecs would add two dozen libraries
// (DICOM, EXR, ...) and ~60 ms of start-up to every run of the tool.
std::vector<unsigned char> encodePng(const cv::Mat& bgr) {
    static std::atomic<unsigned> serial{0};
    const std::string mem = "/vsimem/riskmap-png-" + std::to_string(serial++) + ".png";
    GDALDriver* memDrv = GetGDALDriverManager()->GetDriverByName("MEM");
    GDALDriver* pngDrv = GetGDALDriverManager()->GetDriverByName("PNG");
    if (!memDrv || !pngDrv) throw IoError("GDAL was built without the MEM or PNG driver, needed for PNG images");
    DatasetPtr src(memDrv->Create("", bgr.cols, bgr.rows, 3, GDT_Byte, nullptr));
    if (!src) throw IoError("cannot make a PNG image: " + lastGdalError());
    for (int b = 0; b < 3; ++b) {
        // BGR pixels to R, G, B bands.
        if (src->GetRasterBand(b + 1)->RasterIO(GF_Write, 0, 0, bgr.cols, bgr.rows,
                                                const_cast<unsigned char*>(bgr.data) + (2 - b), bgr.cols, bgr.rows,
                                                GDT_Byte, 3, static_cast<GSpacing>(bgr.step)) != CE_None)
            throw IoError("cannot make a PNG image: " + lastGdalError());
    }
    // The in-memory file goes whatever happens below.
    std::unique_ptr<const std::string, void (*)(const std::string*)> unlink(
        &mem, [](const std::string* m) { VSIUnlink(m->c_str()); });
    DatasetPtr png(pngDrv->CreateCopy(mem.c_str(), src.get(), FALSE, nullptr, nullptr, nullptr));
    if (!png) throw IoError("cannot encode a PNG image: " + lastGdalError());
    png.reset();
    vsi_l_offset size = 0;
    GByte* data = VSIGetMemFileBuffer(mem.c_str(), &size, FALSE);
    if (!data || size == 0) throw IoError("encoding a PNG image gave no bytes: " + lastGdalError());
    return std::vector<unsigned char>(data, data + size);
}

}  // namespace riskmap
