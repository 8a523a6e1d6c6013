// The onnx detector: decoders and NMS on hand-worked tensors (tests/models/decode_cases.json),
// exact rotated IoU, model-card checks that fail before any pixel is read, and each tiny model
// run on its tile against the reference outputs (tolerances from tests/models/README.md).
#include <gtest/gtest.h>
#include <gdal_priv.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "detection/detectors/OnnxDetector.hpp"
#include "detection/onnx/BoxScan.hpp"
#include "detection/onnx/Decoders.hpp"
#include "detection/onnx/Nms.hpp"
#include "detection/onnx/Sha256.hpp"
#include "detection/onnx/TileWindows.hpp"
#include "raster/RasterReader.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::onnx;
using namespace riskmap::test;

namespace {

const std::string kModels = std::string(RISKMAP_SOURCE_DIR) + "/tests/models/";

void flatten(const Json& j, std::vector<double>& out) {
    if (j.is_array())
        for (const auto& v : j) flatten(v, out);
    else
        out.push_back(j.get<double>());
}

TensorView tensorOf(const Json& c, std::vector<double>& storage) {
    storage.clear();
    flatten(c.at("tensor"), storage);
    TensorView t;
    t.shape = c.at("tensor_shape").get<std::vector<int>>();
    t.d = storage.data();
    return t;
}

// What riskmap keeps of a window's output: decode, then NMS, in output order.
std::vector<Box> decodeAndNms(const std::string& head, const TensorView& t, double score, double iou, int maxDet) {
    const std::vector<Box> boxes = head == "yolov5" ? decodeYolov5(t, score) : decodeYolov8(t, score, head == "yolov8-obb");
    const NmsResult r = nms(boxes, iou, maxDet, head == "yolov8-obb");
    std::vector<Box> kept;
    for (int k : r.keep) kept.push_back(boxes[static_cast<std::size_t>(k)]);
    return kept;
}

std::vector<double> xyxy(const Box& b) { return {b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2}; }

// Largest difference between a decoded box and an expected one (xyxy, or the raw and
// regularised rotated boxes and their corners); +inf when class or index differ.
double boxError(const Box& b, const Json& e) {
    if (b.cls != e.at("class").get<int>() || (e.contains("index") && b.index != e.at("index").get<int>())) return INFINITY;
    double err = 0;
    auto cmp = [&](const std::vector<double>& got, const Json& want) {
        for (std::size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(got[i] - want.at(i).get<double>()));
    };
    if (e.contains("xyxy")) cmp(xyxy(b), e.at("xyxy"));
    if (e.contains("raw_xywhr")) {
        cmp({b.cx, b.cy, b.w, b.h, b.theta}, e.at("raw_xywhr"));
        const Box r = regularised(b);
        cmp({r.cx, r.cy, r.w, r.h, r.theta}, e.at("xywhr"));
        const auto p = corners(r);
        for (std::size_t i = 0; i < 4; ++i) cmp({p[i].x, p[i].y}, e.at("corners").at(i));
    }
    return err;
}

Box rbox(const Json& a) {
    Box b;
    b.cx = a.at(0).get<double>();
    b.cy = a.at(1).get<double>();
    b.w = a.at(2).get<double>();
    b.h = a.at(3).get<double>();
    b.theta = a.at(4).get<double>();
    return b;
}

}  // namespace

TEST(OnnxDecode, HandWorkedBoxCasesMatchTheReference) {
    const Json cases = parseJsonFile(kModels + "decode_cases.json").at("cases");
    int checked = 0;
    for (const auto& c : cases) {
        if (c.at("kind") != "decode") continue;
        std::vector<double> storage;
        const auto kept = decodeAndNms(c.at("head"), tensorOf(c, storage), c.at("score_threshold"), c.at("nms_iou_threshold"),
                                       c.at("max_detections"));
        const Json& want = c.at("expected");
        ASSERT_EQ(kept.size(), want.size()) << c.at("name");
        for (std::size_t i = 0; i < kept.size(); ++i) {
            EXPECT_LE(boxError(kept[i], want[i]), 1e-6) << c.at("name") << " detection " << i;
            EXPECT_NEAR(kept[i].score, want[i].at("score").get<double>(), 1e-6) << c.at("name");
        }
        ++checked;
    }
    EXPECT_EQ(checked, 8);
}

