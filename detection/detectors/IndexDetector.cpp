#include "detection/detectors/IndexDetector.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"
#include "detection/imgproc/MetricMorphology.hpp"
#include "detection/imgproc/SpectralExpression.hpp"

namespace riskmap {

DetectorInfo IndexDetector::describe() {
    DetectorInfo d;
    d.name = "index";
    std::string indices;
    for (const auto& i : SpectralExpression::indices()) indices += (indices.empty() ? "" : ", ") + i.name;
    d.description =
        "Spectral-index rule: pixels passing a rule over named bands (built-in indices: " + indices +
        "; plus + - * / and comparisons joined by and/or/not) become polygons, cleaned by "
        "morphology and filtered by area and length in metres.";
    d.options = {
        {"rule", OptionType::String, std::string("ndvi < 0.2 and ndwi < 0"), "",
         "rule over band names and indices, e.g. \"ndvi < 0.2 and mndwi < 0\"", {}, {}, {}},
        {"class", OptionType::String, std::string("index"), "", "value of the class property", {}, {}, {}},
        {"open_radius_m", OptionType::Double, 0.0, "m",
         "morphological opening radius (removes specks and thin lines); 0 = off", 0.0, 1000.0, {}},
        {"close_radius_m", OptionType::Double, 0.0, "m",
         "morphological closing radius (fills gaps and small holes); 0 = off", 0.0, 1000.0, {}},
        {"min_area_m2", OptionType::Double, 1000.0, "m2", "smallest object reported", 0.0, {}, {}},
        {"max_area_m2", OptionType::Double, 1.0e6, "m2", "largest object reported", 0.0, {}, {}},
        {"max_length_m", OptionType::Double, 500.0, "m",
         "largest bounding-box side reported; sets the tile halo, so larger costs more reading",
         1.0, 100000.0, {}},
        {"score_margin", OptionType::Double, 0.2, "rule units",
         "margin by which a pixel must pass the rule to score 1", 1e-6, {}, {}},
        {"min_score", OptionType::Double, 0.0, "0-1", "drop objects scoring below this", 0.0, 1.0, {}},
    };
    d.attributes = {
        {"pixels", AttributeType::Int, "px", "number of pixels in the object"},
        {"margin_mean", AttributeType::Double, "rule units",
         "mean margin by which the object's pixels pass the rule"},
    };
    return d;
}

std::unique_ptr<Detector> IndexDetector::create(const OptionValues& options) {
    return std::make_unique<IndexDetector>(options);
}

IndexDetector::IndexDetector(const OptionValues& o)
    : info_(describe()),
      rule_(SpectralExpression::parse(o.getString("rule"))),
      class_(o.getString("class")),
      openRadiusM_(o.getDouble("open_radius_m")),
      closeRadiusM_(o.getDouble("close_radius_m")),
      minAreaM2_(o.getDouble("min_area_m2")),
      maxAreaM2_(o.getDouble("max_area_m2")),
      maxLengthM_(o.getDouble("max_length_m")),
      scoreMargin_(o.getDouble("score_margin")),
      minScore_(o.getDouble("min_score")) {
    if (!rule_.isRule())
        throw UsageError("rule '" + rule_.text() + "' has no comparison: write e.g. \"" +
                         rule_.text() + " > 0.3\"");
    if (minAreaM2_ > maxAreaM2_)
        throw UsageError("min_area_m2 (" + optionValueText(minAreaM2_) + ") exceeds max_area_m2 (" +
                         optionValueText(maxAreaM2_) + ")");
    if (class_.empty()) throw UsageError("option class must not be empty");
}

std::vector<std::string> IndexDetector::bandsFor(const std::vector<std::string>& available) const {
    auto need = rule_.bands();
    std::string missing;
    for (const auto& b : need)
        if (std::find(available.begin(), available.end(), b) == available.end())
            missing += (missing.empty() ? "" : ", ") + b;
    if (!missing.empty()) {
        std::string have;
        for (const auto& a : available) have += (have.empty() ? "" : ", ") + a;
        throw UsageError("rule '" + rule_.text() + "' needs band(s) " + missing +
                         " but the input has " + have +
                         ": name bands with --sensor PROFILE or --band NAME=PATH");
    }
    return need;
}

double IndexDetector::haloMetres() const {
    return maxLengthM_ + MetricMorphology::influenceMetres(openRadiusM_, closeRadiusM_);
}

std::vector<Detection> IndexDetector::detect(const TileImage& tile) const {
    std::vector<Detection> out;
    if (tile.validCount == 0) return out;
    const int w = tile.window.w, h = tile.window.h;
    ExpressionRows rows(rule_, tile);
    std::vector<std::uint8_t> passRow(static_cast<std::size_t>(w));
    std::vector<float> marginRow(static_cast<std::size_t>(w));
    auto passOf = [&](int y, std::uint8_t* pass) {
        rows.rule(y, 0, w, pass, marginRow.data());
        const std::uint8_t* valid = tile.valid.ptr<std::uint8_t>(y);
        for (int x = 0; x < w; ++x) pass[x] &= valid[x];
    };
    // Without morphology the pass mask streams row by row into the components; margins are
    // recomputed later for the few pixels in reported objects.
    MetricMorphology morph(tile.gsdX, tile.gsdY, openRadiusM_, closeRadiusM_);
    ComponentExtractor cc(w, h);
    if (morph.active()) {
        cv::Mat pass(h, w, CV_8U);
        for (int y = 0; y < h; ++y) passOf(y, pass.ptr<std::uint8_t>(y));
        morph.apply(pass, tile.valid);
        for (int y = 0; y < h; ++y) cc.addRow(y, pass.ptr<std::uint8_t>(y));
    } else {
        for (int y = 0; y < h; ++y) {
            passOf(y, passRow.data());
            cc.addRow(y, passRow.data());
        }
    }
    cc.finish();

    ComponentExtractor::Limits lim;
    lim.marginX = morph.marginX();
    lim.marginY = morph.marginY();
    lim.maxExtentX = static_cast<int>(std::floor(maxLengthM_ / tile.gsdX));
    lim.maxExtentY = static_cast<int>(std::floor(maxLengthM_ / tile.gsdY));
    const double pxArea = tile.pixelAreaM2();
    lim.minPixels = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(minAreaM2_ / pxArea - 1e-9)));
    lim.maxPixels = static_cast<std::int64_t>(std::floor(maxAreaM2_ / pxArea + 1e-9));

    for (const Component& c : cc.complete(tile, lim)) {
        double sumScore = 0, sumMargin = 0;
        for (const PixelRun* r = cc.runsBegin(c); r != cc.runsEnd(c); ++r) {
            const int n = r->x1 - r->x0;
            rows.rule(r->y, r->x0, n, passRow.data(), marginRow.data());
            for (int i = 0; i < n; ++i) {
                const float m = marginRow[static_cast<std::size_t>(i)];
                sumMargin += m;
                sumScore += std::clamp(static_cast<double>(m) / scoreMargin_, 0.0, 1.0);
            }
        }
        double score = sumScore / static_cast<double>(c.pixels);
        if (score < minScore_) continue;
        Detection d;
        d.geometry = cc.outline(c, tile);
        d.anchor = c.anchor;
        d.cls = class_;
        d.score = score;
        d.attributes = {AttributeValue(c.pixels), AttributeValue(sumMargin / static_cast<double>(c.pixels))};
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace riskmap
