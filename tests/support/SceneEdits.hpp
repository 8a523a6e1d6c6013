#pragma once
// Edits of real scenes for change tests: a bare patch re-vegetated, a cloud mask, a kiln painted
// out, an acquisition time written into the files. Each edits copies, never the bundled data.
#include <ogr_geometry.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "geo/Geodesy.hpp"

namespace riskmap::test {

// The six band files of an EO Browser Sentinel-2 export (Sentinel-2_L2A_{B02..B12}_Raw.tiff,
// sample 1 the value, sample 2 dataMask) in a folder, in EPSG:4326.
class BandFiles {
public:
    explicit BandFiles(std::string dir);
    // Copies the files of `from` into `to` (both samples) and opens the copies.
    static BandFiles copy(const std::string& from, const std::string& to);
    void save() const;

    // Every pixel within `reachPx` of the place (a lon/lat polygon) takes the spectrum of a
    // vegetated pixel (NDVI >= 0.5, not water) of the ring 4-12 px around it, chosen at random.
    // Returns how many pixels changed; 0 when the ring holds too little vegetation.
    std::size_t revegetate(const OGRGeometry& place, int reachPx, std::uint64_t seed);
    // dataMask = 0 (no data, as a cloud mask does) in a square of side 2 * halfPx + 1 around a point.
    void cloud(const LonLat& centre, int halfPx);
    // Every pixel whose centre lies in the place (lon/lat) takes the given reflectance in each
    // file (B02, B03, B04, B08, B11, B12; stored as reflectance x 65535). Returns the pixel count.
    std::size_t paint(const OGRGeometry& place, const std::array<double, 6>& reflectance);
    // The lon/lat of a point given in pixels (x right, y down, from the top-left corner).
    LonLat lonLatOf(double x, double y) const { return {gt_[0] + x * gt_[1], gt_[3] + y * gt_[5]}; }
    // TIFFTAG_DATETIME of every file, e.g. "2020:03:15 04:35:21".
    void setDateTag(const std::string& value) const;

private:
    std::size_t index(int x, int y) const { return static_cast<std::size_t>(y) * static_cast<std::size_t>(w_) + x; }
    std::vector<std::size_t> pixelsNear(const OGRGeometry& place, int reachPx) const;

    std::string dir_;
    int w_ = 0, h_ = 0;
    double gt_[6] = {0, 1, 0, 0, 0, -1};
    std::vector<std::vector<std::uint16_t>> values_;  // per file, sample 1
    std::vector<std::uint16_t> mask_;                  // sample 2 (shared)
};

// Copies an 8-bit RGB GeoTIFF to `to` with every pixel within `reachPx` of the place (lon/lat)
// filled from its neighbourhood, ring by ring from the outside in (each pixel the mean of its
// already known 8-neighbours), and TIFFTAG_DATETIME set to `dateTag` when given.
void paintOut(const std::string& from, const std::string& to, const OGRGeometry& place, int reachPx,
              const std::string& dateTag = "");

}  // namespace riskmap::test
