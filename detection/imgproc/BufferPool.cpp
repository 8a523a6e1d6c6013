#include "detection/imgproc/BufferPool.hpp"

#include <map>
#include <mutex>
#include <new>

namespace riskmap::pool {

namespace {

class Pool {
public:
    void* take(std::size_t bytes, std::size_t& capacity) {
        {
            std::lock_guard<std::mutex> lock(m_);
            auto it = free_.lower_bound(bytes);  // the smallest cached buffer that fits
            if (it != free_.end()) {
                capacity = it->first;
                void* p = it->second;
                free_.erase(it);
                cached_ -= capacity;
                return p;
            }
            // None fits: drop the largest one, so that cached plus live buffers stay within the
            // count that was once live together.
            if (!free_.empty()) {
                auto last = std::prev(free_.end());
                ::operator delete(last->second);
                cached_ -= last->first;
                free_.erase(last);
            }
        }
        capacity = bytes;
        return ::operator new(bytes);
    }
    void give(void* p, std::size_t capacity) {
        std::lock_guard<std::mutex> lock(m_);
        free_.emplace(capacity, p);
        cached_ += capacity;
    }
    std::size_t cached() {
        std::lock_guard<std::mutex> lock(m_);
        return cached_;
    }

private:
    std::mutex m_;
    std::multimap<std::size_t, void*> free_;
    std::size_t cached_ = 0;
};

// Never destroyed: a plane freed during static destruction must still find it.
Pool& instance() {
    static Pool* p = new Pool;
    return *p;
}

}  // namespace

void* acquire(std::size_t bytes, std::size_t& capacity) {
    if (bytes < kMinPooledBytes) {
        capacity = 0;
        return ::operator new(bytes ? bytes : 1);
    }
    return instance().take(bytes, capacity);
}

void release(void* p, std::size_t capacity) {
    if (!p) return;
    if (capacity == 0) return ::operator delete(p);
    instance().give(p, capacity);
}

std::size_t cachedBytes() { return instance().cached(); }

}  // namespace riskmap::pool
