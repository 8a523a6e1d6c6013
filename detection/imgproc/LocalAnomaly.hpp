#pragma once
// A camp-sized multi-index anomaly: how far the mean vector of a few indices over a small disk
// departs from the mean over the box around it, whitened by the box's own pixel covariance
// (Reed & Yu 1990, "RX"; Hotelling's T² of the disk mean). All sums are exact integers of
// fixed-point values, so a pixel's value does not depend on the tiling.
#include <cstdint>
#include <vector>

#include "detection/imgproc/BufferPool.hpp"

namespace riskmap {

// Index values in fixed point (value × kAnomalyOne, |value| <= 1), one plane per index, and a
// 0/1 mask of the pixels that count (land). `toward` gives each index's sign of departure that
// counts (+1: higher in the disk, -1: lower): z is 0 where the standardised departures summed
// with those signs are not positive.
constexpr double kAnomalyOne = 4096.0;

// Planes come from the buffer pool (a fresh whole-tile plane costs its pages' zeroing): every
// value must be written.
struct AnomalyPlanes {
    int w = 0, h = 0;
    std::vector<PooledArray<std::int16_t>> index;  // k planes of w × h, 0 off the mask
    std::vector<int> toward;                       // k signs
    PooledArray<std::uint8_t> mask;                // w × h, 0 or 1
    // Optional (null: every pixel): z is computed only where this is 1, and 0 elsewhere. The
    // sums still take every masked pixel, so a computed z does not change.
    PooledArray<std::uint8_t> wanted;
    AnomalyPlanes() = default;
    AnomalyPlanes(int width, int height, std::vector<int> signs);
    std::size_t size() const { return static_cast<std::size_t>(w) * static_cast<std::size_t>(h); }
};

struct AnomalyWindow {
    int boxX = 1, boxY = 1;       // odd box sides, pixels
    double diskX = 1, diskY = 1;  // disk radii, pixels
    double sdFloor = 0;           // added to every index's SD (as its square to the variance)
    int minDiskPixels = 3;        // fewer masked pixels in the disk: z is 0
    // At most this many of the disk's pixels count as independent evidence (sqrt(n) below).
    double maxDiskWeight = 1e300;
    // Pixels wanted: columns [areaX0, areaX1), rows [areaY0, areaY1); z is 0 elsewhere.
    int areaX0 = 0, areaX1 = 1 << 30, areaY0 = 0, areaY1 = 1 << 30;
};

// The pixels of a disk of these radii (pixels), as the disk sums count them.
int diskPixelCount(double diskX, double diskY);

// Whether a disk of these radii (pixels) keeps its sums exact in int32.
bool anomalyDiskFits(double diskX, double diskY);

// z = sqrt(n · dᵀ (C + floor² I)⁻¹ d) for each masked pixel, where d is the disk mean minus the
// box mean, C the box covariance and n the masked pixels in the disk, at most maxDiskWeight;
// 0 elsewhere. At most four
// indices. Memory: five int32 planes besides the input and output.
PooledArray<float> localAnomaly(const AnomalyPlanes& in, const AnomalyWindow& win);
// Another disk compared with the same box.
struct AnomalyDisk {
    double diskX = 1, diskY = 1;
    double maxDiskWeight = 1e300;
    // The pixels this disk's sums take: 0 or 1 per pixel, 1 only on the mask; null: the mask.
    // The box always takes the whole mask.
    const std::uint8_t* counted = nullptr;
};
// z for win's disk, then for each of `more` against the same box: the box sums and the
// covariance's factors are computed once for all of them. Each z equals localAnomaly's with
// that disk in win. Memory: five int32 planes more per disk.
std::vector<PooledArray<float>> localAnomalies(const AnomalyPlanes& in, const AnomalyWindow& win,
                                               const std::vector<AnomalyDisk>& more);

}  // namespace riskmap
