#include "detection/onnx/NetRunner.hpp"

#include <tbb/task_arena.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core/utils/logger.hpp>

#include "core/Error.hpp"
#include "detection/onnx/Sha256.hpp"

namespace riskmap::onnx {

namespace {

// OpenCV's message on one line, without the "OpenCV(4.6.0) " that riskmap's message says already.
std::string oneLine(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
    for (const std::string tag = std::string("OpenCV(") + CV_VERSION + ") "; out.find(tag) != std::string::npos;)
        out.erase(out.find(tag), tag.size());
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out.size() > 400 ? out.substr(0, 400) + "..." : out;
}

// OpenCV logs layer failures on stderr; riskmap's errors are one line. Silenced while checking.
struct QuietOpenCv {
    cv::utils::logging::LogLevel saved = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    ~QuietOpenCv() { cv::utils::logging::setLogLevel(saved); }
};

std::vector<int> shapeOf(const cv::Mat& m) {
    std::vector<int> s;
    for (int i = 0; i < m.dims; ++i) s.push_back(m.size[i]);
    return s;
}

bool fits(const std::vector<int>& shape, const std::vector<int>& want) {
    if (shape.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i)
        if (want[i] >= 0 && shape[i] != want[i]) return false;
    return true;
}

}  // namespace

std::string shapeText(const std::vector<int>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + (shape[i] < 0 ? std::string("N") : std::to_string(shape[i]));
    return s + "]";
}

std::string NetRunner::hint(const std::string& m, bool importing) {
    auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
    if (importing && (has("Split") || has("Reshape")))
        return "an opset 13+ Split, which OpenCV 4.6 misreads: re-export at opset 12 (Ultralytics: opset=12, simplify=True)";
    if (has("parseBias"))
        return "shape arithmetic left in the graph (e.g. Ultralytics' chunk): re-export with simplify=True at opset 12";
    if (has("Identity"))
        return "an Identity node on an initialiser (untrained or deduplicated weights): simplify the model (onnxsim)";
    if (has("shape_utils.hpp") || has("in function 'total'"))
        return "a broadcast Mul by a (1, A) constant, as stock Ultralytics YOLOv8/YOLO11 exports have, which OpenCV 4.6 "
               "cannot run: use a newer OpenCV or rewrite the stride constant to (1, 4, A) (docs/onnx.md)";
    if (has("Requested blob"))
        return "the card's input.name is not the name of the model's input";
    if (has("input channels"))
        return "the model takes another number of bands than the card's input.bands lists";
    if (!importing && (has("Reshape") || has("getMemoryShapes")))
        return "the model takes another input size than the card's input.width x input.height";
    return "see docs/onnx.md for the exports OpenCV 4.6 reads";
}

NetRunner::NetRunner(const ModelCard& card) : card_(card) {
    std::error_code ec;  // a folder opens as a stream and fails only when read ("internal error")
    if (!std::filesystem::is_regular_file(card.modelPath, ec))
        throw DataError("model card '" + card.path + "': cannot read model '" + card.modelPath + "': " +
                        (std::filesystem::exists(card.modelPath, ec) ? "not a file" : "no such file") +
                        "; set \"model\" to the .onnx file, relative to the card");
    std::ifstream f(card.modelPath, std::ios::binary);
    if (!f) throw DataError("model card '" + card.path + "': cannot read model '" + card.modelPath + "'");
    bytes_.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (f.bad()) throw DataError("model card '" + card.path + "': reading model '" + card.modelPath + "' failed");
    if (!card.sha256.empty()) {
        const std::string got = sha256Hex(std::vector<std::uint8_t>(bytes_.begin(), bytes_.end()));
        if (got != card.sha256)
            throw DataError("model card '" + card.path + "': sha256 of '" + card.modelPath + "' is " + got +
                            ", the card says " + card.sha256 + " (wrong or changed model file)");
    }
    QuietOpenCv quiet;
    idle_.push_back(load());
    live_ = 1;
    estimate();
    // A small net is checked at once, before the inputs are opened; a large one once the scan
    // knows it fits --ram (prepare), so that the check itself does not pass the budget.
    if (netBytes_ <= kEarlyCheckBytes) prepare(SIZE_MAX);
}

void NetRunner::estimate() {
    const cv::dnn::MatShape shape = {1, static_cast<int>(card_.bands.size()), card_.height,
                                     card_.width};
    std::size_t weights = 0, blobs = 0;
    try {
        idle_.front().getMemoryConsumption(shape, weights, blobs);
    } catch (const cv::Exception& e) {
        throw DataError("model '" + card_.modelPath + "' does not fit its card '" + card_.path +
                        "': a dry run on a " + shapeText(shape) +
                        " input failed (working out its layers' shapes) in OpenCV " + CV_VERSION +
                        ": " + oneLine(e.what()) + "; likely cause: " + hint(e.what(), false));
    }
    netBytes_ = weights + blobs;
}

void NetRunner::prepare(std::size_t workers) {
    std::lock_guard<std::mutex> once(prepareMutex_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        cap_ = std::max<std::size_t>(1, workers);
    }
    if (prepared_) return;
    QuietOpenCv quiet;
    dryRun();
    prepared_ = true;
}

cv::dnn::Net NetRunner::load() const {
    // One import at a time: cheap (once per worker) and spares relying on the importer's
    // thread safety.
    std::lock_guard<std::mutex> lock(loadMutex_);
    try {
        cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes_.data(), bytes_.size());
        if (net.empty()) throw cv::Exception(0, "empty network", "readNetFromONNX", __FILE__, __LINE__);
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return net;
    } catch (const cv::Exception& e) {
        throw DataError("model '" + card_.modelPath + "' (card '" + card_.path + "'): OpenCV " + CV_VERSION +
                        " cannot import it: " + oneLine(e.what()) + "; likely cause: " + hint(e.what(), true));
    }
}

