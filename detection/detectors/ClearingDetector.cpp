#include "detection/detectors/ClearingDetector.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"
#include "detection/imgproc/ExactFilters.hpp"

namespace riskmap {

namespace {

float nd(float a, float b) {
    const float s = a + b;
    return s != 0.0f ? (a - b) / s : 0.0f;
}

bool hasBand(const std::vector<std::string>& v, const char* n) { return std::find(v.begin(), v.end(), n) != v.end(); }

}  // namespace

const OptionTable<ClearingDetector::Params>& ClearingDetector::table() {
    using P = Params;
    static const auto t = OptionTable<P>()
        .number("water_mndwi_min", &P::waterMndwiMin, 0.0, "MNDWI", "water: MNDWI above this (Xu 2006); NDWI without swir1 (McFeeters 1996)", -1, 1)
        .number("veg_ndvi_min", &P::vegNdviMin, 0.5, "NDVI", "vegetation: NDVI at or above this (about half green cover; Rouse et al. 1974)", -1, 1)
        .number("bare_ndbi_min", &P::bareNdbiMin, -0.15, "NDBI", "bare/built evidence: NDBI at or above this (Zha et al. 2003) ...", -1, 1)
        .number("bare_bsi_min", &P::bareBsiMin, -0.05, "BSI", "... or BSI at or above this (Rikimaru et al. 2002)", -1, 1)
        .number("matrix_radius_m", &P::matrixRadius, 500, "m", "radius of the disk in which the forest matrix is measured", 50, 5000)
        .number("open_veg_share_max", &P::openVegShareMax, 0.5, "0-1", "open land: non-vegetated land where less than this share of land around is vegetated", 0, 1)
        .number("open_land_share_min", &P::openLandShareMin, 0.2, "0-1", "... and at least this share of the disk is land (not a river mouth)", 0, 1)
        .number("matrix_veg_share_min", &P::matrixVegShareMin, 0.7, "0-1", "a camp sits where at least this share of land around is vegetated", 0, 1)
        .number("min_area_m2", &P::minArea, 500, "m2", "smallest patch (0.05 ha)", 0, 1e9)
        .number("max_area_m2", &P::maxArea, 50000, "m2", "largest patch (5 ha)", 1, 1e9)
        .number("max_extent_m", &P::maxExtent, 600, "m", "longest bounding-box side; longer is a linear feature (sets part of the halo)", 10, 10000)
        .number("ring_width_m", &P::ringWidth, 50, "m", "width of the ring around a patch that must be forest or water", 5, 1000)
        .number("enclosure_min", &P::enclosureMin, 0.8, "0-1", "share of the ring that is forest or water", 0, 1)
        .number("remote_min_m", &P::remoteMin, 1000, "m", "distance from open land (farms, villages, ponds' dikes) a camp must keep", 0, 100000)
        .number("distance_cap_m", &P::distanceCap, 2000, "m", "distances are measured up to this; sets most of the halo", 10, 100000)
        .number("max_elongation", &P::maxElongation, 8, "ratio", "longer-than-wide limit (creeks and tracks are very linear)", 1, 100)
        .number("min_width_m", &P::minWidth, 20, "m", "mean width (area / length): drops one-pixel creek-bank chains", 0, 1000)
        .number("core_ndvi_max", &P::coreNdviMax, 0.3, "NDVI", "a clearly bare pixel has NDVI below this ...", -1, 1)
        .number("core_ndbi_min", &P::coreNdbiMin, 0.05, "NDBI", "... and NDBI at or above this (SWIR1 > NIR, plus a margin over creek mud) ...", -1, 1)
        .number("core_bsi_min", &P::coreBsiMin, 0.05, "BSI", "... or BSI at or above this", -1, 1)
        .number("core_min_area_m2", &P::coreMinArea, 300, "m2", "area of clearly bare pixels a patch needs (one pixel of a 10-30 m sensor)", 0, 1e9)
        .number("min_score", &P::minScore, 0, "0-1", "drop patches scoring below this", 0, 1);
    return t;
}

DetectorInfo ClearingDetector::describe() {
    DetectorInfo d;
    d.name = "clearing";
    d.description =
        "Remote camps: small cleared or built patches (bare mud, racks, huts) inside unbroken "
        "mangrove or forest, enclosed by forest or water and far from open farmland. Needs red, "
        "nir and green (swir1 and blue sharpen water and bare-ground evidence).";
    d.options = table().specs();
    d.attributes = {
        {"enclosure", AttributeType::Double, "0-1", "share of the surrounding ring that is forest or water"},
        {"distance_to_open_land_m", AttributeType::Double, "m", "to the nearest open land (capped at distance_cap_m)"},
        {"distance_to_water_m", AttributeType::Double, "m", "to the nearest water, centre to centre (capped)"},
        {"core_area_m2", AttributeType::Double, "m2", "area of clearly bare pixels"},
        {"width_m", AttributeType::Double, "m", "mean width: area / longest extent"},
        {"matrix_veg_share", AttributeType::Double, "0-1", "vegetated share of land around the patch"},
        {"elongation", AttributeType::Double, "ratio", "long axis over short axis"},
    };
    return d;
}

std::unique_ptr<Detector> ClearingDetector::create(const OptionValues& options) {
    return std::make_unique<ClearingDetector>(options);
}

ClearingDetector::ClearingDetector(const OptionValues& o) : info_(describe()) {
    p_ = table().bind(o);
    if (p_.minArea > p_.maxArea) throw UsageError("min_area_m2 exceeds max_area_m2");
    if (p_.remoteMin > p_.distanceCap)
        throw UsageError("remote_min_m (" + optionValueText(p_.remoteMin) + ") exceeds distance_cap_m (" +
                         optionValueText(p_.distanceCap) + "): distances beyond the cap are not measured");
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
    for (const char* n : {"green", "swir1", "blue"})
        if (hasBand(available, n)) bands.push_back(n);
    return bands;
}

double ClearingDetector::haloMetres() const {
    // An owned patch lies within max_extent of its anchor; its ring looks ring_width further,
    // its distance to open land up to distance_cap, and open land itself is judged over a disk
    // of matrix_radius.
    return p_.maxExtent + std::max(p_.ringWidth, p_.distanceCap + p_.matrixRadius);
}

std::vector<std::uint8_t> ClearingDetector::classify(const TileImage& t) const {
    const int w = t.window.w, h = t.window.h;
    std::vector<std::uint8_t> cls(static_cast<std::size_t>(w) * h, 0);
    const cv::Mat& R = t.band("red");
    const cv::Mat& N = t.band("nir");
    const cv::Mat* G = t.has("green") ? &t.band("green") : nullptr;
    const cv::Mat* S = t.has("swir1") ? &t.band("swir1") : nullptr;
    const cv::Mat* B = t.has("blue") ? &t.band("blue") : nullptr;
    for (int y = 0; y < h; ++y) {
        const std::uint8_t* v = t.valid.ptr<std::uint8_t>(y);
        for (int x = 0; x < w; ++x) {
            if (!v[x]) continue;
            std::uint8_t c = kValid;
            const float red = R.at<float>(y, x), nir = N.at<float>(y, x);
            const float ndvi = nd(nir, red);
            bool water;
            if (G && S)
                water = nd(G->at<float>(y, x), S->at<float>(y, x)) > p_.waterMndwiMin;
            else if (G)
                water = nd(G->at<float>(y, x), nir) > p_.waterMndwiMin;
            else
                water = ndvi < 0.0f;  // water reflects more red than near infrared
            if (water) {
                cls[static_cast<std::size_t>(y) * w + x] = c | kWater;
                continue;
            }
            if (ndvi >= p_.vegNdviMin) {
                cls[static_cast<std::size_t>(y) * w + x] = c | kVegetation;
                continue;
            }
            // Neither water nor vegetation is not enough: a pixel mixing a creek and mangrove is
            // both. Bare or built ground shows as SWIR1 above NIR (NDBI, BSI); without SWIR only
            // the low NDVI remains, which is weaker.
            bool bare = true, core = ndvi < p_.coreNdviMax;
            if (S) {
                const float swir = S->at<float>(y, x);
                const float ndbi = nd(swir, nir);
                float bsi = -1.0f;
                if (B) bsi = nd(swir + red, nir + B->at<float>(y, x));
                bare = ndbi >= p_.bareNdbiMin || (B && bsi >= p_.bareBsiMin);
                core = core && (ndbi >= p_.coreNdbiMin || (B && bsi >= p_.coreBsiMin));
            }
            if (bare) c |= kBare;
            if (bare && core) c |= kCore;
            cls[static_cast<std::size_t>(y) * w + x] = c;
        }
    }
    return cls;
}

std::vector<Detection> ClearingDetector::detect(const TileImage& t, std::vector<Rejection>* rejected) const {
    (void)rejected;  // gates are explained in a later change
    std::vector<Detection> out;
    if (t.validCount == 0) return out;
    const int w = t.window.w, h = t.window.h;
    const std::size_t n = static_cast<std::size_t>(w) * h;
    const double gx = t.gsdX, gy = t.gsdY, pixelArea = t.pixelAreaM2();
    std::vector<std::uint8_t> cls = classify(t);

    // Forest matrix: the vegetated share of land (rivers neither help nor hurt) within a disk.
    std::vector<float> vegShare(n, 0.0f);
    {
        IntPlane valid(w, h), land(w, h), veg(w, h);
        for (std::size_t k = 0; k < n; ++k) {
            valid.v[k] = (cls[k] & kValid) != 0;
            land.v[k] = (cls[k] & kValid) && !(cls[k] & kWater);
            veg.v[k] = (cls[k] & kVegetation) != 0;
        }
        const double rx = p_.matrixRadius / gx, ry = p_.matrixRadius / gy;
        IntPlane nValid = diskSum(valid, rx, ry), nLand = diskSum(land, rx, ry), nVeg = diskSum(veg, rx, ry);
        for (std::size_t k = 0; k < n; ++k) {
            const double l = static_cast<double>(std::max<std::int64_t>(nLand.v[k], 1));
            vegShare[k] = static_cast<float>(static_cast<double>(nVeg.v[k]) / l);
            const double landShare = static_cast<double>(nLand.v[k]) / static_cast<double>(std::max<std::int64_t>(nValid.v[k], 1));
            // Open land: non-vegetated land where most land around is not vegetated (fields,
            // villages, the dikes between shrimp ponds). A camp of a few ha cannot mark itself.
            if ((cls[k] & kValid) && !(cls[k] & (kWater | kVegetation)) && vegShare[k] < p_.openVegShareMax &&
                landShare >= p_.openLandShareMin)
                cls[k] |= kOpen;
        }
    }
    std::vector<std::uint8_t> openMask(n), waterMask(n);
    for (std::size_t k = 0; k < n; ++k) {
        openMask[k] = (cls[k] & kOpen) != 0;
        waterMask[k] = (cls[k] & kWater) != 0;
    }
    DistancePlane dOpen = distanceTransform(openMask, w, h, gx, gy);
    DistancePlane dWater = distanceTransform(waterMask, w, h, gx, gy);

    cv::Mat bare(h, w, CV_8U);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) bare.at<std::uint8_t>(y, x) = (cls[static_cast<std::size_t>(y) * w + x] & kBare) ? 255 : 0;
    ComponentExtractor cc(bare);
    ComponentExtractor::Limits lim;
    lim.maxExtentX = static_cast<int>(std::floor(p_.maxExtent / gx));
    lim.maxExtentY = static_cast<int>(std::floor(p_.maxExtent / gy));
    lim.minPixels = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(p_.minArea / pixelArea - 1e-9)));
    lim.maxPixels = static_cast<std::int64_t>(std::floor(p_.maxArea / pixelArea + 1e-9));

    const int rrx = static_cast<int>(std::lround(p_.ringWidth / gx)), rry = static_cast<int>(std::lround(p_.ringWidth / gy));
    const cv::Mat ringKernel =
        cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * std::max(1, rrx) + 1, 2 * std::max(1, rry) + 1));
    for (const Component& c : cc.complete(t, lim)) {
        // Enclosure: the ring around the patch should be forest or water.
        const int pad = std::max(rrx, rry) + 1;
        const cv::Rect box(std::max(0, c.box.x - pad), std::max(0, c.box.y - pad), 0, 0);
        const int bx1 = std::min(w, c.box.x + c.box.width + pad), by1 = std::min(h, c.box.y + c.box.height + pad);
        cv::Rect crop(box.x, box.y, bx1 - box.x, by1 - box.y);
        cv::Mat patch = cc.componentMask(c, crop);
        cv::Mat grown;
        cv::dilate(patch, grown, ringKernel, cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
        std::int64_t ring = 0, enclosed = 0, core = 0;
        double vegSum = 0, sxx = 0, syy = 0, sxy = 0, mx = 0, my = 0;
        double minOpen = 1e300, minWater = 1e300;
        std::vector<cv::Point2f> metric;
        for (int y = 0; y < crop.height; ++y) {
            for (int x = 0; x < crop.width; ++x) {
                const std::size_t k = static_cast<std::size_t>(y + crop.y) * w + (x + crop.x);
                const bool in = patch.at<std::uint8_t>(y, x) != 0;
                if (!in) {
                    if (grown.at<std::uint8_t>(y, x) && (cls[k] & kValid)) {
                        ++ring;
                        if (cls[k] & (kVegetation | kWater)) ++enclosed;
                    }
                    continue;
                }
                if (cls[k] & kCore) ++core;
                vegSum += vegShare[k];
                minOpen = std::min(minOpen, dOpen.metres(k));
                minWater = std::min(minWater, dWater.metres(k));
                // Coordinates relative to the anchor, in metres: the same in every tiling.
                const double ux = (x + crop.x + t.window.x - c.anchor.x) * gx;
                const double uy = (y + crop.y + t.window.y - c.anchor.y) * gy;
                mx += ux;
                my += uy;
                metric.emplace_back(static_cast<float>(ux), static_cast<float>(uy));
            }
        }
        if (ring == 0) continue;
        const double npx = static_cast<double>(c.pixels);
        const double area = npx * pixelArea;
        mx /= npx;
        my /= npx;
        for (const auto& q : metric) {
            sxx += (q.x - mx) * (q.x - mx);
            syy += (q.y - my) * (q.y - my);
            sxy += (q.x - mx) * (q.y - my);
        }
        double elong = 1.0;
        if (c.pixels >= 3) {
            const double a = sxx / (npx - 1), b = sxy / (npx - 1), d = syy / (npx - 1);
            const double mid = (a + d) / 2, rad = std::sqrt((a - d) * (a - d) / 4 + b * b);
            // The pixel's own spread keeps tiny blobs from looking linear.
            elong = std::sqrt((mid + rad + pixelArea / 12) / (std::max(0.0, mid - rad) + pixelArea / 12));
        }
        // Mean width = area / longest caliper (Feret) length between pixel centres plus a pixel.
        std::vector<cv::Point2f> hull;
        if (metric.size() >= 3)
            cv::convexHull(metric, hull);
        else
            hull = metric;
        double feret = 0;
        for (std::size_t i = 0; i < hull.size(); ++i)
            for (std::size_t j = i + 1; j < hull.size(); ++j)
                feret = std::max(feret, std::hypot(static_cast<double>(hull[i].x - hull[j].x), static_cast<double>(hull[i].y - hull[j].y)));
        feret += 0.5 * (gx + gy);
        const double width = area / feret;
        const double enclosure = static_cast<double>(enclosed) / static_cast<double>(ring);
        const double coreArea = static_cast<double>(core) * pixelArea;
        const double matrixShare = vegSum / npx;
        const double dOpenM = std::min(minOpen, p_.distanceCap), dWaterM = std::min(minWater, p_.distanceCap);

        const bool pass = coreArea >= p_.coreMinArea && enclosure >= p_.enclosureMin && dOpenM >= p_.remoteMin &&
                          matrixShare >= p_.matrixVegShareMin && elong <= p_.maxElongation && width >= p_.minWidth;
        if (!pass) continue;
        // Score ranks: a bare core, full enclosure, remoteness and size each add evidence.
        const double sCore = std::min(1.0, 2 * coreArea / std::max(area, 1.0));
        const double sRemote = std::min(1.0, dOpenM / std::max(2 * p_.remoteMin, 1.0));
        const double sSize = std::min(1.0, area / 2000.0);
        const double score = std::pow(sCore * enclosure * sRemote * sSize, 0.25);
        if (score < p_.minScore) continue;

        Detection d;
        d.geometry = cc.outline(c, t);
        d.anchor = c.anchor;
        d.cls = "clearing";
        d.score = score;
        d.attributes = {AttributeValue(enclosure), AttributeValue(dOpenM), AttributeValue(dWaterM),
                        AttributeValue(coreArea), AttributeValue(width), AttributeValue(matrixShare),
                        AttributeValue(elong)};
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace riskmap
