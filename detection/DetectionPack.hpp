#pragma once
// A scan's detections held compactly until they are written: each one packed into byte
// chunks, integral pixel-corner rings as zigzag-varint steps (one or two bytes a vertex instead
// of sixteen). The index rule's 118,806 objects on a 2 x 2 mosaic held ~175 MB as Detections,
// more than --ram 256 allowed (issue 14). The only reader and writer of this layout.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "detection/Detection.hpp"

namespace riskmap {

class DetectionPack {
public:
    void push(const Detection& d);
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
    // Heap taken by the pack.
    std::size_t heapBytes() const;
    // What push(d) adds to heapBytes() (chunk slack aside): held results count against --ram
    // as they come.
    static std::size_t packedBytes(const Detection& d);

private:
    struct Where {
        std::uint32_t chunk, offset;
    };
    const std::uint8_t* record(std::size_t i) const;
    std::vector<std::vector<std::uint8_t>> chunks_;
    std::vector<Where> at_;
};

}  // namespace riskmap