TEST(OnnxDecode, SegmentCasesMatchTheReference) {
    const Json cases = parseJsonFile(kModels + "decode_cases.json").at("cases");
    int checked = 0;
    for (const auto& c : cases) {
        if (c.at("kind") != "segment") continue;
        std::vector<double> storage;
        const ClassMap m = decodeSegment(tensorOf(c, storage), c.at("output") == "logits", c.at("score_threshold"),
                                         c.at("background_class"));
        const Json& want = c.at("expected_class_map");
        ASSERT_EQ(m.cls.rows, static_cast<int>(want.size()));
        for (int y = 0; y < m.cls.rows; ++y)
            for (int x = 0; x < m.cls.cols; ++x) {
                EXPECT_EQ(m.cls.at<int>(y, x), want[y][x].get<int>()) << c.at("name") << " pixel " << y << "," << x;
                if (!c.contains("expected_probabilities")) continue;
                double best = 0;
                for (const auto& plane : c.at("expected_probabilities")) best = std::max(best, plane[y][x].get<double>());
                EXPECT_NEAR(m.prob.at<float>(y, x), best, 1e-6) << c.at("name");
            }
        ++checked;
    }
    EXPECT_EQ(checked, 2);
}

TEST(OnnxDecode, ObbAngleTurnsClockwiseOnScreen) {
    // theta = pi/6: the long side runs right and down the image (tests/models/README.md).
    Box b;
    b.cx = 50, b.cy = 40, b.w = 20, b.h = 10, b.theta = M_PI / 6;
    const auto p = corners(b);
    EXPECT_GT(p[1].y, p[2].y);  // p3 -> p2 runs along w: towards +x and +y
    EXPECT_GT(p[1].x, p[2].x);
    double area = 0;
    for (int i = 0; i < 4; ++i) area += p[i].cross(p[(i + 1) % 4]);
    EXPECT_LT(area, 0) << "p1..p4 has negative shoelace area in pixel coordinates";
    const Box r = regularised(Box{0, 0, 8, 24, -M_PI / 6, 0, 0, 0});
    EXPECT_NEAR(r.w, 24, 1e-12);
    EXPECT_NEAR(r.theta, M_PI / 3, 1e-12);
}

// Boxes no window could have seen are dropped before they reach the map (one at cx = 1e30 failed
// the whole scan at the coordinate transformation; an audit).
TEST(OnnxDecode, BoxesBeyondReachAreDropped) {
    Box b;
    b.cx = 60, b.cy = 70, b.w = 30, b.h = 12;
    EXPECT_TRUE(withinReach(b, 128, 128));
    b.cx = -100;  // in the left neighbour's window: another window sees it
    EXPECT_TRUE(withinReach(b, 128, 128));
    for (const auto& [cx, w] : std::vector<std::pair<double, double>>{
             {1e30, 30}, {-200, 30}, {300, 30}, {60, 1e9}, {60, 600}}) {
        b.cx = cx, b.w = w;
        EXPECT_FALSE(withinReach(b, 128, 128)) << cx << " " << w;
    }
}

TEST(OnnxRotatedIou, ExactPolygonIouNotProbiou) {
    const Json pairs = parseJsonFile(kModels + "decode_cases.json").at("rotated_iou");
    ASSERT_EQ(pairs.size(), 5u);
    for (const auto& p : pairs) {
        const Box a = rbox(p.at("a")), b = rbox(p.at("b"));
        EXPECT_NEAR(iouRotated(a, b), p.at("iou").get<double>(), 1e-6) << p.at("why");
        EXPECT_NEAR(iouRotated(b, a), p.at("iou").get<double>(), 1e-6) << p.at("why");
    }
    // Axis-aligned boxes give the same IoU both ways.
    const Box a{5, 5, 10, 10, 0, 0, 0, 0}, b{10, 5, 10, 10, 0, 0, 0, 0};
    EXPECT_NEAR(iouAxis(a, b), 1.0 / 3, 1e-12);
    EXPECT_NEAR(iouRotated(a, b), 1.0 / 3, 1e-9);
}

