// The verifier that riskmap train writes: its file round trip, the errors a mismatched model
// gives, determinism for a seed, and cross-validation folds that keep groups whole.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>

#include "core/Error.hpp"
#include "detection/onnx/Sha256.hpp"
#include "detection/VerifierModel.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "support/TestRasters.hpp"
#include "training/VerifierTrainer.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

std::string sha256Hex(const std::string& s) { return onnx::sha256Hex(std::vector<std::uint8_t>(s.begin(), s.end())); }

// Candidates in 6 groups: a kiln has high feature 0 and 1 (noisy), colour features absent in
// group g5, as in a greyscale image.
std::vector<TrainingSample> synthetic(std::size_t n = 600) {
    cv::RNG rng(7);
    const std::size_t nf = KilnDetector::verifierFeatureNames().size();
    std::vector<TrainingSample> s(n);
    for (std::size_t i = 0; i < n; ++i) {
        s[i].label = rng.uniform(0.0, 1.0) < 0.25 ? 1 : 0;
        s[i].group = "g" + std::to_string(i % 6);
        s[i].image = s[i].group;
        s[i].target = s[i].label ? static_cast<int>(i) : -1;
        // 2 km apart: no two candidates suppress each other.
        s[i].position = {90.0 + 0.02 * static_cast<double>(i), 23.0};
        s[i].x.resize(nf);
        for (std::size_t f = 0; f < nf; ++f) s[i].x[f] = static_cast<float>(rng.gaussian(1.0));
        s[i].x[0] += s[i].label ? 1.5f : 0.0f;
        s[i].x[1] += s[i].label ? 1.0f : 0.0f;
        if (i % 6 == 5) s[i].x[9] = VerifierModel::kAbsent;
    }
    return s;
}

// Each kiln candidate is its own certain label.
std::vector<ImageLabels> imagesOf(const std::vector<TrainingSample>& s) {
    std::map<std::string, ImageLabels> m;
    for (const auto& x : s) {
        m[x.image].image = m[x.image].group = x.image;
        if (x.label) m[x.image].certain.push_back(x.target);
    }
    std::vector<ImageLabels> out;
    for (auto& [k, v] : m) out.push_back(v);
    return out;
}

