#include "detection/detectors/OnnxDetector.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/Error.hpp"
#include "detection/VerifierModel.hpp"
#include "detection/onnx/BoxScan.hpp"
#include "detection/onnx/SegmentScan.hpp"

namespace riskmap {

using onnx::Head;

namespace {

// Decoded windows are small (boxes, or a class map of the input's size: 0.4 MB for 640 px).
// Set aside out of --ram (reserve()), so kept modest.
constexpr std::size_t kWindowCacheBytes = 32u << 20;

}  // namespace

const OptionTable<OnnxDetector::Params>& OnnxDetector::table() {
    using P = Params;
    static const auto t =
        OptionTable<P>()
            .file("card", &P::card, "model card JSON (schema riskmap-model-card/1, docs/onnx.md); required")
            .number("score_threshold", &P::score, 0.0, "0-1", "keep boxes (or pixels) scoring above this; 0 = the card's thresholds.score", 0.0, 0.9999)
            .number("nms_iou", &P::nmsIou, 0.0, "IoU", "a box suppresses same-class boxes overlapping it by more than this; 0 = the card's thresholds.nms_iou", 0.0, 1.0)
            .integer("max_detections", &P::maxDetections, 0, "", "most boxes kept per model window; 0 = the card's thresholds.max_detections", 0, 1e6)
            .text("classes", &P::classes, "", "comma-separated class names to report; empty = every class but the background")
            .integer("overlap_px", &P::overlap, -1, "model px", "overlap of the model windows; -1 = the card's tile_overlap_px. Objects larger than it may be split or missed", -1, 4096)
            .number("gsd_tolerance", &P::gsdTolerance, 0.05, "fraction", "a raster GSD within this fraction of the card's gsd_m is used as is, without resampling", 0.0, 0.5)
            .number("min_area_m2", &P::minArea, 0.0, "m2", "segment heads: smallest region reported", 0.0, std::nullopt)
            .number("max_length_m", &P::maxLength, 1000.0, "m", "segment heads: largest region side reported; sets the tile halo", 1.0, 100000.0)
            .number("explain_min_score", &P::explainFloor, 0.05, "0-1", "scan --explain: also report candidates under the score threshold down to this score", 0.0, 1.0);
    return t;
}

DetectorInfo OnnxDetector::describe() {
    DetectorInfo d;
    d.name = "onnx";
    d.description =
        "A model trained elsewhere, run through OpenCV DNN as its model card says (docs/onnx.md): YOLOv5, "
        "YOLOv8/YOLO11 axis-aligned or oriented boxes, or per-pixel segmentation. The raster is resampled to the "
        "card's GSD, bands are mapped by name, and overlapping model windows on a grid anchored to the raster "
        "origin are merged by NMS (rotated IoU for oriented boxes), the same for any tiling.";
    d.options = table().specs();
    d.attributes = {
        {"class_id", AttributeType::Int, "", "index of the class in the card's classes"},
        {"angle_deg", AttributeType::Double, "deg", "oriented boxes: long side, clockwise from east; 0 otherwise"},
        {"width_m", AttributeType::Double, "m", "box side along angle_deg (the long side of an oriented box); region width"},
        {"height_m", AttributeType::Double, "m", "the other box side; region height"},
    };
    return d;
}

std::unique_ptr<Detector> OnnxDetector::create(const OptionValues& options) {
    return std::make_unique<OnnxDetector>(options);
}

OnnxDetector::OnnxDetector(const OptionValues& o) : info_(describe()), p_(table().bind(o)) {
    if (p_.card.empty()) throw UsageError("the onnx detector needs a model card: --set card=PATH.card.json (docs/onnx.md)");
    card_ = onnx::ModelCard::load(p_.card);
    applyOverrides();
    net_ = std::make_unique<onnx::NetRunner>(card_);
    cache_ = std::make_unique<onnx::WindowCache>(kWindowCacheBytes);
}

void OnnxDetector::applyOverrides() {
    onnx::Settings& s = settings_;
    s.score = p_.score > 0 ? p_.score : card_.score;
    s.nmsIou = p_.nmsIou > 0 ? p_.nmsIou : card_.nmsIou;
    s.maxDetections = p_.maxDetections > 0 ? static_cast<int>(p_.maxDetections) : card_.maxDetections;
    s.overlap = p_.overlap >= 0 ? static_cast<int>(p_.overlap) : card_.overlap;
    if (s.overlap > std::min(card_.width, card_.height) - 8)
        throw UsageError("overlap_px " + std::to_string(s.overlap) + " leaves too little of the " + std::to_string(card_.width) +
                         " x " + std::to_string(card_.height) + " model input");
    s.explainFloor = p_.explainFloor;
    s.gsdTolerance = p_.gsdTolerance;
    s.minAreaM2 = p_.minArea;
    s.maxLengthM = p_.maxLength;
    s.wanted.assign(card_.classes.size(), p_.classes.empty());
    std::stringstream list(p_.classes);
    for (std::string name; std::getline(list, name, ',');) {
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        const auto it = std::find(card_.classes.begin(), card_.classes.end(), name);
        if (it == card_.classes.end()) {
            std::string known;
            for (const auto& c : card_.classes) known += (known.empty() ? "" : ", ") + c;
            throw UsageError("classes: '" + name + "' is not a class of model card '" + p_.card + "' (" + known + ")");
        }
        s.wanted[static_cast<std::size_t>(it - card_.classes.begin())] = true;
    }
}

std::vector<std::string> OnnxDetector::bandsFor(const std::vector<std::string>& available) const {
    std::string missing;
    for (const auto& b : card_.bands)
        if (std::find(available.begin(), available.end(), b) == available.end()) missing += (missing.empty() ? "" : ", ") + b;
    if (!missing.empty()) {
        std::string have;
        for (const auto& a : available) have += (have.empty() ? "" : ", ") + a;
        throw UsageError("model card '" + p_.card + "' needs band(s) " + missing + " but the input has " + have +
                         ": name bands with --sensor PROFILE or --band NAME=PATH[:INDEX]");
    }
    return card_.bands;
}

double OnnxDetector::haloMetres() const {
    const double px = card_.head == Head::Segment ? onnx::segmentHaloModelPixels(card_, settings_)
                                                  : onnx::boxHaloModelPixels(card_, settings_);
    // Within the tolerance model pixels are raster pixels, which may be up to that much smaller.
    return px * card_.gsd / (1 - settings_.gsdTolerance);
}

void OnnxDetector::checkInput(double gsdX, double gsdY) const {
    const auto rs = onnx::Resampling::make(card_.gsd, gsdX, gsdY, settings_.gsdTolerance);
    if (rs.native()) return;
    // A card's gsd_m of 1e-6 m scanned 10 m pixels as 10^7 model pixels each: nothing found, or a
    // run without end (an audit). Beyond these factors resampling only invents or loses the object.
    constexpr double kMaxUp = 16, kMaxDown = 100;
    if (std::min(rs.sx, rs.sy) < 1 / kMaxUp ||
        std::max(rs.sx, rs.sy) > kMaxDown) {  // raster pixels per model pixel
        std::ostringstream e;
        e.precision(3);
        e << "model card '" << p_.card << "' was trained at " << card_.gsd << " m, the raster has "
          << gsdX << " x " << gsdY << " m: riskmap resamples at most " << kMaxUp << " times up or "
          << kMaxDown
          << " times down; check the card's gsd_m, or scan imagery nearer the model's GSD";
        throw UsageError(e.str());
    }
}

std::string OnnxDetector::inputWarning(double gsdX, double gsdY) const {
    const auto rs = onnx::Resampling::make(card_.gsd, gsdX, gsdY, settings_.gsdTolerance);
    if (rs.native()) return {};
    std::ostringstream w;
    w.precision(3);
    w << "the raster's GSD (" << gsdX << " x " << gsdY << " m) differs from the model's (" << card_.gsd
      << " m, card '" << p_.card << "'): it is resampled to the model's GSD";
    if (rs.sx < 0.5 || rs.sy < 0.5) w << ", but detail finer than its own pixels is lost: small objects will be missed";
    return w.str();
}

Detector::Reserve OnnxDetector::reserve() const {
    Reserve r;
    r.fixed = kWindowCacheBytes;
    r.perWorker = net_->bytesPerNet();
    return r;
}

std::vector<std::string> OnnxDetector::scanNotes() const {
    const std::size_t bad = net_->nonFiniteOutputs();
    if (bad == 0) return {};
    return {"model '" + card_.modelPath +
            "' gave outputs that are not numbers (NaN or infinite) for " + std::to_string(bad) +
            " window(s); those values count as no detection: check the card's "
            "normalisation and values (reflectance or raw) against how the model was trained"};
}

std::vector<Detection> OnnxDetector::detect(const TileImage& tile, std::vector<Rejection>* rejected) const {
    if (tile.validCount == 0) return {};
    const onnx::ModelRef model{card_, *net_, settings_, cache_.get()};
    return card_.head == Head::Segment ? onnx::scanSegments(tile, model, rejected) : onnx::scanBoxes(tile, model, rejected);
}

Json OnnxDetector::resources() const { return Json{{"card", Json{{"path", p_.card}, {"sha256", fileSha256(p_.card)}}}}; }

}  // namespace riskmap
