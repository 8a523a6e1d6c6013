#include "raster/VrtSources.hpp"

#include <cpl_minixml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

constexpr std::size_t kSampledFiles = 16;

struct Rect {
    double xOff = 0, yOff = 0, xSize = -1, ySize = -1;
};

Rect rectOf(const CPLXMLNode* src, const char* name) {
    Rect r;
    const CPLXMLNode* n = CPLGetXMLNode(src, name);
    if (!n) return r;
    r.xOff = std::atof(CPLGetXMLValue(n, "xOff", "0"));
    r.yOff = std::atof(CPLGetXMLValue(n, "yOff", "0"));
    r.xSize = std::atof(CPLGetXMLValue(n, "xSize", "-1"));
    r.ySize = std::atof(CPLGetXMLValue(n, "ySize", "-1"));
    return r;
}

// Opens a source (relative names as GDAL resolved them: the serialised name is absolute unless
// relativeToVRT, which is resolved against the VRT's folder) for its block size.
bool sampleBlock(const std::string& file, int band, VrtSources& v) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDataset* ds = GDALDataset::FromHandle(
        GDALOpenEx(file.c_str(), GDAL_OF_RASTER | GDAL_OF_SHARED | GDAL_OF_READONLY, nullptr,
                   nullptr, nullptr));
    CPLPopErrorHandler();
    if (!ds || band < 1 || band > ds->GetRasterCount()) {
        if (ds) GDALClose(ds);
        return false;
    }
    int bw = 0, bh = 0;
    ds->GetRasterBand(band)->GetBlockSize(&bw, &bh);
    v.blockWidth = std::max(v.blockWidth, bw);
    v.blockHeight = std::max(v.blockHeight, bh);
    GDALClose(ds);
    return true;
}

// One source of one band; false when it makes GDAL's reads irregular.
bool addSource(const std::string& xml, const std::string& vrtDir, std::set<std::string>& sampled,
               VrtSources& v) {
    CPLXMLNode* root = CPLParseXMLString(xml.c_str());
    if (!root) return false;
    const std::string kind = root->pszValue ? root->pszValue : "";
    const Rect s = rectOf(root, "SrcRect"), d = rectOf(root, "DstRect");
    bool ok = (kind == "SimpleSource" || kind == "ComplexSource") && s.xSize > 0 &&
              s.xSize == d.xSize && s.ySize == d.ySize;
    std::string file = CPLGetXMLValue(root, "SourceFilename", "");
    const bool relative = std::atoi(CPLGetXMLValue(root, "SourceFilename.relativeToVRT", "0")) != 0;
    const int band = std::atoi(CPLGetXMLValue(root, "SourceBand", "1"));
    CPLDestroyXMLNode(root);
    if (relative) file = CPLFormFilename(vrtDir.c_str(), file.c_str(), nullptr);
    if (ok && sampled.size() < kSampledFiles &&
        sampled.insert(file + "#" + std::to_string(band)).second)
        ok = sampleBlock(file, band, v);
    return ok;
}

}  // namespace

std::optional<VrtSources> describeVrtSources(GDALDataset& ds) {
    if (!ds.GetDriver() || std::string(ds.GetDriver()->GetDescription()) != "VRT")
        return std::nullopt;
    VrtSources v;
    const std::string dir = CPLGetPath(ds.GetDescription());
    std::set<std::string> sampled;
    for (int b = 1; b <= ds.GetRasterCount() && !v.irregular; ++b) {
        char** list = ds.GetRasterBand(b)->GetMetadata("vrt_sources");
        if (!list) v.irregular = true;
        for (char** it = list; it && *it && !v.irregular; ++it) {
            const char* eq = std::strchr(*it, '=');
            v.irregular = !eq || !addSource(eq + 1, dir, sampled, v);
        }
    }
    if (v.blockWidth <= 0 || v.blockHeight <= 0) v.irregular = true;
    return v;
}

}  // namespace riskmap
