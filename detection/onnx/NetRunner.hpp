#pragma once
// An ONNX model in OpenCV DNN, checked against its card at construction: the file's sha256,
// the import, and a dry run on a pad_value input whose output shape must fit the head. So a
// model that does not fit its card fails before any pixel is read, with OpenCV's reason and
// what to do about it. forward() is thread-safe: each call borrows a net from a pool.
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "detection/onnx/ModelCard.hpp"

namespace riskmap::onnx {

class NetRunner {
public:
    explicit NetRunner(const ModelCard& card);

    // The output tensor for a 1 x bands x height x width input (a copy the caller owns).
    cv::Mat forward(const cv::Mat& blob) const;
    const std::vector<int>& outputShape() const { return outputShape_; }

    // What an OpenCV import (or forward) error usually means for an exported model, and the fix.
    static std::string hint(const std::string& opencvMessage, bool importing);

private:
    cv::dnn::Net load() const;
    cv::Mat forwardRaw(const cv::Mat& blob) const;  // lets cv::Exception through
    void dryRun();

    const ModelCard& card_;
    std::vector<char> bytes_;
    std::vector<int> outputShape_;
    mutable std::mutex mutex_, loadMutex_;
    mutable std::vector<cv::dnn::Net> idle_;
};

// "[1, 960, 7]"
std::string shapeText(const std::vector<int>& shape);

}  // namespace riskmap::onnx
