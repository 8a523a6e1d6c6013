#include "detection/detectors/IndexDetector.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "detection/OptionTable.hpp"
#include "detection/imgproc/ComponentExtractor.hpp"
#include "detection/imgproc/MetricMorphology.hpp"
#include "detection/imgproc/SpectralExpression.hpp"

namespace riskmap {

const OptionTable<IndexDetector::Params>& IndexDetector::table() {
    using P = Params;
    static const auto t =
        OptionTable<P>()
            .text("rule", &P::rule, "ndvi < 0.2 and ndwi < 0", "rule over band names and indices, e.g. \"ndvi < 0.2 and mndwi < 0\"")
            .text("class", &P::cls, "index", "value of the class property")
            .number("open_radius_m", &P::openRadius, 0.0, "m", "morphological opening radius (removes specks and thin lines); 0 = off", 0.0, 1000.0)
            .number("close_radius_m", &P::closeRadius, 0.0, "m", "morphological closing radius (fills gaps and small holes); 0 = off", 0.0, 1000.0)
            .number("min_area_m2", &P::minArea, 1000.0, "m2", "smallest object reported", 0.0, std::nullopt)
            .number("max_area_m2", &P::maxArea, 1.0e6, "m2", "largest object reported", 0.0, std::nullopt)
            .number("max_length_m", &P::maxLength, 500.0, "m", "largest bounding-box side reported; sets the tile halo, so larger costs more reading; --explain lists objects up to twice as long (with twice the halo)", 1.0, 100000.0)
            .number("score_margin", &P::scoreMargin, 0.2, "rule units", "margin by which a pixel must pass the rule to score 1", 1e-6, std::nullopt)
            .number("min_score", &P::minScore, 0.0, "0-1", "drop objects scoring below this", 0.0, 1.0);
    return t;
}

DetectorInfo IndexDetector::describe() {
    DetectorInfo d;
    d.name = "index";
    std::string indices;
    for (const auto& i : SpectralExpression::indices()) indices += (indices.empty() ? "" : ", ") + i.name;
    d.description =
        "Spectral-index rule: pixels passing a rule over named bands (built-in indices: " + indices +
        "; plus + - * / and comparisons joined by and/or/not) become polygons, cleaned by "
        "morphology and filtered by area and length in metres.";
    d.options = table().specs();
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
    : info_(describe()), p_(table().bind(o)), rule_(SpectralExpression::parse(p_.rule)) {
    if (!rule_.isRule())
        throw UsageError("rule '" + rule_.text() + "' has no comparison: write e.g. \"" +
                         rule_.text() + " > 0.3\"");
    if (p_.minArea > p_.maxArea)
        throw UsageError("min_area_m2 (" + optionValueText(p_.minArea) + ") exceeds max_area_m2 (" +
                         optionValueText(p_.maxArea) + ")");
    if (p_.cls.empty()) throw UsageError("option class must not be empty");
    // GeoPackage cut "a\0b" to "a" while GeoJSON kept it: the formats disagreed (an audit).
    if (std::any_of(p_.cls.begin(), p_.cls.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        throw UsageError("option class holds a control character (a newline, tab or NUL): give plain text");
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

Rejection IndexDetector::rejection(const ComponentExtractor& cc, const Component& c, const TileImage& tile, const char* gate,
                                   double value, double limit) const {
    Rejection r;
    r.candidate.geometry = cc.outline(c, tile);
    r.candidate.anchor = c.anchor;
    r.candidate.cls = p_.cls;
    r.gate = gate;
    r.value = value;
    r.limit = limit;
    r.measures = {{"pixels", static_cast<double>(c.pixels)}, {"area_m2", static_cast<double>(c.pixels) * tile.pixelAreaM2()}};
    return r;
}

// An object complete() set aside for its size, with the gate it failed.
Rejection IndexDetector::sizeRejection(const ComponentExtractor& cc, const Component& c, const TileImage& tile) const {
    const double area = static_cast<double>(c.pixels) * tile.pixelAreaM2();
    switch (c.rejected) {
        case Component::Rejected::TooSmall: return rejection(cc, c, tile, "min_area_m2", area, p_.minArea);
        case Component::Rejected::TooLarge: return rejection(cc, c, tile, "max_area_m2", area, p_.maxArea);
        default: break;
    }
    const double length = std::max(c.box.width * tile.gsdX, c.box.height * tile.gsdY);
    Rejection r = rejection(cc, c, tile, "max_length_m", length, p_.maxLength);
    r.measures.emplace_back("length_m", length);
    return r;
}

double IndexDetector::haloMetres() const {
    return p_.maxLength + MetricMorphology::influenceMetres(p_.openRadius, p_.closeRadius);
}

// --explain lists objects up to twice max_length_m as too long: the halo must see them whole.
double IndexDetector::explainHaloMetres() const {
    return kExplainLengths * p_.maxLength + MetricMorphology::influenceMetres(p_.openRadius, p_.closeRadius);
}

std::vector<Detection> IndexDetector::detect(const TileImage& tile, std::vector<Rejection>* rejected) const {
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
    MetricMorphology morph(tile.gsdX, tile.gsdY, p_.openRadius, p_.closeRadius);
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
    lim.maxExtentX = static_cast<int>(std::floor(p_.maxLength / tile.gsdX));
    lim.maxExtentY = static_cast<int>(std::floor(p_.maxLength / tile.gsdY));
    lim.explainExtentX = static_cast<int>(std::floor(kExplainLengths * p_.maxLength / tile.gsdX));
    lim.explainExtentY = static_cast<int>(std::floor(kExplainLengths * p_.maxLength / tile.gsdY));
    const double pxArea = tile.pixelAreaM2();
    lim.minPixels = ComponentExtractor::Limits::pixelsAtLeast(p_.minArea, pxArea);
    lim.maxPixels = ComponentExtractor::Limits::pixelsAtMost(p_.maxArea, pxArea);

    std::vector<Component> setAside;
    const std::vector<Component> complete = cc.complete(tile, lim, rejected ? &setAside : nullptr);
    for (const Component& c : setAside) rejected->push_back(sizeRejection(cc, c, tile));
    for (const Component& c : complete) {
        double sumScore = 0, sumMargin = 0;
        for (const PixelRun* r = cc.runsBegin(c); r != cc.runsEnd(c); ++r) {
            const int n = r->x1 - r->x0;
            rows.rule(r->y, r->x0, n, passRow.data(), marginRow.data());
            for (int i = 0; i < n; ++i) {
                const float m = marginRow[static_cast<std::size_t>(i)];
                sumMargin += m;
                sumScore += std::clamp(static_cast<double>(m) / p_.scoreMargin, 0.0, 1.0);
            }
        }
        double score = sumScore / static_cast<double>(c.pixels);
        if (score < p_.minScore) {
            if (rejected) rejected->push_back(rejection(cc, c, tile, "min_score", score, p_.minScore));
            continue;
        }
        Detection d;
        d.geometry = cc.outline(c, tile);
        d.anchor = c.anchor;
        d.cls = p_.cls;
        d.score = score;
        d.attributes = {AttributeValue(c.pixels), AttributeValue(sumMargin / static_cast<double>(c.pixels))};
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace riskmap
