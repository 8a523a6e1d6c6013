#!/usr/bin/env bash
# Executes the notebooks in notebooks/ headless, as CI does.
#
#   scripts/run-notebooks.sh BUILD_DIR [NAME...]
#
# BUILD_DIR holds the riskmap binary (and tests/plant_camps); ctest passes
# $<TARGET_FILE_DIR:riskmap>. With no NAME, every notebooks/*.ipynb runs, in name order; a NAME
# (kiln_census or kiln_census.ipynb) runs that one alone.
#
# For each notebook it
#   - refuses a committed notebook that still holds outputs (strip them with
#     /usr/bin/python3 -m nbconvert --clear-output --inplace notebooks/NAME.ipynb);
#   - runs `jupyter nbconvert --execute --to notebook` with a per-cell timeout, on a private
#     kernel spec that starts Debian's /usr/bin/python3 (never the pyenv `python3` on PATH),
#     and writes the executed copy to BUILD_DIR/notebooks/NAME.ipynb (never into the repository);
#   - lets the notebook regenerate its figures, notebooks/figures/NAME_*.png (git-ignored: generated,
#     never committed or edited);
#   - fails (exit 1) on any error in any cell, or when a notebook runs longer than
#     RISKMAP_NOTEBOOK_TIMEOUT seconds.
#
# Exit codes: 0 all ran (or were skipped), 1 a notebook failed or the Python/Jupyter stack is
# missing (scripts/install-deps.sh installs it), 2 usage, 77 nothing ran: every notebook asked
# for needs a riskmap command this binary lacks (its metadata riskmap.requires_commands, e.g.
# ["diff"]), or the stack is missing and RISKMAP_SKIP_MISSING_TOOLS=1; ctest reports 77 as
# skipped.
#
# Environment (optional):
#   RISKMAP_PYTHON           interpreter with nbconvert and ipykernel (default /usr/bin/python3)
#   RISKMAP_CELL_TIMEOUT     seconds per cell (default 300)
#   RISKMAP_NOTEBOOK_TIMEOUT seconds per notebook, whole run (default 480)
#   RISKMAP_FIGURES          where figures go (default notebooks/figures in this checkout)
# The notebooks find riskmap through RISKMAP_BIN, RISKMAP_BUILD_DIR, RISKMAP_REPO and write scratch
# files to RISKMAP_NB_WORK (BUILD_DIR/notebooks/work/NAME), all set here. Everything written is
# owner-only (umask 077): executed notebooks and scratch hold exact detections and maps of them.
set -euo pipefail
umask 077

readonly PROG="${0##*/}"
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
[[ "$1" != -h && "$1" != --help ]] || usage
[[ -d "$1" ]] || { echo "$PROG: build directory '$1' not found" >&2; exit 2; }
BUILD_DIR="$(cd -- "$1" && pwd)"
shift
[[ -x "$BUILD_DIR/riskmap" ]] || { echo "$PROG: no riskmap binary in $BUILD_DIR (build it first)" >&2; exit 2; }

PY="${RISKMAP_PYTHON:-/usr/bin/python3}"
CELL_TIMEOUT="${RISKMAP_CELL_TIMEOUT:-300}"
NB_TIMEOUT="${RISKMAP_NOTEBOOK_TIMEOUT:-480}"

if [[ ! -x "$PY" ]] || ! "$PY" -c 'import nbconvert, nbclient, nbformat, ipykernel, matplotlib, geopandas, rasterio, numpy, pandas, osgeo.gdal' 2>/dev/null; then
    # As the other tests of installed tools: CI installs the stack, so its absence fails, unless
    # RISKMAP_SKIP_MISSING_TOOLS=1 (a partial developer machine) makes it a skip.
    echo "$PROG: $PY lacks the notebook stack; install the Debian packages jupyter-nbconvert python3-ipykernel" \
         "python3-matplotlib python3-geopandas python3-rasterio python3-gdal python3-numpy (scripts/install-deps.sh)" \
         "(or set RISKMAP_SKIP_MISSING_TOOLS=1 to skip)" >&2
    [[ "${RISKMAP_SKIP_MISSING_TOOLS:-0}" == 1 ]] && exit 77
    exit 1
fi

