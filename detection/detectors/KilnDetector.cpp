#include "detection/detectors/KilnDetector.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "detection/OptionTable.hpp"
#include "detection/imgproc/ExactFilters.hpp"

namespace riskmap {

namespace {

constexpr double kPi = 3.14159265358979323846;

int oddWidth(double px) {
    int n = std::max(1, static_cast<int>(std::lround(px)));
    return n % 2 ? n : n + 1;
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// The tile resampled onto the internal grid, with feature maps. Internal pixel (i, j) covers
// global pixels [ox + i f, ox + (i+1) f) x [oy + j f, ...), anchored on multiples of f so that
// every tiling builds the same grid.
struct Grid {
    int w = 0, h = 0, f = 1;
    int ox = 0, oy = 0;     // global pixel of internal (0, 0)
    double gx = 0, gy = 0;  // metres per internal pixel
    std::vector<std::uint8_t> valid;
    std::vector<float> ndvi;  // empty without nir
    std::vector<float> ndbi;  // empty without nir and swir1
    std::vector<float> red, bri;    // contrasts to the local background
    std::vector<float> redS, briS;  // smoothed at kiln scale
    std::size_t idx(int x, int y) const { return static_cast<std::size_t>(y) * w + x; }
    bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < w && y < h; }
};

// Log-chromaticity and log-brightness in fixed point, and the validity mask, on the grid.
struct LogPlanes {
    IntPlane a, b, l, m;
};

LogPlanes resample(const TileImage& t, const KilnDetector::Params& p, Grid& gr) {
    gr.f = std::max(1, static_cast<int>(std::lround(p.internalGsd / std::max(t.gsdX, t.gsdY))));
    const int f = gr.f;
    const int lx = ((f - t.window.x % f) % f), ly = ((f - t.window.y % f) % f);
    gr.ox = t.window.x + lx;
    gr.oy = t.window.y + ly;
    gr.w = std::max(0, (t.window.w - lx) / f);
    gr.h = std::max(0, (t.window.h - ly) / f);
    gr.gx = t.gsdX * f;
    gr.gy = t.gsdY * f;
    const std::size_t n = static_cast<std::size_t>(gr.w) * gr.h;
    LogPlanes lp{IntPlane(gr.w, gr.h, true), IntPlane(gr.w, gr.h, true), IntPlane(gr.w, gr.h, true),
                 IntPlane(gr.w, gr.h, true)};
    gr.valid.assign(n, 0);
    const bool hasNir = t.has("nir");
    const bool hasSwir = hasNir && t.has("swir1");
    if (hasNir) gr.ndvi.assign(n, 0.0f);
    if (hasSwir) gr.ndbi.assign(n, 0.0f);
    // Display brightness 0..255: 8-bit renderings as they are, reflectance rendered the way
    // Sentinel Hub's true colour is (2.5 x reflectance, clipped).
    const double kr = t.isDisplay("red") ? 255.0 : 2.5 * 255.0, kg = t.isDisplay("green") ? 255.0 : 2.5 * 255.0,
                 kb = t.isDisplay("blue") ? 255.0 : 2.5 * 255.0;
    const cv::Mat& R = t.band("red");
    const cv::Mat& G = t.band("green");
    const cv::Mat& B = t.band("blue");
    const cv::Mat* N = hasNir ? &t.band("nir") : nullptr;
    const cv::Mat* S = hasSwir ? &t.band("swir1") : nullptr;
    const double c0 = p.darkOffset * 255.0;
    for (int j = 0; j < gr.h; ++j) {
        for (int i = 0; i < gr.w; ++i) {
            double sr = 0, sg = 0, sb = 0, snir = 0, sred = 0, sswir = 0;
            int count = 0;
            for (int dy = 0; dy < f; ++dy) {
                const int y = ly + j * f + dy;
                const std::uint8_t* v = t.valid.ptr<std::uint8_t>(y);
                const float* rr = R.ptr<float>(y);
                const float* gg = G.ptr<float>(y);
                const float* bb = B.ptr<float>(y);
                for (int dx = 0; dx < f; ++dx) {
                    const int x = lx + i * f + dx;
                    if (!v[x]) continue;
                    ++count;
                    sr += std::min(255.0, kr * rr[x]);
                    sg += std::min(255.0, kg * gg[x]);
                    sb += std::min(255.0, kb * bb[x]);
                    if (N) {
                        snir += N->ptr<float>(y)[x];
                        sred += rr[x];
                    }
                    if (S) sswir += S->ptr<float>(y)[x];
                }
            }
            // An internal pixel needs at least half of its input pixels.
            if (count == 0 || 2 * count < f * f) continue;
            const std::size_t k = gr.idx(i, j);
            gr.valid[k] = 1;
            const double Rv = sr / count + c0, Gv = sg / count + c0, Bv = sb / count + c0;
            // Log-ratios do not change with a per-band gain (exposure, white balance).
            lp.a.v[k] = toFixed(std::log(Rv / Gv));
            lp.b.v[k] = toFixed(std::log(Rv / Bv));
            lp.l.v[k] = toFixed(std::log(Rv + Gv + Bv));
            lp.m.v[k] = 1;
            if (N) gr.ndvi[k] = snir + sred != 0 ? static_cast<float>((snir - sred) / (snir + sred)) : 0.0f;
            if (S) gr.ndbi[k] = sswir + snir != 0 ? static_cast<float>((sswir - snir) / (sswir + snir)) : 0.0f;
        }
    }
    return lp;
}

// Contrast to a masked local mean, then smoothed. Planes are released as soon as they are
// used, which keeps a tile's working set near 60 bytes per internal pixel.
void featureMaps(Grid& gr, LogPlanes lp, const KilnDetector::Params& p) {
    const std::size_t n = gr.valid.size();
    const int kx = oddWidth(p.backgroundWindow / gr.gx), ky = oddWidth(p.backgroundWindow / gr.gy);
    IntPlane count = boxSum(lp.m, kx, ky);
    auto contrast = [&](IntPlane& q, std::vector<float>& out) {
        IntPlane sum = boxSum(q, kx, ky);
        out.assign(n, 0.0f);
        for (std::size_t k = 0; k < n; ++k)
            if (gr.valid[k])
                out[k] = static_cast<float>((static_cast<double>(q.v[k]) - static_cast<double>(sum.v[k]) /
                                                                               static_cast<double>(count.v[k])) /
                                            kFixedOne);
        q = IntPlane();
    };
    std::vector<float> db;
    contrast(lp.a, gr.red);
    contrast(lp.b, db);
    contrast(lp.l, gr.bri);
    // A kiln is redder than its surroundings against both green and blue: R/G alone also fires
    // on grey yards and roads against vegetation, R/B alone on yellow soil.
    for (std::size_t k = 0; k < n; ++k) gr.red[k] = std::min(gr.red[k], db[k]);
    db.clear();
    db.shrink_to_fit();
    count = IntPlane();

    // Masked Gaussian of sigma ~ the kiln half-width: a matched filter for a 40-60 m wide body
    // that suppresses single red roofs.
    const double sx = p.smoothSigma / gr.gx, sy = p.smoothSigma / gr.gy;
    IntPlane weight = gaussianSum(lp.m, sx, sy);
    lp.m = IntPlane();
    auto smooth = [&](const std::vector<float>& in, std::vector<float>& out) {
        IntPlane q(gr.w, gr.h);
        for (std::size_t k = 0; k < n; ++k) q.v[k] = gr.valid[k] ? toFixed(in[k]) : 0;
        IntPlane num = gaussianSum(q, sx, sy);
        out.assign(n, 0.0f);
        for (std::size_t k = 0; k < n; ++k)
            if (gr.valid[k] && weight.v[k])
                out[k] = static_cast<float>(static_cast<double>(num.v[k]) / (static_cast<double>(weight.v[k]) * kFixedOne));
    };
    smooth(gr.red, gr.redS);
    smooth(gr.bri, gr.briS);
}

// Re-segments a kiln at the input's own resolution (only meaningful at a few metres or finer)
// to see its outline: redness contrast, light smoothing against texture, half-maximum region,
// ring gaps closed and the interior filled. Returns false when no outline is found.
bool nativeOutline(const TileImage& t, cv::Point peakGlobal, const KilnDetector::Params& p,
                   std::vector<cv::Point>& filledPts, bool& touches) {
    const double gx = t.gsdX, gy = t.gsdY;
    const double reach = p.regionRadius + p.backgroundWindow / 2;
    const int rx = static_cast<int>(std::ceil(reach / gx)), ry = static_cast<int>(std::ceil(reach / gy));
    const int px = t.localX(peakGlobal.x), py = t.localY(peakGlobal.y);
    const int x0 = std::max(0, px - rx), x1 = std::min(t.window.w, px + rx + 1);
    const int y0 = std::max(0, py - ry), y1 = std::min(t.window.h, py + ry + 1);
    const int w = x1 - x0, h = y1 - y0;
    if (w < 3 || h < 3) return false;
    const double c0 = p.darkOffset * 255.0;
    auto disp = [&](const std::string& n) { return t.isDisplay(n); };
    const bool dr = disp("red"), dg = disp("green"), db = disp("blue");
    auto v255 = [](bool d, float v) { return d ? 255.0 * v : 255.0 * std::min(1.0, 2.5 * v); };
    IntPlane qa(w, h, true), qb(w, h, true), m(w, h, true);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            if (!t.valid.at<std::uint8_t>(y0 + y, x0 + x)) continue;
            const double R = v255(dr, t.band("red").at<float>(y0 + y, x0 + x)) + c0;
            const double G = v255(dg, t.band("green").at<float>(y0 + y, x0 + x)) + c0;
            const double B = v255(db, t.band("blue").at<float>(y0 + y, x0 + x)) + c0;
            qa.at(x, y) = toFixed(std::log(R / G));
            qb.at(x, y) = toFixed(std::log(R / B));
            m.at(x, y) = 1;
        }
    }
    const int kx = oddWidth(p.backgroundWindow / gx), ky = oddWidth(p.backgroundWindow / gy);
    IntPlane sa = boxSum(qa, kx, ky), sb = boxSum(qb, kx, ky), sm = boxSum(m, kx, ky);
    IntPlane qred(w, h, true);
    for (std::size_t k = 0; k < qred.size(); ++k) {
        if (!m.v[k]) continue;
        const double cnt = static_cast<double>(sm.v[k]);
        const double da = static_cast<double>(qa.v[k]) - static_cast<double>(sa.v[k]) / cnt;
        const double dbb = static_cast<double>(qb.v[k]) - static_cast<double>(sb.v[k]) / cnt;
        qred.v[k] = static_cast<std::int64_t>(std::llround(std::min(da, dbb)));
    }
    // 2 m smoothing removes texture (chimney, brick stacks) but keeps the outline.
    const double sx = std::max(1.0, 2.0 / gx), sy = std::max(1.0, 2.0 / gy);
    IntPlane num = gaussianSum(qred, sx, sy), den = gaussianSum(m, sx, sy);
    cv::Mat red(h, w, CV_64F, cv::Scalar(0));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (m.at(x, y) && den.at(x, y)) red.at<double>(y, x) = static_cast<double>(num.at(x, y)) / static_cast<double>(den.at(x, y));
    const int cx = px - x0, cy = py - y0;
    auto near = [&](int x, int y) {
        const double dx = (x - cx) * gx, dy = (y - cy) * gy;
        return dx * dx + dy * dy <= 60.0 * 60.0;
    };
    double peak = -1e300;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (near(x, y) && m.at(x, y)) peak = std::max(peak, red.at<double>(y, x));
    if (!(peak > 0)) return false;
    cv::Mat mask = red >= 0.5 * peak;
    // Close gaps in the ring (trenches, the chimney) before filling the interior.
    const int crx = std::max(1, static_cast<int>(std::lround(8.0 / gx))), cry = std::max(1, static_cast<int>(std::lround(8.0 / gy)));
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE,
                     cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * crx + 1, 2 * cry + 1)));
    cv::Mat labels, stats, cents;
    const int nl = cv::connectedComponentsWithStats(mask, labels, stats, cents, 8, CV_32S);
    int best = 0, bestArea = 0;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const int l = labels.at<int>(y, x);
            if (l && near(x, y) && stats.at<int>(l, cv::CC_STAT_AREA) > bestArea) {
                best = l;
                bestArea = stats.at<int>(l, cv::CC_STAT_AREA);
            }
        }
    }
    if (!best || nl < 2) return false;
    cv::Mat comp = labels == best;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(comp, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::Mat filled(h, w, CV_8U, cv::Scalar(0));
    cv::drawContours(filled, contours, -1, cv::Scalar(255), cv::FILLED);
    touches = false;
    filledPts.clear();
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            if (!filled.at<std::uint8_t>(y, x)) continue;
            filledPts.emplace_back(x + x0 + t.window.x, y + y0 + t.window.y);
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) touches = true;
        }
    }
    return !filledPts.empty();
}

}  // namespace

