#pragma once
// Band arithmetic and rules over named bands, e.g. "ndvi < 0.2 and mndwi < 0" or
// "red / green > 1.3". Rules yield a pass mask and a margin: how far each pixel clears the rule.
#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raster/TileImage.hpp"

namespace riskmap {

struct SpectralIndexInfo {
    std::string name;
    std::string formula;
    std::string citation;
};

class SpectralExpression {
public:
    // Throws UsageError pointing at the offending position.
    static SpectralExpression parse(const std::string& text);

    const std::string& text() const { return text_; }
    bool isRule() const;
    // Band names the expression reads, sorted and unique.
    std::vector<std::string> bands() const;

    // For rules: pass (CV_8U, 255 = passes) and margin (CV_32F; > 0 where a strict comparison
    // passes; min over `and`, max over `or`, negated by `not`).
    void evaluateRule(const TileImage& tile, cv::Mat& pass, cv::Mat& margin) const;
    // For numeric expressions: the value per pixel (CV_32F).
    cv::Mat evaluateValue(const TileImage& tile) const;

    // The built-in indices with formulas and citations.
    static const std::vector<SpectralIndexInfo>& indices();

    struct Node;

private:
    friend class ExpressionRows;
    std::string text_;
    std::shared_ptr<const Node> root_;
};

// Evaluates an expression over a tile one row segment at a time, with every temporary in cache
// and nothing written the size of the tile. Values for a pixel do not depend on the segment.
// Holds references to the expression and tile; one per thread.
class ExpressionRows {
public:
    ExpressionRows(const SpectralExpression& expression, const TileImage& tile);
    ~ExpressionRows();
    ExpressionRows(const ExpressionRows&) = delete;
    ExpressionRows& operator=(const ExpressionRows&) = delete;

    // Rules: pass flags (255 = passes) and margins for pixels [x0, x0 + n) of local row y.
    void rule(int y, int x0, int n, std::uint8_t* pass, float* margin);
    // Numeric expressions: values for pixels [x0, x0 + n) of row y, valid until the next call.
    const float* value(int y, int x0, int n);

private:
    class Impl;
    std::shared_ptr<const SpectralExpression::Node> root_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace riskmap
