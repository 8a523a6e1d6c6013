#pragma once
// The process's peak resident memory since it started (exec), in MiB. getrusage's ru_maxrss
// also counts the parent's memory at the fork that started us (Linux keeps the larger of the
// two across exec): riskmap run from a notebook holding 400 MB reported a 410 MB peak for a
// 159 MB scan. /proc/self/status's VmHWM is this program's own; ru_maxrss is the fallback.
namespace riskmap {

double peakRssMB();
// Resident memory now (VmRSS), in MiB; 0 where /proc is not there.
double residentMB();

// False under AddressSanitizer, whose shadow memory and quarantine make resident memory say
// nothing about --ram (GCC defines __SANITIZE_ADDRESS__; Clang 14 only has __has_feature).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentMemoryMeaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kResidentMemoryMeaningful = false;
#else
constexpr bool kResidentMemoryMeaningful = true;
#endif
#else
constexpr bool kResidentMemoryMeaningful = true;
#endif

}  // namespace riskmap
