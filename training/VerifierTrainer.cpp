#include "training/VerifierTrainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "core/Error.hpp"
#include "detection/VerifierModel.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

ThresholdCounts ThresholdCounts::at(const std::vector<TrainingSample>& samples, const std::vector<std::size_t>& rows,
                                    const std::vector<double>& scores, const std::vector<ImageLabels>& images, double threshold,
                                    double nmsMetres) {
    std::map<std::string, std::vector<std::size_t>> byImage;
    for (std::size_t r : rows)
        if (scores[r] >= threshold) byImage[samples[r].image].push_back(r);
    ThresholdCounts c;
    std::set<std::pair<std::string, int>> hit;
    for (auto& [image, cand] : byImage) {
        std::stable_sort(cand.begin(), cand.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
        std::vector<std::size_t> kept;
        for (std::size_t r : cand) {
            bool suppressed = false;
            for (std::size_t k : kept) suppressed = suppressed || geodesicDistance(samples[k].position, samples[r].position) <= nmsMetres;
            if (suppressed) continue;
            kept.push_back(r);
            if (samples[r].label) hit.insert({image, samples[r].target});
            else ++c.fp;
        }
    }
    for (const auto& im : images)
        for (int l : im.certain) (hit.count({im.image, l}) ? c.tp : c.fn)++;
    return c;
}

Json ThresholdCounts::toJson() const {
    return Json{{"tp", tp}, {"fp", fp}, {"fn", fn}, {"precision", precision()}, {"recall", recall()}, {"f1", f1()}};
}

std::map<std::string, int> assignGroupFolds(const std::vector<std::string>& sampleGroups, int k, std::uint64_t seed) {
    std::map<std::string, std::size_t> size;
    for (const auto& g : sampleGroups) ++size[g];
    if (size.size() < 2)
        throw UsageError("cross-validation needs at least two groups of candidates, found " + std::to_string(size.size()) +
                         ": give more images, or a --group-field with more than one value");
    std::vector<std::string> order;
    for (const auto& [g, n] : size) order.push_back(g);
    cv::RNG rng(seed);
    for (std::size_t i = order.size() - 1; i > 0; --i)
        std::swap(order[i], order[static_cast<std::size_t>(rng.uniform(0, static_cast<int>(i) + 1))]);
    const int folds = std::min<int>(k, static_cast<int>(order.size()));
    std::vector<std::size_t> load(static_cast<std::size_t>(folds), 0);
    std::map<std::string, int> fold;
    for (const auto& g : order) {
        const auto f = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        fold[g] = static_cast<int>(f);
        load[f] += size[g];
    }
    return fold;
}

double bestThreshold(const std::vector<double>& cuts, const std::function<ThresholdCounts(double)>& counts, double beta) {
    const std::set<double, std::greater<double>> sorted(cuts.begin(), cuts.end());
    double best = 0.5, bestF = -1;
    const double b2 = beta * beta;
    for (double t : sorted) {
        const ThresholdCounts c = counts(t);
        const double p = c.precision(), r = c.recall();
        const double f = p + r > 0 ? (1 + b2) * p * r / (b2 * p + r) : 0.0;
        if (f > bestF) {
            bestF = f;
            best = t;
        }
    }
    return best;
}

cv::Ptr<cv::ml::RTrees> VerifierTrainer::fit(const std::vector<TrainingSample>& samples, const std::vector<std::size_t>& rows) const {
    // RTrees draws its bootstrap from a fixed internal RNG, so the seed enters through the order
    // of the rows: a seeded shuffle gives each seed its own, reproducible forest.
    std::vector<std::size_t> order(rows);
    cv::RNG rng(o_.seed);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng.uniform(0, static_cast<int>(i)))]);
    cv::theRNG().state = o_.seed;
    std::size_t pos = 0;
    for (std::size_t r : order) pos += samples[r].label ? 1u : 0u;
    const std::size_t neg = order.size() - pos;
    if (pos == 0 || neg == 0) throw UsageError("the training candidates are all of one class (" + std::to_string(pos) +
                                               " near a label, " + std::to_string(neg) + " not): check that the labels lie in the images");
    const int nvar = static_cast<int>(samples[order.front()].x.size());
    cv::Mat x(static_cast<int>(order.size()), nvar, CV_32F), y(static_cast<int>(order.size()), 1, CV_32S), w(static_cast<int>(order.size()), 1, CV_32F);
    for (std::size_t i = 0; i < order.size(); ++i) {
        const TrainingSample& s = samples[order[i]];
        std::copy(s.x.begin(), s.x.end(), x.ptr<float>(static_cast<int>(i)));
        y.at<int>(static_cast<int>(i)) = s.label;
        // Class-balanced: each class carries half the total weight.
        w.at<float>(static_cast<int>(i)) = static_cast<float>(order.size()) / (2.0f * static_cast<float>(s.label ? pos : neg));
    }
    cv::Mat varType(nvar + 1, 1, CV_8U, cv::Scalar(cv::ml::VAR_ORDERED));
    varType.at<unsigned char>(nvar) = cv::ml::VAR_CATEGORICAL;
    auto data = cv::ml::TrainData::create(x, cv::ml::ROW_SAMPLE, y, cv::noArray(), cv::noArray(), w, varType);
    auto forest = cv::ml::RTrees::create();
    forest->setMaxDepth(o_.maxDepth);
    forest->setMinSampleCount(o_.minSampleCount);
    forest->setRegressionAccuracy(0);
    forest->setUseSurrogates(false);
    forest->setMaxCategories(2);
    forest->setCVFolds(0);
    forest->setCalculateVarImportance(false);
    forest->setActiveVarCount(0);  // sqrt of the feature count (Breiman 2001)
    forest->setTermCriteria(cv::TermCriteria(cv::TermCriteria::MAX_ITER, o_.trees, 0));
    if (!forest->train(data)) throw Error("the random forest did not train");
    return forest;
}

