#include "detection/detectors/ClearingDetector.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/Error.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"
#include "detection/imgproc/ExactFilters.hpp"
#include "detection/imgproc/LocalAnomaly.hpp"

namespace riskmap {

namespace {

using Params = ClearingDetector::Params;
using Spectrum = std::array<double, 5>;

float nd(float a, float b) {
    const float s = a + b;
    return s != 0.0f ? (a - b) / s : 0.0f;
}

bool hasBand(const std::vector<std::string>& v, const char* n) { return std::find(v.begin(), v.end(), n) != v.end(); }

Spectrum parseSpectrum(const std::string& text, const char* option) {
    std::istringstream in(text);
    Spectrum s{};
    std::string item;
    std::size_t n = 0;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (n == s.size() || end == item.c_str() || *end != '\0' || !(v >= 0 && v <= 1.5))
            throw UsageError(std::string(option) + "='" + text +
                             "' must be five reflectances 0-1.5 separated by commas (blue,green,red,nir,swir1)");
        s[n++] = v;
    }
    if (n != s.size())
        throw UsageError(std::string(option) + "='" + text + "' must hold five reflectances (blue,green,red,nir,swir1)");
    return s;
}

// One pixel's reflectances; a band the input lacks is flagged absent.
struct Sample {
    float blue = 0, green = 0, red = 0, nir = 0, swir1 = 0, swir2 = 0;
    bool hasBlue = false, hasGreen = false, hasSwir1 = false, hasSwir2 = false;
};

// The bands of one tile row, converted from the stored values into scratch: no whole-tile
// reflectance planes, 4 bytes a band and window pixel less (a 1912 px window holds 58 MB of
// them at four bands, 88 MB at six). One per thread.
class RowSampler {
public:
    explicit RowSampler(const TileImage& t) : t_(t) {
        static const char* const kNames[kBands] = {"red", "nir", "green", "swir1", "blue", "swir2"};
        for (std::size_t b = 0; b < kBands; ++b)
            if (t.has(kNames[b])) {
                index_[b] = t.bandIndex(kNames[b]);
                scratch_[b].resize(static_cast<std::size_t>(t.window.w));
            }
    }
    // Makes at() read row y, columns x0 .. x0 + n - 1.
    void load(int y, int x0, int n) {
        x0_ = x0;
        for (std::size_t b = 0; b < kBands; ++b)
            row_[b] = scratch_[b].empty() ? nullptr : t_.row(index_[b], y, x0, n, scratch_[b].data());
    }
    Sample at(int x) const {
        const std::size_t i = static_cast<std::size_t>(x - x0_);
        auto v = [i](const float* r) { return r ? r[i] : 0.0f; };
        Sample s;
        s.red = v(row_[0]), s.nir = v(row_[1]), s.green = v(row_[2]), s.swir1 = v(row_[3]), s.blue = v(row_[4]), s.swir2 = v(row_[5]);
        s.hasGreen = row_[2], s.hasSwir1 = row_[3], s.hasBlue = row_[4], s.hasSwir2 = row_[5];
        return s;
    }

    // The loaded row of band b (red, nir, green, swir1, blue, swir2), null if absent.
    const float* band(std::size_t b) const { return row_[b]; }

private:
    static constexpr std::size_t kBands = 6;
    const TileImage& t_;
    std::array<std::size_t, kBands> index_{};
    std::array<std::vector<float>, kBands> scratch_;
    std::array<const float*, kBands> row_{};
    int x0_ = 0;
};

// Visible albedo (the V-I-S model's albedo axis, Ridd 1995); without blue, green and red stand for
// it (soil and turbid water alike are lower in blue, so this errs towards bright).
float visibleAlbedo(float blue, float green, float red, bool hasBlue) { return hasBlue ? (blue + green + red) / 3.0f : (green + red) / 2.0f; }
float visibleAlbedo(const Sample& s) { return visibleAlbedo(s.blue, s.green, s.red, s.hasBlue); }

bool isWater(const Sample& s, float ndvi, const Params& p) {
    if (s.hasGreen && s.hasSwir1) return nd(s.green, s.swir1) > p.waterMndwiMin;  // MNDWI, Xu 2006
    if (s.hasGreen) return nd(s.green, s.nir) > p.waterMndwiMin;                   // NDWI, McFeeters 1996
    return ndvi < 0.0f;  // water reflects more red than near infrared
}

// Bare or built evidence of a pixel that is neither water nor vegetation. A pixel mixing a creek
// and mangrove is neither, so SWIR1 above NIR (NDBI, Zha et al. 2003; BSI, Rikimaru et al. 2002)
// is asked for; clearly bare (core) adds a margin, or a visible albedo above dark creek mud
// (the albedo axis of the V-I-S model, Ridd 1995). Without SWIR only the low NDVI remains.
std::uint8_t bareEvidence(const Sample& s, float ndvi, const Params& p) {
    using C = ClearingDetector;
    const std::uint8_t core = C::kCore, none = 0;
    if (!s.hasSwir1) {
        // Without SWIR a creek mixed with mangrove is "neither" too. Soil, mud, sand and roofs
        // reflect at least as much red as green (the soil line); water and leaves reflect less.
        // Clearly bare needs a bright visible albedo as well.
        if (s.hasGreen && nd(s.red, s.green) < p.bareRedGreenMin) return 0;
        const bool bright = !s.hasGreen || visibleAlbedo(s) >= p.coreBrightMin;
        return C::kBare | (bright && ndvi < p.coreNdviMax ? core : none);
    }
    const float ndbi = nd(s.swir1, s.nir);
    const float bsi = s.hasBlue ? nd(s.swir1 + s.red, s.nir + s.blue) : -1.0f;
    const bool bare = ndbi >= p.bareNdbiMin || (s.hasBlue && bsi >= p.bareBsiMin);
    if (!bare) return 0;
    bool clear = ndbi >= p.coreNdbiMin || (s.hasBlue && bsi >= p.coreBsiMin);
    if (s.hasBlue && s.hasGreen) clear = clear || visibleAlbedo(s) >= p.coreBrightMin;
    return C::kBare | (clear && ndvi < p.coreNdviMax ? core : none);
}

}  // namespace

const OptionTable<ClearingDetector::Params>& ClearingDetector::table() {
    using P = Params;
    static const auto t = OptionTable<P>()
        .number("water_mndwi_min", &P::waterMndwiMin, 0.0, "MNDWI", "water: MNDWI above this (Xu 2006); NDWI without swir1 (McFeeters 1996)", -1, 1)
        .number("veg_ndvi_min", &P::vegNdviMin, 0.5, "NDVI", "vegetation: NDVI at or above this (about half green cover; Rouse et al. 1974)", -1, 1)
        .number("bare_ndbi_min", &P::bareNdbiMin, -0.15, "NDBI", "bare/built evidence: NDBI at or above this (Zha et al. 2003) ...", -1, 1)
        .number("bare_bsi_min", &P::bareBsiMin, -0.05, "BSI", "... or BSI at or above this (Rikimaru et al. 2002)", -1, 1)
        .number("unmix_candidate_min", &P::unmixCandidateMin, 0.4, "0-1", "... or a soil fraction at or above this (linear unmixing, Adams et al. 1986): camps under part canopy", 0, 1.5)
        .number("unmix_core_min", &P::unmixCoreMin, 0.55, "0-1", "a soil fraction at or above this is clearly bare", 0, 1.5)
        .number("unmix_ndvi_max", &P::unmixNdviMax, 0.6, "NDVI", "the soil fraction counts only below this NDVI (never in closed canopy)", -1, 1)
        .text("endmember_forest", &P::forestSpectrum, "0.024,0.054,0.033,0.295,0.115", "forest endmember: blue,green,red,nir,swir1 reflectance (median Sundarbans mangrove)")
        .text("endmember_water", &P::waterSpectrum, "0.074,0.096,0.076,0.033,0.012", "water endmember (median Sundarbans river)")
        .text("endmember_soil", &P::soilSpectrum, "0.084,0.110,0.130,0.200,0.230", "soil endmember (median dry field)")
        .number("burnt_nbr_max", &P::burntNbrMax, 0.1, "NBR", "burnt ground: NBR = nd(nir, swir2) at or below this (Key & Benson 2006; forest is about 0.7) ...", -1, 1)
        .number("burnt_ndvi_max", &P::burntNdviMax, 0.5, "NDVI", "... and NDVI below this; burnt ground is bare evidence and clearly bare", -1, 1)
        .number("matrix_radius_m", &P::matrixRadius, 500, "m", "radius of the disk in which the forest matrix is measured", 50, 5000)
        .number("open_veg_share_max", &P::openVegShareMax, 0.5, "0-1", "open land: non-vegetated land where less than this share of land around is vegetated", 0, 1)
        .number("open_land_share_min", &P::openLandShareMin, 0.2, "0-1", "... and at least this share of the disk is land (not a river mouth)", 0, 1)
        .number("matrix_veg_share_min", &P::matrixVegShareMin, 0.7, "0-1", "a camp sits where at least this share of land around is vegetated", 0, 1)
        .number("min_area_m2", &P::minArea, 500, "m2", "smallest patch (0.05 ha)", 0, 1e9)
        .number("max_area_m2", &P::maxArea, 80000, "m2", "largest cleared ground, the patch's soil fractions summed: a 5 ha camp with a thinned, blended edge clears up to about 8 ha", 1, 1e9)
        .number("max_extent_m", &P::maxExtent, 600, "m", "longest bounding-box side of a patch or camp; longer is a linear feature (sets part of the halo)", 10, 10000)
        .number("edge_max_m", &P::edgeMax, 40, "m", "a camp's blended edge: land grown from its patches through pixels that are neither forest, water nor bare, up to this far out, is the camp's, not its enclosure ring's (0 = off)", 0, 1000)
        .number("ring_gap_m", &P::ringGap, 20, "m", "the enclosure ring starts this far out, beyond the camp's own blended edge", 0, 1000)
        .number("ring_width_m", &P::ringWidth, 50, "m", "width of the ring around a camp that must be forest or water", 5, 1000)
        .number("enclosure_min", &P::enclosureMin, 0.8, "0-1", "share of the ring that is forest or water", 0, 1)
        .number("remote_min_m", &P::remoteMin, 1000, "m", "distance from open land (farms, villages, ponds' dikes) a camp must keep", 0, 100000)
        .number("distance_cap_m", &P::distanceCap, 2000, "m", "distances are measured up to this; sets most of the halo", 10, 100000)
        .number("max_elongation", &P::maxElongation, 8, "ratio", "longer-than-wide limit (creeks and tracks are very linear)", 1, 100)
        .number("min_width_m", &P::minWidth, 20, "m", "mean width (area / length) of a camp's clearly bare patch: drops one-pixel creek-bank chains", 0, 1000)
        .number("core_ndvi_max", &P::coreNdviMax, 0.3, "NDVI", "a clearly bare pixel has NDVI below this ...", -1, 1)
        .number("core_ndbi_min", &P::coreNdbiMin, 0.05, "NDBI", "... and NDBI at or above this (SWIR1 > NIR, plus a margin over creek mud) ...", -1, 1)
        .number("core_bsi_min", &P::coreBsiMin, 0.05, "BSI", "... or BSI at or above this ...", -1, 1)
        .number("core_bright_min", &P::coreBrightMin, 0.08, "reflectance", "... or a visible albedo (blue+green+red)/3 at or above this (wet mud, roofs; creek-bank mud stays below 0.075; Ridd 1995)", 0, 1)
        .number("bare_red_green_min", &P::bareRedGreenMin, -0.1, "index", "without swir1: bare evidence needs nd(red, green) at or above this (soil reflects at least as much red as green; water and leaves less)", -1, 1)
        .number("core_min_area_m2", &P::coreMinArea, 300, "m2", "area of clearly bare pixels one patch of a camp needs (one pixel of a 10-30 m sensor)", 0, 1e9)
        .number("group_gap_m", &P::groupGap, 100, "m", "patches this close (pixel centres) are one camp, judged and reported once (huts and racks spread among trees)", 0, 1000)
        .number("explain_forest_max", &P::explainForestMax, 0.7, "0-1", "--explain also reports land with no bare evidence whose forest fraction is below this, with the mask that took it", 0, 1.5)
        .number("min_score", &P::minScore, 0, "0-1", "drop patches scoring below this", 0, 1)
        .number("anomaly_min", &P::anomalyMin, 17, "SD", "camp-scale anomaly, with swir1 or swir2: land whose mean indices in a disk of anomaly_radius_m (NDVI, NBR, BSI, NDBI with SWIR; NDVI, visible albedo, NDWI without) depart this far together (Mahalanobis, standard errors) from its anomaly_window_m box, towards bare ground, is bare evidence and clearly bare (burnt or part-canopy camps; 0 = off; docs/clearing.md)", 0, 1000)
        .number("anomaly_min_no_swir", &P::anomalyMinNoSwir, 15, "SD", "anomaly_min for inputs without swir1 and swir2, over NDVI, visible albedo and NDWI (its natural texture reaches lower values than the four SWIR indices; 0 = off: 40 % faster clearing on four bands, a tenth fewer camps found; docs/clearing.md)", 0, 1000)
        .number("anomaly_radius_m", &P::anomalyRadius, 37, "m", "radius of the camp-sized disk of the anomaly (two 18.5 m pixels)", 1, 1000)
        .number("anomaly_window_m", &P::anomalyWindow, 900, "m", "side of the box of forest the disk is compared with", 10, 5000)
        .number("anomaly_grain_m", &P::anomalyGrain, 18.5, "m", "the anomaly counts the pixels of its disk as independent evidence only down to this pixel size: finer pixels (10 m, upsampled SWIR) are correlated, and the thresholds were set at 18.5 m", 1, 1000)
        .number("anomaly_sd_floor", &P::anomalySdFloor, 0.005, "index", "a floor on each index's spread in the box: its square is added to the variance, for very even canopy", 0.0001, 1)
        .number("anomaly_wide_min", &P::anomalyWideMin, 20, "SD", "with swir1 or swir2, the same anomaly over a wider disk (anomaly_wide_radius_m) against the same box: a faint camp of a hectare or more departs further there than over the small disk; the mangrove's own texture reaches 17.9 (0 = off; only while anomaly_min is on; docs/clearing.md)", 0, 1000)
        .number("anomaly_wide_radius_m", &P::anomalyWideRadius, 74, "m", "radius of the wide disk (four 18.5 m pixels)", 1, 1000);
    return t;
}

