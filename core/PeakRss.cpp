#include "core/PeakRss.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>

namespace riskmap {

double peakRssMB() {
    if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        unsigned long kib = 0;
        bool found = false;
        while (!found && std::fgets(line, sizeof line, f))
            found = std::strncmp(line, "VmHWM:", 6) == 0 && std::sscanf(line + 6, "%lu", &kib) == 1;
        std::fclose(f);
        if (found) return static_cast<double>(kib) / 1024.0;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace riskmap