namespace {

// The images and sample rows of each fold.
struct FoldRows {
    std::vector<std::size_t> rows;
    std::vector<ImageLabels> images;
    std::vector<std::string> groups;
};

std::vector<FoldRows> splitFolds(const std::vector<TrainingSample>& samples, const std::vector<ImageLabels>& images, int k,
                                 std::uint64_t seed) {
    std::vector<std::string> groups;
    for (const auto& s : samples) groups.push_back(s.group);
    const std::map<std::string, int> foldOf = assignGroupFolds(groups, k, seed);
    int folds = 0;
    for (const auto& [g, f] : foldOf) folds = std::max(folds, f + 1);
    std::vector<FoldRows> out(static_cast<std::size_t>(folds));
    for (const auto& [g, f] : foldOf) out[static_cast<std::size_t>(f)].groups.push_back(g);
    for (std::size_t i = 0; i < samples.size(); ++i) out[static_cast<std::size_t>(foldOf.at(samples[i].group))].rows.push_back(i);
    // An image without candidates still has labels to miss; its group may have no fold (no
    // candidates anywhere in it), and then it is in no fold.
    for (const auto& im : images)
        if (auto it = foldOf.find(im.group); it != foldOf.end()) out[static_cast<std::size_t>(it->second)].images.push_back(im);
    return out;
}

}  // namespace

namespace {

// fit() names the counts it was given; in a fold those are the fold's, and the fix differs.
void checkFoldClasses(const std::vector<TrainingSample>& samples,
                      const std::vector<std::size_t>& train, const FoldRows& held,
                      std::size_t fold) {
    std::size_t pos = 0;
    for (std::size_t r : train) pos += samples[r].label ? 1u : 0u;
    if (pos > 0 && pos < train.size()) return;
    std::string groups;
    for (const auto& g : held.groups) groups += (groups.empty() ? "" : ", ") + g;
    throw UsageError("cross-validation fold " + std::to_string(fold) + " (holding out " + groups +
                     ") trains on " + std::to_string(train.size()) +
                     " candidates all of one class (" + std::to_string(pos) + " near a label, " +
                     std::to_string(train.size() - pos) +
                     " not): give fewer --folds, or a --group-field whose other groups hold "
                     "labelled objects and other ground");
}

}  // namespace

