#pragma once
// A decoded-block cache shared by all worker threads. GDAL caches blocks per dataset handle,
// and every worker needs its own handle, so without this a block in the halo between two tiles
// read by different workers is decoded twice; with it each block is decoded once while it stays
// in the cache. Thread-safe; a block requested while another thread decodes it waits for it.
// A block whose number of reads is known leaves the cache at its last read: the cache then
// holds the frontier between tiles read and tiles to come, not every block up to its capacity
// (first touch of fresh memory costs a page fault per page on the VMs measured; issue 14).
#include <opencv2/core.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace riskmap {

struct BlockKey {
    std::uint64_t source = 0;  // identifies file and band selection
    int bx = 0;
    int by = 0;
    bool operator==(const BlockKey& o) const { return source == o.source && bx == o.bx && by == o.by; }
};

struct BlockKeyHash {
    std::size_t operator()(const BlockKey& k) const {
        return std::hash<std::uint64_t>()(k.source * 1000003u ^ (static_cast<std::uint64_t>(k.bx) << 32) ^
                                          static_cast<std::uint32_t>(k.by));
    }
};

class BlockCache {
public:
    using Block = std::shared_ptr<const cv::Mat>;

    explicit BlockCache(std::size_t capacityBytes) : capacity_(capacityBytes) {}

    // The block for `key`, decoded by `decode` (called without the lock held) when absent.
    // Exceptions from decode reach every waiter and leave nothing cached. `uses`, when > 0, is
    // how many times the whole run will get this block: the last of them drops it. A wrong
    // count only costs memory (too many) or a second decode (too few), never other pixels.
    Block get(const BlockKey& key, const std::function<cv::Mat()>& decode, int uses = 0);

    std::size_t capacity() const;
    // Bytes of the blocks held now.
    std::size_t bytes() const;
    // A new capacity; blocks beyond it are evicted now (least recently used first).
    void setCapacity(std::size_t bytes);
    std::uint64_t hits() const { return hits_.load(); }
    std::uint64_t misses() const { return misses_.load(); }

private:
    struct Entry {
        Block block;  // null while decoding
        std::exception_ptr error;
        std::size_t bytes = 0;
        std::list<BlockKey>::iterator lru;
        bool ready = false;
    };
    void evictLocked();
    // Counts one read of `key` against its known uses; true when it was the last.
    bool lastUseLocked(const BlockKey& key, int uses);
    // Removes a ready block (readers holding it keep it alive: shared_ptr).
    void dropLocked(BlockKey key);

    std::size_t capacity_;
    std::size_t bytes_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::unordered_map<BlockKey, Entry, BlockKeyHash> entries_;
    std::list<BlockKey> lru_;  // front = most recent; only ready entries
    std::unordered_map<BlockKey, int, BlockKeyHash> remaining_;  // reads still to come, where known
    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> misses_{0};
};

}  // namespace riskmap
