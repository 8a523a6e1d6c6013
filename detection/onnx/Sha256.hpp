#pragma once
// SHA-256 (FIPS 180-4) of bytes, for the model card's `sha256`: the one digest riskmap needs
// does not justify linking a crypto library.
#include <cstdint>
#include <string>
#include <vector>

namespace riskmap::onnx {

// Lower-case hex digest.
std::string sha256Hex(const std::vector<std::uint8_t>& bytes);

}  // namespace riskmap::onnx