CrossValidation VerifierTrainer::crossValidate(const std::vector<TrainingSample>& samples, const std::vector<ImageLabels>& images,
                                               const std::string& groupedBy) const {
    const std::vector<FoldRows> folds = splitFolds(samples, images, o_.folds, o_.seed);
    CrossValidation cv;
    cv.groupedBy = groupedBy;
    cv.scores.assign(samples.size(), 0.0);
    std::vector<std::size_t> all, train;
    std::vector<ImageLabels> allImages;
    for (const FoldRows& f : folds) {
        train.clear();
        for (const FoldRows& g : folds)
            if (&g != &f) train.insert(train.end(), g.rows.begin(), g.rows.end());
        if (o_.cancel && o_.cancel->load()) throw Cancelled("interrupted: no model was written");
        checkFoldClasses(samples, train, f, static_cast<std::size_t>(&f - folds.data()) + 1);
        const auto forest = fit(samples, train);
        for (std::size_t i : f.rows) cv.scores[i] = VerifierModel::vote(*forest, samples[i].x);
        all.insert(all.end(), f.rows.begin(), f.rows.end());
        allImages.insert(allImages.end(), f.images.begin(), f.images.end());
    }
    const double nms = o_.nmsMetres;
    auto pooled = [&](double t) { return ThresholdCounts::at(samples, all, cv.scores, allImages, t, nms); };
    cv.highPrecision = bestThreshold(cv.scores, pooled, 0.5);
    cv.balanced = bestThreshold(cv.scores, pooled, 1.0);
    cv.highRecall = bestThreshold(cv.scores, pooled, 2.0);
    cv.pooledHalf = pooled(0.5);
    cv.pooledChosen = pooled(cv.balanced);
    for (std::size_t f = 0; f < folds.size(); ++f) {
        FoldResult r;
        r.fold = static_cast<int>(f) + 1;
        r.groups = folds[f].groups;
        for (std::size_t i : folds[f].rows) (samples[i].label ? r.positives : r.negatives)++;
        r.atHalf = ThresholdCounts::at(samples, folds[f].rows, cv.scores, folds[f].images, 0.5, nms);
        r.atChosen = ThresholdCounts::at(samples, folds[f].rows, cv.scores, folds[f].images, cv.balanced, nms);
        cv.folds.push_back(r);
    }
    return cv;
}

Json CrossValidation::toJson() const {
    Json fs = Json::array();
    for (const auto& f : folds)
        fs.push_back(Json{{"fold", f.fold}, {"held_out", f.groups}, {"positives", f.positives}, {"negatives", f.negatives},
                          {"at_0_5", f.atHalf.toJson()}, {"at_balanced", f.atChosen.toJson()}});
    return Json{{"grouped_by", groupedBy},
                {"level", "detection"},
                {"folds", fs},
                {"pooled_at_0_5", pooledHalf.toJson()},
                {"pooled_at_balanced", pooledChosen.toJson()},
                {"thresholds", Json{{"high_precision", highPrecision}, {"balanced", balanced}, {"high_recall", highRecall}}}};
}

std::string CrossValidation::toText() const {
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf, "Grouped cross-validation by %s: detections (kept after NMS) against certain labels; balanced = %.3f (best out-of-fold F1)\n",
                  groupedBy.c_str(), balanced);
    out += buf;
    out += "fold  held out                       cand+ cand-   P@0.5  R@0.5  F1@0.5   P@bal  R@bal  F1@bal  TP/FP/FN@bal\n";
    auto row = [&](const std::string& name, const std::string& held, std::size_t pos, std::size_t neg, const ThresholdCounts& a,
                   const ThresholdCounts& b) {
        std::snprintf(buf, sizeof buf, "%-5s %-30.30s %5zu %5zu   %.3f  %.3f  %.3f    %.3f  %.3f  %.3f  %zu/%zu/%zu\n", name.c_str(),
                      held.c_str(), pos, neg, a.precision(), a.recall(), a.f1(), b.precision(), b.recall(), b.f1(), b.tp, b.fp, b.fn);
        out += buf;
    };
    std::size_t pos = 0, neg = 0;
    for (const auto& f : folds) {
        std::string held;
        for (const auto& g : f.groups) held += (held.empty() ? "" : ",") + g;
        row(std::to_string(f.fold), held, f.positives, f.negatives, f.atHalf, f.atChosen);
        pos += f.positives;
        neg += f.negatives;
    }
    row("all", "(pooled out-of-fold)", pos, neg, pooledHalf, pooledChosen);
    std::snprintf(buf, sizeof buf, "operating points: high_precision %.3f, balanced %.3f, high_recall %.3f (best F0.5, F1, F2 out of fold)\n",
                  highPrecision, balanced, highRecall);
    out += buf;
    return out;
}

}  // namespace riskmap
