#!/usr/bin/env bash
# fuzz.sh BUILD_DIR [SECONDS]: runs every libFuzzer target (built with -DRISKMAP_FUZZ=ON) for
# SECONDS each (default 25) over its committed seed corpus (tests/fuzz/corpus/TARGET), and prints
# how many inputs each ran. Exit 1 when any target finds a crash; its input is kept in
# BUILD_DIR/fuzz-crashes/ and belongs in a regression test. Targets run one per core (FUZZ_JOBS,
# default nproc): each fuzzer is single-threaded, and one after another they took 3 of CI's
# 40 minutes.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-25}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
src=$(cd "$(dirname "$0")/.." && pwd)
crashes="$build/fuzz-crashes"
mkdir -p "$crashes"
# The sanitizers' own reports are what fails a run; GDAL's global caches are not leaks.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# One target; its verdict goes to BUILD_DIR/fuzz-TARGET.result (printed in order below).
fuzz_one() {
  local target=$1 work log
  work=$(mktemp -d)
  cp "$src/tests/fuzz/corpus/$target/"* "$work/"
  log="$build/fuzz-$target.log"
  if "$build/tests/fuzz/fuzz_$target" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
       -timeout=10 -artifact_prefix="$crashes/$target-" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz_$target: ${runs:-?} inputs in ${seconds} s, no crash" >"$build/fuzz-$target.result"
  else
    echo "fuzz_$target: FAILED (see $log and $crashes)" >"$build/fuzz-$target.result"
  fi
  rm -rf "$work"
}

targets=(rule config stac journal manifest truth layer)
for target in "${targets[@]}"; do
  rm -f "$build/fuzz-$target.result"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait
status=0
for target in "${targets[@]}"; do
  result=$(cat "$build/fuzz-$target.result" 2>/dev/null || echo "fuzz_$target: FAILED (no result)")
  echo "$result"
  case $result in
    *FAILED*) tail -30 "$build/fuzz-$target.log"; status=1 ;;
  esac
done
exit $status
