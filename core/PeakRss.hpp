#pragma once
// The process's peak resident memory since it started (exec), in MiB. getrusage's ru_maxrss
// also counts the parent's memory at the fork that started us (Linux keeps the larger of the
// two across exec): riskmap run from a notebook holding 400 MB reported a 410 MB peak for a
// 159 MB scan. /proc/self/status's VmHWM is this program's own; ru_maxrss is the fallback.
namespace riskmap {

double peakRssMB();
// Resident memory now (VmRSS), in MiB; 0 where /proc is not there.
double residentMB();

}  // namespace riskmap
