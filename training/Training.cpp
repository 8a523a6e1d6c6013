#include "training/Training.hpp"

#include <cstdio>
#include <filesystem>
#include <set>

#include "core/Error.hpp"
#include "core/Version.hpp"
#include "detection/DetectorConfig.hpp"
#include "detection/DetectorRegistry.hpp"
#include "detection/detectors/KilnDetector.hpp"

namespace riskmap {

namespace {

std::unique_ptr<KilnDetector> trainableDetector(const TrainRequest& r, OptionValues& options) {
    if (r.detector != "kiln")
        throw UsageError("--detector " + r.detector + ": only the kiln detector has a candidate stage a verifier can learn from");
    const DetectorRegistry reg = DetectorRegistry::builtin();
    options = DetectorConfig::resolve(reg.get(r.detector).info, nullptr, r.sets);
    if (options.isSet("model"))
        throw UsageError("--set model=... is for scan: train learns from the detector's own candidates, not another model's scores");
    return std::make_unique<KilnDetector>(options);
}

void checkRequest(const TrainRequest& r) {
    if (!(r.radiusMetres > 0 && r.radiusMetres <= 10000)) throw UsageError("--radius-m must be above 0 and at most 10000 metres");
    if (r.folds < 2) throw UsageError("--folds must be at least 2");
    if (r.trees < 1 || r.trees > 10000) throw UsageError("--trees must be 1 to 10000");
}

// An image given twice (a glob and a list overlapping) doubled its candidates and labels in the
// counts and the cross-validation (an audit).
void refuseRepeatedImages(const InputCatalog& images) {
    std::set<std::string> seen;
    for (const auto& in : images.inputs()) {
        std::error_code ec;
        const auto canonical = std::filesystem::weakly_canonical(in.origin(), ec);
        if (!seen.insert(ec ? in.origin() : canonical.string()).second)
            throw UsageError("--images: '" + in.origin() +
                             "' is given twice: list each image once");
    }
}

}  // namespace

TrainResult trainVerifier(const TrainRequest& r, const std::atomic<bool>* cancel) {
    checkRequest(r);
    OptionValues options(KilnDetector::describe().options);
    const auto det = trainableDetector(r, options);
    const TrainingLabels labels = TrainingLabels::read(r.labelsPath, r.groupField, r.difficultField,
                                                       r.imageField, r.difficultFieldGiven);
    const InputCatalog images = InputCatalog::open(r.images);
    refuseRepeatedImages(images);
    const CandidateSet set = CandidateSet::collect(*det, images, labels, r.radiusMetres, !r.groupField.empty(), !r.imageField.empty(), cancel);
    if (set.labelsInside == 0)
        throw UsageError("none of the " + std::to_string(labels.points.size()) + " labels in '" + r.labelsPath +
                         "' lies in the images: check that they label these images (and their CRS)");
    // An --image-field naming no image (a district given for the chip) left every label out of
    // recall: cross-validation 0/0/0 and a model that drops most kilns, with exit 0 (an audit).
    if (!r.imageField.empty() && set.labelsUnnamed > 0 && set.labelsNamed == 0)
        throw UsageError("no label's --image-field '" + r.imageField + "' names an image it lies in (a value is '" +
                         labels.points.front().image + "', an image is '" + images.sources().front() +
                         "'): give the field that holds the image names (file names, with or without extension)");
    // Every label difficult, or none near a candidate: the first fold said "all of one class ...
    // give fewer --folds", which no --folds cures (a sweep of hostile inputs).
    std::size_t positives = 0, certain = 0;
    for (const auto& s : set.samples) positives += s.label ? 1u : 0u;
    for (const auto& l : labels.points) certain += l.difficult ? 0u : 1u;
    if (positives == 0) {
        char radius[32];
        std::snprintf(radius, sizeof radius, "%g", r.radiusMetres);
        throw UsageError("no candidate of the detector lies within --radius-m " + std::string(radius) + " of a certain label (" +
                         std::to_string(certain) + " of the " + std::to_string(labels.points.size()) + " labels in '" + r.labelsPath +
                         "' are not difficult): a verifier needs labelled objects; check that the labels sit on the objects, "
                         "or give a larger --radius-m");
    }
    TrainerOptions o;
    o.folds = r.folds;
    o.seed = r.seed;
    o.trees = r.trees;
    o.nmsMetres = det->params().detNms;
    o.cancel = cancel;
    const VerifierTrainer trainer(o);
    TrainResult res;
    res.cv = trainer.crossValidate(set.samples, set.images, r.groupField.empty() ? "image" : r.groupField);
    std::vector<std::size_t> all(set.samples.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    VerifierModel& m = res.model;
    if (cancel && cancel->load()) throw Cancelled("interrupted: no model was written");
    m.forest = trainer.fit(set.samples, all);
    if (cancel && cancel->load()) throw Cancelled("interrupted: no model was written");
    m.detector = r.detector;
    m.features = KilnDetector::verifierFeatureNames();
    m.riskmapVersion = kRiskmapVersion;
    m.detectorOptions = options.toJson();
    m.gsdMin = set.gsdMin;
    m.gsdMax = set.gsdMax;
    m.seed = r.seed;
    m.radiusMetres = r.radiusMetres;
    m.labelsPath = r.labelsPath;
    m.labelsSha256 = labels.sha256;
    m.groupField = r.groupField;
    for (const auto& s : set.samples) (s.label ? m.positives : m.negatives)++;
    m.highPrecision = res.cv.highPrecision;
    m.balanced = res.cv.balanced;
    m.highRecall = res.cv.highRecall;
    m.crossValidation = res.cv.toJson();
    res.images = images.inputs().size();
    res.ignored = set.ignored;
    res.gated = set.gated;
    res.labels = labels.points.size();
    res.repeatedLabels = labels.duplicates;
    res.labelsInside = set.labelsInside;
    res.labelsUnnamed = set.labelsUnnamed;
    return res;
}

std::string TrainResult::summary() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%zu images, %zu of %zu labels inside them; %zu candidates: %zu near a label, %zu not "
                  "(%zu near a difficult label only and %zu hard-gated left out); GSD %.1f-%.1f m\n",
                  images, labelsInside, labels, model.positives + model.negatives, model.positives, model.negatives, ignored, gated,
                  model.gsdMin, model.gsdMax);
    std::string s = buf;
    if (labelsUnnamed)
        s += std::to_string(labelsUnnamed) +
             " certain label(s) lie in an image their --image-field does not name: left out\n";
    if (repeatedLabels)
        s += std::to_string(repeatedLabels) +
             " repeated label(s) (same place, same image) counted once\n";
    return s;
}

}  // namespace riskmap
