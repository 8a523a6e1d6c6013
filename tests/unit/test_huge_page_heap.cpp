#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/HugePageHeap.hpp"

using namespace riskmap;

namespace {

// The smaps block of the mapping holding `addr`.
std::string mappingOf(const void* addr) {
    const auto a = reinterpret_cast<std::uintptr_t>(addr);
    std::ifstream in("/proc/self/smaps");
    std::string line, block;
    bool inside = false;
    while (std::getline(in, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            if (inside) return block;
            inside = a >= lo && a < hi;
            block.clear();
        }
        if (inside) block += line + "\n";
    }
    return inside ? block : "";
}

}  // namespace

// GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RISKMAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RISKMAP_ASAN 1
#endif

TEST(HugePageHeap, LaterAllocationsLandInAdvisedHeap) {
#if defined(RISKMAP_ASAN)
    GTEST_SKIP() << "AddressSanitizer replaces malloc: there is no glibc heap to reserve";
#endif
    configureHeap();
    reserveHugePageHeap(std::size_t{192} << 20);
    // A tile-sized buffer taken after the reservation comes from the advised heap.
    void* p = std::malloc(std::size_t{24} << 20);
    ASSERT_NE(p, nullptr);
    const std::string m = mappingOf(static_cast<char*>(p) + (std::size_t{12} << 20));
    std::free(p);
    ASSERT_FALSE(m.empty());
    EXPECT_NE(m.find("[heap]"), std::string::npos) << m;
    EXPECT_NE(m.find("hg"), std::string::npos) << "VmFlags lack hg (MADV_HUGEPAGE):\n" << m;
}

namespace {

std::size_t residentBytes() {
    std::ifstream in("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

// The heap is never trimmed on its own: 80 MB of small objects, freed, stay resident until
// trimHeapAbove sees resident memory past its limit.
TEST(HugePageHeap, TrimHandsFreedSmallObjectsBackOnlyPastTheLimit) {
#if defined(RISKMAP_ASAN)
    GTEST_SKIP() << "AddressSanitizer replaces malloc: there is no glibc heap to trim";
#endif
    configureHeap();
    std::vector<char*> objects(80 * 1024);
    for (auto& o : objects) {
        o = static_cast<char*>(std::malloc(1000));
        std::fill(o, o + 1000, 'x');
    }
    char* last = static_cast<char*>(std::malloc(100));  // keeps the freed ones off the heap's top
    for (auto* o : objects) std::free(o);
    const std::size_t held = residentBytes();
    EXPECT_FALSE(trimHeapAbove(held + (std::size_t{64} << 20)));
    EXPECT_GT(residentBytes() + (std::size_t{8} << 20), held);
    EXPECT_TRUE(trimHeapAbove(held / 2));
    EXPECT_LT(residentBytes() + (std::size_t{60} << 20), held) << held / 1048576 << " MB held before";
    std::free(last);
}

// Once trimmed, the heap is trimmed again only when resident memory has grown by the slack: the
// next tile refills what a trim hands back (kiln on a 4 x 4 VRT refaulted 1.4 million pages).
TEST(HugePageHeap, TrimmerTrimsAgainOnlyAfterGrowth) {
#if defined(RISKMAP_ASAN)
    GTEST_SKIP() << "AddressSanitizer replaces malloc: there is no glibc heap to trim";
#endif
    configureHeap();
    const std::size_t slack = std::size_t{16} << 20;
    HeapTrimmer trimmer(residentBytes() / 2, slack);
    EXPECT_TRUE(trimmer.afterTile());
    EXPECT_FALSE(trimmer.afterTile()) << "no growth since the last trim";
    std::vector<char> grown(2 * slack, 'x');  // resident while it lives
    EXPECT_TRUE(trimmer.afterTile()) << "grown by twice the slack";
    EXPECT_FALSE(trimmer.afterTile());
    EXPECT_EQ(grown[slack], 'x');
}
