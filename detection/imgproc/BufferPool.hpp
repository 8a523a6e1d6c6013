#pragma once
// Large scratch buffers (whole-tile planes) recycled between tiles. A fresh allocation of a
// plane this size is mapped anew and every page is zeroed by the kernel on first touch; that
// was a third of the kiln detector's profile on textured scenes. A buffer is only ever reused,
// never zeroed: planes drawn from here start with undefined contents, as before.
//
// The pool never holds more buffers than were once in use at the same time (a request that no
// cached buffer fits frees one cached buffer before allocating), so peak memory stays that of
// the fresh allocations.
#include <cstddef>
#include <memory>

namespace riskmap {

namespace pool {
// At least `bytes` bytes (aligned as operator new); `capacity` receives the buffer's true size.
void* acquire(std::size_t bytes, std::size_t& capacity);
void release(void* p, std::size_t capacity);
// Bytes held for reuse (tests, diagnostics).
std::size_t cachedBytes();
// Buffers below this size come from operator new directly.
constexpr std::size_t kMinPooledBytes = std::size_t{1} << 18;
}  // namespace pool

template <class T>
struct PooledDeleter {
    std::size_t capacity = 0;
    void operator()(T* p) const { pool::release(p, capacity); }
};

// An array of n trivially destructible T with undefined contents, returned to the pool when freed.
template <class T>
using PooledArray = std::unique_ptr<T[], PooledDeleter<T>>;

template <class T>
PooledArray<T> pooledArray(std::size_t n) {
    std::size_t cap = 0;
    T* p = static_cast<T*>(pool::acquire(n * sizeof(T), cap));
    return PooledArray<T>(p, PooledDeleter<T>{cap});
}

}  // namespace riskmap