const OptionTable<KilnDetector::Params>& KilnDetector::table() {
    using P = Params;
    static const auto t = OptionTable<P>()
        .number("internal_gsd_m", &P::internalGsd, 10, "m", "working resolution; finer input is block-averaged to it", 1, 30)
        .number("max_gsd_m", &P::maxGsd, 20, "m", "coarser input cannot resolve a 100 x 50 m kiln: nothing is reported", 1, 1000)
        .number("background_window_m", &P::backgroundWindow, 400, "m", "side of the local background window (kiln + yard << this << landscape)", 100, 3000)
        .number("smooth_sigma_m", &P::smoothSigma, 20, "m", "smoothing of contrast maps, about the kiln half-width", 2, 100)
        .number("nms_radius_m", &P::nmsRadius, 50, "m", "peaks closer than this are one object", 10, 300)
        .number("min_redness", &P::minRedness, 0.20, "ln ratio", "smoothed redness contrast: R/G and R/B both this far above the local mean (0.2 = 22 %)", 0, 2)
        .number("min_brightness", &P::minBrightness, 0.30, "ln ratio", "smoothed brightness contrast to the local mean (0.3 = 35 % brighter)", -2, 2)
        .number("region_fraction", &P::regionFraction, 0.5, "0-1", "kiln body = pixels above this fraction of the peak redness", 0.1, 0.95)
        .number("region_min", &P::regionMin, 0.10, "ln ratio", "kiln body pixels need at least this redness contrast", 0, 2)
        .number("region_radius_m", &P::regionRadius, 120, "m", "kiln body is searched within this radius of the peak", 30, 400)
        .number("min_length_m", &P::minLength, 40, "m", "shortest kiln body (moment length, blur included)", 0, 1000)
        .number("max_length_m", &P::maxLength, 250, "m", "longest kiln body (bull's trench 100-150 m plus blur)", 10, 1000)
        .number("max_width_m", &P::maxWidth, 120, "m", "widest kiln body (40-60 m, circular up to 100 m, plus blur); removes brown fields", 10, 1000)
        .number("yard_radius_m", &P::yardRadius, 150, "m", "drying yards are looked for within this radius", 30, 500)
        .number("yard_brightness", &P::yardBrightness, 0.25, "ln ratio", "a yard pixel is this much brighter than the local mean ...", -2, 2)
        .number("yard_redness_max", &P::yardRednessMax, 0.15, "ln ratio", "... and less red than this", -2, 2)
        .number("type_max_gsd_m", &P::typeMaxGsd, 5, "m", "kiln_type from the outline only at this GSD or finer", 0.1, 30)
        .number("max_ndvi", &P::maxNdvi, 0.4, "NDVI", "with a nir band: kiln bodies are bare, reject vegetated peaks", -1, 1)
        .number("min_ndbi", &P::minNdbi, -0.2, "NDBI", "with nir and swir1 bands: reject wet or vegetated bodies", -1, 1)
        .number("min_score", &P::minScore, 0.0, "0-1", "drop kilns scoring below this (0.5 = high-confidence only)", 0, 1)
        .number("dark_offset", &P::darkOffset, 0.02, "of white", "added to R, G, B before log-ratios to steady dark pixels", 0.001, 0.2);
    return t;
}

