#pragma once
// CRC-32 (IEEE 802.3), for checksumming journal records.
#include <cstdint>
#include <string>

namespace riskmap {

std::uint32_t crc32(const std::string& data);

}  // namespace riskmap