VerifierModel trained(std::uint64_t seed, const std::vector<TrainingSample>& s) {
    TrainerOptions o;
    o.seed = seed;
    o.trees = 40;
    o.folds = 3;
    VerifierTrainer t(o);
    std::vector<std::size_t> rows(s.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    const CrossValidation cv = t.crossValidate(s, imagesOf(s), "group");
    VerifierModel m;
    m.forest = t.fit(s, rows);
    m.detector = "kiln";
    m.features = KilnDetector::verifierFeatureNames();
    m.riskmapVersion = "test";
    m.detectorOptions = Json{{"window_m", 250}, {"colour", true}, {"operating_point", "balanced"}};
    m.gsdMin = 9.1;
    m.gsdMax = 9.9;
    m.seed = seed;
    m.radiusMetres = 60;
    m.labelsPath = "labels.geojson";
    m.labelsSha256 = sha256Hex("labels");
    m.groupField = "district";
    m.positives = 1;
    m.negatives = 2;
    m.highPrecision = cv.highPrecision;
    m.balanced = cv.balanced;
    m.highRecall = cv.highRecall;
    m.crossValidation = cv.toJson();
    return m;
}

void writeText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST(VerifierModel, FileRoundTripKeepsMetadataAndScores) {
    const auto s = synthetic();
    const VerifierModel m = trained(1, s);
    const std::string text = m.toText();
    const VerifierModel back = VerifierModel::fromText(text, "m.yml");
    EXPECT_EQ(back.toText(), text);
    EXPECT_EQ(back.detector, "kiln");
    EXPECT_EQ(back.features, KilnDetector::verifierFeatureNames());
    EXPECT_DOUBLE_EQ(back.gsdMin, 9.1);
    EXPECT_EQ(back.labelsSha256, m.labelsSha256);
    EXPECT_EQ(back.detectorOptions.at("operating_point"), "balanced");
    EXPECT_EQ(back.crossValidation.at("folds").size(), 3u);
    EXPECT_DOUBLE_EQ(back.balanced, m.balanced);
    for (std::size_t i = 0; i < 50; ++i) EXPECT_DOUBLE_EQ(back.score(s[i].x), m.score(s[i].x)) << i;
    // The forest learned something: kilns score higher on average.
    double kiln = 0, other = 0;
    std::size_t nk = 0;
    for (const auto& x : s) {
        (x.label ? kiln : other) += back.score(x.x);
        nk += x.label ? 1u : 0u;
    }
    EXPECT_GT(kiln / static_cast<double>(nk), other / static_cast<double>(s.size() - nk) + 0.3);
}

TEST(VerifierModel, SameSeedSameBytesOtherSeedOtherForest) {
    const auto s = synthetic();
    const std::string a = trained(5, s).toText(), b = trained(5, s).toText(), c = trained(6, s).toText();
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST(VerifierModel, MismatchedDetectorOrFeaturesFailNamingTheFile) {
    VerifierModel m = trained(1, synthetic(200));
    try {
        m.checkFits("index", KilnDetector::verifierFeatureNames(), "/x/m.yml");
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("/x/m.yml"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'kiln'"), std::string::npos) << e.what();
    }
    std::vector<std::string> other = KilnDetector::verifierFeatureNames();
    other.push_back("new_texture");
    try {
        m.checkFits("kiln", other, "/x/m.yml");
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("/x/m.yml"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not in the model: new_texture"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("retrain"), std::string::npos) << e.what();
    }
    // A feature renamed in the file: both names are given ("34 vs 34, new: b_peak" named one).
    std::vector<std::string> renamed = KilnDetector::verifierFeatureNames();
    const std::string was = renamed.front();
    renamed.front() = "renamed_feature";
    try {
        m.checkFits("kiln", renamed, "/x/m.yml");
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("not in the model: renamed_feature; not measured by this riskmap: " + was),
                  std::string::npos)
            << e.what();
    }
    EXPECT_NO_THROW(m.checkFits("kiln", KilnDetector::verifierFeatureNames(), "m.yml"));
}

TEST(VerifierModel, KilnDetectorRefusesAModelOfOtherFeatures) {
    TempDir dir;
    VerifierModel m = trained(1, synthetic(200));
    std::string text = m.toText();
    // An older riskmap's feature list: one feature renamed.
    const std::string from = "c_tex", to = "c_texture_old";
    ASSERT_NE(text.find(from), std::string::npos);
    text.replace(text.find(from), from.size(), to);
    writeText(dir.file("old.yml"), text);
    OptionValues o(KilnDetector::describe().options);
    o.setAssignment("model=" + dir.file("old.yml"));
    try {
        KilnDetector det(o);
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find(dir.file("old.yml")), std::string::npos) << e.what();
    }
    writeText(dir.file("good.yml"), m.toText());
    o.setAssignment("model=" + dir.file("good.yml"));
    KilnDetector det(o);
    ASSERT_NE(det.model(), nullptr);
    EXPECT_DOUBLE_EQ(det.threshold(), m.balanced);
    EXPECT_EQ(det.resources().at("model").at("sha256"), sha256Hex(m.toText()));
}

TEST(VerifierModel, KilnDetectorRefusesOtherMeasuringOptionsAndWarnsOutsideItsGsd) {
    TempDir dir;
    const VerifierModel m = trained(1, synthetic(200));  // window_m 250, colour on, 9.1-9.9 m pixels
    writeText(dir.file("m.yml"), m.toText());
    OptionValues o(KilnDetector::describe().options);
    o.setAssignment("model=" + dir.file("m.yml"));
    o.setAssignment("window_m=300");
    try {
        KilnDetector det(o);
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("window_m = 250"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(dir.file("m.yml")), std::string::npos) << e.what();
    }
    o.setAssignment("window_m=250");
    o.setAssignment("colour=false");
    EXPECT_THROW(KilnDetector{o}, UsageError) << "a boolean kept as 1 in the file is still compared";
    o.setAssignment("colour=true");
    o.setAssignment("operating_point=high_recall");  // a threshold, not a measurement
    o.setAssignment("min_score=0.3");
    KilnDetector det(o);
    EXPECT_TRUE(det.inputWarning(10, 10).empty()) << det.inputWarning(10, 10);
    EXPECT_TRUE(det.inputWarning(1, 1).empty()) << "finer pixels are averaged to 10 m";
    const std::string coarse = det.inputWarning(18, 18);
    EXPECT_NE(coarse.find("verifier"), std::string::npos) << coarse;
    EXPECT_NE(coarse.find("18.0 m"), std::string::npos) << coarse;
    EXPECT_NE(det.inputWarning(25, 25).find("cannot resolve"), std::string::npos);
}

TEST(VerifierModel, DamagedOrForeignFilesFailNamingTheFile) {
    TempDir dir;
    for (const std::string& text : {std::string("not: [yaml"), std::string("%YAML:1.0\n---\nformat: other\n"),
                                    std::string("%YAML:1.0\n---\nformat: riskmap-verifier\nformat_version: 99\n")}) {
        writeText(dir.file("bad.yml"), text);
        try {
            VerifierModel::read(dir.file("bad.yml"));
            FAIL() << text;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(dir.file("bad.yml")), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(VerifierModel::read(dir.file("absent.yml")), UsageError);
    // Cut short anywhere, even inside the last tree where the rest still parses (an audit).
    const std::string text = trained(1, synthetic()).toText();
    for (const std::size_t cut : {text.size() - 10, text.size() - 200, text.size() / 2}) {
        writeText(dir.file("cut.yml"), text.substr(0, cut));
        EXPECT_THROW(VerifierModel::read(dir.file("cut.yml")), UsageError) << cut;
    }
    // Cut every 97 bytes through the metadata and the forest's head, then at 40 places in the
    // trees: some cuts end a map mid-structure, where OpenCV's node accessors assert (an
    // "internal error" of exit 1; an audit). Each is a UsageError naming the file.
    std::vector<std::size_t> cuts;
    for (std::size_t cut = 1; cut < std::min<std::size_t>(text.size(), 24000); cut += 97) cuts.push_back(cut);
    for (std::size_t k = 1; k < 40; ++k) cuts.push_back(text.size() * k / 40);
    for (const std::size_t cut : cuts)
        try {
            VerifierModel::fromText(text.substr(0, cut), "cut.yml");
            ADD_FAILURE() << "accepted, cut at " << cut;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("cut.yml"), std::string::npos) << e.what();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "cut at " << cut << ": " << e.what();
        }
    writeText(dir.file("whole.yml"), text);
    EXPECT_NO_THROW(VerifierModel::read(dir.file("whole.yml")));
    // Indices OpenCV trusts, edited: a split on variable n of n features and a class index out
    // of range crashed the scan; a categorical variable type failed inside OpenCV (a sweep).
    auto edited = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        const auto at = t.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return t.replace(at, from.size(), to);
    };
    const std::string n = std::to_string(KilnDetector::verifierFeatureNames().size());
    const std::size_t var = text.find("{ var:");
    ASSERT_NE(var, std::string::npos);
    const std::string firstVar = text.substr(var, text.find(',', var) - var);
    for (const std::string& bad : {edited(firstVar, "{ var:" + n), edited(firstVar, "{ var:-1"),
                                   edited("norm_class_idx: 0", "norm_class_idx: 100000"), edited("var_type: [ 0", "var_type: [ 1"),
                                   edited("class_labels: [ 0, 1 ]", "class_labels: [ 0, 7 ]")}) {
        try {
            VerifierModel::fromText(bad, "edited.yml");
            ADD_FAILURE() << "accepted";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("edited.yml' has a damaged forest"), std::string::npos) << e.what();
        }
    }
    // Not a regular file: /dev/zero grew the process to 24 GB, a FIFO waited for ever, a folder
    // was said to be larger than 128 MB.
    ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
    for (const std::string& path : {std::string("/dev/zero"), dir.file("fifo"), dir.path()})
        try {
            VerifierModel::read(path);
            ADD_FAILURE() << path;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
        }
}

// Numbers a model file carries are checked when it is read: a NaN or negative operating point
// scored 21 of 29 detections 0, 7.5 dropped them all, a NaN split or GSD range went unnoticed (an
// audit).
TEST(VerifierModel, NumbersOutOfRangeFailNamingTheKey) {
    const std::string text = trained(1, synthetic()).toText();
    auto replaceLine = [&](const std::string& key, const std::string& value) {
        std::string t = text;
        const auto at = t.find(key + ":");
        EXPECT_NE(at, std::string::npos) << key;
        const auto end =
            t.find_first_of(" }\n", at + key.size() + 2);  // "key: v" or a split's "le:v }"
        t.replace(at, end - at, key + ":" + (key == "le" ? "" : " ") + value);
        return t;
    };
    const std::vector<std::pair<std::string, std::string>> bad{
        {"balanced", ".nan"}, {"balanced", "-1."},   {"high_recall", "7.5"}, {"gsd_min_m", ".nan"},
        {"gsd_max_m", "1."},  {"radius_m", "-.inf"}, {"le", ".nan"}, {"window_m", ".nan"}};
    for (const auto& [key, value] : bad) {
        try {
            VerifierModel::fromText(replaceLine(key, value), "m.yml");
            FAIL() << key << " " << value;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("m.yml"), std::string::npos) << e.what();
        }
    }
}

