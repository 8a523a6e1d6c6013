#pragma once
// --ram for the commands that hold what they write (merge, report): the need is estimated from
// what is on disk before the work starts, and a budget it does not fit is refused then, naming
// the budget that works (issue 14: "--ram is a promise").
#include <cmath>
#include <cstddef>
#include <string>

#include "core/Error.hpp"

namespace riskmap {

inline void requireRam(const std::string& command, std::size_t ramMB, double neededMB, const std::string& forWhat) {
    if (neededMB <= static_cast<double>(ramMB)) return;
    const std::string need = std::to_string(static_cast<long long>(std::ceil(neededMB)));
    throw UsageError(command + " needs about " + need + " MB for " + forWhat + ", more than --ram " + std::to_string(ramMB) +
                     ": run with --ram " + need + " or more");
}

}  // namespace riskmap
