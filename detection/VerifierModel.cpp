#include "detection/VerifierModel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "detection/onnx/Sha256.hpp"

namespace riskmap {

namespace {

// Json as YAML maps and sequences (booleans as 0/1: FileStorage has no boolean).
void writeJson(cv::FileStorage& fs, const std::string& key, const Json& v) {
    if (v.is_object() || v.is_array()) {
        fs.startWriteStruct(key, v.is_object() ? cv::FileNode::MAP : cv::FileNode::SEQ);
        for (auto it = v.begin(); it != v.end(); ++it) writeJson(fs, v.is_object() ? it.key() : std::string(), *it);
        fs.endWriteStruct();
    } else if (v.is_boolean()) {
        cv::write(fs, key, v.get<bool>() ? 1 : 0);
    } else if (v.is_number_integer() && std::abs(v.get<double>()) < 2e9) {
        cv::write(fs, key, v.get<int>());
    } else if (v.is_number()) {
        cv::write(fs, key, v.get<double>());
    } else if (v.is_string()) {
        cv::write(fs, key, v.get<std::string>());
    } else {
        cv::write(fs, key, std::string());
    }
}

Json readJson(const cv::FileNode& n) {
    if (n.isMap()) {
        Json o = Json::object();
        for (const auto& child : n) o[child.name()] = readJson(child);
        return o;
    }
    if (n.isSeq()) {
        Json a = Json::array();
        for (const auto& child : n) a.push_back(readJson(child));
        return a;
    }
    if (n.isInt()) return static_cast<int>(n);
    if (n.isReal()) return static_cast<double>(n);
    if (n.isString()) return static_cast<std::string>(n);
    return Json();
}

std::string needString(const cv::FileNode& root, const char* key, const std::string& origin) {
    const cv::FileNode n = root[key];
    if (!n.isString()) throw UsageError("model file '" + origin + "' has no text '" + key + "': is it a file written by riskmap train?");
    return static_cast<std::string>(n);
}

// A finite number within [lo, hi]: a NaN or negative operating point was taken as it stood
// (21 of 29 detections scored 0, or none at all; an audit).
double needNumber(const cv::FileNode& root, const char* key, const std::string& origin,
                  double lo = -1e300, double hi = 1e300) {
    const cv::FileNode n = root[key];
    if (!n.isInt() && !n.isReal())
        throw UsageError("model file '" + origin + "' has no number '" + key + "': is it a file written by riskmap train?");
    const double v = static_cast<double>(n);
    if (!std::isfinite(v) || v < lo || v > hi)
        throw UsageError("model file '" + origin + "' has '" + key + "' " + std::to_string(v) +
                         ", outside " + std::to_string(lo) + " to " + std::to_string(hi) +
                         ": retrain it with riskmap train");
    return v;
}

void readMetadata(VerifierModel& m, const cv::FileNode& root, const std::string& origin) {
    m.detector = needString(root, "detector", origin);
    m.riskmapVersion = needString(root, "riskmap_version", origin);
    for (const auto& f : root["features"]) m.features.push_back(static_cast<std::string>(f));
    if (m.features.empty()) throw UsageError("model file '" + origin + "' lists no features: retrain it with riskmap train");
    m.detectorOptions = readJson(root["detector_options"]);
    // A NaN option was compared and reported as "null", with "--set internal_gsd_m=null" as the
    // advice (an audit): a number that is not finite is damage.
    if (m.detectorOptions.is_object())
        for (const auto& [key, value] : m.detectorOptions.items())
            if (value.is_number() && !std::isfinite(value.get<double>()))
                throw UsageError("model file '" + origin + "' has detector option " + key +
                                 " that is not a number: copy it again, or retrain it with riskmap train");
    m.gsdMin = needNumber(root, "gsd_min_m", origin, 1e-3, 1e5);
    m.gsdMax = needNumber(root, "gsd_max_m", origin, m.gsdMin, 1e5);
    const std::string seed = needString(root, "seed", origin);
    char* end = nullptr;
    m.seed = std::strtoull(seed.c_str(), &end, 10);
    if (seed.empty() || *end) throw UsageError("model file '" + origin + "' has a seed that is not a whole number: retrain it with riskmap train");
    m.radiusMetres = needNumber(root, "radius_m", origin, 1e-3, 1e6);
    m.labelsPath = needString(root, "labels", origin);
    m.labelsSha256 = needString(root, "labels_sha256", origin);
    m.groupField = needString(root, "group_field", origin);
    m.positives = static_cast<std::size_t>(needNumber(root, "positives", origin, 0, 1e12));
    m.negatives = static_cast<std::size_t>(needNumber(root, "negatives", origin, 0, 1e12));
    const cv::FileNode ops = root["operating_points"];
    m.highPrecision = needNumber(ops, "high_precision", origin, 0, 1);
    m.balanced = needNumber(ops, "balanced", origin, 0, 1);
    m.highRecall = needNumber(ops, "high_recall", origin, 0, 1);
    m.crossValidation = readJson(root["cross_validation"]);
}

}  // namespace

double VerifierModel::vote(const cv::ml::RTrees& forest, const std::vector<float>& row) {
    cv::Mat sample(1, static_cast<int>(row.size()), CV_32F, const_cast<float*>(row.data()));
    cv::Mat votes;
    forest.getVotes(sample, votes, 0);
    // Row 0 holds the class labels, row 1 this sample's votes per class.
    double yes = 0, all = 0;
    for (int c = 0; c < votes.cols; ++c) {
        all += votes.at<int>(1, c);
        if (votes.at<int>(0, c) == 1) yes += votes.at<int>(1, c);
    }
    return all > 0 ? yes / all : 0.0;
}

double VerifierModel::threshold(const std::string& operatingPoint) const {
    if (operatingPoint == "high_precision") return highPrecision;
    if (operatingPoint == "high_recall") return highRecall;
    return balanced;
}

std::string VerifierModel::toText() const {
    cv::FileStorage fs(".yml", cv::FileStorage::WRITE | cv::FileStorage::MEMORY | cv::FileStorage::FORMAT_YAML);
    cv::write(fs, "format", std::string("riskmap-verifier"));
    cv::write(fs, "format_version", kFormatVersion);
    cv::write(fs, "riskmap_version", riskmapVersion);
    cv::write(fs, "detector", detector);
    writeJson(fs, "features", Json(features));
    writeJson(fs, "detector_options", detectorOptions);
    cv::write(fs, "gsd_min_m", gsdMin);
    cv::write(fs, "gsd_max_m", gsdMax);
    cv::write(fs, "seed", std::to_string(seed));  // 64 bits: FileStorage ints are 32
    cv::write(fs, "radius_m", radiusMetres);
    cv::write(fs, "labels", labelsPath);
    cv::write(fs, "labels_sha256", labelsSha256);
    cv::write(fs, "group_field", groupField);
    cv::write(fs, "positives", static_cast<int>(positives));
    cv::write(fs, "negatives", static_cast<int>(negatives));
    writeJson(fs, "operating_points", Json{{"high_precision", highPrecision}, {"balanced", balanced}, {"high_recall", highRecall}});
    writeJson(fs, "cross_validation", crossValidation);
    fs.startWriteStruct("forest", cv::FileNode::MAP);
    forest->write(fs);
    fs.endWriteStruct();
    // Last, so that a file cut anywhere lacks it: a cut inside the last tree still parsed and
    // scored with a part of the forest (an audit).
    cv::write(fs, "forest_nodes", static_cast<int>(forest->getNodes().size()));
    return fs.releaseAndGetString();
}

namespace {

// The forest as riskmap train writes it, checked before OpenCV reads it: OpenCV trusts the
// indices in the file, and an edited split variable (var: 34 of 34 features) or class index
// crashed the scan (a hostile-input sweep); a categorical variable type failed inside OpenCV.
void checkForestLayout(const cv::FileNode& f, int features, const std::string& origin) {
    auto damaged = [&](const std::string& what) {
        return UsageError("model file '" + origin + "' has a damaged forest (" + what + "): retrain it with riskmap train");
    };
    if (!f.isMap() || static_cast<int>(f["is_classifier"]) != 1 || static_cast<int>(f["var_count"]) != features ||
        static_cast<int>(f["var_all"]) != features + 1 || static_cast<int>(f["ord_var_count"]) != features)
        throw damaged("its header does not describe a classifier of " + std::to_string(features) + " numeric features");
    std::vector<int> types, labels;
    f["var_type"] >> types;
    f["class_labels"] >> labels;
    if (static_cast<int>(types.size()) != features + 1 ||
        std::any_of(types.begin(), types.end() - 1, [](int t) { return t != 0; }) || types.back() != 1)
        throw damaged("var_type");
    if (labels != std::vector<int>{0, 1}) throw damaged("class_labels");
    if (!f["trees"].isSeq()) throw damaged("no trees");
    for (const cv::FileNode& tree : f["trees"])
        for (const cv::FileNode& node : tree["nodes"]) {
            const int cls = static_cast<int>(node["norm_class_idx"]);
            if (cls < 0 || cls > 1) throw damaged("a class index of " + std::to_string(cls));
            for (const cv::FileNode& split : node["splits"]) {
                const int var = static_cast<int>(split["var"]);
                if (var < 0 || var >= features || split["le"].empty() == split["gt"].empty())
                    throw damaged("a split on variable " + std::to_string(var));
            }
        }
}

}  // namespace

VerifierModel VerifierModel::fromText(const std::string& text, const std::string& origin) {
    cv::FileStorage fs;
    try {
        fs.open(text, cv::FileStorage::READ | cv::FileStorage::MEMORY | cv::FileStorage::FORMAT_YAML);
    } catch (const cv::Exception& e) {
        throw UsageError("model file '" + origin + "' is not YAML riskmap can read (" + e.msg + "): pass a file written by riskmap train");
    }
    // Node accessors assert on a file cut short mid-structure (isMap() failed as an "internal
    // error" of exit 1; an audit): any such failure is a damaged file.
    try {
        return fromStorage(fs, origin);
    } catch (const cv::Exception& e) {
        throw UsageError("model file '" + origin + "' is damaged (" + e.msg +
                         "): copy it again, or retrain it with riskmap train");
    }
}

VerifierModel VerifierModel::fromStorage(const cv::FileStorage& fs, const std::string& origin) {
    const cv::FileNode root = fs.root();
    if (!fs.isOpened() || !root.isMap() || root["format"].string() != "riskmap-verifier")
        throw UsageError("'" + origin + "' is not a riskmap verifier model: pass a file written by riskmap train");
    const int version = static_cast<int>(root["format_version"]);
    if (version != kFormatVersion && version != 1)
        throw UsageError("model file '" + origin + "' has format version " + std::to_string(version) + "; this riskmap reads version " +
                         std::to_string(kFormatVersion) + ": retrain it with this riskmap's train command");
    VerifierModel m;
    readMetadata(m, root, origin);
    checkForestLayout(root["forest"], static_cast<int>(m.features.size()), origin);
    m.forest = cv::ml::RTrees::create();
    try {
        m.forest->read(root["forest"]);
    } catch (const cv::Exception& e) {
        throw UsageError("model file '" + origin + "' has a damaged forest (" + e.msg + "): retrain it with riskmap train");
    }
    if (version >= 2 && (root["forest_nodes"].empty() || static_cast<int>(root["forest_nodes"]) != static_cast<int>(m.forest->getNodes().size())))
        throw UsageError("model file '" + origin + "' is incomplete (cut short, or edited): retrain it with riskmap train, or copy it again");
    if (!m.forest->isTrained() || m.forest->getVarCount() != static_cast<int>(m.features.size()))
        throw UsageError("model file '" + origin + "' has a forest that does not match its " + std::to_string(m.features.size()) +
                         " features: retrain it with riskmap train");
    for (const auto& split : m.forest->getSplits())
        if (!std::isfinite(split.c))
            throw UsageError("model file '" + origin +
                             "' has a forest split at a value that is not a number: retrain it "
                             "with riskmap train");
    return m;
}

VerifierModel VerifierModel::read(const std::string& path) {
    // 10,000 trees (train's most) take ~80 MB; a 300 MB file took 1.2 GB to refuse (an audit).
    // Only a regular file: /dev/zero grew the process to 24 GB and a FIFO waited for ever, and
    // a folder was said to be "larger than 128 MB" (a sweep).
    std::string text;
    try {
        text = readTextFile(path, "model file", std::size_t{128} << 20);
    } catch (const DataError& e) {
        throw UsageError(std::string(e.what()) + " (pass a file written by riskmap train)");
    }
    return fromText(text, path);
}

void VerifierModel::checkFits(const std::string& detectorName, const std::vector<std::string>& featureNames,
                              const std::string& origin) const {
    if (detector != detectorName)
        throw UsageError("model file '" + origin + "' verifies the '" + detector + "' detector, not '" + detectorName +
                         "': riskmap train makes verifiers for " + detectorName + " with --detector " + detectorName +
                         "; this file was changed or made for another tool");
    if (features == featureNames) return;
    // Both sides named: "34 vs 34, new: b_peak" left the model's own odd name out (an audit).
    auto notIn = [](const std::vector<std::string>& from, const std::vector<std::string>& in) {
        std::string out;
        for (const auto& f : from)
            if (std::find(in.begin(), in.end(), f) == in.end()) out += (out.empty() ? "" : ", ") + f;
        return out;
    };
    const std::string missing = notIn(featureNames, features), unknown = notIn(features, featureNames);
    std::string what = "the model has " + std::to_string(features.size()) + ", the detector measures " + std::to_string(featureNames.size());
    if (!missing.empty()) what += "; not in the model: " + missing;
    if (!unknown.empty()) what += "; not measured by this riskmap: " + unknown;
    if (missing.empty() && unknown.empty()) what += ", in another order";
    throw UsageError("model file '" + origin + "' was trained on other features than this riskmap's " + detectorName +
                     " detector measures (" + what + "): retrain it with this riskmap's 'riskmap train' on your labels");
}

std::string fileSha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot read '" + path + "' to fingerprint it");
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    return onnx::sha256Hex(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

}  // namespace riskmap
