// The kiln detector on transformed copies of the 30 real Sentinel-2 dev chips, made here in the
// test (greyscale, hue rotated, gain, blur, resampled), scored by `riskmap eval`'s matcher
// (60 m, one-to-one, difficult kilns don't care). Each test asserts the precision and recall
// measured on this branch (docs/kilns.md); where that is below issue 10's target, the target is
// stated in a comment and the gap recorded there, not hidden.
//
// The dev chips are the ones the model's coefficients were fitted on, so these figures are
// in-sample for the shipped model; the leave-one-district-out figures of the prototype (refitted
// per fold) are in docs/kilns.md.
#include <gtest/gtest.h>
#include <gdal_priv.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <iostream>

#include "core/Json.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

// The bundled copy: its labels carry the district the per-district tables group by (the shared
// original does not).
std::string devSet() { return std::string(RISKMAP_SOURCE_DIR) + "/data/kilns-s2-bd-dev"; }

// A chip as three float planes (R, G, B; 0-255) and its georeferencing.
struct Chip {
    std::string name;
    std::vector<cv::Mat> rgb;
    double gt[6] = {0, 1, 0, 0, 0, -1};
    std::string wkt;
};

Chip readChip(const std::string& path) {
    Chip c;
    c.name = std::filesystem::path(path).stem().string();
    GDALAllRegister();  // idempotent; this test may be the first in its process to open a file
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds) throw std::runtime_error("cannot open " + path);
    ds->GetGeoTransform(c.gt);
    c.wkt = ds->GetProjectionRef();
    for (int b = 1; b <= 3; ++b) {
        cv::Mat m(ds->GetRasterYSize(), ds->GetRasterXSize(), CV_32F);
        if (ds->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, m.cols, m.rows, m.data, m.cols, m.rows, GDT_Float32, 0, 0) != CE_None)
            throw std::runtime_error("cannot read " + path);
        c.rgb.push_back(m);
    }
    return c;
}

// Written as 8-bit RGB, rounded and clipped like an 8-bit product; or as Float32 in units of
// white (0..1), as they are: a float rendering keeps what lies beyond white and below black.
void writeChip(const Chip& c, const std::string& path, GDALDataType type = GDT_Byte) {
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDatasetUniquePtr ds(
        drv->Create(path.c_str(), c.rgb[0].cols, c.rgb[0].rows, 3, type, nullptr));
    double gt[6];
    std::copy(c.gt, c.gt + 6, gt);
    ds->SetGeoTransform(gt);
    ds->SetProjection(c.wkt.c_str());
    const GDALColorInterp ci[3] = {GCI_RedBand, GCI_GreenBand, GCI_BlueBand};
    for (int b = 0; b < 3; ++b) {
        cv::Mat q;
        if (type == GDT_Byte)
            c.rgb[static_cast<std::size_t>(b)].convertTo(q, CV_8U);  // saturating, round-to-nearest
        else
            c.rgb[static_cast<std::size_t>(b)].convertTo(q, CV_32F, 1.0 / 255.0);
        GDALRasterBand* band = ds->GetRasterBand(b + 1);
        band->SetColorInterpretation(ci[b]);
        if (band->RasterIO(GF_Write, 0, 0, q.cols, q.rows, q.data, q.cols, q.rows, type, 0, 0) !=
            CE_None)
            throw std::runtime_error("cannot write " + path);
    }
}

using Transform = std::function<void(Chip&)>;

// Luminance (ITU-R BT.601) in every band: no colour left at all.
void greyscale(Chip& c) {
    cv::Mat y = 0.299 * c.rgb[0] + 0.587 * c.rgb[1] + 0.114 * c.rgb[2];
    c.rgb = {y.clone(), y.clone(), y.clone()};
}

