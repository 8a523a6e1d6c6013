#include "features/UniqueIds.hpp"

namespace riskmap {

namespace {

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Spreads the key over the table (the hash digits are already well mixed; this guards
// against ids that are not).
std::uint64_t mix(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

}  // namespace

// An id of the form prefix + 12 lower-case hex digits, as its 48-bit value.
bool UniqueIds::compact(const std::string& id, std::uint64_t& value) const {
    if (id.size() != prefix_.size() + 12 || id.compare(0, prefix_.size(), prefix_) != 0) return false;
    value = 0;
    for (std::size_t i = prefix_.size(); i < id.size(); ++i) {
        const int d = hexDigit(id[i]);
        if (d < 0) return false;
        value = value << 4 | static_cast<std::uint64_t>(d);
    }
    return true;
}

std::size_t UniqueIds::find(std::uint64_t key) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = mix(key) & mask;
    while (slots_[i] != 0 && slots_[i] != key) i = (i + 1) & mask;
    return i;
}

void UniqueIds::grow() {
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : 2 * old.size(), 0);
    for (std::uint64_t key : old)
        if (key != 0) slots_[find(key)] = key;
}

bool UniqueIds::contains(const std::string& id) const {
    std::uint64_t v = 0;
    if (!compact(id, v)) return others_.count(id) > 0;
    return !slots_.empty() && slots_[find(v + 1)] != 0;
}

void UniqueIds::insert(const std::string& id) {
    std::uint64_t v = 0;
    if (!compact(id, v)) {
        others_.insert(id);
        return;
    }
    if (2 * (count_ + 1) > slots_.size()) grow();
    std::uint64_t& slot = slots_[find(v + 1)];
    if (slot == 0) ++count_;
    slot = v + 1;
}

std::string UniqueIds::claim(const std::string& id) {
    std::string unique = id;
    for (int k = 2; contains(unique); ++k) unique = id + "-" + std::to_string(k);
    insert(unique);
    return unique;
}

}  // namespace riskmap
