#!/usr/bin/env bash
# ctest entry: scan the bundled kiln chips into a GeoPackage (with a risk grid) and a GeoJSON,
# then open both in QGIS headless (tests/qgis/check_layers.py). Without QGIS it fails, or skips
# (exit 77) when RISKMAP_SKIP_MISSING_TOOLS=1.
set -euo pipefail
riskmap=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
if ! /usr/bin/python3 -c 'import qgis.core' 2>/dev/null; then
  echo "python3-qgis is not installed: run scripts/install-deps.sh (or set RISKMAP_SKIP_MISSING_TOOLS=1)"
  [ "${RISKMAP_SKIP_MISSING_TOOLS:-0}" = 1 ] && exit 77
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/xdg"
export XDG_RUNTIME_DIR="$work/xdg" QT_QPA_PLATFORM=offscreen
"$riskmap" scan "$src/data/kilns-s2-bd-dev/chips" --detector kiln --grid 1000 -o "$work/kilns.gpkg" -q
"$riskmap" scan "$src/data/kilns-s2-bd-dev/chips" --detector kiln -o "$work/kilns.geojson" -q
n=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["detections"])' "$work/kilns.gpkg.manifest.json")
/usr/bin/python3 "$src/tests/qgis/check_layers.py" "$work/kilns.gpkg" "$work/kilns.geojson" "$n" kiln