void NetRunner::dryRun() {
    cv::dnn::Net& net = idle_.front();
    const auto outs = net.getUnconnectedOutLayersNames();
    const std::string prefix = "model '" + card_.modelPath + "' does not fit its card '" + card_.path + "': ";
    if (!card_.outputName.empty() && std::find(outs.begin(), outs.end(), card_.outputName) == outs.end())
        throw DataError(prefix + "output.name '" + card_.outputName + "' is not an output of the model");
    if (card_.outputName.empty() && outs.size() != 1)
        throw DataError(prefix + "the model has " + std::to_string(outs.size()) + " outputs: name one in output.name");
    const int dims[] = {1, static_cast<int>(card_.bands.size()), card_.height, card_.width};
    cv::Mat out;
    try {
        out = forwardRaw(cv::Mat(4, dims, CV_32F, cv::Scalar(card_.padValue)));
    } catch (const cv::Exception& e) {
        throw DataError(prefix + "a dry run on a " + shapeText({dims[0], dims[1], dims[2], dims[3]}) + " input failed in OpenCV " +
                        CV_VERSION + ": " + oneLine(e.what()) + "; likely cause: " + hint(e.what(), false));
    }
    outputShape_ = shapeOf(out);
    const auto want = card_.expectedShape();
    if (!fits(outputShape_, want))
        throw DataError(prefix + "output shape " + shapeText(outputShape_) + " does not fit head " + headName(card_.head) +
                        " with " + std::to_string(card_.classes.size()) + " classes, which gives " + shapeText(want));
    if (!card_.outputShape.empty() && outputShape_ != card_.outputShape)
        throw DataError(prefix + "output shape " + shapeText(outputShape_) + " differs from output.shape " +
                        shapeText(card_.outputShape));
}

cv::Mat NetRunner::forward(const cv::Mat& blob) const {
    if (!prepared_) const_cast<NetRunner*>(this)->prepare(SIZE_MAX);
    try {
        cv::Mat out = forwardRaw(blob);
        if (!cv::checkRange(out, true)) ++nonFinite_;
        return out;
    } catch (const cv::Exception& e) {
        throw DataError("model '" + card_.modelPath + "': OpenCV failed: " + oneLine(e.what()));
    }
}

// A net from the pool, or a new one while fewer than the cap exist; else waits for one.
cv::dnn::Net NetRunner::borrow() const {
    std::unique_lock<std::mutex> lock(mutex_);
    freed_.wait(lock, [&] { return !idle_.empty() || cap_ == 0 || live_ < cap_; });
    if (!idle_.empty()) {
        cv::dnn::Net net = idle_.back();
        idle_.pop_back();
        return net;
    }
    ++live_;
    lock.unlock();
    try {
        return load();
    } catch (...) {
        std::lock_guard<std::mutex> again(mutex_);
        --live_;
        freed_.notify_one();
        throw;
    }
}

void NetRunner::giveBack(cv::dnn::Net net) const {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(net));
    freed_.notify_one();
}

cv::Mat NetRunner::forwardRaw(const cv::Mat& blob) const {
    cv::dnn::Net net = borrow();
    try {
        if (card_.inputName.empty())
            net.setInput(blob);
        else
            net.setInput(blob, card_.inputName);
        // OpenCV runs layers on TBB: isolated, this thread takes no other tile while it waits
        // for them, so it never blocks in borrow() holding a net (a deadlock at the cap).
        cv::Mat out;
        tbb::this_task_arena::isolate([&] {
            out =
                (card_.outputName.empty() ? net.forward() : net.forward(card_.outputName)).clone();
        });
        giveBack(net);
        return out;
    } catch (...) {
        giveBack(net);
        throw;
    }
}

}  // namespace riskmap::onnx
