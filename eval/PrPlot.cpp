#include "eval/PrPlot.hpp"

#include <opencv2/imgproc.hpp>

#include <cstdio>

#include "raster/PngImage.hpp"

namespace riskmap {

namespace {

constexpr int kWidth = 640, kHeight = 480;
constexpr int kLeft = 70, kRight = 20, kTop = 40, kBottom = 60;
const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225), kCurve(180, 100, 30), kBest(40, 40, 200), kOperating(40, 150, 40);

// Recall on x, precision on y, both 0..1.
cv::Point at(double recall, double precision) {
    const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
    return {kLeft + static_cast<int>(std::lround(recall * w)), kTop + static_cast<int>(std::lround((1 - precision) * h))};
}

void text(cv::Mat& img, const std::string& s, cv::Point p, double scale = 0.45, const cv::Scalar& colour = kInk) {
    cv::putText(img, s, p, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

void axes(cv::Mat& img) {
    for (int k = 0; k <= 10; ++k) {
        const double v = k / 10.0;
        cv::line(img, at(v, 0), at(v, 1), kGrid, 1);
        cv::line(img, at(0, v), at(1, v), kGrid, 1);
        char label[8];
        std::snprintf(label, sizeof label, "%.1f", v);
        if (k % 2 == 0) {
            text(img, label, at(v, 0) + cv::Point(-10, 18));
            text(img, label, at(0, v) + cv::Point(-32, 5));
        }
    }
    cv::rectangle(img, at(0, 1), at(1, 0), kInk, 1);
    text(img, "recall", cv::Point(kWidth / 2 - 20, kHeight - 15), 0.5);
    text(img, "precision", cv::Point(5, kTop - 12), 0.5);
}

std::string figure(const char* name, double v, const Interval& ci, bool withCi) {
    char b[96];
    if (withCi && ci.defined)
        std::snprintf(b, sizeof b, "%s %.3f (95%% CI %.3f-%.3f)", name, v, ci.low, ci.high);
    else
        std::snprintf(b, sizeof b, "%s %.3f", name, v);
    return b;
}

}  // namespace

std::vector<unsigned char> plotPrecisionRecall(const EvalReport& r) {
    cv::Mat img(kHeight, kWidth, CV_8UC3, cv::Scalar(255, 255, 255));
    axes(img);
    // The curve as a step function: each point holds its precision until the next recall.
    double held = r.pr.curve.empty() ? 1.0 : r.pr.curve.front().precision;
    std::vector<cv::Point> line{at(0, held)};
    for (const auto& c : r.pr.curve) {
        line.push_back(at(c.recall, held));
        line.push_back(at(c.recall, c.precision));
        held = c.precision;
    }
    cv::polylines(img, line, false, kCurve, 2, cv::LINE_AA);
    const bool ci = r.bootstrap.resamples > 0;
    if (r.pr.hasBestF1)
        cv::circle(img, at(r.pr.bestF1.recall, r.pr.bestF1.precision), 6, kBest, 2, cv::LINE_AA);
    const CurvePoint op = r.pr.at(r.request.minScore);
    cv::drawMarker(img, at(op.recall, op.precision), kOperating, cv::MARKER_SQUARE, 12, 2);
    text(img, figure("AP", r.pr.averagePrecision, r.bootstrap.averagePrecision, ci), {kLeft + 10, kHeight - kBottom - 50}, 0.5);
    char best[96];
    if (r.pr.hasBestF1)
        std::snprintf(best, sizeof best, "o best F1 %.3f at score >= %.3f", r.pr.bestF1.f1,
                      r.pr.bestF1.threshold);
    else
        std::snprintf(best, sizeof best, "no true positive at any score");
    text(img, best, {kLeft + 10, kHeight - kBottom - 30}, 0.45, kBest);
    char opText[96];
    std::snprintf(opText, sizeof opText, "[] score >= %.3f: P %.3f, R %.3f", r.request.minScore, op.precision, op.recall);
    text(img, opText, {kLeft + 10, kHeight - kBottom - 12}, 0.45, kOperating);
    char title[160];
    std::snprintf(title, sizeof title, "%zu truth objects, match radius %.0f m", r.pr.positives, r.request.radiusMetres);
    text(img, title, {kLeft + 80, kTop - 12}, 0.45);
    return encodePng(img);
}

}  // namespace riskmap
