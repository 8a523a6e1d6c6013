#include "detection/onnx/WindowCache.hpp"

#include <cstring>

namespace riskmap::onnx {

namespace {

std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

}  // namespace

std::size_t WindowResult::bytes() const {
    return sizeof(*this) + boxes.size() * (sizeof(Box) + 2 * sizeof(int) + sizeof(double)) +
           map.cls.total() * map.cls.elemSize() + map.prob.total() * map.prob.elemSize();
}

WindowCache::Key WindowCache::keyOf(const cv::Mat& blob, std::uint64_t variant) {
    // Two independent 64-bit hashes of the tensor's bytes (with its shape and the variant).
    std::uint64_t a = 0x9e3779b97f4a7c15ULL ^ variant, b = 0x632be59bd9b4e019ULL + variant;
    for (int i = 0; i < blob.dims; ++i) {
        a = mix(a ^ static_cast<std::uint64_t>(blob.size[i]));
        b = mix(b + static_cast<std::uint64_t>(blob.size[i]) * 0x9e3779b97f4a7c15ULL);
    }
    const auto* p = blob.ptr<std::uint8_t>();
    const std::size_t n = blob.total() * blob.elemSize();
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, std::min<std::size_t>(8, n - i));
        a = (a ^ w) * 0x100000001b3ULL;
        b = mix(b ^ (w + i));
    }
    return {mix(a), b};
}

std::shared_ptr<const WindowResult> WindowCache::find(const Key& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = held_.find(key);
    return it == held_.end() ? nullptr : it->second;
}

void WindowCache::put(const Key& key, std::shared_ptr<const WindowResult> r) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (held_.count(key)) return;
    bytes_ += r->bytes();
    held_.emplace(key, std::move(r));
    order_.push_back(key);
    while (bytes_ > budget_ && order_.size() > 1) {
        auto it = held_.find(order_.front());
        bytes_ -= it->second->bytes();
        held_.erase(it);
        order_.pop_front();
    }
}

}  // namespace riskmap::onnx
