#pragma once
// Backs the first `bytes` of the process heap with transparent huge pages. A scan fills a few
// hundred MB of heap with block caches and tile buffers once; in 4 KiB pages that is one page
// fault per page (36,000 for the 10000 x 10000 bench raster, about 10 % of its CPU time on the
// VMs measured), in 2 MiB pages a few hundred. Works with the kernel's THP "madvise" mode, costs
// no memory until pages are touched, and does nothing where THP is unavailable.
#include <cstddef>

namespace riskmap {

// The process heap policy, set once in main(). Tiles, detector planes and GDAL cache blocks are
// large, same-sized and short-lived: they stay in one heap that is not trimmed (no fresh mmap
// per block, no per-thread arenas unmapped when empty), which saves a page fault per 4 KiB
// touched; measured in bench/, that was half the kiln detector's time. Large allocations are
// rare, so one arena does not contend.
void configureHeap();

// Lets threads allocate from their own malloc arenas (at most `arenas`). Worth it where tiles are
// small and objects many: an index rule's 30,000 outlines spent ~13 % of CPU queueing on the one
// arena's lock (index scan 2.13 -> 1.70 s on the real-texture bench). Not where tile windows are
// large: clearing ran 4.1-4.9 s -> 6.0 s with arenas (sys time 0.2 -> 1.2 s; a secondary arena's
// heaps are 64 MB and not backed by the huge-page reserve). Call before worker threads first
// allocate: a thread keeps the arena it started with (a parallel look at the scene before the
// scan pinned the TBB worker to the main arena: index 1.46 -> 1.83 s, docs/benchmarks.md).
void useThreadArenas(int arenas);

// Call after configureHeap() and before the memory is first used. Reserves at most 448 MiB,
// and nothing under an address-space limit (RLIMIT_AS).
void reserveHugePageHeap(std::size_t bytes);

// The heap keeps what is freed (no trimming, above), so many small objects freed between tile
// buffers leave it holding pages it no longer uses: 250,000 --explain rejections at --ram 200
// held ~140 MB of anonymous memory for a heap of ~80 MB. When resident memory passes `limit`,
// hands free pages back to the kernel (malloc_trim) and returns true; else does nothing. A read
// of /proc/self/statm, cheap enough for once a tile.
bool trimHeapAbove(std::size_t limit);

// trimHeapAbove once a tile, with hysteresis: after a trim it trims again only when resident
// memory has grown by `slack` beyond what it was then. A heap that the next tile fills back to
// the same level gains nothing from handing its pages back: kiln on a 4 x 4 mosaic VRT at --ram
// 256 sat above the limit after every tile and refaulted 1.4 million pages (16 s of system time
// in 117 s).
class HeapTrimmer {
public:
    HeapTrimmer(std::size_t limit, std::size_t slack) : limit_(limit), slack_(slack) {}
    // Returns whether it trimmed.
    bool afterTile();

private:
    std::size_t limit_, slack_, trimmedAt_ = 0;
};

}  // namespace riskmap