// Hue rotated by `deg` in HSV, saturation and value kept (brick red turns yellow-green or violet).
Transform hueRotate(double deg) {
    return [deg](Chip& c) {
        for (int y = 0; y < c.rgb[0].rows; ++y)
            for (int x = 0; x < c.rgb[0].cols; ++x) {
                float& r = c.rgb[0].at<float>(y, x);
                float& g = c.rgb[1].at<float>(y, x);
                float& b = c.rgb[2].at<float>(y, x);
                const double mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
                if (d <= 0) continue;
                double h = r == mx ? (g - b) / d : g == mx ? 2 + (b - r) / d : 4 + (r - g) / d;
                h = std::fmod(h / 6 + deg / 360 + 2, 1.0) * 6;
                const double s = d / mx, v = mx, f = h - std::floor(h);
                const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
                const double rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
                const auto* o = rgb[static_cast<int>(h) % 6];
                r = static_cast<float>(o[0]), g = static_cast<float>(o[1]), b = static_cast<float>(o[2]);
            }
    };
}

// A different sensor's white balance.
void gain(Chip& c) {
    c.rgb[0] *= 0.8;
    c.rgb[1] *= 1.1;
    c.rgb[2] *= 1.25;
}

// A softer sensor: Gaussian blur of 1 pixel.
void blur(Chip& c) {
    for (auto& m : c.rgb) cv::GaussianBlur(m, m, cv::Size(0, 0), 1.0, 1.0, cv::BORDER_REFLECT);
}

// Resampled by `k` (bicubic up, block mean down), the pixel size changed to match.
Transform resample(double k) {
    return [k](Chip& c) {
        for (auto& m : c.rgb) {
            cv::Mat o;
            if (k > 1) cv::resize(m, o, cv::Size(), k, k, cv::INTER_CUBIC);
            else cv::resize(m, o, cv::Size(), k, k, cv::INTER_AREA);
            m = o;
        }
        c.gt[1] /= k;
        c.gt[5] /= k;
    };
}

// A black collar of `px` pixels on every side, as warping or an export leaves one (0 in every
// band, no nodata declared); the pixels keep their places on the ground.
Transform collar(int px) {
    return [px](Chip& c) {
        for (auto& m : c.rgb)
            cv::copyMakeBorder(m, m, px, px, px, px, cv::BORDER_CONSTANT, cv::Scalar(0));
        c.gt[0] -= px * c.gt[1];
        c.gt[3] -= px * c.gt[5];
    };
}

// Per band, the 0.5 and 99.5 % points of the chip stretched to 0 and 255: an export "as
// rendered" with a cumulative-cut stretch, which clips the brightest 0.5 % of each band.
void stretch(Chip& c) {
    for (auto& m : c.rgb) {
        std::vector<float> v(m.begin<float>(), m.end<float>());
        std::sort(v.begin(), v.end());
        const float lo = v[v.size() / 200], hi = v[v.size() - 1 - v.size() / 200];
        m = (m - lo) * (255.0 / std::max(1.0f, hi - lo));
    }
}

// Every band times `k` plus `add` (in units of white / 255): a brighter or offset rendering.
Transform linear(double k, double add) {
    return [k, add](Chip& c) {
        for (auto& m : c.rgb) m = m * k + add;
    };
}

struct Figures {
    double precision = 0, recall = 0;
    std::int64_t tp = 0, fp = 0, fn = 0;
    std::size_t clippingWarnings = 0;  // the scan's warnings of a clipped rendering
};

