#pragma once
// SHA-256 (FIPS 180-4), to fingerprint model and label files in provenance records.
#include <string>

namespace riskmap {

// Lower-case hex digest of `bytes`.
std::string sha256Hex(const std::string& bytes);

}  // namespace riskmap