DetectorInfo KilnDetector::describe() {
    DetectorInfo d;
    d.name = "kiln";
    d.description =
        "Brick kilns (bull's-trench, zigzag, circular) in true-colour or multispectral imagery "
        "from ~0.5 to 20 m: peaks of smoothed redness contrast against a local background, "
        "verified by the size and shape of the kiln body in metres, scored with a drying-yard "
        "bonus. Reports the oriented outline of the kiln body.";
    d.options = table().specs();
    d.attributes = {
        {"kiln_type", AttributeType::String, "", "fcbk, zigzag, circular or unknown (10 m pixels cannot tell fcbk from zigzag)"},
        {"type_confidence", AttributeType::Double, "0-1", "confidence of kiln_type"},
        {"length_m", AttributeType::Double, "m", "length of the kiln body (moment-based, includes blur)"},
        {"width_m", AttributeType::Double, "m", "width of the kiln body"},
        {"orientation_deg", AttributeType::Double, "deg", "azimuth of the long axis, clockwise from north, 0-180"},
        {"redness", AttributeType::Double, "ln ratio", "peak smoothed redness contrast"},
        {"brightness", AttributeType::Double, "ln ratio", "peak smoothed brightness contrast"},
        {"yard_fraction", AttributeType::Double, "0-1", "share of bright, non-red pixels around the kiln"},
        {"touches_edge", AttributeType::Bool, "", "the kiln body touches nodata or the raster edge"},
    };
    return d;
}

