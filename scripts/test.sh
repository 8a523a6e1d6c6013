#!/usr/bin/env bash
# Newcomer command 2 (and CI): install, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's time goes to the log: CI has 40 minutes and this is where they go.
stage() { echo "== $1: $((SECONDS - t0)) s"; t0=$SECONDS; }
t0=$SECONDS
./scripts/install-deps.sh
stage "dependencies"
./scripts/build.sh
stage "build"
# The browser test's dependencies (playwright-core, pngjs), pinned by the lock file.
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j "$jobs"
stage "tests"
# The same tests under AddressSanitizer + UBSan, then the fuzzers (a few minutes in all).
./scripts/sanitize.sh
stage "sanitizers and fuzzing"