TEST(OnnxNms, StrictThresholdStableOrderAndCap) {
    std::vector<Box> boxes = {{5, 5, 10, 10, 0, 0, 0.9, 0}, {5, 2.5, 10, 5, 0, 0, 0.8, 1},  // IoU 0.5
                              {25, 5, 10, 10, 0, 0, 0.6, 2}, {25.5, 5, 10, 10, 0, 0, 0.6, 3}};
    NmsResult r = nms(boxes, 0.5, INT_MAX, false);
    EXPECT_EQ(r.keep, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(r.suppressedBy[3], 2);
    EXPECT_NEAR(r.iou[3], 9.5 / 10.5, 1e-12);
    r = nms(boxes, 0.5, 2, false);
    EXPECT_EQ(r.keep, (std::vector<int>{0, 1}));
    EXPECT_EQ(r.suppressedBy[2], -2);
}

TEST(OnnxNms, AcrossWindowsTheNeighbourhoodDecidesAsGreedyNmsWould) {
    auto cand = [](double x0, double x1, double score, int window, int cls = 0) {
        Candidate c;
        c.box = Box{(x0 + x1) / 2, 5, x1 - x0, 10, 0, cls, score, 0};
        c.window = window;
        return c;
    };
    // A beats B (IoU 2/3); B would beat C (IoU 0.54) but is gone, and C overlaps A by 1/3 only.
    const std::vector<Candidate> chain = {cand(0, 10, 0.9, 0), cand(2, 12, 0.8, 1), cand(5, 15, 0.7, 2), cand(2, 12, 0.95, 3, 1)};
    double iou = 0;
    EXPECT_FALSE(suppressedNearby(chain, 0, 96, 0.45, false, iou)) << "box D of another class does not count";
    EXPECT_TRUE(suppressedNearby(chain, 1, 96, 0.45, false, iou));
    EXPECT_NEAR(iou, 80.0 / 120, 1e-12);
    EXPECT_FALSE(suppressedNearby(chain, 2, 96, 0.45, false, iou)) << "C survives: its suppressor B was suppressed";
    EXPECT_FALSE(suppressedNearby(chain, 2, 96, 0.45, true, iou)) << "the same with polygon IoU";
    // Equal scores: the earlier window wins.
    const std::vector<Candidate> tie = {cand(0, 10, 0.9, 0), cand(1, 11, 0.9, 1)};
    EXPECT_FALSE(suppressedNearby(tie, 0, 96, 0.45, false, iou));
    EXPECT_TRUE(suppressedNearby(tie, 1, 96, 0.45, false, iou));
    // Beyond the reach nothing is looked at.
    const std::vector<Candidate> far = {cand(0, 200, 0.9, 0), cand(150, 190, 0.8, 1)};
    EXPECT_TRUE(suppressedNearby(far, 1, 96, 0.1, false, iou));
    EXPECT_FALSE(suppressedNearby(far, 1, 40, 0.1, false, iou));
}

TEST(OnnxSha256, KnownDigestsAndTheCommittedModels) {
    EXPECT_EQ(sha256Hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex({'a', 'b', 'c'}), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::vector<std::uint8_t> million(1000000, 'a');
    EXPECT_EQ(sha256Hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(OnnxWindowGrid, CoresPartitionTheAxisAndTheLastWindowIsFlush) {
    const WindowAxis a = WindowAxis::make(384, 128, 48);
    EXPECT_EQ(a.starts, (std::vector<int>{0, 80, 160, 240, 256}));
    EXPECT_EQ(a.coreHi[0], 104);  // middle of [80, 128)
    for (int k = 0; k + 1 < a.count(); ++k) EXPECT_EQ(a.coreHi[k], a.coreLo[k + 1]);
    EXPECT_TRUE(std::isinf(a.coreLo.front()) && std::isinf(a.coreHi.back()));
    EXPECT_EQ(WindowAxis::make(100, 128, 48).starts, std::vector<int>{0});  // smaller than a window: padded
    EXPECT_EQ(a.windowsMeeting(100, 110), std::make_pair(0, 1));
    // GSD within tolerance: native pixels; else raster pixels per model pixel.
    EXPECT_TRUE(Resampling::make(10, 10.002, 10.002, 0.05).native());
    EXPECT_DOUBLE_EQ(Resampling::make(10, 5, 5, 0.05).sx, 2.0);
}

namespace {

// A copy of NAME.card.json, changed by `edit`, in `dir`; the model path made absolute.
std::string editedCard(const TempDir& dir, const std::string& name, const std::function<void(Json&)>& edit) {
    Json card = parseJsonFile(kModels + name + ".card.json");
    card["model"] = kModels + card["model"].get<std::string>();
    edit(card);
    const std::string path = dir.file("edited.card.json");
    std::ofstream(path) << dumpJson(card, 1);
    return path;
}

OptionValues optionsFor(const std::string& card, const std::vector<std::string>& sets = {}) {
    OptionValues o(OnnxDetector::describe().options);
    if (!card.empty()) o.setText("card", card);
    for (const auto& s : sets) o.setAssignment(s);
    return o;
}

// The message of the error constructing the detector throws, checked to be of type E.
template <class E>
std::string failure(const std::string& card, const std::vector<std::string>& sets = {}) {
    try {
        OnnxDetector det(optionsFor(card, sets));
        det.limitWorkers(1);  // as a scan does before reading pixels: the dry run
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong error type: ") + e.what();
    }
    return "no error";
}

std::string writeBytes(const TempDir& dir, const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const std::string path = dir.file(name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
    return path;
}

// Made with python3-onnx (onnx.helper): one opset-13 Split of a 1 x 3 x 8 x 8 input into 1 and 2
// channels, the split sizes given as an input. OpenCV 4.6 cannot import it (as YOLOv5 at opset 13).
const std::vector<std::uint8_t> kSplitOpset13 = {
    0x08, 0x07, 0x12, 0x0c, 0x72, 0x69, 0x73, 0x6b, 0x6d, 0x61, 0x70, 0x2d, 0x74, 0x65, 0x73, 0x74,
    0x3a, 0xa1, 0x01, 0x0a, 0x29, 0x0a, 0x06, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x73, 0x0a, 0x05, 0x73,
    0x70, 0x6c, 0x69, 0x74, 0x12, 0x01, 0x61, 0x12, 0x01, 0x62, 0x22, 0x05, 0x53, 0x70, 0x6c, 0x69,
    0x74, 0x2a, 0x0b, 0x0a, 0x04, 0x61, 0x78, 0x69, 0x73, 0x18, 0x01, 0xa0, 0x01, 0x02, 0x12, 0x07,
    0x73, 0x70, 0x6c, 0x69, 0x74, 0x31, 0x33, 0x2a, 0x0f, 0x08, 0x02, 0x10, 0x07, 0x3a, 0x02, 0x01,
    0x02, 0x42, 0x05, 0x73, 0x70, 0x6c, 0x69, 0x74, 0x5a, 0x20, 0x0a, 0x06, 0x69, 0x6d, 0x61, 0x67,
    0x65, 0x73, 0x12, 0x16, 0x0a, 0x14, 0x08, 0x01, 0x12, 0x10, 0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02,
    0x08, 0x03, 0x0a, 0x02, 0x08, 0x08, 0x0a, 0x02, 0x08, 0x08, 0x62, 0x1b, 0x0a, 0x01, 0x61, 0x12,
    0x16, 0x0a, 0x14, 0x08, 0x01, 0x12, 0x10, 0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x01, 0x0a,
    0x02, 0x08, 0x08, 0x0a, 0x02, 0x08, 0x08, 0x62, 0x1b, 0x0a, 0x01, 0x62, 0x12, 0x16, 0x0a, 0x14,
    0x08, 0x01, 0x12, 0x10, 0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x02, 0x0a, 0x02, 0x08, 0x08,
    0x0a, 0x02, 0x08, 0x08, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d,
};
// Made likewise: Reshape of the 1 x 3 x 8 x 8 input to 1 x 6 x 32, then Mul by a (1, 32) stride
// constant, as stock Ultralytics YOLOv8 exports have (opset 12). Imports, fails at forward.
const std::vector<std::uint8_t> kStrideMul1xA = {
    0x08, 0x07, 0x12, 0x0c, 0x72, 0x69, 0x73, 0x6b, 0x6d, 0x61, 0x70, 0x2d, 0x74, 0x65, 0x73, 0x74,
    0x3a, 0xa9, 0x02, 0x0a, 0x1b, 0x0a, 0x06, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x73, 0x0a, 0x05, 0x73,
    0x68, 0x61, 0x70, 0x65, 0x12, 0x01, 0x72, 0x22, 0x07, 0x52, 0x65, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x0a, 0x19, 0x0a, 0x01, 0x72, 0x0a, 0x06, 0x73, 0x74, 0x72, 0x69, 0x64, 0x65, 0x12, 0x07, 0x6f,
    0x75, 0x74, 0x70, 0x75, 0x74, 0x30, 0x22, 0x03, 0x4d, 0x75, 0x6c, 0x12, 0x08, 0x73, 0x74, 0x72,
    0x69, 0x64, 0x65, 0x31, 0x41, 0x2a, 0x10, 0x08, 0x03, 0x10, 0x07, 0x3a, 0x03, 0x01, 0x06, 0x20,
    0x42, 0x05, 0x73, 0x68, 0x61, 0x70, 0x65, 0x2a, 0x91, 0x01, 0x08, 0x01, 0x08, 0x20, 0x10, 0x01,
    0x22, 0x80, 0x01, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00,
    0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00,
    0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00,
    0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x41, 0x00,
    0x00, 0x00, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00,
    0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00,
    0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00,
    0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00, 0x00, 0x80, 0x41, 0x00,
    0x00, 0x80, 0x41, 0x42, 0x06, 0x73, 0x74, 0x72, 0x69, 0x64, 0x65, 0x5a, 0x20, 0x0a, 0x06, 0x69,
    0x6d, 0x61, 0x67, 0x65, 0x73, 0x12, 0x16, 0x0a, 0x14, 0x08, 0x01, 0x12, 0x10, 0x0a, 0x02, 0x08,
    0x01, 0x0a, 0x02, 0x08, 0x03, 0x0a, 0x02, 0x08, 0x08, 0x0a, 0x02, 0x08, 0x08, 0x62, 0x1d, 0x0a,
    0x07, 0x6f, 0x75, 0x74, 0x70, 0x75, 0x74, 0x30, 0x12, 0x12, 0x0a, 0x10, 0x08, 0x01, 0x12, 0x0c,
    0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x06, 0x0a, 0x02, 0x08, 0x20, 0x42, 0x04, 0x0a, 0x00,
    0x10, 0x0c,
};

}  // namespace

TEST(OnnxCard, TheCommittedCardsLoadAndFitTheirModels) {
    for (const char* name : {"yolov5_tiny", "yolov8_tiny", "yolov8_obb_tiny", "seg_tiny"}) {
        OnnxDetector det(optionsFor(kModels + name + ".card.json"));
        EXPECT_EQ(det.net().outputShape(), det.card().outputShape) << name;
    }
}

TEST(OnnxCard, BadCardsFailNamingTheKey) {
    TempDir dir;
    struct Case {
        std::function<void(Json&)> edit;
        std::vector<std::string> words;
    };
    const std::vector<Case> cases = {
        {[](Json& c) { c["schema"] = "riskmap-model-card/9"; }, {"schema", "riskmap-model-card/1"}},
        {[](Json& c) { c["head"] = "yolov8-obb"; }, {"head", "does not fit task 'detect'"}},
        {[](Json& c) { c.erase("gsd_m"); }, {"gsd_m", "missing"}},
        {[](Json& c) { c["gsd_m"] = -2; }, {"gsd_m"}},
        {[](Json& c) { c["input"]["normalisation"]["mean"] = {0, 0, 0}; }, {"input.normalisation", "either"}},
        {[](Json& c) { c["input"]["normalisation"]["scale"] = {1, 1}; }, {"input.normalisation.scale", "needs 3: one per band of input.bands"}},
        {[](Json& c) { c["input"]["clip"] = {1}; }, {"input.clip", "needs 2: [lo, hi]"}},
        {[](Json& c) { c["input"]["values"] = "dn"; }, {"input.values", "reflectance, raw"}},
        {[](Json& c) { c["thresholds"]["score"] = 1.5; }, {"thresholds.score"}},
        {[](Json& c) { c["tile_overlap"] = 0; }, {"unknown key 'tile_overlap'", "tile_overlap_px"}},
        {[](Json& c) { c["input"]["pad_valu"] = 5; }, {"input", "unknown key 'pad_valu'"}},
        {[](Json& c) { c["nms"] = {{"class_awre", false}}; }, {"nms", "unknown key 'class_awre'"}},
        {[](Json& c) { c["thresholds"]["nms_iou"] = 0; }, {"thresholds.nms_iou"}},
        {[](Json& c) { c["sha256"] = std::string(64, '0'); }, {"sha256", "wrong or changed model file"}},
        {[](Json& c) { c["model"] = "/nonexistent/model.onnx"; }, {"cannot read model", "/nonexistent/model.onnx", "no such file"}},
        // A folder used to pass the open and fail when read: "internal error" (an audit).
        {[](Json& c) { c["model"] = "/tmp"; c.erase("sha256"); }, {"cannot read model '/tmp': not a file"}},
    };
    for (const auto& c : cases) {
        const std::string msg = failure<DataError>(editedCard(dir, "yolov5_tiny", c.edit));
        for (const auto& w : c.words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    }
    Json seg = parseJsonFile(kModels + "seg_tiny.card.json");
    seg["input"]["normalisation"] = Json::parse(R"({"mean": [0, 0, 0, 0], "std": [1, 0, 1, 1]})");
    const std::string msg = failure<DataError>(editedCard(dir, "seg_tiny", [&](Json& c) { c["input"] = seg["input"]; }));
    EXPECT_NE(msg.find("input.normalisation.std"), std::string::npos) << msg;
}

TEST(OnnxCard, AModelThatDoesNotFitItsCardFailsOnTheDryRun) {
    TempDir dir;
    struct Case {
        std::string card;
        std::function<void(Json&)> edit;
        std::vector<std::string> words;
    };
    const std::vector<Case> cases = {
        // Another model's file: yolov8's [1, 6, 400] is no yolov5 output.
        {"yolov5_tiny", [](Json& c) { c["model"] = kModels + "yolov8_tiny.onnx"; c.erase("sha256"); c.erase("input"); c["input"] = parseJsonFile(kModels + "yolov8_tiny.card.json")["input"]; },
         {"does not fit its card", "output shape [1, 6, 400] does not fit head yolov5", "[1, N, 7]"}},
        {"yolov5_tiny", [](Json& c) { c["classes"] = {"kiln", "camp", "yard"}; c.erase("output"); c["output"] = Json::object(); },
         {"output shape [1, 960, 7] does not fit head yolov5 with 3 classes", "[1, N, 8]"}},
        {"yolov5_tiny", [](Json& c) { c["output"]["shape"] = {1, 961, 7}; }, {"differs from output.shape [1, 961, 7]"}},
        {"yolov5_tiny", [](Json& c) { c["input"]["bands"] = {"red", "green", "blue", "nir"}; c["input"]["normalisation"]["scale"].push_back(1); c["input"]["normalisation"]["offset"].push_back(0); },
         {"dry run on a [1, 4, 128, 128] input failed", "input channels", "input.bands"}},
        {"yolov5_tiny", [](Json& c) { c["input"]["width"] = 96; }, {"dry run on a [1, 3, 128, 96] input failed"}},
        {"yolov5_tiny", [](Json& c) { c["input"]["name"] = "pixels"; }, {"input.name"}},
        {"yolov5_tiny", [](Json& c) { c["output"]["name"] = "boxes"; }, {"output.name 'boxes' is not an output"}},
        {"seg_tiny", [](Json& c) { c["classes"] = {"background", "bare"}; c["output"].erase("shape"); }, {"[1, 2, 64, 64]", "[1, 3, 64, 64]"}},
    };
    for (const auto& c : cases) {
        const std::string msg = failure<DataError>(editedCard(dir, c.card, c.edit));
        for (const auto& w : c.words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
}

TEST(OnnxCard, ExportsOpenCv46CannotRunFailWithTheCauseAndTheFix) {
    TempDir dir;
    auto card = [&](const std::string& model) {
        return editedCard(dir, "yolov8_tiny", [&](Json& c) {
            c["model"] = model;
            c.erase("sha256");
            c["input"]["width"] = c["input"]["height"] = 8;
            c["tile_overlap_px"] = 0;
            c["output"] = Json::object();
        });
    };
    std::string msg = failure<DataError>(card(writeBytes(dir, "split13.onnx", kSplitOpset13)));
    EXPECT_NE(msg.find("cannot import it"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Split"), std::string::npos) << msg;
    EXPECT_NE(msg.find("re-export at opset 12"), std::string::npos) << msg;
    msg = failure<DataError>(card(writeBytes(dir, "stride.onnx", kStrideMul1xA)));
    EXPECT_NE(msg.find("dry run"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(1, A) constant"), std::string::npos) << msg;
    msg = failure<DataError>(card(writeBytes(dir, "junk.onnx", {'n', 'o', 't', ' ', 'o', 'n', 'n', 'x'})));
    EXPECT_NE(msg.find("cannot import it"), std::string::npos) << msg;
}

// A GSD beyond resampling is refused by the check a scan runs before reading pixels; a warning
// only warns (it threw from inside the warning, an audit).
TEST(OnnxCard, AGsdBeyondResamplingIsRefusedByTheCheckNotTheWarning) {
    const OnnxDetector det(optionsFor(kModels + "yolov5_tiny.card.json"));  // trained at 2 m
    EXPECT_NO_THROW(det.checkInput(2, 2));
    EXPECT_NO_THROW(det.checkInput(4, 4));
    EXPECT_NO_THROW(det.checkInput(0.1, 0.1));             // 20 x down
    EXPECT_THROW(det.checkInput(0.01, 0.01), UsageError);  // 200 x down: more than 100
    EXPECT_THROW(det.checkInput(250, 250), UsageError);    // 125 x up: more than 16
    EXPECT_TRUE(det.inputWarning(2, 2).empty());
    EXPECT_NE(det.inputWarning(4, 4).find("resampled to the model's GSD"), std::string::npos);
    std::string w;
    EXPECT_NO_THROW(w = det.inputWarning(250, 250));
    EXPECT_NE(w.find("resampled"), std::string::npos) << w;
}

TEST(OnnxCard, UsageErrorsNameTheOptionAndTheFix) {
    EXPECT_NE(failure<UsageError>("").find("--set card="), std::string::npos);
    const std::string card = kModels + "yolov5_tiny.card.json";
    EXPECT_NE(failure<UsageError>(card, {"classes=kiln,boat"}).find("'boat' is not a class"), std::string::npos);
    EXPECT_NE(failure<UsageError>(card, {"overlap_px=200"}).find("overlap_px"), std::string::npos);
    OnnxDetector det(optionsFor(kModels + "seg_tiny.card.json"));
    try {
        det.bandsFor({"red", "green", "blue", "b1", "b2", "b3"});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("needs band(s) nir, swir1"), std::string::npos) << msg;
        EXPECT_NE(msg.find("--band NAME=PATH"), std::string::npos) << msg;
    }
    EXPECT_EQ(det.bandsFor({"swir1", "nir", "red", "green", "blue"}), (std::vector<std::string>{"green", "red", "nir", "swir1"}));
}

namespace {

struct TileRun {
    std::unique_ptr<OnnxDetector> det;
    TileImage tile;
    cv::Mat output;  // the model's output on the tile, as riskmap computes it
};

// NAME.tile.tif read whole (it is one model input), and the model's output on it.
TileRun runTile(const std::string& name) {
    TileRun r;
    r.det = std::make_unique<OnnxDetector>(optionsFor(kModels + name + ".card.json"));
    RasterInput in = RasterInput::open(kModels + name + ".tile.tif", InputOptions{});
    std::vector<std::string> names;
    for (const auto& b : in.bands()) names.push_back(b.name);
    std::vector<int> bands;
    for (const auto& b : r.det->bandsFor(names)) bands.push_back(in.bandIndex(b));
    RasterReader reader(in);
    reader.read(in.extent(), in.extent(), bands, r.tile);
    const TileWindows tw(r.tile, ModelRef{r.det->card(), r.det->net(), r.det->settings(), nullptr});
    EXPECT_TRUE(tw.grid().rs.native());
    EXPECT_EQ(tw.grid().x.count() * tw.grid().y.count(), 1);
    r.output = tw.run(0, 0);
    return r;
}

double maxRawDifference(const std::string& name, const cv::Mat& out) {
    std::ifstream f(kModels + name + ".tile.output.f32", std::ios::binary);
    std::vector<float> want(out.total());
    f.read(reinterpret_cast<char*>(want.data()), static_cast<long>(want.size() * sizeof(float)));
    EXPECT_EQ(static_cast<std::size_t>(f.gcount()), want.size() * sizeof(float)) << name;
    EXPECT_EQ(f.peek(), EOF) << name << ": the reference holds more values than riskmap's output";
    double diff = 0;
    for (std::size_t i = 0; i < want.size(); ++i) diff = std::max(diff, std::fabs(static_cast<double>(out.ptr<float>()[i]) - want[i]));
    return diff;
}

// The detection whose polygon's corners are `want` (in order) within `tol`; nullptr if none.
const Detection* withCorners(const std::vector<Detection>& dets, const std::vector<cv::Point2d>& want, double tol) {
    for (const auto& d : dets) {
        const Ring& r = d.geometry.parts.at(0).outer;
        bool same = r.size() == want.size();
        for (std::size_t i = 0; same && i < r.size(); ++i) same = cv::norm(r[i] - want[i]) <= tol;
        if (same) return &d;
    }
    return nullptr;
}

std::vector<cv::Point2d> expectedCorners(const Json& e) {
    std::vector<cv::Point2d> p;
    if (e.contains("corners")) {
        for (const auto& c : e.at("corners")) p.emplace_back(c.at(0).get<double>(), c.at(1).get<double>());
        return p;
    }
    const Json& b = e.at("xyxy");
    const double x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
    return {{x1, y1}, {x1, y0}, {x0, y0}, {x0, y1}};  // xywhr2xyxyxyxy at theta 0
}

class OnnxTinyModel : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(OnnxTinyModel, TileOutputAndDetectionsMatchTheReference) {
    const std::string name = GetParam();
    const Json expected = parseJsonFile(kModels + name + ".expected.json").at("tile");
    TileRun run = runTile(name);
    const double raw = maxRawDifference(name, run.output);
    EXPECT_LE(raw, 1e-3) << name;
    // Decoded as in a scan, with the card's thresholds.
    const ModelCard& card = run.det->card();
    const auto kept = decodeAndNms(headName(card.head), viewOf(run.output), card.score, card.nmsIou, card.maxDetections);
    const Json& want = expected.at("detections");
    ASSERT_EQ(kept.size(), want.size()) << name;
    double boxErr = 0, scoreErr = 0;
    for (std::size_t i = 0; i < kept.size(); ++i) {
        Json e = want[i];
        if (e.contains("xyxy")) e.erase("raw_xywhr");
        boxErr = std::max(boxErr, boxError(kept[i], e));
        scoreErr = std::max(scoreErr, std::fabs(kept[i].score - e.at("score").get<double>()));
    }
    EXPECT_LE(boxErr, 1e-2) << name;
    EXPECT_LE(scoreErr, 1e-3) << name;
    // The detector itself: the same boxes as polygons, corners in the reference order.
    const std::vector<Detection> dets = run.det->detect(run.tile);
    ASSERT_EQ(dets.size(), want.size()) << name;
    for (const auto& e : want) {
        const Detection* d = withCorners(dets, expectedCorners(e), 1e-2);
        ASSERT_NE(d, nullptr) << name << ": no detection with the corners of " << dumpJson(e);
        EXPECT_EQ(d->cls, card.classes.at(e.at("class").get<std::size_t>()));
        EXPECT_NEAR(d->score, e.at("score").get<double>(), 1e-3);
    }
    std::printf("[ %s ] raw output max diff %.2e, boxes %.2e px, scores %.2e\n", name.c_str(), raw, boxErr, scoreErr);
}

TEST(OnnxWindowInput, NormalisesClipsAndPadsNodataAndBeyondTheRaster) {
    // The yolov5 tile cut to 100 x 90 (smaller than the 128 x 128 input), a nodata square in it.
    TempDir dir;
    GDALAllRegister();
    std::unique_ptr<GDALDataset> src(GDALDataset::Open((kModels + "yolov5_tiny.tile.tif").c_str(), GDAL_OF_RASTER));
    GDALDriver* tif = GetGDALDriverManager()->GetDriverByName("GTiff");
    std::unique_ptr<GDALDataset> dst(tif->Create(dir.file("cut.tif").c_str(), 100, 90, 3, GDT_Byte, nullptr));
    double gt[6];
    src->GetGeoTransform(gt);
    dst->SetGeoTransform(gt);
    dst->SetProjection(src->GetProjectionRef());
    std::vector<std::uint8_t> px(100 * 90);
    for (int b = 1; b <= 3; ++b) {
        ASSERT_EQ(src->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, 100, 90, px.data(), 100, 90, GDT_Byte, 0, 0), CE_None);
        for (int y = 10; y < 20; ++y)
            for (int x = 30; x < 40; ++x) px[static_cast<std::size_t>(y * 100 + x)] = 0;
        dst->GetRasterBand(b)->SetNoDataValue(0);
        dst->GetRasterBand(b)->SetColorInterpretation(static_cast<GDALColorInterp>(GCI_RedBand + b - 1));
        ASSERT_EQ(dst->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, 100, 90, px.data(), 100, 90, GDT_Byte, 0, 0), CE_None);
    }
    dst.reset();
    const std::string card = editedCard(dir, "yolov5_tiny", [](Json& c) {
        c["input"]["pad_value"] = 0.75;
        c["input"]["clip"] = {0.0, 0.6};
    });
    OnnxDetector det(optionsFor(card));
    RasterInput in = RasterInput::open(dir.file("cut.tif"), InputOptions{});
    RasterReader reader(in);
    TileImage tile;
    reader.read(in.extent(), in.extent(), {0, 1, 2}, tile);
    const TileWindows tw(tile, ModelRef{det.card(), det.net(), det.settings(), nullptr});
    const TileWindows::Input w = tw.input(0, 0);
    std::unique_ptr<GDALDataset> ref(GDALDataset::Open(dir.file("cut.tif").c_str(), GDAL_OF_RASTER));
    for (int b = 0; b < 3; ++b) {
        ASSERT_EQ(ref->GetRasterBand(b + 1)->RasterIO(GF_Read, 0, 0, 100, 90, px.data(), 100, 90, GDT_Byte, 0, 0), CE_None);
        for (int y = 0; y < 128; ++y)
            for (int x = 0; x < 128; ++x) {
                const float got = w.blob.ptr<float>(0, b, y)[x];
                const bool data = x < 100 && y < 90 && !(x >= 30 && x < 40 && y >= 10 && y < 20);
                const double want = data ? std::min(px[static_cast<std::size_t>(y * 100 + x)] / 255.0, 0.6) : 0.75;
                ASSERT_NEAR(got, want, 1e-6) << "band " << b << " pixel " << x << "," << y;
                ASSERT_EQ(w.valid.at<std::uint8_t>(y, x), data ? 1 : 0);
            }
    }
}

INSTANTIATE_TEST_SUITE_P(Heads, OnnxTinyModel, ::testing::Values("yolov5_tiny", "yolov8_tiny", "yolov8_obb_tiny"));

TEST(OnnxTinySegment, ClassMapAndRegionsMatchTheReference) {
    const Json expected = parseJsonFile(kModels + "seg_tiny.expected.json").at("tile");
    TileRun run = runTile("seg_tiny");
    const double raw = maxRawDifference("seg_tiny", run.output);
    EXPECT_LE(raw, 1e-3);
    const ModelCard& card = run.det->card();
    const ClassMap map = decodeSegment(viewOf(run.output), card.logits, card.score, card.backgroundClass);
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ref(GDALDataset::Open((kModels + "seg_tiny.tile.classes.tif").c_str(), GDAL_OF_RASTER));
    ASSERT_TRUE(ref);
    cv::Mat want(64, 64, CV_32S);
    ASSERT_EQ(ref->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, 64, 64, want.data, 64, 64, GDT_Int32, 0, 0), CE_None);
    const int differ = cv::countNonZero(map.cls != want);
    EXPECT_LE(differ, expected.at("near_tie_pixels").get<int>());
    // Regions: one per 8-connected component of each class, with its pixel count as area.
    const std::vector<Detection> dets = run.det->detect(run.tile);
    for (const auto& cls : expected.at("class_map_stats").at("classes")) {
        if (!cls.contains("components")) continue;
        std::vector<double> got, wantPx;
        for (const auto& d : dets)
            if (d.cls == card.classes.at(cls.at("class").get<std::size_t>())) got.push_back(d.geometry.areaPixels());
        for (const auto& c : cls.at("components")) wantPx.push_back(c.at("pixels").get<double>());
        std::sort(got.begin(), got.end());
        std::sort(wantPx.begin(), wantPx.end());
        EXPECT_EQ(got, wantPx) << "class " << cls.at("class");
    }
    std::printf("[ seg_tiny ] raw output max diff %.2e, class map differs in %d px\n", raw, differ);
}

// A stop asked for (SIGINT/SIGTERM) is seen between a tile's model windows: one ONNX tile of many
// windows ran for minutes after SIGTERM (an audit).
TEST(OnnxTinyModels, AStopIsSeenBetweenWindows) {
    for (const std::string name : {"yolov8_obb_tiny", "seg_tiny"}) {
        TileRun run = runTile(name);
        std::atomic<bool> stop{false};
        run.tile.cancel = &stop;
        EXPECT_NO_THROW(run.det->detect(run.tile)) << name;
        stop = true;
        EXPECT_THROW(run.det->detect(run.tile), Cancelled) << name;
    }
}
