#pragma once
// `clearing`: small cleared or built patches (camps: bare mud, drying racks, huts) inside an
// otherwise unbroken mangrove or forest matrix, far from farms and villages. Per-pixel classes
// from spectral indices and a soil fraction by linear unmixing, the forest matrix from density in
// a disk, then candidate patches gated by size, shape, a clearly bare core, enclosure by forest or
// water, and remoteness. Passing patches close together (huts of one camp) are one detection.
#include <array>

#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"

namespace riskmap {

class ClearingDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    explicit ClearingDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    double contextMetres() const override;
    // Classes, soil (with unmixing), vegetated share, masks, the open-land distance plane with
    // its column plane over at most the window, and the anomaly's planes over its crop (pooled,
    // so they stay resident through the tile); bands are read row by row (no float planes) and
    // the disk sums are streamed. --explain adds the forest fractions, the anomaly's z and the
    // water distance planes: 6 bands on 6000 px at --ram 512 peaked at 436 MB without and at
    // 517 MB with it when both declared 48 B, i.e. ~22 B a window pixel more.
    std::size_t workingBytesPerPixel(std::size_t, bool explain) const override { return explain ? 72 : 48; }
    // Classes, disk sums and distance transforms run in parallel rows; patch measurement does
    // not. One 576 px tile at a time took 11.0 s on 1 thread and 6.8 s on 2 (real mosaic, --ram
    // 256): a parallel share of 0.77 by Amdahl's law.
    double tileParallelism() const override { return 0.75; }
    void checkInput(double gsdX, double gsdY) const override;
    std::string bandWarning(const std::vector<std::string>& available) const override;
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;

    struct Params {
        double waterMndwiMin, vegNdviMin, bareNdbiMin, bareBsiMin;
        double unmixCandidateMin, unmixCoreMin, unmixNdviMax;
        std::string forestSpectrum, waterSpectrum, soilSpectrum;
        double burntNbrMax, burntNdviMax;
        double matrixRadius, openVegShareMax, openLandShareMin, matrixVegShareMin;
        double minArea, maxArea, maxExtent, edgeMax, ringGap, ringWidth, enclosureMin, remoteMin, distanceCap;
        double maxElongation, minWidth, coreNdviMax, coreNdbiMin, coreBsiMin, coreBrightMin, coreMinArea;
        double bareRedGreenMin;  // without SWIR
        double groupGap, explainForestMax, minScore;
        double anomalyMin, anomalyMinNoSwir, anomalyRadius, anomalyWindow, anomalySdFloor, anomalyGrain;
        double anomalyWideMin, anomalyWideRadius;  // with SWIR only
    };

    const Params& params() const { return p_; }
    // Every option, declared once and bound to its Params member.
    static const OptionTable<Params>& table();
    // The anomaly threshold for this tile's bands: with SWIR, or visible and NIR only (0 = off).
    double anomalyThreshold(const TileImage& tile) const;

    // Per-pixel class bits, exposed for tests.
    enum ClassBit : std::uint8_t {
        kValid = 1, kWater = 2, kVegetation = 4, kBare = 8, kCore = 16, kOpen = 32,
    };
    // Classes for one tile (before open land, which needs the neighbourhood), and with `soil` and
    // `forest` the unmixed fractions of each pixel (0 where it cannot be unmixed).
    std::vector<std::uint8_t> classify(const TileImage& tile, std::vector<float>* soil = nullptr,
                                       std::vector<float>* forest = nullptr) const;
    // Marks land pixels whose camp-sized neighbourhood departs from the forest around it
    // (the NBR anomaly, needs nir and swir2) as bare evidence and clearly bare; their other bits
    // stay. Returns the anomaly z of every pixel (0 where not computed) when `z` is given.
    // With SWIR a second, wider disk is compared with the same box (anomaly_wide_*): `zWide`.
    void markAnomalies(const TileImage& tile, std::vector<std::uint8_t>& cls, std::vector<float>* z = nullptr,
                       std::vector<float>* zWide = nullptr) const;
    // The wide disk's threshold for this tile's bands (0 = off: no SWIR, or turned off).
    double anomalyWideThreshold(const TileImage& tile) const;
    // The window pixels where measured patches can lie; distances are computed only there.
    cv::Rect measuredArea(const TileImage& tile) const;
    // The measured area with the blended edge that may grow out of it: anomaly bits are set there.
    cv::Rect anomalyArea(const TileImage& tile) const;

    // Least-squares sum-to-one fractions of forest, water and soil (Adams, Smith & Johnson 1986),
    // re-solved without any endmember that comes out negative. Bands: blue, green, red, nir, swir1.
    class Unmixer {
    public:
        Unmixer() = default;
        Unmixer(const std::array<double, 5>& forest, const std::array<double, 5>& water, const std::array<double, 5>& soil);
        struct Fractions {
            double forest = 0, soil = 0;
        };
        Fractions fractions(const std::array<double, 5>& x) const;

    private:
        using Row = std::array<double, 6>;  // weights of (blue, green, red, nir, swir1, 1)
        Row forest3_{}, water3_{}, soil3_{};  // three endmembers
        Row forestFs_{}, soilFs_{};           // forest + soil
        Row soilWs_{};                        // water + soil
    };

private:
    ComponentExtractor::Limits limits(const TileImage& tile) const;
    bool nearCore(const cv::Rect& box, const TileImage& tile) const;

    DetectorInfo info_;
    Params p_;
    Unmixer unmixer_;
    int anomalyGrainPixels_ = 0;      // the anomaly disk's pixels at anomaly_grain_m
    int anomalyWideGrainPixels_ = 0;  // the wide disk's
};

}  // namespace riskmap
