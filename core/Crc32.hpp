#pragma once
// CRC-32 (IEEE 802.3), for checksumming journal records.
#include <cstddef>
#include <cstdint>
#include <string>

namespace riskmap {

std::uint32_t crc32(const char* data, std::size_t size);
inline std::uint32_t crc32(const std::string& data) {
    return crc32(data.data(), data.size());
}

}  // namespace riskmap