std::unique_ptr<Detector> KilnDetector::create(const OptionValues& options) {
    return std::make_unique<KilnDetector>(options);
}

KilnDetector::KilnDetector(const OptionValues& o) : info_(describe()) {
    p_ = table().bind(o);
    if (p_.minLength > p_.maxLength)
        throw UsageError("min_length_m exceeds max_length_m: make the kiln length range non-empty");
}

std::vector<std::string> KilnDetector::bandsFor(const std::vector<std::string>& available) const {
    auto has = [&](const char* n) { return std::find(available.begin(), available.end(), n) != available.end(); };
    std::string missing;
    for (const char* n : {"red", "green", "blue"})
        if (!has(n)) missing += (missing.empty() ? "" : ", ") + std::string(n);
    if (!missing.empty())
        throw UsageError("the kiln detector needs red, green and blue bands but the input lacks " + missing +
                         ": pass --sensor (e.g. rgb, sentinel2, planetscope) or --band red=...,green=...,blue=...");
    std::vector<std::string> bands{"red", "green", "blue"};
    if (has("nir")) bands.push_back("nir");  // used to reject vegetated peaks
    if (has("nir") && has("swir1")) bands.push_back("swir1");  // and wet ones
    return bands;
}

double KilnDetector::haloMetres() const {
    // Everything a detection depends on: the background window, the smoothing support, the
    // largest neighbourhood measured around a peak, and the internal grid's alignment.
    return p_.backgroundWindow / 2 + 4 * p_.smoothSigma +
           std::max({p_.nmsRadius, p_.regionRadius, p_.yardRadius}) + 3 * p_.internalGsd;
}

