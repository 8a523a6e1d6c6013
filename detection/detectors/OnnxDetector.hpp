#pragma once
// `onnx`: runs a model trained elsewhere (YOLOv5, YOLOv8/YOLO11 boxes and oriented boxes, or a
// per-pixel segmentation net) through OpenCV DNN, as its model card describes (docs/onnx.md).
// The raster is resampled to the card's GSD and cut into model-sized windows on a grid
// anchored to the raster origin, so the output is the same for any tiling.
#include <memory>

#include "detection/Detector.hpp"
#include "detection/OptionTable.hpp"
#include "detection/onnx/ModelCard.hpp"
#include "detection/onnx/NetRunner.hpp"
#include "detection/onnx/TileWindows.hpp"
#include "detection/onnx/WindowCache.hpp"

namespace riskmap {

class OnnxDetector : public Detector {
public:
    static DetectorInfo describe();
    static std::unique_ptr<Detector> create(const OptionValues& options);

    // Reads the card and loads the model; limitWorkers checks it on a dry run. A model that does
    // not fit its card throws DataError in one or the other, before any pixel is read.
    explicit OnnxDetector(const OptionValues& options);
    const DetectorInfo& info() const override { return info_; }
    std::vector<std::string> bandsFor(const std::vector<std::string>& available) const override;
    double haloMetres() const override;
    void checkInput(double gsdX, double gsdY) const override;
    std::string inputWarning(double gsdX, double gsdY) const override;
    std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const override;
    // A net per worker (OpenCV's estimate for the card's input) and the window cache.
    Reserve reserve() const override;
    void limitWorkers(std::size_t workers) override { net_->prepare(workers); }
    std::vector<std::string> scanNotes() const override;
    // The card by its hash (the card holds the model's): a resume or a manifest rerun tells a
    // card changed since.
    Json resources() const override;

    struct Params {
        std::string card, classes;
        double score, nmsIou, gsdTolerance, minArea, maxLength, explainFloor;
        std::int64_t maxDetections, overlap;
    };
    static const OptionTable<Params>& table();

    const onnx::ModelCard& card() const { return card_; }
    const onnx::Settings& settings() const { return settings_; }
    const onnx::NetRunner& net() const { return *net_; }

private:
    void applyOverrides();

    DetectorInfo info_;
    Params p_;
    onnx::ModelCard card_;
    onnx::Settings settings_;
    std::unique_ptr<onnx::NetRunner> net_;
    // Windows shared by neighbouring tiles run once. Only a memo of a pure function of each
    // window's input (see WindowCache), so detect() stays free of order-dependent state.
    mutable std::unique_ptr<onnx::WindowCache> cache_;
};

}  // namespace riskmap
