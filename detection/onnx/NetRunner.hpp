#pragma once
// An ONNX model in OpenCV DNN, checked against its card at construction: the file's sha256,
// the import, and a dry run on a pad_value input whose output shape must fit the head. So a
// model that does not fit its card fails before any pixel is read, with OpenCV's reason and
// what to do about it. forward() is thread-safe: each call borrows a net from a pool of at most
// prepare()'s `workers` nets, each holding its activations (bytesPerNet) between calls.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "detection/onnx/ModelCard.hpp"

namespace riskmap::onnx {

class NetRunner {
public:
    // Imports the model and estimates a net's memory; a net of at most kEarlyCheckBytes is
    // checked on its dry run here too (prepare).
    explicit NetRunner(const ModelCard& card);
    static constexpr std::size_t kEarlyCheckBytes = std::size_t{32} << 20;
    // Checks the model on a dry run once (a misfit throws DataError naming what to fix) and lets
    // at most `workers` nets exist at once. A scan calls it before any pixel is read; forward()
    // calls it with no cap if nobody did.
    void prepare(std::size_t workers);
    // OpenCV's estimate of one net's weights and activations for the card's input size. It
    // does not count the buffers OpenCV reuses, so it is an upper bound (seg 2048 px: 2.5 GB
    // estimated, 1.5 GB peak measured).
    std::size_t bytesPerNet() const { return netBytes_; }
    // Forward runs whose output held NaN or infinite values (decoders treat them as nothing).
    std::size_t nonFiniteOutputs() const { return nonFinite_.load(); }

    // The output tensor for a 1 x bands x height x width input (a copy the caller owns).
    cv::Mat forward(const cv::Mat& blob) const;
    const std::vector<int>& outputShape() const { return outputShape_; }

    // What an OpenCV import (or forward) error usually means for an exported model, and the fix.
    static std::string hint(const std::string& opencvMessage, bool importing);

private:
    cv::dnn::Net load() const;
    cv::Mat forwardRaw(const cv::Mat& blob) const;  // lets cv::Exception through
    void dryRun();
    void estimate();
    cv::dnn::Net borrow() const;
    void giveBack(cv::dnn::Net net) const;

    const ModelCard& card_;
    std::vector<char> bytes_;
    std::vector<int> outputShape_;
    std::size_t netBytes_ = 0;
    mutable std::mutex mutex_, loadMutex_, prepareMutex_;
    mutable std::condition_variable freed_;
    mutable std::vector<cv::dnn::Net> idle_;
    mutable std::size_t live_ = 0, cap_ = 0;  // nets in existence, and their cap (0: none yet)
    std::atomic<bool> prepared_{false};
    mutable std::atomic<std::size_t> nonFinite_{0};
};

// "[1, 960, 7]"
std::string shapeText(const std::vector<int>& shape);

}  // namespace riskmap::onnx