TEST(GroupFolds, NeverSplitAGroupAndUseEveryFold) {
    std::vector<std::string> groups;
    for (int i = 0; i < 500; ++i) groups.push_back("image" + std::to_string(i % 37));
    for (int k : {2, 5, 10, 37, 50}) {
        const auto fold = assignGroupFolds(groups, k, 3);
        EXPECT_EQ(fold.size(), 37u);
        std::set<int> used;
        for (const auto& [g, f] : fold) used.insert(f);
        EXPECT_EQ(static_cast<int>(used.size()), std::min(k, 37)) << k;
    }
    EXPECT_THROW(assignGroupFolds(std::vector<std::string>(10, "one"), 5, 1), UsageError);
}

TEST(GroupFolds, CrossValidationHoldsOutWholeGroups) {
    const auto s = synthetic();
    TrainerOptions o;
    o.trees = 20;
    o.folds = 4;
    const CrossValidation cv = VerifierTrainer(o).crossValidate(s, imagesOf(s), "group");
    ASSERT_EQ(cv.folds.size(), 4u);
    std::set<std::string> seen;
    std::size_t samples = 0;
    for (const auto& f : cv.folds) {
        for (const auto& g : f.groups) EXPECT_TRUE(seen.insert(g).second) << g << " in two folds";
        samples += f.positives + f.negatives;
        // Every sample of a held-out group is in this fold: its count is the group sizes' sum.
        std::size_t expected = 0;
        for (const auto& x : s)
            if (std::find(f.groups.begin(), f.groups.end(), x.group) != f.groups.end()) ++expected;
        EXPECT_EQ(f.positives + f.negatives, expected);
    }
    EXPECT_EQ(seen.size(), 6u);
    EXPECT_EQ(samples, s.size());
    EXPECT_GT(cv.pooledChosen.f1(), 0.5);
}

