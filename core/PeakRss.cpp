#include "core/PeakRss.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace riskmap {

namespace {

// A "Name:   N kB" line of /proc/self/status, in MiB; -1 when it cannot be read.
double statusMB(const char* name) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    unsigned long kib = 0;
    bool found = false;
    const std::size_t n = std::strlen(name);
    while (!found && std::fgets(line, sizeof line, f))
        found = std::strncmp(line, name, n) == 0 && std::sscanf(line + n, "%lu", &kib) == 1;
    std::fclose(f);
    return found ? static_cast<double>(kib) / 1024.0 : -1;
}

}  // namespace

double peakRssMB() {
    const double hwm = statusMB("VmHWM:");
    if (hwm >= 0) return hwm;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double residentMB() { return std::max(0.0, statusMB("VmRSS:")); }

}  // namespace riskmap
