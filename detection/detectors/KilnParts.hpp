#pragma once
// Internals of the kiln detector shared by its source files (not a public interface):
// the internal grid with its planes (KilnGrid.cpp), per-candidate measurement
// (KilnMeasure.cpp), the scoring model (KilnModel.cpp) and the decision (KilnDetector.cpp).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "detection/detectors/KilnDetector.hpp"
#include "detection/imgproc/BufferPool.hpp"

namespace riskmap::kiln {

// A band value on the display scale (0..255 = black..white of a true-colour rendering), not
// clipped at white: a kiln body brighter than white keeps its contrast with its yard (float
// input with a gain of 1.33 lost 12 of the 41 dev kilns when it was clipped). Below black (a
// surface-reflectance offset) is black: its log was undefined (19 false alarms more).
inline double displayLevel(double gain, float v) {
    return std::max(0.0, gain * static_cast<double>(v));
}

// A plane of the grid. Its contents start undefined until written: not zeroing a dozen planes
// of a tile saves time, and their memory is recycled between tiles (BufferPool).
template <class T>
class Plane {
public:
    void allocate(std::size_t n) {
        data_ = pooledArray<T>(n);
        n_ = n;
    }
    void clear() {
        data_.reset();
        n_ = 0;
    }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    bool empty() const { return n_ == 0; }
    std::size_t size() const { return n_; }
    T* data() { return data_.get(); }
    const T* begin() const { return data_.get(); }
    const T* end() const { return data_.get() + n_; }

private:
    PooledArray<T> data_;
    std::size_t n_ = 0;
};

// The tile on the internal ~10 m grid. Internal pixel (i, j) covers global input pixels
// [ox + i f, ox + (i+1) f) x [oy + j f, ...); ox and oy are multiples of f, so every tiling
// builds the same grid and (ox / f + i, oy / f + j) is a global internal pixel.
struct Grid {
    int w = 0, h = 0, f = 1;
    int ox = 0, oy = 0;
    double gx = 0, gy = 0;   // metres per internal pixel
    int kx = 1, ky = 1;      // background box, pixels (odd)
    bool colour = false;     // chroma planes are filled (colour on and the tile has chroma)
    Plane<std::uint8_t> valid;
    Plane<float> z;    // (L - local mean) / local SD of log-brightness L; 0 where invalid
    Plane<float> zs;   // the same for L smoothed at kiln scale; -1e9 where invalid
    Plane<float> c1, c2;                 // log-chromaticity (orthonormal)
    Plane<float> c1s, c2s, b1, b2, cc;   // smoothed chroma; minus its local mean; |b| (0 where invalid)
    Plane<float> ndvi, ndbi;             // empty without nir (and swir1)
    std::size_t idx(int x, int y) const { return static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x); }
    int globalX(int x) const { return ox / f + x; }
    int globalY(int y) const { return oy / f + y; }
};

// Steps 1-3 of the spec: block-average onto the grid, log-brightness and log-chromaticity,
// and the exact integer neighbourhood filters that give z, zs and the chroma contrast.
Grid buildGrid(const TileImage& tile, const KilnDetector::Params& p);

// Step 4: candidate peaks (grid coordinates), sorted in raster order, with their source.
struct Peak {
    int x = 0, y = 0;
    bool bright = false, chroma = false;
};
std::vector<Peak> findPeaks(const Grid& g, const KilnDetector::Params& p);

// Feature indices of KilnCandidate::features (names in KilnDetector::featureNames()).
enum Feature : int {
    BPeak, BLift, BbMis, YCon, YHomog, LnArea, CFill, CWid, CSolid,  // colour-free model terms
    Ccz, CcYard, CbMis,                                               // colour model terms
    CArea, CLen, CElong, CZin, CTex, COpen, ValidFrac, YIn, YOut, BDist, BbLen, BbWid, BbArea,
    Cc, CbLen, CbWid, Sdc, Ndvi, Ndbi,
    kFeatureCount
};

// A candidate with what the decision needs beyond the public record.
struct Measured {
    KilnCandidate c;
    double cx = 0, cy = 0;       // reported centre on the global internal grid (pixel units)
    double evidence = 0;         // body evidence for the body choice (ccz with colour, else b_peak)
    double u1 = 0, u2 = 0;       // the body's chroma contrast: its direction re-segments the outline
    double halfLevel = 0;        // brightness level half-way from the yard to the peak (SD units)
    bool touches = false;        // reported body touches nodata or the raster edge
    bool complete = true;        // every feature measured; else a gate or the probability bound
                                 // ruled it out first, and probability is only an upper bound
    std::vector<std::int64_t> complex;  // global keys of the complex's pixels, sorted
    bool inComplex(cv::Point globalPixel) const;
};
std::int64_t pixelKey(int gx, int gy);

struct Geometry;

// Step 5 and the score (step 7): everything measured around a peak, hard gates applied. With
// `threshold` >= 0 a candidate that a hard gate rejects, or whose probability cannot reach the
// threshold (an exact upper bound from the cheap features), is not measured further; with -1
// every candidate is measured completely (--explain, training).
class Measurer {
public:
    Measurer(const Grid& g, const KilnDetector::Params& p);
    ~Measurer();
    Measured measure(const Peak& peak, double threshold) const;

private:
    const Grid& g_;
    const KilnDetector::Params& p_;
    std::unique_ptr<Geometry> geo_;
};

// Step 7: the two-stage logistic model and its per-mode Platt calibration.
double logitFree(const std::vector<double>& f);
double logitColour(const std::vector<double>& f);  // the colour term only
double calibrated(double logit, bool colour);
// The full logit (colour term only with colour).
double logit(const std::vector<double>& f, bool colour);
// Features not yet measured set to the values that raise the logit most, so that logit() of the
// result bounds the true logit from above (IEEE arithmetic is monotonic).
std::vector<double> mostFavourable(std::vector<double> f);

// Step 9: the reported polygon (oriented equivalent rectangle, or at type_max_gsd_m or finer the
// outline re-segmented at native resolution), its size and kiln_type.
struct Outline {
    Polygon polygon;
    double length = 0, width = 0, azimuth = 0;  // metres; degrees clockwise from north, 0-180
    std::string type;
    double typeConfidence = 0;
    bool touches = false;
};
Outline outline(const TileImage& t, const Grid& g, const Measured& m, const KilnDetector::Params& p);

}  // namespace riskmap::kiln
