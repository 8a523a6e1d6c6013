#!/usr/bin/env bash
# ctest entry: the QGIS plugin (qgis/riskmap_processing), headless, as GIS users run it.
#  1. scripts/build-qgis-plugin.sh builds the zip; it is installed into a temporary QGIS profile and
#     enabled, and the riskmap binary is set in that profile's Processing settings.
#  2. qgis_process lists the provider and its algorithms, and `qgis_process run riskmap:scan` on the
#     bundled kiln chips writes the same layers as riskmap run directly (same bytes for GeoJSON, same
#     features for GeoPackage); a bad option fails with riskmap's message.
#     `qgis_process run riskmap:diff` on two dated scans of the chips writes the CLI's bytes and
#     reports the counts; the diff of a diff fails with riskmap's message.
#  3. tests/qgis/plugin_tests.py (PyQGIS): processing.run loads styled layers into the project,
#     riskmap's errors become Processing errors, cancel mid-scan leaves no output, merge/eval/report.
#  4. tests/qgis/dialog_tests.py under Xvfb: the Processing dialog of riskmap:scan is
#     screenshotted and checked non-blank; then Run (a background task, as in QGIS) must load the
#     styled layers into the project, and Cancel during a big scan must leave no output. RISKMAP_UPDATE_SCREENSHOT=1 copies it to
#     docs/img/qgis-scan-dialog.png; the committed screenshot is checked too.
# usage: run_plugin_tests.sh PATH_TO_RISKMAP
# Without QGIS (python3-qgis, qgis_process from the qgis package) or Xvfb it fails, or skips (exit 77)
# when RISKMAP_SKIP_MISSING_TOOLS=1.
set -euo pipefail
riskmap=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
data=$src/data/kilns-s2-bd-dev
py=/usr/bin/python3

missing() {
  echo "$1 (run scripts/install-deps.sh, or set RISKMAP_SKIP_MISSING_TOOLS=1)"
  [ "${RISKMAP_SKIP_MISSING_TOOLS:-0}" = 1 ] && exit 77
  exit 1
}
[ -x "$riskmap" ] || { echo "riskmap binary not found: $1"; exit 1; }
$py -c 'import qgis.core' 2>/dev/null || missing "python3-qgis is not installed"
# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck (from /etc/default/qgis), which
# qgis_process rejects ("Command --noversioncheck not known!"): call the real binary.
if command -v qgis_process.bin >/dev/null; then QP=$(command -v qgis_process.bin)
elif command -v qgis_process >/dev/null; then QP=$(command -v qgis_process)
else missing "qgis_process is not installed (Debian package qgis)"; fi
command -v xvfb-run >/dev/null || missing "xvfb-run is not installed (Debian package xvfb)"
[ -d "$data/chips" ] || { echo "bundled kiln chips not found in $data"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/xdg"
# A private HOME, QGIS profile and temporary folder: nothing of the user's QGIS is read or changed,
# and Processing's temporary outputs go away with $work.
# GDAL_PAM_ENABLED=NO: QGIS would otherwise write statistics (.tif.aux.xml) beside the bundled chips.
export XDG_RUNTIME_DIR="$work/xdg" QT_QPA_PLATFORM=offscreen HOME="$work/home" \
  QGIS_CUSTOM_CONFIG_PATH="$work/qgis-config" GDAL_PAM_ENABLED=NO TMPDIR="$work/tmp" PYTHONDONTWRITEBYTECODE=1
mkdir -p "$HOME" "$TMPDIR"
failed=0
fail() { echo "FAIL $*"; failed=1; }
ok() { echo "ok   $*"; }
t_start=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "== $1 ($(since "$t_start") s so far)"; }

step "QGIS version"
"$QP" --version 2>/dev/null | grep -E '^QGIS ' | head -1

step "build and install the plugin zip"
zip=$("$src/scripts/build-qgis-plugin.sh" "$work/dist" | tail -1)
[ -f "$zip" ] && ok "plugin zip $(basename "$zip")" || { fail "scripts/build-qgis-plugin.sh printed no zip"; exit 1; }
plugins=$QGIS_CUSTOM_CONFIG_PATH/profiles/default/python/plugins
mkdir -p "$plugins"
$py - "$zip" "$plugins" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    for need in ("riskmap_processing/__init__.py", "riskmap_processing/metadata.txt",
                 "riskmap_processing/LICENSE", "riskmap_processing/icon.svg"):
        assert need in names, f"zip lacks {need}"
    assert all(n.startswith("riskmap_processing/") for n in names), "zip has files outside riskmap_processing/"
    assert not any("__pycache__" in n for n in names), "zip holds __pycache__"
    z.extractall(sys.argv[2])
PY
ok "zip holds one plugin folder with metadata, licence and icon"
"$QP" plugins enable riskmap_processing >"$work/enable.log" 2>&1 || { cat "$work/enable.log"; fail "qgis_process plugins enable"; }
# The binary path as the Processing settings dialog stores it (PATH lookup is tested in PyQGIS).
ini=$QGIS_CUSTOM_CONFIG_PATH/profiles/default/QGIS/QGIS3.ini
printf '\n[Processing]\nConfiguration\\RISKMAP_BINARY=%s\n' "$riskmap" >>"$ini"

