#!/usr/bin/env bash
# fuzz.sh BUILD_DIR [SECONDS]: runs every libFuzzer target (built with -DRISKMAP_FUZZ=ON) for
# SECONDS each (default 25) over its committed seed corpus (tests/fuzz/corpus/TARGET), and prints
# how many inputs each ran. Exit 1 when any target finds a crash; its input is kept in
# BUILD_DIR/fuzz-crashes/ and belongs in a regression test.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-25}
src=$(cd "$(dirname "$0")/.." && pwd)
crashes="$build/fuzz-crashes"
mkdir -p "$crashes"
status=0
# The sanitizers' own reports are what fails a run; GDAL's global caches are not leaks.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for target in rule config stac journal manifest truth layer; do
  work=$(mktemp -d)
  cp "$src/tests/fuzz/corpus/$target/"* "$work/"
  log="$build/fuzz-$target.log"
  if "$build/tests/fuzz/fuzz_$target" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
       -timeout=10 -artifact_prefix="$crashes/$target-" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz_$target: ${runs:-?} inputs in ${seconds} s, no crash"
  else
    echo "fuzz_$target: FAILED (see $log and $crashes)"
    tail -30 "$log"
    status=1
  fi
  rm -rf "$work"
done
exit $status