// Scans the transformed dev chips with `sets` and evaluates them as the issue does.
Figures measure(const std::string& variant, const Transform& transform,
                const std::vector<std::string>& sets = {}, GDALDataType type = GDT_Byte) {
    TempDir dir;
    const std::string set = devSet();
    std::filesystem::create_directory(dir.file("chips"));
    std::vector<std::string> args{"scan"};
    for (const auto& e : std::filesystem::directory_iterator(set + "/chips")) {
        if (e.path().extension() != ".tif") continue;
        Chip c = readChip(e.path().string());
        if (transform) transform(c);
        args.push_back(dir.file("chips/" + c.name + ".tif"));
        writeChip(c, args.back(), type);
    }
    EXPECT_EQ(args.size(), 31u);
    for (const std::string& s : std::vector<std::string>{"--detector", "kiln", "-o", dir.file("k.geojson"), "-q"}) args.push_back(s);
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    auto r = runRiskmap(args);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    auto e = runRiskmap({"eval", "--truth", set + "/labels.geojson", "--detections", dir.file("k.geojson"), "--truth-source-field", "chip",
                         "--radius-m", "60", "--group-field", "district", "--json"});
    EXPECT_EQ(e.exitCode, 0) << e.err;
    const Json rep = parseJson(e.out, "eval");
    const Json& o = rep.at("overall");
    Figures f;
    f.tp = o.at("tp").get<std::int64_t>(), f.fp = o.at("fp").get<std::int64_t>(), f.fn = o.at("fn").get<std::int64_t>();
    f.precision = f.tp + f.fp ? static_cast<double>(f.tp) / static_cast<double>(f.tp + f.fp) : 0;
    f.recall = static_cast<double>(f.tp) / static_cast<double>(f.tp + f.fn);
    std::cout << "[kiln " << variant;
    for (const auto& s : sets) std::cout << " " << s;
    std::cout << "] P " << f.precision << " R " << f.recall << " (TP " << f.tp << " FP " << f.fp << " FN " << f.fn << ")";
    for (const auto& g : rep.at("groups"))
        std::cout << "  " << g.at("group").get<std::string>() << " " << g.at("tp").get<std::int64_t>() << "/"
                  << g.at("fp").get<std::int64_t>() << "/" << g.at("fn").get<std::int64_t>();
    std::cout << "\n";
    EXPECT_EQ(f.tp + f.fn, 41) << "the 41 certain kilns";
    const Json manifest = parseJsonFile(dir.file("k.geojson.manifest.json"));
    for (const auto& w : manifest.at("warnings"))
        f.clippingWarnings += w.get<std::string>().find("at 255 in a band") != std::string::npos;
    return f;
}

}  // namespace

// At least the true positives and at most the false alarms measured on this branch
// (docs/kilns.md): a change that loses a kiln or adds a false alarm fails.
void expectAtLeast(const Figures& f, std::int64_t tp, std::int64_t maxFp) {
    EXPECT_GE(f.tp, tp) << "kilns found";
    EXPECT_LE(f.fp, maxFp) << "false alarms";
}

TEST(CliKilnVariants, OriginalChipsAtEachOperatingPoint) {
    // Issue 10's target is P >= 0.9 and R >= 0.9 leave-one-district-out at the default point; the
    // prototype's LODO gives P 0.927 / R 0.927. In-sample here: 39/4/2, P 0.907 / R 0.951.
    const Figures f = measure("original", nullptr);
    expectAtLeast(f, 39, 4);
    EXPECT_EQ(f.clippingWarnings, 0u);
    EXPECT_GE(f.precision, 0.9);
    EXPECT_GE(f.recall, 0.9);
    // high_precision: 32/1/9 (P 0.970 / R 0.780); high_recall: 40/5/1 (P 0.889 / R 0.976).
    const Figures hp = measure("original", nullptr, {"operating_point=high_precision"});
    expectAtLeast(hp, 32, 1);
    EXPECT_GE(hp.precision, 0.95);
    const Figures hr = measure("original", nullptr, {"operating_point=high_recall"});
    expectAtLeast(hr, 40, 5);
    EXPECT_GE(hr.recall, 0.95);
}

TEST(CliKilnVariants, Greyscale) {
    // Issue 10's target: R >= 0.85 with P >= 0.7. MISSED. Measured 23/10/18: P 0.697 / R 0.561
    // (prototype LODO P 0.639 / R 0.561). Without colour a 10 m kiln is a bright blob in a bright
    // yard, like bare plots and roofs; docs/kilns.md has the analysis. Before issue 10: 0 of 41.
    const Figures f = measure("greyscale", greyscale);
    expectAtLeast(f, 23, 10);
    // high_recall: 28/26/13, P 0.519 / R 0.683.
    const Figures hr = measure("greyscale", greyscale, {"operating_point=high_recall"});
    expectAtLeast(hr, 28, 26);
}

TEST(CliKilnVariants, HueRotatedBothWays) {
    // Issue 10's target: R >= 0.85 with P >= 0.8. Met: 36/5/5, P 0.878 / R 0.878 both ways (an HSV
    // rotation by +60 and by -60 are channel permutations of each other, and every feature is
    // invariant to the order of the channels). Prototype LODO: P 0.921 / R 0.854.
    for (double deg : {60.0, -60.0}) {
        const Figures f = measure(deg > 0 ? "hue+60" : "hue-60", hueRotate(deg));
        expectAtLeast(f, 36, 5);
        EXPECT_GE(f.recall, 0.85);
        EXPECT_GE(f.precision, 0.8);
    }
}