DetectorInfo ClearingDetector::describe() {
    DetectorInfo d;
    d.name = "clearing";
    d.description =
        "Remote camps: small cleared or built patches (bare mud, racks, huts) inside unbroken "
        "mangrove or forest, enclosed by forest or water and far from open farmland. Needs red, "
        "nir and green or swir1 (blue and swir1 add the soil fraction, swir2 burnt ground).";
    d.options = table().specs();
    // A camp of several patches reports the camp's enclosure and score, its patches' sums,
    // nearest distances, widest width, highest elongation and lowest matrix share.
    d.attributes = {
        {"enclosure", AttributeType::Double, "0-1", "share of the ring around the camp (beyond all its patches) that is forest or water"},
        {"distance_to_open_land_m", AttributeType::Double, "m", "to the nearest open land (capped at distance_cap_m)"},
        {"distance_to_water_m", AttributeType::Double, "m", "to the nearest water, centre to centre (capped)"},
        {"core_area_m2", AttributeType::Double, "m2", "area of clearly bare pixels, summed over the camp's patches"},
        {"width_m", AttributeType::Double, "m", "mean width (area / longest extent) of the camp's widest patch"},
        {"matrix_veg_share", AttributeType::Double, "0-1", "vegetated share of land around the patches (the lowest)"},
        {"elongation", AttributeType::Double, "ratio", "long axis over short axis (the most elongated patch)"},
        {"cleared_m2", AttributeType::Double, "m2", "cleared ground: soil fractions summed over the camp's patches"},
        {"patches", AttributeType::Int, "", "patches within group_gap_m that make up this camp (huts of a cluster); drawn are those with clearly bare ground"},
    };
    return d;
}

std::unique_ptr<Detector> ClearingDetector::create(const OptionValues& options) {
    return std::make_unique<ClearingDetector>(options);
}

ClearingDetector::ClearingDetector(const OptionValues& o) : info_(describe()) {
    p_ = table().bind(o);
    if (p_.minArea > p_.maxArea)
        throw UsageError("min_area_m2 (" + optionValueText(p_.minArea) + ") exceeds max_area_m2 (" + optionValueText(p_.maxArea) +
                         "): give a smaller min_area_m2 or a larger max_area_m2");
    if (p_.remoteMin > p_.distanceCap)
        throw UsageError("remote_min_m (" + optionValueText(p_.remoteMin) + ") exceeds distance_cap_m (" +
                         optionValueText(p_.distanceCap) + "): distances beyond the cap are not measured");
    if (p_.unmixCoreMin < p_.unmixCandidateMin)
        throw UsageError("unmix_core_min (" + optionValueText(p_.unmixCoreMin) + ") is below unmix_candidate_min (" +
                         optionValueText(p_.unmixCandidateMin) + "): a clearly bare pixel must be a candidate first; set both");
    unmixer_ = Unmixer(parseSpectrum(p_.forestSpectrum, "endmember_forest"), parseSpectrum(p_.waterSpectrum, "endmember_water"),
                       parseSpectrum(p_.soilSpectrum, "endmember_soil"));
    anomalyGrainPixels_ = diskPixelCount(p_.anomalyRadius / p_.anomalyGrain, p_.anomalyRadius / p_.anomalyGrain);
    anomalyWideGrainPixels_ = diskPixelCount(p_.anomalyWideRadius / p_.anomalyGrain, p_.anomalyWideRadius / p_.anomalyGrain);
}

std::vector<std::string> ClearingDetector::bandsFor(const std::vector<std::string>& available) const {
    std::string missing;
    for (const char* n : {"red", "nir"})
        if (!hasBand(available, n)) missing += (missing.empty() ? "" : ", ") + std::string(n);
    if (!hasBand(available, "green") && !hasBand(available, "swir1"))
        missing += (missing.empty() ? "" : ", ") + std::string("green or swir1");
    if (!missing.empty())
        throw UsageError("the clearing detector needs red, nir and green or swir1 bands but the input lacks " + missing +
                         ": pass --sensor (sentinel2, landsat8, landsat7, ...) or --band NAME=PATH");
    std::vector<std::string> bands{"red", "nir"};
    for (const char* n : {"green", "swir1", "blue", "swir2"})
        if (hasBand(available, n)) bands.push_back(n);
    return bands;
}

double ClearingDetector::contextMetres() const {
    // A camp is judged by the forest matrix around it (a disk of matrix_radius_m) and, for its
    // anomaly, by a box of anomaly_window_m.
    return std::max(2 * p_.matrixRadius, p_.anomalyWindow);
}

double ClearingDetector::haloMetres() const {
    // An owned camp lies within max_extent of its anchor. A patch that could join it starts within
    // group_gap of it and spans up to max_extent more. That patch's ring looks edge_max + ring_gap +
    // ring_width further, its distance to open land up to distance_cap, and open land itself is
    // judged over a disk of matrix_radius.
    // A pixel's anomaly looks anomaly_window_m / 2 + its disk's radius around it.
    const bool wide = p_.anomalyMin > 0 && p_.anomalyWideMin > 0;
    const double radius = wide ? std::max(p_.anomalyRadius, p_.anomalyWideRadius) : p_.anomalyRadius;
    // The blended edge, up to edge_max beyond a patch, stops at anomaly bits and at open land,
    // which looks matrix_radius around it.
    const double anomaly = std::max(p_.anomalyMin, p_.anomalyMinNoSwir) > 0 ? p_.edgeMax + p_.anomalyWindow / 2 + radius : 0.0;
    return 2 * p_.maxExtent + p_.groupGap +
           std::max({p_.edgeMax + p_.ringGap + p_.ringWidth, std::max(p_.distanceCap, p_.edgeMax) + p_.matrixRadius, anomaly});
}

std::string ClearingDetector::bandWarning(const std::vector<std::string>& available) const {
    if (hasBand(available, "swir1")) return {};
    // Figures measured on the Sundarbans scene and its 381 km2 reserve mosaic (docs/clearing.md).
    std::string w =
        "no swir1 band: the clearing detector tells bare ground from creeks mixed with mangrove by the "
        "soil line only (measured on the Sundarbans: about 0.8 of planted camps found, against 0.94 with "
        "swir1 and swir2)";
    if (!hasBand(available, "blue"))
        w += "; without blue as well, 8 false camps per 100 km2 of reserve there";
    return w + ". Give swir1 and swir2 (Sentinel-2 B11, B12; Landsat SWIR) if the product has them.";
}

namespace {

// A disk too large for the anomaly's exact sums: the message names the option and what fits.
void checkAnomalyDisk(const char* option, double radius, double gsdX, double gsdY) {
    if (anomalyDiskFits(radius / gsdX, radius / gsdY)) return;
    const double gsd = std::min(gsdX, gsdY);
    double most = radius;  // the largest radius that fits, in whole pixels
    while (most > gsd && !anomalyDiskFits(most / gsdX, most / gsdY)) most -= gsd;
    std::ostringstream m;
    m << "clearing: " << option << "=" << radius << " is " << std::lround(radius / gsd) << " pixels of " << gsd
      << " m, too many for the anomaly's exact sums: give " << option << " of at most " << std::floor(most)
      << " m, or anomaly_min=0, anomaly_min_no_swir=0 and anomaly_wide_min=0 to turn the anomaly off";
    throw UsageError(m.str());
}

}  // namespace