TEST(GroupFolds, DetectionCountsSuppressNeighboursAndCountMissedLabels) {
    // One image: a kiln seen by two candidates 50 m apart, a false alarm 1 km away, and a second
    // certain label no candidate found.
    std::vector<TrainingSample> s(3);
    s[0] = {{}, 1, 7, "a", "a", {90.0, 23.0}};
    s[1] = {{}, 1, 7, "a", "a", {90.0005, 23.0}};
    s[2] = {{}, 0, -1, "a", "a", {90.01, 23.0}};
    const std::vector<ImageLabels> images{{"a", "a", {7, 8}}};
    const std::vector<double> scores{0.9, 0.8, 0.6};
    const std::vector<std::size_t> rows{0, 1, 2};
    ThresholdCounts c = ThresholdCounts::at(s, rows, scores, images, 0.5, 120);
    EXPECT_EQ(c.tp, 1u);
    EXPECT_EQ(c.fp, 1u);
    EXPECT_EQ(c.fn, 1u);
    c = ThresholdCounts::at(s, rows, scores, images, 0.7, 120);
    EXPECT_EQ(c.fp, 0u);
    // Without NMS the second candidate of the kiln hits the same label: still one hit.
    c = ThresholdCounts::at(s, rows, scores, images, 0.5, 0);
    EXPECT_EQ(c.tp, 1u);
    auto counts = [&](double t) { return ThresholdCounts::at(s, rows, scores, images, t, 120); };
    EXPECT_DOUBLE_EQ(bestThreshold(scores, counts, 1.0), 0.9);  // P 1 R 0.5 beats P 0.5 R 0.5; ties go high
}
