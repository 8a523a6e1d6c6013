#pragma once
// What the model made of a window, kept for the next tile that needs the same window: tiles
// overlap by their halos, so without it each window ran several times. A result is a pure
// function of the window's input tensor, so the cache is keyed by a 128-bit hash of that tensor
// and can only return what running the model again would give: output is the same with or
// without it, in any order of tiles and threads.
#include <opencv2/core.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "detection/onnx/Decoders.hpp"
#include "detection/onnx/Nms.hpp"

namespace riskmap::onnx {

struct WindowResult {
    std::vector<Box> boxes;  // decoded candidates, window pixels
    NmsResult nms;           // their NMS within the window
    ClassMap map;            // segment heads
    std::size_t bytes() const;
};

class WindowCache {
public:
    using Key = std::pair<std::uint64_t, std::uint64_t>;

    explicit WindowCache(std::size_t budgetBytes) : budget_(budgetBytes) {}

    // The result for `blob` (decoded with `variant`, e.g. the score floor), computed by
    // `compute()` when not held.
    template <class Compute>
    std::shared_ptr<const WindowResult> get(const cv::Mat& blob, std::uint64_t variant, Compute compute) {
        const Key key = keyOf(blob, variant);
        if (auto hit = find(key)) return hit;
        auto made = std::make_shared<const WindowResult>(compute());
        put(key, made);
        return made;
    }

    static Key keyOf(const cv::Mat& blob, std::uint64_t variant);

private:
    std::shared_ptr<const WindowResult> find(const Key& key) const;
    void put(const Key& key, std::shared_ptr<const WindowResult> r);

    std::size_t budget_;
    std::size_t bytes_ = 0;
    mutable std::mutex mutex_;
    std::map<Key, std::shared_ptr<const WindowResult>> held_;
    std::deque<Key> order_;  // oldest first
};

}  // namespace riskmap::onnx
