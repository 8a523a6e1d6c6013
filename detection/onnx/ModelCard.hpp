#pragma once
// A model card (schema riskmap-model-card/1, tests/models/README.md): what an ONNX model expects
// (input size, bands, normalisation, GSD) and how to read its output (head, classes,
// thresholds). Read with JsonReader, so every error names the card and the key at fault.
#include <string>
#include <vector>

namespace riskmap::onnx {

enum class Head { Yolov5, Yolov8, Yolov8Obb, Segment };

const char* headName(Head h);

struct ModelCard {
    std::string path;       // the card file
    std::string name;
    std::string modelPath;  // resolved against the card's folder
    std::string sha256;     // lower-case hex, empty when the card gives none
    std::string task;       // detect | obb | segment
    Head head = Head::Yolov8;
    double gsd = 0;  // metres

    // Input tensor, 1 x bands x height x width.
    std::string inputName;
    int width = 0, height = 0;
    std::vector<std::string> bands;
    bool rawValues = false;  // stored values rather than riskmap's reflectance
    // x = v * scale + offset, or x = (v - mean) / std (meanStd), per band.
    bool meanStd = false;
    std::vector<double> normA, normB;  // scale/offset or mean/std
    bool clip = false;
    double clipLo = 0, clipHi = 0;
    double padValue = 0;

    std::string outputName;          // empty: the net's only output
    std::vector<int> outputShape;    // empty when the card gives none
    std::vector<std::string> classes;

    double score = 0.25;
    double nmsIou = 0.45;  // unused for segment
    int maxDetections = 300;
    bool polygonIou = false;  // nms.iou == "polygon"
    bool logits = false;      // segment.output == "logits"
    int backgroundClass = 0;  // segment; -1 when none
    int overlap = 0;          // tile_overlap_px, model pixels (a quarter of the input when absent)

    // Reads and checks the card (DataError naming the card and key). Does not open the model.
    static ModelCard load(const std::string& path);

    // The output shape the head implies for this card: [1, N, 5 + C], [1, 4 + C, N],
    // [1, 4 + C + 1, N] or [1, C, height, width]; N is -1 (any).
    std::vector<int> expectedShape() const;
    // Normalised model input for a value v of band b (before clip).
    double normalise(std::size_t b, double v) const {
        return meanStd ? (v - normA[b]) / normB[b] : v * normA[b] + normB[b];
    }
};

}  // namespace riskmap::onnx