void ClearingDetector::checkInput(double gsdX, double gsdY) const {
    if (std::max(p_.anomalyMin, p_.anomalyMinNoSwir) > 0) checkAnomalyDisk("anomaly_radius_m", p_.anomalyRadius, gsdX, gsdY);
    if (p_.anomalyMin > 0 && p_.anomalyWideMin > 0) checkAnomalyDisk("anomaly_wide_radius_m", p_.anomalyWideRadius, gsdX, gsdY);
}

ClearingDetector::Unmixer::Unmixer(const Spectrum& forest, const Spectrum& water, const Spectrum& soil) {
    // The pseudo-inverse of [endmembers; 1 ... 1] maps (bands, 1) to fractions that sum to one
    // (least squares; Settle & Drake 1993), computed once for three and for two endmembers.
    auto solve = [](std::vector<const Spectrum*> em) {
        cv::Mat a(6, static_cast<int>(em.size()), CV_64F);
        for (int j = 0; j < a.cols; ++j) {
            for (int b = 0; b < 5; ++b) a.at<double>(b, j) = (*em[static_cast<std::size_t>(j)])[static_cast<std::size_t>(b)];
            a.at<double>(5, j) = 1.0;
        }
        cv::Mat m;
        // The inverse condition number: identical spectra give ~1e-17, not exactly 0 (an audit ran
        // with endmember_forest set to the soil's, in silence).
        if (!(cv::invert(a, m, cv::DECOMP_SVD) > 1e-9))
            throw UsageError("the unmixing endmembers (endmember_forest, endmember_water, endmember_soil) are linearly "
                             "dependent: give three different spectra");
        std::vector<Row> rows(em.size());
        for (int j = 0; j < m.rows; ++j)
            for (int b = 0; b < 6; ++b) rows[static_cast<std::size_t>(j)][static_cast<std::size_t>(b)] = m.at<double>(j, b);
        return rows;
    };
    const auto three = solve({&forest, &water, &soil});
    forest3_ = three[0];
    water3_ = three[1];
    soil3_ = three[2];
    const auto fs = solve({&forest, &soil});
    forestFs_ = fs[0];
    soilFs_ = fs[1];
    soilWs_ = solve({&water, &soil})[1];
}

ClearingDetector::Unmixer::Fractions ClearingDetector::Unmixer::fractions(const Spectrum& x) const {
    auto dot = [&x](const Row& r) {
        double v = r[5];
        for (std::size_t b = 0; b < 5; ++b) v += r[b] * x[b];
        return v;
    };
    double forest = dot(forest3_), soil = dot(soil3_);
    if (dot(water3_) < 0) {  // no water in the pixel: forest and soil only
        forest = dot(forestFs_);
        soil = dot(soilFs_);
    }
    if (forest < 0) {  // no forest: water and soil only
        forest = 0;
        soil = dot(soilWs_);
    }
    return {std::min(forest, 1.5), std::clamp(soil, 0.0, 1.5)};
}

namespace {

// The class bits of one pixel; `fr` receives its unmixed fractions (0 when it cannot be unmixed).
std::uint8_t classOf(const Sample& s, const Params& p, const ClearingDetector::Unmixer& unmixer, ClearingDetector::Unmixer::Fractions& fr) {
    using C = ClearingDetector;
    const float ndvi = nd(s.nir, s.red);
    if (isWater(s, ndvi, p)) return C::kValid | C::kWater;
    const std::uint8_t veg = C::kVegetation;
    std::uint8_t c = C::kValid | (ndvi >= p.vegNdviMin ? veg : bareEvidence(s, ndvi, p));
    // Burnt ground: char lowers NIR and raises SWIR2 (NBR, Key & Benson 2006).
    if (s.hasSwir2 && nd(s.nir, s.swir2) <= p.burntNbrMax && ndvi < p.burntNdviMax)
        c = static_cast<std::uint8_t>((c & ~C::kVegetation) | C::kBare | C::kCore);
    // Part canopy: a pixel that unmixes to enough soil is bare evidence even when its NDVI says
    // vegetation; creek-bank pixels unmix to forest and water instead.
    if (!(s.hasBlue && s.hasGreen && s.hasSwir1)) return c;
    fr = unmixer.fractions({s.blue, s.green, s.red, s.nir, s.swir1});
    if (fr.soil >= p.unmixCandidateMin && ndvi < p.unmixNdviMax) {
        c = static_cast<std::uint8_t>((c & ~C::kVegetation) | C::kBare);
        if (fr.soil >= p.unmixCoreMin) c |= C::kCore;
    }
    return c;
}

}  // namespace

std::vector<std::uint8_t> ClearingDetector::classify(const TileImage& t, std::vector<float>* soil,
                                                      std::vector<float>* forest) const {
    const int w = t.window.w, h = t.window.h;
    std::vector<std::uint8_t> cls(static_cast<std::size_t>(w) * h, 0);
    if (soil) soil->assign(cls.size(), 0.0f);
    if (forest) forest->assign(cls.size(), 0.0f);
    // Rows in parallel: one tile may be all that --ram lets run at a time.
    tbb::parallel_for(tbb::blocked_range<int>(0, h, 16), [&](const tbb::blocked_range<int>& r) {
        RowSampler bands(t);
        for (int y = r.begin(); y < r.end(); ++y) {
            const std::uint8_t* v = t.valid.ptr<std::uint8_t>(y);
            bands.load(y, 0, w);
            for (int x = 0; x < w; ++x) {
                if (!v[x]) continue;
                Unmixer::Fractions fr;
                const std::size_t k = static_cast<std::size_t>(y) * w + x;
                cls[k] = classOf(bands.at(x), p_, unmixer_, fr);
                if (soil) (*soil)[k] = static_cast<float>(fr.soil);
                if (forest) (*forest)[k] = static_cast<float>(fr.forest);
            }
        }
    });
    return cls;
}

namespace {

// f(k0, k1) over the pixel range in parallel blocks.
template <class F>
void forPixels(std::size_t n, F f) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1 << 16),
                      [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
}

int oddPixels(double metres, double gsd) {
    const int n = std::max(1, static_cast<int>(std::lround(metres / gsd)));
    return n % 2 ? n : n + 1;
}

// One index of the camp-scale anomaly: its sign of departure over a camp, and its values over a
// loaded row (n pixels into out): whole rows, so that the loops vectorise (a call per pixel was
// 6 % of clearing).
struct AnomalyIndex {
    int toward;
    void (*row)(const RowSampler& r, int n, float* out);
};

enum RowBand : std::size_t { kRed, kNir, kGreen, kSwir1, kBlue, kSwir2 };

template <RowBand A, RowBand B>
void ndRow(const RowSampler& r, int n, float* out) {
    const float *a = r.band(A), *b = r.band(B);
    for (int i = 0; i < n; ++i) out[i] = nd(a[i], b[i]);
}

// The indices that the bands allow. With SWIR: NDVI and NBR fall over a camp, BSI and NDBI rise
// (Rouse et al. 1974; Key & Benson 2006; Rikimaru et al. 2002; Zha et al. 2003). Without SWIR
// (visible and near infrared only): NDVI falls, the visible albedo and NDWI rise (bare mud,
// sand and roofs are brighter than mangrove and hold less NIR; Ridd 1995; McFeeters 1996).
std::vector<AnomalyIndex> anomalyIndices(const TileImage& t) {
    std::vector<AnomalyIndex> out{{-1, ndRow<kNir, kRed>}};
    const bool blue = t.has("blue"), green = t.has("green"), swir1 = t.has("swir1"), swir2 = t.has("swir2");
    if (swir2) out.push_back({-1, ndRow<kNir, kSwir2>});
    if (swir1 && blue)
        out.push_back({1, [](const RowSampler& r, int n, float* o) {
                           const float *s1 = r.band(kSwir1), *red = r.band(kRed), *nir = r.band(kNir), *bl = r.band(kBlue);
                           for (int i = 0; i < n; ++i) o[i] = nd(s1[i] + red[i], nir[i] + bl[i]);
                       }});
    if (swir1) out.push_back({1, ndRow<kSwir1, kNir>});
    if (swir1 || swir2) return out;
    // The visible albedo, as bareEvidence's.
    if (green)
        out.push_back({1, [](const RowSampler& r, int n, float* o) {
                           const float *b = r.band(kBlue), *g = r.band(kGreen), *red = r.band(kRed);
                           for (int i = 0; i < n; ++i) o[i] = visibleAlbedo(b ? b[i] : 0.0f, g[i], red[i], b != nullptr);
                       }});
    if (green) out.push_back({1, ndRow<kGreen, kNir>});
    return out;
}

// Fixed point of an index value in [-1, 1], rounded half away from zero as std::lround does (the
// double sum is exact for these magnitudes), without the libm call: it was 2 % of clearing.
std::int16_t fixedIndex(float v) {
    if (std::isnan(v)) return 0;  // an infinite reflectance; lround gave 0 here too (x86)
    const double x = kAnomalyOne * static_cast<double>(v);
    return static_cast<std::int16_t>(x >= 0 ? static_cast<int>(x + 0.5) : -static_cast<int>(-x + 0.5));
}

// The anomaly's index planes over `crop` (window pixels), in fixed point, on land only (0
// elsewhere, as localAnomaly asks).
AnomalyPlanes anomalyPlanes(const TileImage& t, const std::vector<std::uint8_t>& cls, const cv::Rect& crop) {
    using C = ClearingDetector;
    const std::vector<AnomalyIndex> indices = anomalyIndices(t);
    std::vector<int> toward;
    for (const AnomalyIndex& i : indices) toward.push_back(i.toward);
    AnomalyPlanes in(crop.width, crop.height, toward);
    tbb::parallel_for(tbb::blocked_range<int>(0, in.h, 16), [&](const tbb::blocked_range<int>& r) {
        RowSampler bands(t);
        std::vector<float> v(static_cast<std::size_t>(in.w));
        for (int cy = r.begin(); cy < r.end(); ++cy) {
            bands.load(cy + crop.y, crop.x, in.w);
            const std::size_t k0 = static_cast<std::size_t>(cy) * static_cast<std::size_t>(in.w);
            const std::uint8_t* c = cls.data() + static_cast<std::size_t>(cy + crop.y) * static_cast<std::size_t>(t.window.w) + crop.x;
            std::uint8_t* land = in.mask.get() + k0;
            for (int cx = 0; cx < in.w; ++cx) land[cx] = (c[cx] & C::kValid) && !(c[cx] & C::kWater);
            for (std::size_t j = 0; j < indices.size(); ++j) {
                indices[j].row(bands, in.w, v.data());
                std::int16_t* dst = in.index[j].get() + k0;
                for (int cx = 0; cx < in.w; ++cx) dst[cx] = land[cx] ? fixedIndex(std::clamp(v[static_cast<std::size_t>(cx)], -1.0f, 1.0f)) : 0;
            }
        }
    });
    return in;
}

