#pragma once
// A scan's detections held compactly until they are written: each one packed into byte
// chunks, integral pixel-corner rings as zigzag-varint steps (one or two bytes a vertex instead
// of sixteen). The index rule's 118,806 objects on a 2 x 2 mosaic held ~175 MB as Detections,
// more than --ram 256 allowed (issue 14). The only reader and writer of this layout.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detection/Detection.hpp"

namespace riskmap {

class SpillFile;

class DetectionPack {
public:
    DetectionPack();
    ~DetectionPack();
    DetectionPack(DetectionPack&&) noexcept;
    DetectionPack& operator=(DetectionPack&&) noexcept;

    void push(const Detection& d);
    // From now on, full chunks beyond `residentBytes` go to `file` (unlinked; one file may serve
    // every input's pack): a rule that finds millions of objects keeps within --ram (a million
    // 4 x 4 px squares pack to ~60 MB). Reading is the same; dropResident() gives up the pages
    // read back so far.
    void spillBeyond(std::size_t residentBytes, std::shared_ptr<SpillFile> file);
    void dropResident() const;
    // This pack's bytes in the spill file (which other packs may share).
    std::size_t spilledBytes() const { return spilled_; }
    std::size_t size() const { return at_.size(); }
    bool empty() const { return at_.empty(); }
    // The detection exactly as pushed (every double to the bit).
    Detection at(std::size_t i) const;
    // What `at` would give for the fields a sort looks at first, without the geometry.
    struct Head {
        cv::Point anchor;
        double score = 0;
        std::string cls;
    };
    Head head(std::size_t i) const;
    // Heap taken by the pack (spilled chunks are not on it).
    std::size_t heapBytes() const;
    // What push(d) adds to heapBytes() (chunk slack aside): held results count against --ram
    // as they come.
    static std::size_t packedBytes(const Detection& d);

private:
    struct Where {
        std::uint32_t chunk, offset;
    };
    // Chunks are anonymous mappings, not heap: a spilled chunk's memory goes back to the system
    // at once instead of staying in the heap between tile buffers.
    struct Chunk {
        std::uint8_t* data = nullptr;  // while in memory
        std::size_t size = 0, capacity = 0;
        const std::uint8_t* spilled = nullptr;  // where the bytes are once they went to the file
    };
    void release();
    const std::uint8_t* record(std::size_t i) const;
    void spillFullChunks();
    std::vector<Chunk> chunks_;
    std::vector<Where> at_;
    std::size_t resident_ = 0, residentLimit_ = 0;  // bytes of chunks in memory, and the most kept
    std::size_t spilled_ = 0;                       // this pack's bytes in the (shared) file
    std::shared_ptr<SpillFile> spill_;
};

}  // namespace riskmap
