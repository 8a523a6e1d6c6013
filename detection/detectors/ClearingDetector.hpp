#pragma once
// `clearing`: small cleared or built patches (camps: bare mud, drying racks, huts) inside an
// otherwise unbroken mangrove or forest matrix, far from farms and villages. Per-pixel classes
// from spectral indices, the forest matrix from density in a disk, then candidate patches gated
// by size, shape, a clearly bare core, enclosure by forest or water, and remoteness.
#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"

namespace riskmap {

class ClearingDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    explicit ClearingDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    std::size_t workingBytesPerPixel(std::size_t bands) const override { return 72 + 4 * bands; }
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;

    struct Params {
        double waterMndwiMin, vegNdviMin, bareNdbiMin, bareBsiMin;
        double matrixRadius, openVegShareMax, openLandShareMin, matrixVegShareMin;
        double minArea, maxArea, maxExtent, ringWidth, enclosureMin, remoteMin, distanceCap;
        double maxElongation, minWidth, coreNdviMax, coreNdbiMin, coreBsiMin, coreMinArea, minScore;
    };

    const Params& params() const { return p_; }
    // Every option, declared once and bound to its Params member.
    static const OptionTable<Params>& table();

    // Per-pixel class bits, exposed for tests.
    enum ClassBit : std::uint8_t {
        kValid = 1, kWater = 2, kVegetation = 4, kBare = 8, kCore = 16, kOpen = 32,
    };
    // Classes for one tile (before open land, which needs the neighbourhood).
    std::vector<std::uint8_t> classify(const TileImage& tile) const;

private:
    DetectorInfo info_;
    Params p_;
};

}  // namespace riskmap