# Which notebooks.
names=()
if [[ $# -eq 0 ]]; then
    for f in "$REPO"/notebooks/*.ipynb; do
        [[ -e "$f" ]] && names+=("$(basename "$f" .ipynb)")
    done
else
    for n in "$@"; do
        n="$(basename "$n")"
        names+=("${n%.ipynb}")
    done
fi
[[ ${#names[@]} -gt 0 ]] || { echo "$PROG: no notebooks found in $REPO/notebooks" >&2; exit 2; }
for n in "${names[@]}"; do
    [[ -f "$REPO/notebooks/$n.ipynb" ]] || { echo "$PROG: no notebook notebooks/$n.ipynb" >&2; exit 2; }
done

OUT="$BUILD_DIR/notebooks"
mkdir -p "$OUT"

# A private Jupyter environment: a kernel spec that starts $PY, found first (JUPYTER_PATH wins
# over user and system kernel specs), and no user configuration, IPython profile or user site
# packages that could change what runs.
JUP="$OUT/.jupyter"
KERNEL=riskmap-notebooks-python3
mkdir -p "$JUP/data/kernels/$KERNEL" "$JUP/config" "$JUP/runtime" "$JUP/ipython" "$JUP/mpl"
"$PY" - "$JUP/data/kernels/$KERNEL/kernel.json" "$PY" <<'EOF'
import json, os, sys
tmp = f"{sys.argv[1]}.{os.getpid()}"   # atomic: ctest may start two notebooks at once
with open(tmp, "w") as f:
    json.dump({"argv": [sys.argv[2], "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
               "display_name": "riskmap notebooks (Debian python3)", "language": "python"}, f, indent=1)
os.replace(tmp, sys.argv[1])
EOF
export JUPYTER_PATH="$JUP/data"
export JUPYTER_CONFIG_DIR="$JUP/config"
export JUPYTER_RUNTIME_DIR="$JUP/runtime"
export IPYTHONDIR="$JUP/ipython"
export MPLCONFIGDIR="$JUP/mpl"
export MPLBACKEND=Agg
export PYTHONNOUSERSITE=1
export PYTHONDONTWRITEBYTECODE=1
export PYDEVD_DISABLE_FILE_VALIDATION=1   # no debugger note in the log
unset PYTHONPATH PYTHONHOME
export RISKMAP_REPO="$REPO"
export RISKMAP_BUILD_DIR="$BUILD_DIR"
export RISKMAP_BIN="$BUILD_DIR/riskmap"
export RISKMAP_FIGURES="${RISKMAP_FIGURES:-$REPO/notebooks/figures}"

# The subcommands this binary has (a notebook may need one that is still on a branch).
COMMANDS="$("$BUILD_DIR/riskmap" --help 2>/dev/null | sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | tr '\n' ' ')"
export COMMANDS

failed=()
skipped=()
ran=0
for n in "${names[@]}"; do
    src="$REPO/notebooks/$n.ipynb"
    # Committed notebooks carry no outputs: the executed copies and figures are the outputs. A
    # notebook lists the riskmap commands it needs in its metadata (riskmap.requires_commands);
    # without one of them it is skipped (exit 3 here), with the reason.
    set +e
    "$PY" - "$src" <<'EOF'
import os, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
if dirty:
    sys.exit(f"{sys.argv[1]}: cells {dirty} hold outputs; strip them: "
             f"/usr/bin/python3 -m nbconvert --clear-output --inplace {sys.argv[1]}")
have = os.environ["COMMANDS"].split()
missing = [c for c in nb.metadata.get("riskmap", {}).get("requires_commands", []) if c not in have]
if missing:
    print(f"needs `riskmap {' '.join(missing)}`, which this riskmap ({os.environ['RISKMAP_BIN']}) lacks "
          f"(it has: {', '.join(have)})", file=sys.stderr)
    sys.exit(3)
EOF
    pre=$?
    set -e
    if [[ $pre -eq 3 ]]; then
        echo "== $n: SKIPPED (above)" >&2
        skipped+=("$n")
        continue
    elif [[ $pre -ne 0 ]]; then
        failed+=("$n")
        continue
    fi
    ran=$((ran + 1))
    export RISKMAP_NB_WORK="$OUT/work/$n"
    rm -rf "$RISKMAP_NB_WORK" "$OUT/$n.ipynb"  # an earlier run's copy keeps its mode when overwritten
    mkdir -p "$RISKMAP_NB_WORK"
    echo "== $n: executing notebooks/$n.ipynb (cell timeout ${CELL_TIMEOUT}s)" >&2
    start=$(date +%s%N)
    # `python3 -m nbconvert` is `jupyter nbconvert`, pinned to $PY. The kernel starts in
    # notebooks/, as it does in jupyter lab.
    if timeout --signal=TERM --kill-after=30 "$NB_TIMEOUT" \
        "$PY" -m nbconvert --execute --to notebook \
        --ExecutePreprocessor.timeout="$CELL_TIMEOUT" \
        --ExecutePreprocessor.kernel_name="$KERNEL" \
        --output-dir "$OUT" --output "$n.ipynb" "$src"; then
        ms=$((($(date +%s%N) - start) / 1000000))
        # Owner-only, whatever the notebook wrote and however (the kernel has its own umask).
        open=$( { find "$RISKMAP_NB_WORK" -perm /077; find "$OUT/$n.ipynb" "$RISKMAP_FIGURES" -type f -perm /077 -newermt "@$((start / 1000000000 - 1))"; } 2>/dev/null | head -3)
        if [[ -n "$open" ]]; then
            echo "== $n: FAILED: it wrote files others can read (outputs must be owner-only):" >&2
            echo "$open" >&2
            failed+=("$n")
            continue
        fi
        printf '== %s: ok in %d.%01d s -> %s\n' "$n" $((ms / 1000)) $((ms % 1000 / 100)) "$OUT/$n.ipynb" >&2
    else
        rc=$?
        [[ $rc -eq 124 ]] && echo "== $n: took longer than ${NB_TIMEOUT}s" >&2
        echo "== $n: FAILED (exit $rc)" >&2
        failed+=("$n")
    fi
done

[[ ${#skipped[@]} -eq 0 ]] || echo "$PROG: skipped: ${skipped[*]}" >&2
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "$PROG: failed: ${failed[*]}" >&2
    exit 1
fi
if [[ $ran -eq 0 ]]; then
    echo "$PROG: no notebook ran" >&2
    exit 77
fi
echo "$PROG: $ran notebook(s) ran; executed copies in $OUT, figures in $RISKMAP_FIGURES" >&2