// Pixels that are already bare and clearly bare gain nothing from the anomaly: skip their z
// (unless --explain reports it).
void wantOnlyNewCores(AnomalyPlanes& in, const std::vector<std::uint8_t>& cls, int windowW, const cv::Rect& crop) {
    constexpr std::uint8_t kBoth = ClearingDetector::kBare | ClearingDetector::kCore;
    in.wanted = pooledArray<std::uint8_t>(in.size());
    tbb::parallel_for(tbb::blocked_range<int>(0, in.h, 64), [&](const tbb::blocked_range<int>& r) {
        for (int cy = r.begin(); cy < r.end(); ++cy) {
            const std::uint8_t* c = cls.data() + static_cast<std::size_t>(cy + crop.y) * static_cast<std::size_t>(windowW) + crop.x;
            std::uint8_t* want = in.wanted.get() + static_cast<std::size_t>(cy) * static_cast<std::size_t>(in.w);
            for (int cx = 0; cx < in.w; ++cx) want[cx] = (c[cx] & kBoth) != kBoth;
        }
    });
}

// Land of the anomaly's crop that is not bare evidence.
PooledArray<std::uint8_t> landNotBare(const AnomalyPlanes& in, const std::vector<std::uint8_t>& cls, int windowW, const cv::Rect& crop) {
    PooledArray<std::uint8_t> out = pooledArray<std::uint8_t>(in.size());
    tbb::parallel_for(tbb::blocked_range<int>(0, in.h, 64), [&](const tbb::blocked_range<int>& r) {
        for (int cy = r.begin(); cy < r.end(); ++cy) {
            const std::uint8_t* c = cls.data() + static_cast<std::size_t>(cy + crop.y) * static_cast<std::size_t>(windowW) + crop.x;
            const std::size_t k0 = static_cast<std::size_t>(cy) * static_cast<std::size_t>(in.w);
            for (int cx = 0; cx < in.w; ++cx)
                out[k0 + static_cast<std::size_t>(cx)] = in.mask[k0 + static_cast<std::size_t>(cx)] && !(c[cx] & ClearingDetector::kBare);
        }
    });
    return out;
}

}  // namespace

namespace {

bool hasSwir(const TileImage& t) { return t.has("swir1") || t.has("swir2"); }

}  // namespace

double ClearingDetector::anomalyThreshold(const TileImage& t) const { return hasSwir(t) ? p_.anomalyMin : p_.anomalyMinNoSwir; }

double ClearingDetector::anomalyWideThreshold(const TileImage& t) const { return hasSwir(t) ? p_.anomalyWideMin : 0.0; }

// The camp-scale anomaly (docs/clearing.md): how far NDVI, NBR, BSI and NDBI over a camp-sized
// disk depart, together, from their box of forest, in units of the box's own covariance (RX,
// Reed & Yu 1990). Char and cut or part-canopy ground shift all four a little where no single
// pixel looks bare; natural texture mostly moves them along the directions its own box varies
// in. With SWIR a wider disk is tested too (a faint camp of a hectare). Exact integer sums, so a
// pixel's z does not depend on the tiling.
void ClearingDetector::markAnomalies(const TileImage& t, std::vector<std::uint8_t>& cls, std::vector<float>* z,
                                     std::vector<float>* zWide) const {
    if (z) z->assign(cls.size(), 0.0f);
    const double threshold = anomalyThreshold(t), wide = threshold > 0 ? anomalyWideThreshold(t) : 0.0;
    if (zWide && wide > 0) zWide->assign(cls.size(), 0.0f);
    if (threshold <= 0) return;
    AnomalyWindow win;
    win.boxX = oddPixels(p_.anomalyWindow, t.gsdX), win.boxY = oddPixels(p_.anomalyWindow, t.gsdY);
    win.diskX = p_.anomalyRadius / t.gsdX, win.diskY = p_.anomalyRadius / t.gsdY;
    win.sdFloor = p_.anomalySdFloor;
    // Pixels finer than the grain add no independent evidence: a 37 m disk counts at most the
    // 13 pixels it holds at 18.5 m, so a 10 m scene (or one resampled to 10 m) keeps the
    // thresholds' meaning (without this, 1110 false camps on the mosaic resampled to 9 m).
    win.maxDiskWeight = anomalyGrainPixels_;
    // Only where patches are measured (a patch that can join an owned camp lies inside it; bare
    // bits are all the anomaly adds), from the pixels their boxes and disks reach: the rest of
    // the window's halo is for distances and the forest matrix.
    const cv::Rect area = anomalyArea(t);
    const double reachX = wide > 0 ? std::max(win.diskX, p_.anomalyWideRadius / t.gsdX) : win.diskX;
    const double reachY = wide > 0 ? std::max(win.diskY, p_.anomalyWideRadius / t.gsdY) : win.diskY;
    const int mx = win.boxX / 2 + static_cast<int>(std::ceil(reachX)), my = win.boxY / 2 + static_cast<int>(std::ceil(reachY));
    const cv::Rect crop = cv::Rect(area.x - mx, area.y - my, area.width + 2 * mx, area.height + 2 * my) & cv::Rect(0, 0, t.window.w, t.window.h);
    win.areaX0 = area.x - crop.x, win.areaX1 = win.areaX0 + area.width;
    win.areaY0 = area.y - crop.y, win.areaY1 = win.areaY0 + area.height;
    AnomalyPlanes planes = anomalyPlanes(t, cls, crop);
    if (!z) wantOnlyNewCores(planes, cls, t.window.w, crop);
    // The wide disk looks for faint ground that no pixel test took: it sums only land that is
    // not bare evidence already. Summing a bright camp's own pixels as well marked the forest
    // around it too (outlines 3-20 % larger on planted scenes).
    PooledArray<std::uint8_t> faint;
    std::vector<AnomalyDisk> more;
    if (wide > 0) {
        faint = landNotBare(planes, cls, t.window.w, crop);
        more.push_back({p_.anomalyWideRadius / t.gsdX, p_.anomalyWideRadius / t.gsdY, static_cast<double>(anomalyWideGrainPixels_), faint.get()});
    }
    const std::vector<PooledArray<float>> zc = localAnomalies(planes, win, more);
    tbb::parallel_for(tbb::blocked_range<int>(area.y, area.y + area.height, 16), [&](const tbb::blocked_range<int>& r) {
        for (int y = r.begin(); y < r.end(); ++y)
            for (int x = area.x; x < area.x + area.width; ++x) {
                const std::size_t c = static_cast<std::size_t>(y - crop.y) * static_cast<std::size_t>(crop.width) + static_cast<std::size_t>(x - crop.x);
                const std::size_t k = static_cast<std::size_t>(y) * static_cast<std::size_t>(t.window.w) + static_cast<std::size_t>(x);
                const float v = zc[0][c], vw = more.empty() ? 0.0f : zc[1][c];
                if (v >= threshold || (wide > 0 && vw >= wide)) cls[k] |= kBare | kCore;
                if (z) (*z)[k] = v;
                if (zWide && wide > 0) (*zWide)[k] = vw;
            }
    });
}

namespace {

// Per-pixel planes of one tile that the patch gates read.
struct PixelPlanes {
    int w = 0, h = 0;
    double gx = 0, gy = 0;
    bool unmixed = false;  // soil holds fractions (blue, green and swir1 present)
    std::vector<std::uint8_t> cls;
    std::vector<float> soil, forest, vegShare;  // soil with unmixing; forest also only for --explain
    std::vector<float> anomaly;                 // --explain: the anomaly z
    std::vector<float> anomalyWide;             // --explain: the wide disk's z (SWIR)
    bool explain = false;                       // --explain: dWater (every patch's) and the above
    DistancePlane dOpen, dWater;
};

std::array<std::int64_t, 3> matrixBits(std::uint8_t c) {
    using C = ClearingDetector;
    return {(c & C::kValid) != 0, (c & C::kValid) && !(c & C::kWater), (c & C::kVegetation) != 0};
}

// Open land is non-vegetated land where less than open_veg_share_max of the land around is
// vegetated, and the disk is not mostly river. Records the vegetated share of land too.
// Returns whether pixel k is open land.
bool judgeOpen(PixelPlanes& px, std::size_t k, std::int64_t nValid, std::int64_t nLand,
               std::int64_t nVeg, const Params& p) {
    using C = ClearingDetector;
    px.vegShare[k] = static_cast<float>(static_cast<double>(nVeg) / static_cast<double>(std::max<std::int64_t>(nLand, 1)));
    const double landShare = static_cast<double>(nLand) / static_cast<double>(std::max<std::int64_t>(nValid, 1));
    const std::uint8_t c = px.cls[k];
    return (c & C::kValid) && !(c & (C::kWater | C::kVegetation)) &&
           px.vegShare[k] < p.openVegShareMax && landShare >= p.openLandShareMin;
}

// Blocks of pixels within distance_cap of a measured patch's box. Open land matters only
// there: a patch reads its distance to open land clamped at the cap, and the vegetated share
// (the disk sums' other use) only at its own pixels. A reserve has few patches, and the forest
// matrix's 500 m disk sums were a third of clearing's time (output unchanged).
class NearBlocks {
public:
    static constexpr int kBlock = 16;  // px: one flag per block keeps the row test cheap

