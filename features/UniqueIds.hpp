#pragma once
// Feature ids made unique over a whole layer. Ids are "<detector>-<12 hex digits>" (a 48-bit
// hash, FeatureAssembler::stableId); two objects sharing an anchor pixel get "-2", "-3", ...
// A std::set of every id held ~80 bytes per feature: 80 MB for the million objects a dense
// index rule finds on a 10000 px raster, beyond --ram 256 (issue 14). Here an id of the usual
// form costs one 8-byte slot of an open-addressing table a quarter to half full (16-32 bytes an
// id), holding its 48 bits exactly, so the answers are the set's. Other ids (suffixed) stay strings.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace riskmap {

class UniqueIds {
public:
    explicit UniqueIds(std::string prefix) : prefix_(std::move(prefix)) {}
    // `id` if unused so far, else the first unused of id-2, id-3, ...; it is then used.
    std::string claim(const std::string& id);
    std::size_t size() const { return count_ + others_.size(); }
    // Heap held (what tests hold it to).
    std::size_t heapBytes() const { return slots_.capacity() * sizeof(std::uint64_t) + others_.size() * 96; }

private:
    bool compact(const std::string& id, std::uint64_t& value) const;
    bool contains(const std::string& id) const;
    void insert(const std::string& id);
    std::size_t find(std::uint64_t key) const;  // the key's slot, or the empty slot it would take
    void grow();

    std::string prefix_;
    std::vector<std::uint64_t> slots_;  // 0 = empty, else the 48-bit value + 1
    std::size_t count_ = 0;
    std::set<std::string> others_;
};

}  // namespace riskmap
