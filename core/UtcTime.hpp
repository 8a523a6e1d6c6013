#pragma once
// Wall-clock time for manifests and reports (never inside a layer: layers stay reproducible).
#include <ctime>
#include <string>

namespace riskmap {

inline std::string utcNow() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace riskmap