    NearBlocks(int w, int h) : bw_((w + kBlock - 1) / kBlock), on_(static_cast<std::size_t>(bw_) * ((h + kBlock - 1) / kBlock), 0) {}
    // Marks the blocks that meet `box` grown by rx, ry pixels.
    void add(const cv::Rect& box, int rx, int ry, int w, int h) {
        const int x0 = std::max(0, box.x - rx) / kBlock, x1 = std::min(w - 1, box.x + box.width - 1 + rx) / kBlock;
        const int y0 = std::max(0, box.y - ry) / kBlock, y1 = std::min(h - 1, box.y + box.height - 1 + ry) / kBlock;
        for (int by = y0; by <= y1; ++by)
            std::fill(on_.begin() + by * bw_ + x0, on_.begin() + by * bw_ + x1 + 1, std::uint8_t{1});
        any_ = true;
    }
    bool any() const { return any_; }
    // Row y's block flags: pixel x's is [x / kBlock].
    const std::uint8_t* blocks(int y) const { return on_.data() + static_cast<std::size_t>(y / kBlock) * static_cast<std::size_t>(bw_); }
    // Row y's flags, one per pixel, into `row` (w pixels).
    void row(int y, int w, std::uint8_t* out) const {
        const std::uint8_t* b = blocks(y);
        for (int x = 0; x < w; ++x) out[x] = b[x / kBlock];
    }

private:
    int bw_;
    std::vector<std::uint8_t> on_;
    bool any_ = false;
};

// Valid, land and vegetated pixels within the disk, packed three to a value and streamed row by
// row (one pass and no whole-tile planes) when they fit; judged only in `near`.
bool markOpenLandPacked(PixelPlanes& px, const Params& p, double rx, double ry, const NearBlocks& near) {
    if (!diskSumPackable(px.w, px.h, rx, ry)) return false;
    const std::size_t w = static_cast<std::size_t>(px.w);
    auto source = [&](int y, std::int64_t* row) {
        const std::uint8_t* c = px.cls.data() + static_cast<std::size_t>(y) * w;
        for (std::size_t x = 0; x < w; ++x) {
            const auto b = matrixBits(c[x]);
            row[x] = b[0] | b[1] << kPackBits | b[2] << (2 * kPackBits);
        }
    };
    // Sums are read only at non-vegetated land (open land's candidates) and at bare evidence (the
    // patches' matrix share): forest and water are most of a reserve (output unchanged).
    auto wanted = [&](int y, std::uint8_t* row) {
        using C = ClearingDetector;
        near.row(y, px.w, row);
        const std::uint8_t* c = px.cls.data() + static_cast<std::size_t>(y) * w;
        for (std::size_t x = 0; x < w; ++x)
            row[x] &= (c[x] & C::kValid) && (!(c[x] & (C::kWater | C::kVegetation)) || (c[x] & C::kBare));
    };
    // Rows are judged in parallel while other rows' classes are read: kOpen is set afterwards.
    std::vector<std::uint8_t> open(px.cls.size(), 0);
    auto sink = [&](int y, const std::int64_t* sums) {
        const std::uint8_t* in = near.blocks(y);
        for (std::size_t x = 0, k = static_cast<std::size_t>(y) * w; x < w; ++x, ++k)
            if (in[x / NearBlocks::kBlock])
                open[k] = judgeOpen(px, k, packedField(sums[x], 0), packedField(sums[x], 1), packedField(sums[x], 2), p);
    };
    diskSumRows(px.w, px.h, rx, ry, source, wanted, sink);
    forPixels(open.size(), [&](std::size_t k0, std::size_t k1) {
        for (std::size_t k = k0; k < k1; ++k) px.cls[k] |= open[k] ? ClearingDetector::kOpen : 0;
    });
    return true;
}

// The forest matrix: the vegetated share of land (rivers neither help nor hurt) within a disk.
// Open land is non-vegetated land where most land around is not vegetated (fields, villages,
// the dikes between shrimp ponds); a camp of a few ha cannot mark itself.
void markOpenLand(PixelPlanes& px, const Params& p, const NearBlocks& near) {
    const double rx = p.matrixRadius / px.gx, ry = p.matrixRadius / px.gy;
    px.vegShare.assign(px.cls.size(), 0.0f);
    if (!near.any() || markOpenLandPacked(px, p, rx, ry, near)) return;
    IntPlane valid(px.w, px.h), land(px.w, px.h), veg(px.w, px.h);
    for (std::size_t k = 0; k < px.cls.size(); ++k) {
        const auto b = matrixBits(px.cls[k]);
        valid.v[k] = b[0], land.v[k] = b[1], veg.v[k] = b[2];
    }
    const IntPlane nValid = diskSum(valid, rx, ry), nLand = diskSum(land, rx, ry), nVeg = diskSum(veg, rx, ry);
    for (std::size_t k = 0; k < px.cls.size(); ++k)
        if (judgeOpen(px, k, nValid.v[k], nLand.v[k], nVeg.v[k], p))
            px.cls[k] |= ClearingDetector::kOpen;
}

std::vector<std::uint8_t> maskOf(const std::vector<std::uint8_t>& cls, std::uint8_t bit) {
    std::vector<std::uint8_t> m(cls.size());
    forPixels(cls.size(), [&](std::size_t k0, std::size_t k1) {
        for (std::size_t k = k0; k < k1; ++k) m[k] = (cls[k] & bit) ? 255 : 0;
    });
    return m;
}

// The same over `crop` of a plane `w` pixels wide.
std::vector<std::uint8_t> maskOf(const std::vector<std::uint8_t>& cls, int w, std::uint8_t bit, const cv::Rect& crop) {
    std::vector<std::uint8_t> m(static_cast<std::size_t>(crop.area()));
    for (int y = 0; y < crop.height; ++y) {
        const std::uint8_t* c = cls.data() + static_cast<std::size_t>(y + crop.y) * static_cast<std::size_t>(w) + crop.x;
        std::uint8_t* o = m.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(crop.width);
        for (int x = 0; x < crop.width; ++x) o[x] = (c[x] & bit) ? 255 : 0;
    }
    return m;
}

// What the gates measure on one candidate patch.
struct Patch {
    Component c;
    std::int64_t ring = 0, enclosed = 0, core = 0;
    double area = 0, cleared = 0, coreArea = 0, enclosure = 0, matrixShare = 0;
    double dOpen = 0, dWater = 0, elongation = 1, width = 0, score = 0;
    double anomaly = std::nan(""), anomalyWide = std::nan("");  // largest anomaly z (--explain)
};

cv::Mat ellipse(int rx, int ry) { return cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * rx + 1, 2 * ry + 1)); }

// Enclosure is counted on a ring that starts ring_gap beyond the camp's patches: the camp's own
// blended edge mixes camp and canopy, and its other huts are the camp, neither forest nor water.
struct Ring {
    std::int64_t pixels = 0, enclosed = 0;
};

// The camp's blended edge: land grown from its patches, one pixel at a time up to edge_max,
// through pixels that are neither forest, water nor bare (camp pixels under part canopy, mixed
// with the forest around). Measuring the ring beyond it keeps a camp's own fringe from counting
// against it; forest, water, other bare ground and open land stop the growth.
void growBlendedEdge(cv::Mat& inner, const PixelPlanes& px, const Params& p, cv::Rect crop) {
    // Steps per axis, so that on anisotropic pixels the edge reaches edge_max on both.
    const int stepsX = static_cast<int>(std::lround(p.edgeMax / px.gx)), stepsY = static_cast<int>(std::lround(p.edgeMax / px.gy));
    if (stepsX <= 0 && stepsY <= 0) return;
    cv::Mat edgeable(crop.size(), CV_8U);
    constexpr std::uint8_t stop =
        ClearingDetector::kVegetation | ClearingDetector::kWater | ClearingDetector::kBare | ClearingDetector::kOpen;
    for (int y = 0; y < crop.height; ++y)
        for (int x = 0; x < crop.width; ++x) {
            const std::uint8_t c = px.cls[static_cast<std::size_t>(y + crop.y) * px.w + (x + crop.x)];
            edgeable.at<std::uint8_t>(y, x) = (c & ClearingDetector::kValid) && !(c & stop) ? 255 : 0;
        }
    cv::Mat grown;
    int count = cv::countNonZero(inner);
    for (int i = 0; i < std::max(stepsX, stepsY); ++i) {
        const cv::Mat step = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(i < stepsX ? 3 : 1, i < stepsY ? 3 : 1));
        cv::dilate(inner, grown, step, cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
        grown &= edgeable;
        grown |= inner;
        const int now = cv::countNonZero(grown);  // grown holds inner: equal counts, nothing grew
        if (now == count) break;
        count = now;
        std::swap(inner, grown);
    }
}

