#include "core/HugePageHeap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace riskmap {

namespace {
constexpr int kMmapThreshold = 256 << 20;  // below this, allocations come from the heap
}  // namespace

void configureHeap() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_ARENA_MAX, 1);
#endif
}

void useThreadArenas(int arenas) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, std::max(1, arenas));
#else
    (void)arenas;
#endif
}

void reserveHugePageHeap(std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(__GLIBC__)
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    // Chunks below the mmap threshold come from the heap (brk), one after the other; once freed
    // they stay as the heap's top, still advised, because the trim threshold is above them.
    constexpr std::size_t kChunk = std::size_t{64} << 20;
    static_assert(kChunk < static_cast<std::size_t>(kMmapThreshold),
                  "chunks must come from the heap");
    // Within the trim threshold configureHeap() sets (512 MiB), which bounds what the heap keeps
    // mapped anyway; the scan's working set beyond that would mostly be tile buffers, reused.
    bytes = std::min(bytes, (std::size_t{512} << 20) - kChunk);
    // Under an address-space limit (some batch schedulers set one) reserving could starve
    // later allocations; keep the default behaviour there.
    rlimit as{};
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) return;
    std::vector<void*> chunks;
    for (std::size_t done = 0; done < bytes; done += kChunk) {
        void* p = std::malloc(kChunk);
        if (!p) break;
        chunks.push_back(p);
        const auto begin = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
        const auto end = (reinterpret_cast<std::uintptr_t>(p) + kChunk) & ~(kHuge - 1);
        if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
    }
    for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) std::free(*it);
#else
    (void)bytes;
#endif
}

namespace {

// Resident bytes of the process, 0 where unknown.
std::size_t residentBytes() {
#if defined(__linux__)
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    const bool read = std::fscanf(f, "%lu %lu", &size, &resident) == 2;
    std::fclose(f);
    return read ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
#else
    return 0;
#endif
}

}  // namespace

bool trimHeapAbove(std::size_t limit) {
#if defined(__linux__) && defined(__GLIBC__)
    if (residentBytes() <= limit) return false;
    malloc_trim(0);
    return true;
#else
    (void)limit;
    return false;
#endif
}

bool HeapTrimmer::afterTile() {
    const std::size_t now = residentBytes();
    if (now <= limit_ || (trimmedAt_ > 0 && now <= trimmedAt_ + slack_)) return false;
    trimmedAt_ = now;
    return trimHeapAbove(limit_);
}

}  // namespace riskmap
