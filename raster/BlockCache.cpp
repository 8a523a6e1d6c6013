#include "raster/BlockCache.hpp"

namespace riskmap {

BlockCache::Block BlockCache::get(const BlockKey& key, const std::function<cv::Mat()>& decode) {
    std::unique_lock<std::mutex> lock(mutex_);
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
            lru_.splice(lru_.begin(), lru_, e->second.lru);
            return e->second.block;
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

void BlockCache::setCapacity(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    capacity_ = bytes;
    evictLocked();
}

void BlockCache::evictLocked() {
    // Evicted blocks stay alive for readers still holding them (shared_ptr).
    while (bytes_ > capacity_ && !lru_.empty()) {
        const BlockKey victim = lru_.back();
        lru_.pop_back();
        auto it = entries_.find(victim);
        bytes_ -= it->second.bytes;
        entries_.erase(it);
    }
}

}  // namespace riskmap