Ring ringOf(const ComponentExtractor& cc, const std::vector<const Component*>& parts, const PixelPlanes& px, const Params& p) {
    const int edge = static_cast<int>(std::lround(p.edgeMax / std::min(px.gx, px.gy)));  // crop margin
    const int gapX = static_cast<int>(std::lround(p.ringGap / px.gx)), gapY = static_cast<int>(std::lround(p.ringGap / px.gy));
    const int rx = std::max(1, static_cast<int>(std::lround(p.ringWidth / px.gx)));
    const int ry = std::max(1, static_cast<int>(std::lround(p.ringWidth / px.gy)));
    const int pad = edge + std::max(gapX + rx, gapY + ry) + 1;
    cv::Rect b = parts.front()->box;
    for (const Component* c : parts) b |= c->box;
    const int x0 = std::max(0, b.x - pad), y0 = std::max(0, b.y - pad);
    const cv::Rect crop(x0, y0, std::min(px.w, b.x + b.width + pad) - x0, std::min(px.h, b.y + b.height + pad) - y0);
    cv::Mat inner = cv::Mat::zeros(crop.size(), CV_8U), grown;
    for (const Component* c : parts) inner |= cc.componentMask(*c, crop);
    growBlendedEdge(inner, px, p, crop);
    if (gapX > 0 || gapY > 0) cv::dilate(inner, inner, ellipse(gapX, gapY), cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    cv::dilate(inner, grown, ellipse(rx, ry), cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    Ring r;
    for (int y = 0; y < crop.height; ++y)
        for (int x = 0; x < crop.width; ++x) {
            const std::uint8_t c = px.cls[static_cast<std::size_t>(y + crop.y) * px.w + (x + crop.x)];
            if (inner.at<std::uint8_t>(y, x) || !grown.at<std::uint8_t>(y, x) || !(c & ClearingDetector::kValid)) continue;
            ++r.pixels;
            if (c & (ClearingDetector::kVegetation | ClearingDetector::kWater)) ++r.enclosed;
        }
    return r;
}

void measureRing(const ComponentExtractor& cc, Patch& m, const PixelPlanes& px, const Params& p) {
    const Ring r = ringOf(cc, {&m.c}, px, p);
    m.ring = r.pixels;
    m.enclosed = r.enclosed;
    m.enclosure = m.ring ? static_cast<double>(m.enclosed) / static_cast<double>(m.ring) : 0.0;
}

// Elongation from the second moments, mean width from the longest caliper (Feret) length.
// Coordinates are relative to the anchor, in metres: the same in every tiling.
void measureShape(Patch& m, const std::vector<cv::Point2f>& metric, double pixelArea, double gx, double gy) {
    const double npx = static_cast<double>(metric.size());
    double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (const auto& q : metric) mx += q.x, my += q.y;
    mx /= npx;
    my /= npx;
    for (const auto& q : metric) {
        sxx += (q.x - mx) * (q.x - mx);
        syy += (q.y - my) * (q.y - my);
        sxy += (q.x - mx) * (q.y - my);
    }
    if (metric.size() >= 3) {
        const double a = sxx / (npx - 1), b = sxy / (npx - 1), d = syy / (npx - 1);
        const double mid = (a + d) / 2, rad = std::sqrt((a - d) * (a - d) / 4 + b * b);
        // The pixel's own spread keeps tiny blobs from looking linear.
        m.elongation = std::sqrt((mid + rad + pixelArea / 12) / (std::max(0.0, mid - rad) + pixelArea / 12));
    }
    std::vector<cv::Point2f> hull;
    if (metric.size() >= 3)
        cv::convexHull(metric, hull);
    else
        hull = metric;
    double feret = 0;
    for (std::size_t i = 0; i < hull.size(); ++i)
        for (std::size_t j = i + 1; j < hull.size(); ++j)
            feret = std::max(feret, std::hypot(static_cast<double>(hull[i].x - hull[j].x), static_cast<double>(hull[i].y - hull[j].y)));
    m.width = m.area / (feret + 0.5 * (gx + gy));
}

// Sums over the patch's own pixels: core, cleared ground, matrix share, nearest open land and water.
void measurePixels(const ComponentExtractor& cc, Patch& m, const TileImage& t, const PixelPlanes& px, const Params& p) {
    std::int64_t clearedFixed = 0;
    double vegSum = 0, minOpen = 1e300, minWater = 1e300;
    std::vector<cv::Point2f> metric;
    metric.reserve(static_cast<std::size_t>(m.c.pixels));
    const bool water = px.explain;  // else CampWater, for the camps that pass
    for (const PixelRun* r = cc.runsBegin(m.c); r != cc.runsEnd(m.c); ++r)
        for (int x = r->x0; x < r->x1; ++x) {
            const std::size_t k = static_cast<std::size_t>(r->y) * px.w + x;
            if (px.cls[k] & ClearingDetector::kCore) ++m.core;
            if (!px.anomaly.empty()) m.anomaly = std::fmax(px.anomaly[k], m.anomaly);
            if (!px.anomalyWide.empty()) m.anomalyWide = std::fmax(px.anomalyWide[k], m.anomalyWide);
            clearedFixed += px.unmixed ? toFixed(std::min(1.0f, px.soil[k])) : toFixed(1.0);
            vegSum += px.vegShare[k];
            minOpen = std::min(minOpen, px.dOpen.metres(x, r->y));  // x, y: no division per pixel
            if (water) minWater = std::min(minWater, px.dWater.metres(x, r->y));
            metric.emplace_back(static_cast<float>((x + t.window.x - m.c.anchor.x) * px.gx),
                                static_cast<float>((r->y + t.window.y - m.c.anchor.y) * px.gy));
        }
    const double pixelArea = px.gx * px.gy;
    m.area = static_cast<double>(m.c.pixels) * pixelArea;
    m.cleared = static_cast<double>(clearedFixed) / kFixedOne * pixelArea;
    m.coreArea = static_cast<double>(m.core) * pixelArea;
    m.matrixShare = vegSum / static_cast<double>(m.c.pixels);
    m.dOpen = std::min(minOpen, p.distanceCap);
    m.dWater = std::min(minWater, p.distanceCap);
    measureShape(m, metric, pixelArea, px.gx, px.gy);
}

// Score ranks: a bare core, full enclosure, remoteness and size each add evidence.
double scoreOf(double coreArea, double area, double enclosure, double dOpen, const Params& p) {
    const double sCore = std::min(1.0, 2 * coreArea / std::max(area, 1.0));
    const double sRemote = std::min(1.0, dOpen / std::max(2 * p.remoteMin, 1.0));
    const double sSize = std::min(1.0, area / 2000.0);
    return std::pow(sCore * enclosure * sRemote * sSize, 0.25);
}

Patch measurePatch(const ComponentExtractor& cc, const Component& c, const TileImage& t, const PixelPlanes& px, const Params& p) {
    Patch m;
    m.c = c;
    measurePixels(cc, m, t, px, p);
    measureRing(cc, m, px, p);
    m.score = scoreOf(m.coreArea, m.area, m.enclosure, m.dOpen, p);
    return m;
}

// A gate a patch or camp failed: the option that sets it, what was measured, and the limit.
struct Gate {
    const char* option;
    double value;
    double limit;
};

struct Gates {
    std::vector<Gate> failed;
    void need(bool ok, const char* option, double value, double limit) {
        if (!ok) failed.push_back({option, value, limit});
    }
};

// What a patch is on its own (in a fixed order; the first is reported as the reason): not too
// much cleared ground, not a linear feature, in a forest matrix and far from open land.
std::vector<Gate> patchGates(const Patch& m, const Params& p) {
    Gates g;
    g.need(m.cleared <= p.maxArea, "max_area_m2", m.cleared, p.maxArea);
    g.need(m.elongation <= p.maxElongation, "max_elongation", m.elongation, p.maxElongation);
    g.need(m.matrixShare >= p.matrixVegShareMin, "matrix_veg_share_min", m.matrixShare, p.matrixVegShareMin);
    g.need(m.dOpen >= p.remoteMin, "remote_min_m", m.dOpen, p.remoteMin);
    return g.failed;
}

// A camp: candidate patches whose pixel centres come within group_gap (the huts, racks and yard
// of one camp). Bare core, width and enclosure are properties of the camp, not of each hut.
struct Camp {
    std::vector<std::size_t> members;
    std::int64_t pixels = 0, core = 0;
    double area = 0, cleared = 0, coreArea = 0, width = 0, elongation = 1, enclosure = 0;
    double matrixShare = 1, dOpen = 0, dWater = 0, score = 0;
    double coreMax = 0, coredWidth = 0;  // largest core of a patch; widest patch with enough core
    std::int64_t ring = 0;
};

Camp campOf(const ComponentExtractor& cc, const std::vector<Patch>& cand, std::vector<std::size_t> members,
            const PixelPlanes& px, const Params& p) {
    Camp k;
    k.members = std::move(members);
    k.dOpen = k.dWater = p.distanceCap;
    std::vector<const Component*> parts;
    for (std::size_t i : k.members) {
        const Patch& m = cand[i];
        k.pixels += m.c.pixels, k.core += m.core, k.cleared += m.cleared;
        k.elongation = std::max(k.elongation, m.elongation), k.matrixShare = std::min(k.matrixShare, m.matrixShare);
        k.dOpen = std::min(k.dOpen, m.dOpen), k.dWater = std::min(k.dWater, m.dWater);
        parts.push_back(&m.c);
    }
    const double pixelArea = px.gx * px.gy;
    k.area = static_cast<double>(k.pixels) * pixelArea;
    k.coreArea = static_cast<double>(k.core) * pixelArea;
    for (std::size_t i : k.members) {
        const Patch& m = cand[i];
        k.width = std::max(k.width, m.width);
        k.coreMax = std::max(k.coreMax, m.coreArea);
        if (m.coreArea >= p.coreMinArea) k.coredWidth = std::max(k.coredWidth, m.width);
    }
    if (k.members.size() == 1) {
        const Patch& m = cand[k.members.front()];
        k.enclosure = m.enclosure, k.ring = m.ring;
    } else {
        const Ring r = ringOf(cc, parts, px, p);
        k.ring = r.pixels;
        k.enclosure = r.pixels ? static_cast<double>(r.enclosed) / static_cast<double>(r.pixels) : 0.0;
    }
    k.score = scoreOf(k.coreArea, k.area, k.enclosure, k.dOpen, p);
    return k;
}

// A camp needs one patch that is clearly bare (core) and wider than a one-pixel chain (a creek
// bank's mud leaves such chains); its other patches may be huts under part canopy. Enclosure is
// measured around the whole camp.
std::vector<Gate> campGates(const Camp& k, const Params& p) {
    Gates g;
    g.need(k.coreMax >= p.coreMinArea, "core_min_area_m2", k.coreMax, p.coreMinArea);
    if (k.coreMax >= p.coreMinArea) g.need(k.coredWidth >= p.minWidth, "min_width_m", k.coredWidth, p.minWidth);
    g.need(k.ring > 0 && k.enclosure >= p.enclosureMin, "enclosure_min", k.enclosure, p.enclosureMin);
    g.need(k.score >= p.minScore, "min_score", k.score, p.minScore);
    return g.failed;
}

std::vector<std::pair<std::string, double>> measuresOf(const Patch& m) {
    std::vector<std::pair<std::string, double>> v{{"area_m2", m.area},
                                                  {"cleared_m2", m.cleared},
                                                  {"core_area_m2", m.coreArea},
                                                  {"width_m", m.width},
                                                  {"elongation", m.elongation},
                                                  {"enclosure", m.enclosure},
                                                  {"matrix_veg_share", m.matrixShare},
                                                  {"distance_to_open_land_m", m.dOpen},
                                                  {"distance_to_water_m", m.dWater},
                                                  {"score", m.score}};
    if (!std::isnan(m.anomaly)) v.emplace_back("anomaly_max", m.anomaly);
    if (!std::isnan(m.anomalyWide)) v.emplace_back("anomaly_wide_max", m.anomalyWide);
    return v;
}

// A patch turned down with its camp: its own measures, then the camp's.
std::vector<std::pair<std::string, double>> campMeasures(const Patch& m, const Camp& k) {
    auto v = measuresOf(m);
    v.insert(v.end(), {{"camp_patches", static_cast<double>(k.members.size())}, {"camp_area_m2", k.area},
                       {"camp_core_area_m2", k.coreArea}, {"camp_width_m", k.width}, {"camp_enclosure", k.enclosure},
                       {"camp_score", k.score}});
    return v;
}

Rejection rejectionOf(const ComponentExtractor& cc, const TileImage& t, const Component& c, std::vector<Gate> failed,
                      std::vector<std::pair<std::string, double>> measures, double score) {
    Rejection r;
    r.candidate.geometry = cc.outline(c, t);
    r.candidate.anchor = c.anchor;
    r.candidate.cls = "clearing";
    r.candidate.score = score;
    r.gate = failed.front().option;
    r.value = failed.front().value;
    r.limit = failed.front().limit;
    r.measures = std::move(measures);
    // The other gates it also failed, by option name, with their values.
    for (std::size_t i = 1; i < failed.size(); ++i) r.measures.emplace_back(std::string("also_") + failed[i].option, failed[i].value);
    return r;
}

}  // namespace

namespace {

// The classes and the anomaly's bare bits (open land follows, once the patches are known).
PixelPlanes pixelPlanes(const ClearingDetector& det, const TileImage& t, bool explain) {
    PixelPlanes px;
    px.w = t.window.w, px.h = t.window.h, px.gx = t.gsdX, px.gy = t.gsdY;
    px.unmixed = t.has("blue") && t.has("green") && t.has("swir1");
    px.explain = explain;
    // Fractions exist only with blue, green and swir1 (unmixing); --explain reports them then.
    px.cls = det.classify(t, px.unmixed ? &px.soil : nullptr, explain && px.unmixed ? &px.forest : nullptr);
    // Adds bare bits only: the forest matrix and open land keep theirs.
    const bool z = explain && det.anomalyThreshold(t) > 0;
    det.markAnomalies(t, px.cls, z ? &px.anomaly : nullptr, z ? &px.anomalyWide : nullptr);
    return px;
}

// Open land and the distances to it (and with --explain to water), read by the `measured`
// patches only: computed around them.
void addDistances(const ClearingDetector& det, const TileImage& t, PixelPlanes& px, const std::vector<const Component*>& measured) {
    const Params& p = det.params();
    NearBlocks near(px.w, px.h);
    // Open land is read up to distance_cap from a patch (its distance) and edge_max (the blended
    // edge stops at it).
    const double reach = std::max(p.distanceCap, p.edgeMax);
    const int rx = static_cast<int>(std::ceil(reach / px.gx)) + 1, ry = static_cast<int>(std::ceil(reach / px.gy)) + 1;
    cv::Rect need;
    for (const Component* c : measured) near.add(c->box, rx, ry, px.w, px.h), need |= c->box;
    markOpenLand(px, p, near);
    if (measured.empty()) return;  // an empty `need` would ask for the whole window
    need &= det.measuredArea(t);
    px.dOpen = distanceTransform(maskOf(px.cls, ClearingDetector::kOpen), px.w, px.h, px.gx, px.gy, need);
    // Water distances of every patch only for --explain's measures; else CampWater's, per camp.
    if (px.explain) px.dWater = distanceTransform(maskOf(px.cls, ClearingDetector::kWater), px.w, px.h, px.gx, px.gy, need);
}

// Whether two boxes (pixels, inclusive of their edge pixels) come within `gap` metres.
bool boxesNear(const cv::Rect& a, const cv::Rect& b, double gx, double gy, double gap) {
    const int dx = std::max({0, a.x - (b.x + b.width - 1), b.x - (a.x + a.width - 1)});
    const int dy = std::max({0, a.y - (b.y + b.height - 1), b.y - (a.y + a.height - 1)});
    return (dx * gx) * (dx * gx) + (dy * gy) * (dy * gy) <= gap * gap;
}

// Whether some pixel centres of a and b are within `gap` metres, from their runs.
bool patchesNear(const ComponentExtractor& cc, const Component& a, const Component& b, double gx, double gy, double gap) {
    for (const PixelRun* ra = cc.runsBegin(a); ra != cc.runsEnd(a); ++ra)
        for (const PixelRun* rb = cc.runsBegin(b); rb != cc.runsEnd(b); ++rb) {
            const int dx = std::max({0, ra->x0 - (rb->x1 - 1), rb->x0 - (ra->x1 - 1)});
            const int dy = std::abs(ra->y - rb->y);
            if ((dx * gx) * (dx * gx) + (dy * gy) * (dy * gy) <= gap * gap) return true;
        }
    return false;
}

int rootOf(std::vector<std::size_t>& parent, std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return static_cast<int>(i);
}

// Candidate patches whose pixel centres come within group_gap: the huts and racks of one camp.
// A group wider than max_extent is left as its patches. Members keep the patches' order.
std::vector<std::vector<std::size_t>> groupsOf(const ComponentExtractor& cc, const std::vector<Patch>& pass,
                                               const PixelPlanes& px, const Params& p) {
    std::vector<std::size_t> parent(pass.size());
    std::iota(parent.begin(), parent.end(), 0);
    for (std::size_t i = 0; i < pass.size(); ++i)
        for (std::size_t j = i + 1; j < pass.size(); ++j)
            if (p.groupGap > 0 && boxesNear(pass[i].c.box, pass[j].c.box, px.gx, px.gy, p.groupGap) &&
                patchesNear(cc, pass[i].c, pass[j].c, px.gx, px.gy, p.groupGap))
                parent[static_cast<std::size_t>(std::max(rootOf(parent, i), rootOf(parent, j)))] =
                    static_cast<std::size_t>(std::min(rootOf(parent, i), rootOf(parent, j)));
    std::vector<std::vector<std::size_t>> groups(pass.size());
    for (std::size_t i = 0; i < pass.size(); ++i) groups[static_cast<std::size_t>(rootOf(parent, i))].push_back(i);
    std::vector<std::vector<std::size_t>> out;
    const int maxX = static_cast<int>(std::floor(p.maxExtent / px.gx)), maxY = static_cast<int>(std::floor(p.maxExtent / px.gy));
    for (auto& g : groups) {
        if (g.empty()) continue;
        cv::Rect box = pass[g.front()].c.box;
        for (std::size_t i : g) box |= pass[i].c.box;
        if (box.width <= maxX && box.height <= maxY)
            out.push_back(std::move(g));
        else
            for (std::size_t i : g) out.push_back({i});
    }
    return out;
}

// The camp's patches that hold clearly bare ground: the camp is drawn and placed by them (a
// patch without any, such as part-canopy fringe or a creek bank's mud beside the camp, only
// widens the enclosure ring). All of them when none has (core_min_area_m2=0).
std::vector<std::size_t> coredOf(const std::vector<Patch>& cand, const std::vector<std::size_t>& members) {
    std::vector<std::size_t> v;
    for (std::size_t i : members)
        if (cand[i].core > 0) v.push_back(i);
    return v.empty() ? members : v;
}

// Distances to water of the camps that pass (no gate reads them): each from a transform of the
// water around it, since the nearest water within distance_cap lies in that crop and the value is
// the one the window's transform gives; once the crops add up to the measured area, from one
// transform of the window. One whole-window transform less per tile: 8 % of clearing's time on
// the real-texture bench. (--explain measures every patch, so it has the window's transform.)
class CampWater {
public:
    CampWater(const PixelPlanes& px, const Params& p, cv::Rect measured)
        : px_(px), p_(p), measured_(measured), budget_(measured.area()) {}
    double of(const ComponentExtractor& cc, const std::vector<Patch>& cand, const Camp& k) {
        cv::Rect b = cand[k.members.front()].c.box;
        for (std::size_t i : k.members) b |= cand[i].c.box;
        // The extra pixel covers the transform's weights, rounded to 1/1024 of a square pixel
        // (their error reaches a pixel only past ~2000 px of distance_cap).
        const int mx = static_cast<int>(std::ceil(p_.distanceCap / px_.gx)) + 1, my = static_cast<int>(std::ceil(p_.distanceCap / px_.gy)) + 1;
        const cv::Rect crop = cv::Rect(b.x - mx, b.y - my, b.width + 2 * mx, b.height + 2 * my) & cv::Rect(0, 0, px_.w, px_.h);
        spent_ += static_cast<double>(crop.area());
        if (spent_ > budget_ && window_.area.empty())
            window_ = distanceTransform(maskOf(px_.cls, ClearingDetector::kWater), px_.w, px_.h, px_.gx, px_.gy, measured_);
        if (!window_.area.empty()) return nearest(cc, cand, k, window_, cv::Point(0, 0));
        const std::vector<std::uint8_t> water = maskOf(px_.cls, px_.w, ClearingDetector::kWater, crop);
        return nearest(cc, cand, k, distanceTransform(water, crop.width, crop.height, px_.gx, px_.gy), crop.tl());
    }

private:
    double nearest(const ComponentExtractor& cc, const std::vector<Patch>& cand, const Camp& k, const DistancePlane& d,
                   cv::Point origin) const {
        double best = 1e300;
        for (std::size_t i : k.members)
            for (const PixelRun* r = cc.runsBegin(cand[i].c); r != cc.runsEnd(cand[i].c); ++r)
                for (int x = r->x0; x < r->x1; ++x) best = std::min(best, d.metres(x - origin.x, r->y - origin.y));
        return std::min(best, p_.distanceCap);
    }
    const PixelPlanes& px_;
    const Params& p_;
    cv::Rect measured_;
    double budget_, spent_ = 0;
    DistancePlane window_;
};

// One camp from its cored patches: their exact outlines, the centroid of their pixels as anchor,
// and the camp's measures.
Detection detectionOf(const ComponentExtractor& cc, const TileImage& t, const std::vector<Patch>& cand, const Camp& k,
                      const std::vector<std::size_t>& shown, cv::Point anchor) {
    Detection d;
    for (std::size_t i : shown) {
        MultiPolygon o = cc.outline(cand[i].c, t);
        d.geometry.parts.insert(d.geometry.parts.end(), o.parts.begin(), o.parts.end());
    }
    d.anchor = anchor;
    d.cls = "clearing";
    d.score = k.score;
    d.attributes = {AttributeValue(k.enclosure),  AttributeValue(k.dOpen),       AttributeValue(k.dWater),
                    AttributeValue(k.coreArea),   AttributeValue(k.width),       AttributeValue(k.matrixShare),
                    AttributeValue(k.elongation), AttributeValue(k.cleared),
                    AttributeValue(static_cast<std::int64_t>(k.members.size()))};
    return d;
}

// The pixel holding the centroid of all the group's pixels, in integers as ComponentExtractor.
cv::Point anchorOf(const std::vector<Patch>& pass, const std::vector<std::size_t>& group) {
    std::int64_t sx = 0, sy = 0, n = 0;
    for (std::size_t i : group) sx += pass[i].c.sumX, sy += pass[i].c.sumY, n += pass[i].c.pixels;
    return {static_cast<int>((2 * sx + n) / (2 * n)), static_cast<int>((2 * sy + n) / (2 * n))};
}


// What the pixels of a trace show, for --explain.
struct TraceStats {
    std::int64_t pixels = 0, vegetation = 0;
    double ndviMin = 1e300, ndbiMax = -1e300, soilMax = 0, forestMin = 1e300, anomalyMax = -1e300, anomalyWideMax = -1e300;
    // The values of the test that kept each pixel out of bare evidence: the lowest NDVI of its
    // vegetated pixels (>= veg_ndvi_min), the highest NDBI or nd(red, green) of the others
    // (below bare_ndbi_min, bare_red_green_min). A mean NDVI of 0.488 was reported as rejected by
    // veg_ndvi_min 0.5, and an NDBI of vegetated pixels as rejected by bare_ndbi_min (a sweep).
    double vegNdviMin = 1e300, openNdbiMax = -1e300, openRedGreenMax = -1e300;
};

TraceStats traceStats(const ComponentExtractor& cc, const Component& c, RowSampler& bands, const PixelPlanes& px) {
    TraceStats st;
    for (const PixelRun* r = cc.runsBegin(c); r != cc.runsEnd(c); ++r) {
        bands.load(r->y, r->x0, r->x1 - r->x0);
        for (int x = r->x0; x < r->x1; ++x) {
            const std::size_t k = static_cast<std::size_t>(r->y) * px.w + x;
            const Sample s = bands.at(x);
            const double ndvi = nd(s.nir, s.red);
            ++st.pixels;
            const bool veg = (px.cls[k] & ClearingDetector::kVegetation) != 0;
            st.vegetation += veg ? 1 : 0;
            st.ndviMin = std::min(st.ndviMin, ndvi);
            if (veg) st.vegNdviMin = std::min(st.vegNdviMin, ndvi);
            if (s.hasSwir1) {
                const double ndbi = nd(s.swir1, s.nir);
                st.ndbiMax = std::max(st.ndbiMax, ndbi);
                if (!veg) st.openNdbiMax = std::max(st.openNdbiMax, ndbi);
            } else if (s.hasGreen && !veg) {
                st.openRedGreenMax = std::max(st.openRedGreenMax, static_cast<double>(nd(s.red, s.green)));
            }
            if (px.unmixed) {
                st.soilMax = std::max(st.soilMax, static_cast<double>(px.soil[k]));
                st.forestMin = std::min(st.forestMin, static_cast<double>(px.forest[k]));
            }
            if (!px.anomaly.empty())
                st.anomalyMax = std::max(st.anomalyMax, static_cast<double>(px.anomaly[k]));
            if (!px.anomalyWide.empty())
                st.anomalyWideMax = std::max(st.anomalyWideMax, static_cast<double>(px.anomalyWide[k]));
        }
    }
    return st;
}

// --explain only: land that departs from the forest (forest fraction below explain_forest_max, or
// neither vegetation nor bare evidence) yet holds no bare evidence, with the mask that took it,
// so that a camp that left no candidate still gets an answer.
void explainTraces(const TileImage& t, const PixelPlanes& px, const Params& p, ComponentExtractor::Limits lim,
                   std::vector<Rejection>& out) {
    using C = ClearingDetector;
    std::vector<std::uint8_t> trace(px.cls.size(), 0);
    for (std::size_t k = 0; k < trace.size(); ++k) {
        const std::uint8_t c = px.cls[k];
        if (!(c & C::kValid) || (c & (C::kWater | C::kBare))) continue;
        if (!(c & C::kVegetation) || (px.unmixed && px.forest[k] < p.explainForestMax)) trace[k] = 255;
    }
    const ComponentExtractor cc(cv::Mat(px.h, px.w, CV_8U, trace.data()));
    lim.ownedOnly = true;
    lim.minPixels = 1;  // a faint camp may leave a single pixel
    RowSampler bands(t);  // one for all traces: there can be thousands of one pixel
    for (const Component& c : cc.complete(t, lim)) {
        const TraceStats st = traceStats(cc, c, bands, px);
        const double area = static_cast<double>(c.pixels) * t.pixelAreaM2();
        const double vegShare = static_cast<double>(st.vegetation) / static_cast<double>(st.pixels);
        const Gate g = vegShare >= 0.5       ? Gate{"veg_ndvi_min", st.vegNdviMin, p.vegNdviMin}
                       : t.has("swir1") ? Gate{"bare_ndbi_min", st.openNdbiMax, p.bareNdbiMin}
                                        : Gate{"bare_red_green_min", st.openRedGreenMax, p.bareRedGreenMin};
        std::vector<std::pair<std::string, double>> m{{"area_m2", area}, {"vegetation_share", vegShare}, {"ndvi_min", st.ndviMin}};
        if (t.has("swir1")) m.emplace_back("ndbi_max", st.ndbiMax);
        if (px.unmixed) m.insert(m.end(), {{"soil_fraction_max", st.soilMax}, {"forest_fraction_min", st.forestMin}});
        if (!px.anomaly.empty())
            m.emplace_back("anomaly_max", st.anomalyMax);  // how near anomaly_min
        if (!px.anomalyWide.empty()) m.emplace_back("anomaly_wide_max", st.anomalyWideMax);
        out.push_back(rejectionOf(cc, t, c, {g}, std::move(m), 0.0));
    }
}

}  // namespace

namespace {

// The largest value of a per-pixel plane over a component's pixels.
double largestIn(const ComponentExtractor& cc, const Component& c, const std::vector<float>& plane,
                 int w) {
    double v = -1e300;
    for (const PixelRun* r = cc.runsBegin(c); r != cc.runsEnd(c); ++r)
        for (int x = r->x0; x < r->x1; ++x)
            v = std::max(v, static_cast<double>(plane[static_cast<std::size_t>(r->y) * w + x]));
    return v;
}

}  // namespace

ComponentExtractor::Limits ClearingDetector::limits(const TileImage& t) const {
    ComponentExtractor::Limits lim;
    lim.maxExtentX = static_cast<int>(std::floor(p_.maxExtent / t.gsdX));
    lim.maxExtentY = static_cast<int>(std::floor(p_.maxExtent / t.gsdY));
    // --explain lists patches up to twice max_extent_m as too long: the halo (haloMetres) holds
    // 2 max_extent beside the core, so the tile owning one sees it whole.
    lim.explainExtentX = static_cast<int>(std::floor(2 * p_.maxExtent / t.gsdX));
    lim.explainExtentY = static_cast<int>(std::floor(2 * p_.maxExtent / t.gsdY));
    lim.minPixels = ComponentExtractor::Limits::pixelsAtLeast(p_.minArea, t.pixelAreaM2());
    // Patches near the core are measured whether owned or not: they may join an owned camp.
    lim.ownedOnly = false;
    return lim;
}

// Whether a patch can belong to a camp this tile owns: within max_extent + group_gap of the core.
bool ClearingDetector::nearCore(const cv::Rect& box, const TileImage& t) const {
    const int rx = static_cast<int>(std::ceil((p_.maxExtent + p_.groupGap) / t.gsdX));
    const int ry = static_cast<int>(std::ceil((p_.maxExtent + p_.groupGap) / t.gsdY));
    const int x0 = t.core.x - t.window.x - rx, y0 = t.core.y - t.window.y - ry;
    return box.x < x0 + t.core.w + 2 * rx && box.x + box.width > x0 && box.y < y0 + t.core.h + 2 * ry && box.y + box.height > y0;
}

// Where measured patches can lie (window pixels): a patch near the core (nearCore) spans at most
// max_extent, so within 2 max_extent + group_gap of the core. Distances are read only there.
// Where anomaly bits are read: the measured area and the blended edge that may grow out of it.
cv::Rect ClearingDetector::anomalyArea(const TileImage& t) const {
    const cv::Rect m = measuredArea(t);
    const int ex = static_cast<int>(std::ceil(p_.edgeMax / t.gsdX)) + 1, ey = static_cast<int>(std::ceil(p_.edgeMax / t.gsdY)) + 1;
    return cv::Rect(m.x - ex, m.y - ey, m.width + 2 * ex, m.height + 2 * ey) & cv::Rect(0, 0, t.window.w, t.window.h);
}

cv::Rect ClearingDetector::measuredArea(const TileImage& t) const {
    const int rx = static_cast<int>(std::ceil((2 * p_.maxExtent + p_.groupGap) / t.gsdX)) + 1;
    const int ry = static_cast<int>(std::ceil((2 * p_.maxExtent + p_.groupGap) / t.gsdY)) + 1;
    const cv::Rect core(t.core.x - t.window.x - rx, t.core.y - t.window.y - ry, t.core.w + 2 * rx, t.core.h + 2 * ry);
    return core & cv::Rect(0, 0, t.window.w, t.window.h);
}

std::vector<Detection> ClearingDetector::detect(const TileImage& t, std::vector<Rejection>* rejected) const {
    std::vector<Detection> out;
    if (t.validCount == 0) return out;
    PixelPlanes px = pixelPlanes(*this, t, rejected != nullptr);
    std::vector<std::uint8_t> bare = maskOf(px.cls, kBare);
    const ComponentExtractor cc(cv::Mat(px.h, px.w, CV_8U, bare.data()));
    std::vector<Component> setAside;
    const std::vector<Component> comps = cc.complete(t, limits(t), rejected ? &setAside : nullptr);
    std::vector<const Component*> measured;
    for (const Component& c : comps)
        if (nearCore(c.box, t)) measured.push_back(&c);
    addDistances(*this, t, px, measured);
    for (const Component& c : setAside)
        if (t.owns(c.anchor.x, c.anchor.y)) {
            const double area = static_cast<double>(c.pixels) * t.pixelAreaM2();
            const double length = std::max(c.box.width * t.gsdX, c.box.height * t.gsdY);
            const bool tooLong = c.rejected == Component::Rejected::TooLong;
            std::vector<std::pair<std::string, double>> m{{"area_m2", area}};
            if (tooLong) m.emplace_back("length_m", length);
            if (!px.anomaly.empty())
                m.emplace_back("anomaly_max", largestIn(cc, c, px.anomaly, px.w));
            if (!px.anomalyWide.empty()) m.emplace_back("anomaly_wide_max", largestIn(cc, c, px.anomalyWide, px.w));
            const Gate g = tooLong ? Gate{"max_extent_m", length, p_.maxExtent} : Gate{"min_area_m2", area, p_.minArea};
            rejected->push_back(rejectionOf(cc, t, c, {g}, std::move(m), 0.0));
        }
    if (rejected) explainTraces(t, px, p_, limits(t), *rejected);
    std::vector<Patch> cand;
    for (const Component* pc : measured) {
        const Component& c = *pc;
        Patch m = measurePatch(cc, c, t, px, p_);
        std::vector<Gate> failed = patchGates(m, p_);
        if (failed.empty())
            cand.push_back(std::move(m));
        else if (rejected && t.owns(c.anchor.x, c.anchor.y))
            rejected->push_back(rejectionOf(cc, t, c, std::move(failed), measuresOf(m), m.score));
    }
    CampWater water(px, p_, measuredArea(t));
    for (auto& g : groupsOf(cc, cand, px, p_)) {
        Camp k = campOf(cc, cand, std::move(g), px, p_);
        const std::vector<Gate> failed = campGates(k, p_);
        if (failed.empty()) {
            const std::vector<std::size_t> shown = coredOf(cand, k.members);
            const cv::Point a = anchorOf(cand, shown);
            if (!t.owns(a.x, a.y)) continue;
            if (!px.explain) k.dWater = water.of(cc, cand, k);
            out.push_back(detectionOf(cc, t, cand, k, shown, a));
            continue;
        }
        if (rejected)
            for (std::size_t i : k.members)
                if (t.owns(cand[i].c.anchor.x, cand[i].c.anchor.y))
                    rejected->push_back(rejectionOf(cc, t, cand[i].c, failed, campMeasures(cand[i], k), k.score));
    }
    return out;
}

}  // namespace riskmap
