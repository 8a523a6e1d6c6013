#!/usr/bin/env bash
# ctest entry: scan the bundled kiln chips with a risk grid, write the evidence report with
# `riskmap report`, and drive it in headless Chromium (report.test.mjs): it loads from file://
# with no network, lists every lead, draws the map and the chips. Without Node.js 20+ or
# Chromium (scripts/install-deps.sh installs Chromium) it fails, or skips (exit 77) when
# RISKMAP_SKIP_MISSING_TOOLS=1.
# With --selftest, runs selftest.mjs instead: the browser test must fail on broken reports.
set -euo pipefail
riskmap=$1
mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
chromium=${RISKMAP_CHROMIUM:-/usr/bin/chromium}
missing() {
  echo "$1 (or set RISKMAP_SKIP_MISSING_TOOLS=1 to skip)"
  if [ "${RISKMAP_SKIP_MISSING_TOOLS:-0}" = 1 ]; then exit 77; fi
  exit 1
}
command -v node >/dev/null && command -v npm >/dev/null || missing "Node.js and npm are not installed"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] ||
  missing "Node.js $(node --version) is older than 20 (playwright-core needs 20)"
[ -x "$chromium" ] || missing "no Chromium at $chromium: run scripts/install-deps.sh"
# playwright-core and pngjs, pinned by package-lock.json; no browser download.
# Not committed: installed from the lock file on first use (scripts/test.sh does it up front).
# A lock keeps the two browser tests that ctest runs in parallel from installing at once.
(
  flock 9
  if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
) 9>"$here/.npm-install.lock"
if [ "$mode" = "--selftest" ]; then exec node "$here/selftest.mjs"; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$mode" = "--diff" ]; then
  # A diff of two dates: every kiln chip, then one chip only (the others' kilns are unknown).
  chips="$src/data/kilns-s2-bd-dev/chips"
  one=$(ls "$chips"/*.tif | head -1)
  "$riskmap" scan "$chips" --detector kiln --date 2023-01-15 -o "$work/before.geojson" -q
  "$riskmap" scan "$one" --detector kiln --date 2024-01-20 -o "$work/after.geojson" -q
  "$riskmap" diff "$work/before.geojson" "$work/after.geojson" -o "$work/changes.geojson" -q
  "$riskmap" report "$work/changes.geojson" -o "$work/report" -q
  node "$here/diff.test.mjs" "$work/report" "${RISKMAP_REPORT_SHOT:-}"
  exit 0
fi
# Run from another folder: the report must find the rasters through the manifest.
(cd "$src" && "$riskmap" scan data/kilns-s2-bd-dev/chips --detector kiln --grid 2000 -o "$work/kilns.gpkg" -q)
(cd "$work" && "$riskmap" report kilns.gpkg -o report -q)
n=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["detections"])' "$work/kilns.gpkg.manifest.json")
chips=$(ls "$work/report/chips" | wc -l)
if [ "$chips" -ne "$n" ]; then echo "expected $n image chips, found $chips"; exit 1; fi
node "$here/report.test.mjs" "$work/report" "$n" "${RISKMAP_REPORT_SHOT:-$work/report.png}"
