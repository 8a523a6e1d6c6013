#!/usr/bin/env bash
# Newcomer command 2 (and CI): install, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
# The browser test's dependencies (playwright-core, pngjs), pinned by the lock file.
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j "$jobs"
# The same tests under AddressSanitizer + UBSan, then the fuzzers (a few minutes in all).
./scripts/sanitize.sh
