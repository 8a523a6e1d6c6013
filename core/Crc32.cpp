#include "core/Crc32.hpp"

#include <zlib.h>

#include <algorithm>

namespace riskmap {

// zlib's CRC-32 (the same polynomial and values as the bytewise table this replaced): the
// journal checksums every tile's records, and the table loop was 1.6 % of an index scan's CPU.
std::uint32_t crc32(const char* data, std::size_t size) {
    uLong c = ::crc32(0L, Z_NULL, 0);
    const auto* p = reinterpret_cast<const Bytef*>(data);
    for (std::size_t left = size; left > 0;) {
        const std::size_t n = std::min<std::size_t>(left, std::size_t{1} << 30);
        c = ::crc32(c, p, static_cast<uInt>(n));
        p += n;
        left -= n;
    }
    return static_cast<std::uint32_t>(c);
}

}  // namespace riskmap
