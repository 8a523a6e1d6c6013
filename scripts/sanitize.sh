#!/usr/bin/env bash
# The sanitizer and fuzzing job (part of scripts/test.sh, so of CI): builds riskmap with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer into build-san/, runs the unit and CLI tests
# there (the tests of installed services and the notebooks run in the main build only), then
# every libFuzzer target for a bounded time (scripts/fuzz.sh). FUZZ_SECONDS sets the time per
# target (20).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# Line tables only: the sanitizers' stack traces keep file and line, and the build is lighter.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
  -DRISKMAP_SANITIZE=address,undefined -DRISKMAP_FUZZ=ON >/dev/null
cmake --build build-san -j "$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Left to the main build only (CI's 40 minutes; each ran 12-103 s under ASan, 323 s in all, and
# the VRT tiling test 646 s: four clearing scans at --ram 256, 6.6 s in the main build):
# - the --ram volume and tiling tests (peak RSS means nothing under ASan; the spill code they
#   reach is unit-tested here: DetectionPack, SpillFile), and the thousand-scene merge;
# - the clearing recall and false-alarm statistics over many seeds (their code runs here in
#   CliClearing's explain and tiling tests);
# - the tests that SIGKILL riskmap mid-run (a killed process reports nothing to a sanitizer; the
#   resume they lead to runs here in CliResume.KilledScansResumeToTheSameBytes).
slow="ObjectsKeepWithinRam|RejectionsKeepsWithinRam|KeepTheLeastBudget|KeepWithinTightBudgets"
slow+="|BudgetTooSmallForTheProcess|MergeRefusesARam|ThousandOverlappingScenes|VrtOfUnresampledSources"
slow+="|GeneratorCampsAreFound|FalseAlarmsOnMirroredReserveTexture|EveryMissedCampIsExplained"
slow+="|KillAtEachCommitStep|KilledSeriesResumes"
ctest --test-dir build-san --output-on-failure -j "$jobs" -LE notebook \
  -E "QgisOpens|QgisPlugin|Browser|Slurm|CliRemote|$slow"
./scripts/fuzz.sh build-san "${FUZZ_SECONDS:-20}"
