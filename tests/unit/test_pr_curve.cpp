// The precision-recall curve, its average precision (all-point interpolated, VOC 2010) and the
// bootstrap, on cases worked by hand.
#include <gtest/gtest.h>

#include "eval/PrCurve.hpp"

using namespace riskmap;

TEST(PrCurve, AveragePrecisionOfAHandWorkedRanking) {
    // TP (0.9), FP (0.8), TP (0.7), ignored (0.6), FP (0.5); 3 certain objects.
    std::vector<RankedDetection> r{{0.9, 1, 0}, {0.8, 0, 0}, {0.7, 1, 0}, {0.6, -1, 0}, {0.5, 0, 0}};
    const PrSummary s = summarize(r, 3);
    ASSERT_EQ(s.curve.size(), 5u);
    EXPECT_DOUBLE_EQ(s.curve[0].precision, 1.0);
    EXPECT_DOUBLE_EQ(s.curve[1].precision, 0.5);
    EXPECT_DOUBLE_EQ(s.curve[2].precision, 2.0 / 3);
    EXPECT_DOUBLE_EQ(s.curve[2].recall, 2.0 / 3);
    EXPECT_DOUBLE_EQ(s.curve[3].precision, 2.0 / 3) << "a detection on difficult truth counts neither way";
    // AP = 1/3 * 1 + (2/3 - 1/3) * max precision at recall >= 2/3 (= 2/3).
    EXPECT_NEAR(s.averagePrecision, 1.0 / 3 + 1.0 / 3 * 2.0 / 3, 1e-12);
    EXPECT_DOUBLE_EQ(s.bestF1.threshold, 0.7);
    EXPECT_NEAR(s.bestF1.f1, 2.0 / 3, 1e-12);
    const CurvePoint at = s.at(0.75);
    EXPECT_EQ(at.tp, 1u);
    EXPECT_EQ(at.fp, 1u);
}

TEST(PrCurve, AveragePrecisionTakesTheEnvelopeWherePrecisionRisesAgain) {
    // TP, FP, TP, FP, FP, TP, TP over 4 certain objects. At recall 3/4 the raw precision is 3/6,
    // but the last TP lifts it to 4/7: the envelope, not the raw point, is what AP integrates.
    std::vector<RankedDetection> r{{0.9, 1, 0}, {0.8, 0, 0}, {0.7, 1, 0}, {0.6, 0, 0},
                                   {0.5, 0, 0}, {0.4, 1, 0}, {0.3, 1, 0}};
    const PrSummary s = summarize(r, 4);
    ASSERT_EQ(s.curve.size(), 7u);
    EXPECT_DOUBLE_EQ(s.curve[5].precision, 0.5);
    EXPECT_DOUBLE_EQ(s.curve[6].precision, 4.0 / 7);
    const double expected = 0.25 * (1.0 + 2.0 / 3 + 4.0 / 7 + 4.0 / 7);
    EXPECT_NEAR(s.averagePrecision, expected, 1e-12);
    EXPECT_GT(s.averagePrecision, 0.25 * (1.0 + 2.0 / 3 + 0.5 + 4.0 / 7) + 1e-3) << "the raw precision was integrated";
}

TEST(PrCurve, TiesEnterTogetherAndPerfectRankingScoresOne) {
    const PrSummary tie = summarize({{0.5, 1, 0}, {0.5, 0, 0}}, 1);
    ASSERT_EQ(tie.curve.size(), 1u);
    EXPECT_DOUBLE_EQ(tie.curve[0].precision, 0.5);
    EXPECT_DOUBLE_EQ(summarize({{0.9, 1, 0}, {0.8, 1, 0}, {0.1, 0, 0}}, 2).averagePrecision, 1.0);
    EXPECT_DOUBLE_EQ(summarize({}, 4).averagePrecision, 0.0);
}

TEST(PrCurve, VocMatchingTakesTheNearestFreeTruthInScoreOrder) {
    // Two detections near one certain object: the higher score is the hit, the other a false alarm.
    std::vector<EvalPoint> dets{{{89.0, 23.0}, 0.4, false, 0}, {{89.0001, 23.0}, 0.9, false, 1}};
    std::vector<EvalPoint> truth{{{89.00005, 23.0}, 0, false, 0}, {{89.01, 23.0}, 0, true, 1}};
    auto r = rankImage(dets, truth, 60, 3);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].score, 0.9);
    EXPECT_EQ(r[0].outcome, 1);
    EXPECT_EQ(r[1].outcome, 0);
    EXPECT_EQ(r[1].unit, 3u);
}

TEST(PrCurve, BootstrapIsSeededAndBracketsTheEstimate) {
    std::vector<RankedDetection> r;
    std::vector<std::size_t> positives;
    for (std::size_t u = 0; u < 20; ++u) {
        r.push_back({0.9 - 0.01 * u, 1, u});
        if (u % 4 == 0) r.push_back({0.5, 0, u});
        positives.push_back(u % 5 == 0 ? 2 : 1);
    }
    const BootstrapResult a = bootstrap(r, positives, 0.0, 500, 7), b = bootstrap(r, positives, 0.0, 500, 7);
    EXPECT_EQ(a.precision.low, b.precision.low);
    EXPECT_EQ(a.averagePrecision.high, b.averagePrecision.high);
    std::size_t total = 0;
    for (auto p : positives) total += p;
    const PrSummary s = summarize(r, total);
    EXPECT_LE(a.averagePrecision.low, s.averagePrecision);
    EXPECT_GE(a.averagePrecision.high, s.averagePrecision);
    EXPECT_LT(a.recall.low, a.recall.high) << "sources differ, so resamples must too";
}

// An audit: with no detection at the threshold precision was taken as 1, so intervals read
// [1, 1]; one source gave zero-width intervals; no true positive still named a "best" threshold.
TEST(PrCurve, UndefinedMeasuresAreLeftOutNotInvented) {
    // Three sources; only the first has a detection (a hit). Most resamples miss it.
    const std::vector<RankedDetection> r{{0.9, 1, 0}};
    const BootstrapResult b = bootstrap(r, {1, 1, 1}, 0.0, 400, 3);
    ASSERT_TRUE(b.precision.defined);
    EXPECT_GT(b.precision.undefinedResamples, 50u) << "(2/3)^3 of resamples hold no detection";
    EXPECT_EQ(b.precision.undefinedResamples + 0, b.f1.undefinedResamples);
    EXPECT_DOUBLE_EQ(b.recall.low, 0.0)
        << "recall is defined in every resample and is 0 without the hit";
    // No detection at all: no precision interval, recall [0, 0] is real.
    const BootstrapResult none = bootstrap({}, {1, 2}, 0.0, 200, 3);
    EXPECT_FALSE(none.precision.defined);
    EXPECT_EQ(none.precision.undefinedResamples, 200u);
    EXPECT_TRUE(none.recall.defined);
    // One source: every resample is the sample itself; no interval.
    const BootstrapResult one = bootstrap({{0.9, 1, 0}, {0.8, 0, 0}}, {3}, 0.0, 200, 3);
    EXPECT_FALSE(one.precision.defined);
    EXPECT_FALSE(one.recall.defined);
    EXPECT_NE(one.withheld.find("one source"), std::string::npos);
    // Detections but no hit: no best-F1 threshold.
    EXPECT_FALSE(summarize({{0.9, 0, 0}, {0.4, 0, 0}}, 2).hasBestF1);
    EXPECT_FALSE(summarize({}, 2).hasBestF1);
    EXPECT_TRUE(summarize({{0.9, 0, 0}, {0.4, 1, 0}}, 2).hasBestF1);
}
