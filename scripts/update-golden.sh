#!/usr/bin/env bash
# update-golden.sh [BINARY]: rewrites the fixed references in tests/golden/ from the cases in
# tests/golden/cases.json (default binary: build/riskmap). Review `git diff tests/golden` before
# committing: every change to a reference is a change in what riskmap finds.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/riskmap}
exec /usr/bin/python3 - "$bin" <<'PY'
import json, os, subprocess, sys, tempfile
binary = os.path.abspath(sys.argv[1])
data = os.path.abspath("data")
cases = json.load(open("tests/golden/cases.json"))["cases"]
for case in cases:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.geojson")
        args = [a.replace("{DATA}", data).replace("{OUT}", out) for a in case["args"]]
        subprocess.run([binary] + args + ["-q"], check=True, cwd=tmp)
        text = open(out).read()
    # Source names from data/ only: no absolute paths of this machine in the reference.
    path = f"tests/golden/{case['name']}.geojson"
    old = open(path).read() if os.path.exists(path) else None
    open(path, "w").write(text)
    n = len(json.loads(text)["features"])
    print(f"{path}: {n} feature(s){' (changed)' if old is not None and old != text else ' (unchanged)' if old else ' (new)'}")
PY
