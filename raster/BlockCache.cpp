#include "raster/BlockCache.hpp"

namespace riskmap {

bool BlockCache::lastUseLocked(const BlockKey& key, int uses) {
    if (uses <= 0) return false;
    auto it = remaining_.try_emplace(key, uses).first;
    if (--it->second > 0) return false;
    remaining_.erase(it);
    return true;
}

void BlockCache::dropLocked(BlockKey key) {  // a copy: `key` may be lru_.back()
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.ready) return;
    lru_.erase(it->second.lru);
    bytes_ -= it->second.bytes;
    entries_.erase(it);
}

BlockCache::Block BlockCache::get(const BlockKey& key, const std::function<cv::Mat()>& decode, int uses) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool last = lastUseLocked(key, uses);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        hits_++;
        ready_.wait(lock, [&] {
            auto e = entries_.find(key);
            return e == entries_.end() || e->second.ready;
        });
        auto e = entries_.find(key);
        if (e != entries_.end()) {
            if (e->second.error) std::rethrow_exception(e->second.error);
            Block block = e->second.block;
            if (last)
                dropLocked(key);
            else
                lru_.splice(lru_.begin(), lru_, e->second.lru);
            return block;
        }
        // The decode failed and was removed: decode again ourselves below.
    }
    misses_++;
    entries_.emplace(key, Entry{});
    lock.unlock();

    Block block;
    std::exception_ptr error;
    try {
        block = std::make_shared<const cv::Mat>(decode());
    } catch (...) {
        error = std::current_exception();
    }

    lock.lock();
    Entry& e = entries_.at(key);
    if (error) {
        entries_.erase(key);
        ready_.notify_all();
        std::rethrow_exception(error);
    }
    if (last) {  // read once and never again: not kept
        entries_.erase(key);
        ready_.notify_all();
        return block;
    }
    e.block = block;
    e.bytes = block->total() * block->elemSize();
    e.ready = true;
    lru_.push_front(key);
    e.lru = lru_.begin();
    bytes_ += e.bytes;
    evictLocked();
    ready_.notify_all();
    return block;
}

std::size_t BlockCache::capacity() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return capacity_;
}

std::size_t BlockCache::bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

void BlockCache::setCapacity(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    capacity_ = bytes;
    evictLocked();
}

void BlockCache::evictLocked() {
    // Evicted blocks stay alive for readers still holding them (shared_ptr).
    while (bytes_ > capacity_ && !lru_.empty()) dropLocked(lru_.back());
}

}  // namespace riskmap
