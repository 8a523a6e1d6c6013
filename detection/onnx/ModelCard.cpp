#include "detection/onnx/ModelCard.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "core/JsonReader.hpp"

namespace riskmap::onnx {

namespace {

constexpr const char* kSchema = "riskmap-model-card/1";

std::string folderOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string oneOf(const JsonReader& r, const std::vector<std::string>& allowed) {
    const std::string v = r.str();
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    r.fail("is '" + v + "': expected one of " + list);
}

// `n` numbers; `why` says where n comes from ("one per input band", "[lo, hi]").
std::vector<double> numbers(const JsonReader& r, std::size_t n, const std::string& why) {
    std::vector<double> out;
    for (const auto& item : r.items()) out.push_back(item.number());
    if (out.size() != n) r.fail("has " + std::to_string(out.size()) + " values, needs " + std::to_string(n) + ": " + why);
    return out;
}

Head headOf(const JsonReader& card, const std::string& task) {
    const JsonReader h = card.at("head");
    const std::string head = oneOf(h, {"yolov5", "yolov8", "yolov8-obb", "segment"});
    const bool fits = (task == "detect" && (head == "yolov5" || head == "yolov8")) ||
                      (task == "obb" && head == "yolov8-obb") || (task == "segment" && head == "segment");
    if (!fits) h.fail("'" + head + "' does not fit task '" + task + "'");
    if (head == "yolov5") return Head::Yolov5;
    if (head == "yolov8") return Head::Yolov8;
    return head == "segment" ? Head::Segment : Head::Yolov8Obb;
}

void readModel(const JsonReader& card, ModelCard& c) {
    const std::string model = card.at("model").str();
    if (model.empty()) card.at("model").fail("is empty");
    c.modelPath = model[0] == '/' ? model : folderOf(c.path) + model;
    if (auto sha = card.find("sha256")) {
        c.sha256 = sha->str();
        std::transform(c.sha256.begin(), c.sha256.end(), c.sha256.begin(), [](unsigned char ch) { return std::tolower(ch); });
        const bool hex = c.sha256.size() == 64 &&
                         std::all_of(c.sha256.begin(), c.sha256.end(), [](unsigned char ch) { return std::isxdigit(ch); });
        if (!hex) sha->fail("must be 64 hexadecimal digits");
    }
}

void readNormalisation(const JsonReader& in, ModelCard& c) {
    const JsonReader n = in.at("normalisation");
    n.object();
    const bool scale = n.has("scale") || n.has("offset"), mean = n.has("mean") || n.has("std");
    if (scale == mean) n.fail("must give either scale and offset or mean and std");
    c.meanStd = mean;
    c.normA = numbers(n.at(mean ? "mean" : "scale"), c.bands.size(), "one per band of input.bands");
    c.normB = numbers(n.at(mean ? "std" : "offset"), c.bands.size(), "one per band of input.bands");
    if (mean)
        for (double s : c.normB)
            if (!(s > 0))
                n.at("std").fail(s == 0 ? "holds 0 (division by zero)"
                                        : "must be above 0 (a standard deviation)");
    if (auto clip = in.find("clip")) {
        const auto lim = numbers(*clip, 2, "[lo, hi]");
        if (!(lim[0] < lim[1])) clip->fail("must be [lo, hi] with lo < hi");
        c.clip = true;
        c.clipLo = lim[0];
        c.clipHi = lim[1];
    }
}

void readInput(const JsonReader& card, ModelCard& c) {
    const JsonReader in = card.at("input");
    c.inputName = in.str("name", "");
    c.width = static_cast<int>(in.at("width").integer(8, 8192));
    c.height = static_cast<int>(in.at("height").integer(8, 8192));
    if (auto layout = in.find("layout")) oneOf(*layout, {"NCHW"});
    const JsonReader bands = in.at("bands");
    for (const auto& b : bands.items(256)) c.bands.push_back(b.str());
    if (c.bands.empty()) bands.fail("is empty");
    for (std::size_t i = 0; i < c.bands.size(); ++i)
        if (std::find(c.bands.begin(), c.bands.begin() + static_cast<long>(i), c.bands[i]) != c.bands.begin() + static_cast<long>(i))
            bands.fail("names '" + c.bands[i] + "' twice");
    c.rawValues = oneOf(in.at("values"), {"reflectance", "raw"}) == "raw";
    readNormalisation(in, c);
    c.padValue = in.number("pad_value", 0.0);
}

void readOutput(const JsonReader& card, ModelCard& c) {
    const JsonReader out = card.at("output");
    c.outputName = out.str("name", "");
    if (auto shape = out.find("shape"))
        for (const auto& d : shape->items(8)) c.outputShape.push_back(static_cast<int>(d.integer(1, 1 << 30)));
    const JsonReader classes = card.at("classes");
    for (const auto& k : classes.items(100000)) {
        if (std::find(c.classes.begin(), c.classes.end(), k.str()) != c.classes.end())
            classes.fail("names '" + k.str() + "' twice");
        c.classes.push_back(k.str());
    }
    if (c.classes.empty()) classes.fail("is empty");
}

void readThresholds(const JsonReader& card, ModelCard& c) {
    const JsonReader th = card.at("thresholds");
    const JsonReader score = th.at("score");
    c.score = score.number();
    if (!(c.score > 0 && c.score < 1)) score.fail("must lie strictly between 0 and 1");
    if (c.head == Head::Segment) return;
    const JsonReader iou = th.at("nms_iou");
    c.nmsIou = iou.number();
    if (!(c.nmsIou > 0 && c.nmsIou <= 1)) iou.fail("must lie in (0, 1]");
    c.maxDetections = static_cast<int>(th.at("max_detections").integer(1, 1000000));
    if (auto nms = card.find("nms")) {
        if (auto aware = nms->find("class_aware"); aware && !aware->boolean())
            aware->fail("is false: riskmap's NMS is class-aware (a box suppresses only boxes of its class)");
        if (auto kind = nms->find("iou")) c.polygonIou = oneOf(*kind, {"box", "polygon"}) == "polygon";
    }
    if (c.head == Head::Yolov8Obb) {
        if (!c.polygonIou && card.has("nms")) card.at("nms").at("iou").fail("must be 'polygon' for an obb head");
        c.polygonIou = true;
        if (auto obb = card.find("obb"))
            if (auto unit = obb->find("angle_unit")) oneOf(*unit, {"radians"});
    }
}

void readSegment(const JsonReader& card, ModelCard& c) {
    if (c.head != Head::Segment) return;
    const auto seg = card.find("segment");
    if (!seg) return;
    if (auto out = seg->find("output")) c.logits = oneOf(*out, {"probabilities", "logits"}) == "logits";
    // An explicit null means every class is reported, none is background.
    if (seg->object().contains("background_class")) c.backgroundClass = -1;
    if (auto bg = seg->find("background_class"))
        c.backgroundClass = static_cast<int>(bg->integer(0, static_cast<std::int64_t>(c.classes.size()) - 1));
}

// A misspelt optional key ("tile_overlap" for tile_overlap_px) took its default in silence (an
// audit). "training" and "description" are for people and hold anything.
void checkKeys(const JsonReader& card) {
    card.onlyKeys({"schema", "name", "description", "model", "sha256", "task", "head", "gsd_m", "input", "output", "classes",
                   "thresholds", "nms", "obb", "segment", "tile_overlap_px", "training"});
    card.at("input").onlyKeys({"name", "width", "height", "layout", "bands", "values", "normalisation", "clip", "pad_value"});
    card.at("input").at("normalisation").onlyKeys({"scale", "offset", "mean", "std"});
    card.at("output").onlyKeys({"name", "shape", "boxes"});
    // Boxes are decoded as centre x, y, width, height in model pixels (YOLO's layout); a card
    // that says otherwise would be decoded wrongly.
    if (auto boxes = card.at("output").find("boxes")) oneOf(*boxes, {"xywh_pixels"});
    card.at("thresholds").onlyKeys({"score", "nms_iou", "max_detections"});
    if (auto nms = card.find("nms")) nms->onlyKeys({"class_aware", "iou"});
    if (auto obb = card.find("obb")) obb->onlyKeys({"angle_unit", "angle_range", "w_axis"});
    if (auto seg = card.find("segment")) seg->onlyKeys({"output", "background_class"});
}

}  // namespace

const char* headName(Head h) {
    switch (h) {
        case Head::Yolov5: return "yolov5";
        case Head::Yolov8: return "yolov8";
        case Head::Yolov8Obb: return "yolov8-obb";
        case Head::Segment: return "segment";
    }
    return "?";
}

ModelCard ModelCard::load(const std::string& path) {
    // Not opened to test it: opening a FIFO waits for a writer (a sweep); readTextFile checks.
    refuseSpecialFile(path, "model card (option card)");
    if (::access(path.c_str(), R_OK) != 0) throw DataError("cannot read model card '" + path + "' (option card): check that the file exists");
    const Json json = parseJsonFile(path);
    const JsonReader card(json, path);
    card.object();
    ModelCard c;
    c.path = path;
    const JsonReader schema = card.at("schema");
    if (schema.str() != kSchema) schema.fail("is '" + schema.str() + "': riskmap reads " + kSchema);
    checkKeys(card);
    c.name = card.str("name", "");
    readModel(card, c);
    c.task = oneOf(card.at("task"), {"detect", "obb", "segment"});
    c.head = headOf(card, c.task);
    c.gsd = card.at("gsd_m").number();
    if (!(c.gsd > 0)) card.at("gsd_m").fail("must be above 0");
    readInput(card, c);
    readOutput(card, c);
    readThresholds(card, c);
    readSegment(card, c);
    c.backgroundClass = c.head == Head::Segment ? c.backgroundClass : -1;
    // Without a recommendation, a quarter of the window: objects on joins are then seen whole
    // when no larger than that.
    const int maxOverlap = std::min(c.width, c.height) - 8;
    c.overlap = std::min(c.width, c.height) / 4;
    if (auto ov = card.find("tile_overlap_px")) c.overlap = static_cast<int>(ov->integer(0, maxOverlap));
    return c;
}

std::vector<int> ModelCard::expectedShape() const {
    const int n = static_cast<int>(classes.size());
    switch (head) {
        case Head::Yolov5: return {1, -1, 5 + n};
        case Head::Yolov8: return {1, 4 + n, -1};
        case Head::Yolov8Obb: return {1, 5 + n, -1};
        case Head::Segment: return {1, n, height, width};
    }
    return {};
}

}  // namespace riskmap::onnx
