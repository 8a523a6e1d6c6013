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
                return p;
            }
            // None fits: drop the largest one, so that cached plus live buffers stay within the
            // count that was once live together.
            if (!free_.empty()) {
                auto last = std::prev(free_.end());
                ::operator delete(last->second);
                free_.erase(last);
            }
        }
        capacity = bytes;
        return ::operator new(bytes);
    }
    void give(void* p, std::size_t capacity) {
        std::lock_guard<std::mutex> lock(m_);
        free_.emplace(capacity, p);
    }

private:
    std::mutex m_;
    std::multimap<std::size_t, void*> free_;
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

}  // namespace riskmap::pool