TEST(CliKilnVariants, GainBlurAndResampling) {
    // No target in the issue. Gain 38/3/3 (P 0.927 / R 0.927); blur 40/12/1 (P 0.769 / R 0.976:
    // blur raises the contrast of soft bright plots); 3x bicubic 41/4/0; 2x down to ~19 m 38/8/3.
    expectAtLeast(measure("gain", gain), 38, 3);
    expectAtLeast(measure("blur1", blur), 40, 12);
    expectAtLeast(measure("up3", resample(3)), 41, 4);
    expectAtLeast(measure("down2", resample(0.5)), 38, 8);
}

TEST(CliKilnVariants, ColourOffOnTheOriginalChips) {
    // The fallback for tan or grey kilns: colour evidence off. 23/13/18, P 0.639 / R 0.561, about
    // the greyscale figures (prototype LODO P 0.575 / R 0.561).
    expectAtLeast(measure("original", nullptr, {"colour=false"}), 23, 13);
}

TEST(CliKilnVariants, BlackCollar) {
    // The chips inside a 48 px (~480 m) black collar: the collar is no data (--zero-pixels auto),
    // so the same 39/4/2 as the original chips. Read as data (--zero-pixels data) the collar is a
    // dark background that lowers every kiln's context: 32/18/9, P 0.640 / R 0.780 (docs/kilns.md).
    expectAtLeast(measure("collar48", collar(48)), 39, 4);
}

TEST(CliKilnVariants, ClippingStretchIsWarnedOf) {
    // A 0.5-99.5 % stretch per band whites out the brightest ground, the kilns first: 22/1/19,
    // P 0.957 / R 0.537 (docs/kilns.md; no fix, the information is gone). Every chip is warned of.
    const Figures f = measure("stretch0.5", stretch);
    expectAtLeast(f, 22, 1);
    EXPECT_EQ(f.clippingWarnings, 30u);
}

TEST(CliKilnVariants, FloatRenderingsBeyondWhiteAndBelowBlack) {
    // Float input in units of white is used as it is. Clipped at white, a gain of 1.33 lost 12
    // kilns (27/4/14); an offset of -0.02 (0.8 % of the pixels below 0, as surface-reflectance
    // products have) took the log of negative levels and gave 37/23/4. Now 39/4/2 and 37/3/4.
    expectAtLeast(measure("float-gain1.33", linear(1.33, 0), {}, GDT_Float32), 39, 4);
    expectAtLeast(measure("float-offset-0.02", linear(1.0, -0.02 * 255), {}, GDT_Float32), 37, 3);
    // The per-chip 0.5-99.5 % stretch kept in float, beyond white: 32/2/9 (in 8 bits, clipped at
    // white, 22/1/19).
    expectAtLeast(measure("float-stretch0.5", stretch, {}, GDT_Float32), 32, 2);
}

// A sweep of hostile inputs: rows of +Inf in a float chip made a "chroma" kiln of p 0.94 (and
// -Inf one of 0.44); NaN rows were no data. Every non-finite value is no data now.
TEST(CliKilnVariants, InfiniteValuesAreNoDataAsNaNIs) {
    auto rowsOf = [](float v) {
        return [v](Chip& c) {
            for (auto& m : c.rgb)
                for (int y = 40; y < std::min(60, m.rows); ++y) m.row(y).setTo(v);
        };
    };
    const Figures nan = measure("rows-nan", rowsOf(std::numeric_limits<float>::quiet_NaN()), {}, GDT_Float32);
    for (float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
        const Figures f = measure(v > 0 ? "rows-inf" : "rows-minus-inf", rowsOf(v), {}, GDT_Float32);
        EXPECT_EQ(f.tp, nan.tp) << v;
        EXPECT_EQ(f.fp, nan.fp) << v;
        EXPECT_EQ(f.fn, nan.fn) << v;
    }
}