std::string KilnDetector::inputWarning(double gsdX, double gsdY) const {
    double g = std::max(gsdX, gsdY);
    if (g <= p_.maxGsd) return {};
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "pixels of %.1f m cannot resolve a 100 x 50 m kiln (max_gsd_m = %.0f): the kiln "
                  "detector reports nothing here (raise max_gsd_m to force it)",
                  g, p_.maxGsd);
    return buf;
}

KilnDetector::Shape KilnDetector::measureShape(const std::vector<cv::Point>& pts, double gx, double gy) {
    Shape s;
    const double n = static_cast<double>(pts.size());
    if (pts.empty()) return s;
    double mx = 0, my = 0;
    for (const auto& p : pts) {
        mx += p.x;
        my += p.y;
    }
    mx /= n;
    my /= n;
    double sxx = 0, syy = 0, sxy = 0;
    for (const auto& p : pts) {
        const double dx = (p.x - mx) * gx, dy = (p.y - my) * gy;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    const double denom = pts.size() > 1 ? n - 1 : 1;
    // Each pixel is a square, not a point: add its own spread (variance of a uniform: side^2/12).
    const double a = sxx / denom + gx * gy / 12.0, c = syy / denom + gx * gy / 12.0, b = sxy / denom;
    const double mid = (a + c) / 2, rad = std::sqrt((a - c) * (a - c) / 4 + b * b);
    const double l1 = std::max(mid + rad, 1e-6), l2 = std::max(mid - rad, 1e-6);
    s.length = 4 * std::sqrt(l1);
    s.width = 4 * std::sqrt(l2);
    s.angle = 0.5 * std::atan2(2 * b, a - c);
    s.area = n * gx * gy;
    s.cx = mx;
    s.cy = my;
    std::vector<cv::Point2f> metric;
    metric.reserve(pts.size());
    for (const auto& p : pts)
        metric.emplace_back(static_cast<float>((p.x - pts[0].x) * gx), static_cast<float>((p.y - pts[0].y) * gy));
    cv::RotatedRect r = cv::minAreaRect(metric);
    // minAreaRect spans pixel centres; add a pixel to cover pixel extents.
    s.fill = s.area / std::max((r.size.width + gx) * (r.size.height + gy), 1e-9);
    return s;
}

std::pair<std::string, double> KilnDetector::classify(const Shape& s, double gsd, bool touchesEdge,
                                                      double typeMaxGsd) {
    if (touchesEdge) return {"unknown", 0.0};
    const double elong = s.length / std::max(s.width, 1e-9);
    if (gsd > typeMaxGsd) {
        // At ~10 m only compact versus elongated is (weakly) measurable.
        if (elong < 1.2) return {"circular", 0.3};
        return {"unknown", 0.0};
    }
    if (elong < 1.3) return {"circular", 0.8};
    // A sharp-cornered rectangle (zigzag) fills its minimum rectangle more than a stadium
    // (bull's trench) does; the threshold drifts with blur (simulated at 0.5-5 m).
    const double t = 0.93 - 0.016 * gsd;
    const double conf = std::min(1.0, std::fabs(s.fill - t) / 0.03);
    return {s.fill >= t ? "zigzag" : "fcbk", conf};
}

std::vector<Detection> KilnDetector::detect(const TileImage& tile, std::vector<Rejection>* rejected) const {
    (void)rejected;  // gates are explained in a later change
    std::vector<Detection> out;
    if (!inputWarning(tile.gsdX, tile.gsdY).empty() || tile.validCount == 0) return out;
    Grid gr;
    LogPlanes planes = resample(tile, p_, gr);
    if (gr.w < 3 || gr.h < 3) return out;
    featureMaps(gr, std::move(planes), p_);

    // Candidates: local maxima of smoothed redness within the NMS ellipse.
    const int nx = static_cast<int>(std::lround(p_.nmsRadius / gr.gx));
    const int ny = static_cast<int>(std::lround(p_.nmsRadius / gr.gy));
    cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * nx + 1, 2 * ny + 1));
    cv::Mat redS(gr.h, gr.w, CV_32F, gr.redS.data());
    cv::Mat localMax;
    cv::dilate(redS, localMax, kernel, cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(-1e9));

    const int rrx = static_cast<int>(std::ceil(p_.regionRadius / gr.gx));
    const int rry = static_cast<int>(std::ceil(p_.regionRadius / gr.gy));
    const int yrx = static_cast<int>(std::ceil(p_.yardRadius / gr.gx));
    const int yry = static_cast<int>(std::ceil(p_.yardRadius / gr.gy));
    const float tRed = static_cast<float>(p_.minRedness), tBri = static_cast<float>(p_.minBrightness);
    auto isCandidate = [&](int x, int y) {
        const std::size_t k = gr.idx(x, y);
        return gr.valid[k] && gr.redS[k] >= tRed && gr.briS[k] >= tBri && gr.redS[k] >= localMax.at<float>(y, x);
    };

    for (int y = 0; y < gr.h; ++y) {
        for (int x = 0; x < gr.w; ++x) {
            if (!isCandidate(x, y)) continue;
            // The input pixel holding the internal pixel's centre decides ownership.
            const cv::Point anchor(gr.ox + x * gr.f + gr.f / 2, gr.oy + y * gr.f + gr.f / 2);
            if (!tile.owns(anchor.x, anchor.y)) continue;
            // A plateau inside one NMS ellipse keeps its first pixel in raster order.
            bool tie = false;
            for (int yy = std::max(0, y - ny); yy <= y && !tie; ++yy) {
                for (int xx = std::max(0, x - nx); xx <= std::min(gr.w - 1, x + nx); ++xx) {
                    if (yy == y && xx >= x) break;
                    if (kernel.at<std::uint8_t>(yy - y + ny, xx - x + nx) && isCandidate(xx, yy) &&
                        gr.redS[gr.idx(xx, yy)] == gr.redS[gr.idx(x, y)]) {
                        tie = true;
                        break;
                    }
                }
            }
            if (tie) continue;

            // Kiln body: the half-maximum region of redness around the peak.
            const double peak = gr.redS[gr.idx(x, y)];
            const double thr = std::max(p_.regionFraction * peak, p_.regionMin);
            const int x0 = std::max(0, x - rrx), x1 = std::min(gr.w, x + rrx + 1);
            const int y0 = std::max(0, y - rry), y1 = std::min(gr.h, y + rry + 1);
            cv::Mat mask(y1 - y0, x1 - x0, CV_8U, cv::Scalar(0));
            for (int yy = y0; yy < y1; ++yy) {
                for (int xx = x0; xx < x1; ++xx) {
                    const double ddx = (xx - x) * gr.gx, ddy = (yy - y) * gr.gy;
                    const std::size_t k = gr.idx(xx, yy);
                    if (ddx * ddx + ddy * ddy <= p_.regionRadius * p_.regionRadius && gr.valid[k] && gr.red[k] >= thr)
                        mask.at<std::uint8_t>(yy - y0, xx - x0) = 1;
                }
            }
            cv::Mat labels, stats, cents;
            const int nl = cv::connectedComponentsWithStats(mask, labels, stats, cents, 8, CV_32S);
            int label = labels.at<int>(y - y0, x - x0);
            if (label == 0) {
                if (nl <= 1) continue;
                double best = 1e300;
                for (int l = 1; l < nl; ++l) {
                    const double ddx = (cents.at<double>(l, 0) + x0 - x) * gr.gx;
                    const double ddy = (cents.at<double>(l, 1) + y0 - y) * gr.gy;
                    if (ddx * ddx + ddy * ddy < best) {
                        best = ddx * ddx + ddy * ddy;
                        label = l;
                    }
                }
            }
            std::vector<cv::Point> pts;
            bool touches = false;
            double ndviSum = 0, ndbiSum = 0;
            for (int yy = y0; yy < y1; ++yy) {
                for (int xx = x0; xx < x1; ++xx) {
                    if (labels.at<int>(yy - y0, xx - x0) != label) continue;
                    pts.emplace_back(xx, yy);
                    if (!gr.ndvi.empty()) ndviSum += gr.ndvi[gr.idx(xx, yy)];
                    if (!gr.ndbi.empty()) ndbiSum += gr.ndbi[gr.idx(xx, yy)];
                    for (int dy = -1; dy <= 1 && !touches; ++dy)
                        for (int dx = -1; dx <= 1; ++dx)
                            if (!gr.inside(xx + dx, yy + dy) || !gr.valid[gr.idx(xx + dx, yy + dy)]) {
                                // Only the raster edge or nodata, never a tile cut: the halo
                                // keeps cuts far from any owned kiln.
                                touches = true;
                                break;
                            }
                }
            }
            Shape s = measureShape(pts, gr.gx, gr.gy);
            if (s.length < p_.minLength || s.length > p_.maxLength || s.width > p_.maxWidth) continue;
            // Multispectral input: a kiln body is bare (low NDVI, Rouse et al. 1974) and dry fired
            // clay reflects more SWIR than NIR, unlike water or vegetation (NDBI, Zha et al. 2003).
            if (!gr.ndvi.empty() && ndviSum / static_cast<double>(pts.size()) > p_.maxNdvi) continue;
            if (!gr.ndbi.empty() && ndbiSum / static_cast<double>(pts.size()) < p_.minNdbi) continue;

            // Context: bright, non-red drying yards nearby raise the score.
            int yard = 0, around = 0;
            for (int yy = std::max(0, y - yry); yy < std::min(gr.h, y + yry + 1); ++yy) {
                for (int xx = std::max(0, x - yrx); xx < std::min(gr.w, x + yrx + 1); ++xx) {
                    const double ddx = (xx - x) * gr.gx, ddy = (yy - y) * gr.gy;
                    const std::size_t k = gr.idx(xx, yy);
                    if (ddx * ddx + ddy * ddy > p_.yardRadius * p_.yardRadius || !gr.valid[k]) continue;
                    ++around;
                    if (gr.bri[k] >= p_.yardBrightness && gr.red[k] < p_.yardRednessMax) ++yard;
                }
            }
            const double yardFrac = around ? static_cast<double>(yard) / around : 0.0;
            const double briPeak = gr.briS[gr.idx(x, y)];

            // Soft versions of each gate, so that the score ranks rather than cuts.
            double score = logistic((peak - p_.minRedness) / 0.05) * logistic((briPeak - p_.minBrightness) / 0.1) *
                           logistic((s.length - p_.minLength) / 10.0) * logistic((p_.maxLength - s.length) / 20.0) *
                           logistic((p_.maxWidth - s.width) / 10.0) * (0.5 + 0.5 * std::min(1.0, yardFrac / 0.15));
            if (score < p_.minScore) continue;

            const double nativeGsd = std::max(tile.gsdX, tile.gsdY);
            // Centre of the body in global pixel-corner coordinates of the input raster.
            double ccx = gr.ox + (s.cx + 0.5) * gr.f, ccy = gr.oy + (s.cy + 0.5) * gr.f;
            std::pair<std::string, double> type;
            if (nativeGsd <= p_.typeMaxGsd) {
                // Fine pixels show the outline: measure and type the kiln at native resolution.
                std::vector<cv::Point> fine;
                bool fineTouches = false;
                if (nativeOutline(tile, anchor, p_, fine, fineTouches)) {
                    s = measureShape(fine, tile.gsdX, tile.gsdY);
                    ccx = s.cx + 0.5;
                    ccy = s.cy + 0.5;
                    type = classify(s, nativeGsd, fineTouches || touches, p_.typeMaxGsd);
                } else {
                    type = {"unknown", 0.0};
                }
            } else {
                type = classify(s, nativeGsd, touches, p_.typeMaxGsd);
            }

            // Oriented outline of the body: the equivalent rectangle on the moment axes.
            const double ca = std::cos(s.angle), sa = std::sin(s.angle);
            const double hl = s.length / 2, hw = s.width / 2;
            Polygon poly;
            for (auto [u, v] : {std::pair{1, 1}, std::pair{-1, 1}, std::pair{-1, -1}, std::pair{1, -1}}) {
                const double mxm = u * hl * ca - v * hw * sa;  // metres along image x
                const double mym = u * hl * sa + v * hw * ca;  // metres along image y
                poly.outer.emplace_back(ccx + mxm / tile.gsdX, ccy + mym / tile.gsdY);
            }
            // Azimuth clockwise from north of the long axis (image x east, y south).
            double az = std::atan2(ca, -sa) * 180.0 / kPi;
            az = std::fmod(az + 360.0, 180.0);

            Detection d;
            d.geometry.parts.push_back(std::move(poly));
            d.anchor = anchor;
            d.cls = "kiln";
            d.score = score;
            d.attributes = {AttributeValue(type.first), AttributeValue(type.second), AttributeValue(s.length),
                            AttributeValue(s.width), AttributeValue(az), AttributeValue(peak),
                            AttributeValue(briPeak), AttributeValue(yardFrac), AttributeValue(touches)};
            out.push_back(std::move(d));
        }
    }
    return out;
}

}  // namespace riskmap