step "qgis_process lists the provider"
"$QP" --json list >"$work/list.json" 2>"$work/list.err" || { cat "$work/list.err"; fail "qgis_process list"; }
$py - "$work/list.json" <<'PY' || failed=1
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text[text.index("{"):])
prov = doc.get("providers", {}).get("riskmap")
if not prov:
    print("FAIL provider riskmap not listed by qgis_process"); sys.exit(1)
algs = sorted(prov.get("algorithms", {}))
want = ["riskmap:diff", "riskmap:eval", "riskmap:merge", "riskmap:report", "riskmap:scan"]
print(("ok   " if algs == want else "FAIL ") + f"qgis_process lists provider riskmap ({prov.get('long_name')}) with {algs}")
sys.exit(0 if algs == want else 1)
PY
"$QP" help riskmap:scan >"$work/help.txt" 2>&1 || true
grep -q '^kiln_min_score: kiln: min_score' "$work/help.txt" && ok "qgis_process help riskmap:scan shows the binary's detector options" \
  || fail "qgis_process help riskmap:scan lacks kiln_min_score"

step "qgis_process run riskmap:scan vs riskmap scan"
mkdir -p "$work/cli" "$work/qp"
"$riskmap" scan "$data/chips" --detector kiln --grid 1000 --set min_score=0.5 -q -o "$work/cli/kilns.geojson"
inputs=()
for f in "$data"/chips/*.tif; do inputs+=("--INPUT=$f"); done
t0=$(date +%s.%N)
if "$QP" --json run riskmap:scan "${inputs[@]}" --DETECTOR=kiln --GRID=1000 --kiln_min_score=0.5 \
    --OUTPUT="$work/qp/kilns.geojson" >"$work/run.json" 2>"$work/run.err"; then
  echo "     qgis_process run took $(since "$t0") s"
  for f in kilns.geojson kilns.grid.geojson kilns.footprints.geojson kilns.nodata_gaps.geojson kilns.qml kilns.grid.qml; do
    cmp -s "$work/cli/$f" "$work/qp/$f" && ok "$f from qgis_process is byte-identical to the CLI's" \
      || fail "$f differs between qgis_process and the CLI"
  done
  grep -q '"DETECTIONS": *[1-9]' "$work/run.json" && ok "qgis_process reports the detection count" || fail "no DETECTIONS in qgis_process results"
else
  cat "$work/run.err" "$work/run.json"; fail "qgis_process run riskmap:scan"
fi
"$riskmap" scan "$data/chips" --detector kiln -q -o "$work/cli/kilns.gpkg"
if "$QP" run riskmap:scan --INPUT_PATHS="$data/chips" --DETECTOR=kiln --OUTPUT="$work/qp/kilns.gpkg" \
    >"$work/run2.log" 2>&1; then
  $py - "$work/cli/kilns.gpkg" "$work/qp/kilns.gpkg" <<'PY' || failed=1
import os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False); app.initQgis()
def feats(path, name):
    lyr = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    return lyr.isValid(), {f["id"] if "id" in f.fields().names() else f.id():
                           ({k: f[k] for k in f.fields().names() if k != "fid"}, f.geometry().asWkt(9))
                           for f in lyr.getFeatures()}
bad = 0
for name in ("kiln", "footprints", "nodata_gaps"):
    (v1, a), (v2, b) = feats(sys.argv[1], name), feats(sys.argv[2], name)
    same = v1 and v2 and a == b
    print(("ok   " if same else "FAIL ") + f"GeoPackage layer {name} from qgis_process has the CLI's {len(a)} features")
    bad += not same
sys.stdout.flush(); os._exit(1 if bad else 0)
PY
else
  cat "$work/run2.log"; fail "qgis_process run riskmap:scan to a GeoPackage"
fi
expected=$("$riskmap" scan "$data/chips/jessore_demo_tile_01.tif" --detector kiln --set bogus=5 -o "$work/cli/bad.geojson" 2>&1 >/dev/null || true)
if "$QP" run riskmap:scan --INPUT="$data/chips/jessore_demo_tile_01.tif" --DETECTOR=kiln --EXTRA_SET=bogus=5 \
    --OUTPUT="$work/qp/bad.geojson" >"$work/bad.log" 2>&1; then
  fail "qgis_process run with a bad option succeeded"
else
  grep -qF -- "$expected" "$work/bad.log" && ok "a bad option fails qgis_process with riskmap's message" \
    || { cat "$work/bad.log"; fail "qgis_process error lacks riskmap's message: $expected"; }
  grep -q Traceback "$work/bad.log" && fail "qgis_process printed a Python traceback" || true
  ls "$work/qp"/bad.* >/dev/null 2>&1 && fail "a failed scan left output" || ok "a failed scan left no output"
fi

step "qgis_process run riskmap:diff vs riskmap diff"
# Two dates: every kiln chip, then one chip only (the other chips' kilns are unknown).
one=$(ls "$data"/chips/*.tif | head -1)
"$riskmap" scan "$data/chips" --detector kiln --date 2023-01-15 -q -o "$work/cli/before.geojson"
"$riskmap" scan "$one" --detector kiln --date 2024-01-20 -q -o "$work/cli/after.geojson"
"$riskmap" diff "$work/cli/before.geojson" "$work/cli/after.geojson" --radius-m 100 --min-score 0.5 -q \
  -o "$work/cli/changes.geojson"
if "$QP" --json run riskmap:diff --BEFORE="$work/cli/before.geojson" --AFTER="$work/cli/after.geojson" \
    --RADIUS_M=100 --MIN_SCORE=0.5 --OUTPUT="$work/qp/changes.geojson" >"$work/diff.json" 2>"$work/diff.err"; then
  for f in changes.geojson changes.qml; do
    cmp -s "$work/cli/$f" "$work/qp/$f" && ok "$f from qgis_process riskmap:diff is byte-identical to the CLI's" \
      || fail "$f differs between qgis_process riskmap:diff and the CLI"
  done
  $py - "$work/diff.json" "$work/qp/changes.geojson.manifest.json" <<'PY' || failed=1
import json, sys
text = open(sys.argv[1]).read()
res = json.loads(text[text.index("{"):])["results"]
counts = json.load(open(sys.argv[2]))["diff"]
want = {k.upper(): counts["counts"][k] for k in ("new", "gone", "persists", "unknown")}
got = {k: res.get(k) for k in want}
ok = got == want and counts["radius_m"] == 100 and counts["min_score"] == 0.5 and want["UNKNOWN"] > 0
print(("ok   " if ok else "FAIL ") + f"riskmap:diff reports the counts {got} (manifest {want}), radius and min score passed")
sys.exit(0 if ok else 1)
PY
else
  cat "$work/diff.err" "$work/diff.json"; fail "qgis_process run riskmap:diff"
fi
# A diff is not a scan: riskmap's message, no traceback, no output.
expected=$("$riskmap" diff "$work/cli/changes.geojson" "$work/cli/after.geojson" -o "$work/cli/bad-diff.geojson" 2>&1 >/dev/null || true)
if "$QP" run riskmap:diff --BEFORE="$work/cli/changes.geojson" --AFTER="$work/cli/after.geojson" \
    --OUTPUT="$work/qp/bad-diff.geojson" >"$work/bad-diff.log" 2>&1; then
  fail "qgis_process riskmap:diff of a diff succeeded"
else
  grep -qF -- "${expected#riskmap: }" "$work/bad-diff.log" && ok "riskmap:diff of a diff fails with riskmap's message" \
    || { cat "$work/bad-diff.log"; fail "qgis_process riskmap:diff error lacks riskmap's message: $expected"; }
  grep -q Traceback "$work/bad-diff.log" && fail "qgis_process riskmap:diff printed a Python traceback" || true
  ls "$work/qp"/bad-diff.* >/dev/null 2>&1 && fail "a failed diff left output" || ok "a failed diff left no output"
fi

step "PyQGIS: processing.run, errors, cancel, merge, eval, report"
rc=0
$py "$src/tests/qgis/plugin_tests.py" "$plugins" "$riskmap" "$data" "$work/py" >"$work/py.log" 2>&1 || rc=$?
grep -v -e DeprecationWarning -e 'writeAsVectorFormatV2' -e 'setapi()' "$work/py.log" || true
[ "$rc" = 0 ] || fail "PyQGIS plugin tests (exit $rc)"

step "the scan dialog under Xvfb: screenshot, Run, Cancel"
shot=$work/qgis-scan-dialog.png
if QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" \
    $py "$src/tests/qgis/dialog_tests.py" "$plugins" "$riskmap" "$data" "$shot" \
      "$work/dialog-run/kilns.gpkg" >"$work/shot.log" 2>&1; then
  grep -E '^(ok|FAIL)' "$work/shot.log"
  if [ "${RISKMAP_UPDATE_SCREENSHOT:-0}" = 1 ]; then
    mkdir -p "$src/docs/img" && cp "$shot" "$src/docs/img/qgis-scan-dialog.png"
    echo "     updated docs/img/qgis-scan-dialog.png"
  fi
else
  cat "$work/shot.log"; fail "screenshot of the scan dialog"
fi
if [ -f "$src/docs/img/qgis-scan-dialog.png" ]; then
  $py "$src/tests/qgis/dialog_tests.py" --check "$src/docs/img/qgis-scan-dialog.png" 2>/dev/null || failed=1
else
  fail "docs/img/qgis-scan-dialog.png is missing (run with RISKMAP_UPDATE_SCREENSHOT=1)"
fi

if ls "$data"/chips/*.aux.xml >/dev/null 2>&1; then fail "files were written beside the bundled chips"; fi

step "done"
[ "$failed" = 0 ] && echo "all QGIS plugin tests passed" || echo "some QGIS plugin tests failed"
exit "$failed"
