#include "detection/imgproc/FastLog.hpp"

#include <cstdint>
#include <cstring>

#include "core/VectorClones.hpp"

namespace riskmap {

RISKMAP_VECTOR_CLONES void logArray(const double* x, double* out, int n) {
    constexpr double kLn2 = 0.6931471805599453;
    constexpr double kSqrt2 = 1.4142135623730951;
    constexpr double kTwo52 = 4503599627370496.0;
    for (int i = 0; i < n; ++i) {
        std::uint64_t bits;
        std::memcpy(&bits, x + i, sizeof bits);
        // x = m 2^e with m in [1, 2); the exponent becomes a double through the 2^52 trick,
        // which vectorises where an int64 -> double conversion does not (AVX2).
        const std::uint64_t mb = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        const std::uint64_t eb = (bits >> 52) | 0x4330000000000000ULL;
        double m, e;
        std::memcpy(&m, &mb, sizeof m);
        std::memcpy(&e, &eb, sizeof e);
        e = e - kTwo52 - 1023.0;
        const bool big = m > kSqrt2;
        m = big ? m * 0.5 : m;
        e = big ? e + 1.0 : e;
        // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: nine terms reach 1e-16.
        const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
        const double p =
            1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13 + s2 * (1.0 / 15 + s2 * (1.0 / 17))))))));
        out[i] = e * kLn2 + 2.0 * s * p;
    }
}

}  // namespace riskmap
