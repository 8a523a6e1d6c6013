#!/usr/bin/env bash
# verifier-lodo.sh [BINARY] [EXTRA TRAIN ARGS...]: leave-one-district-out precision and recall of
# the kiln detector on the dev chips (data/kilns-s2-bd-dev) without and with a verifier trained by
# `riskmap train` on the other two districts. Counts are summed over the three held-out districts
# (eval at 60 m, difficult kilns don't-care), at the default operating point (balanced).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/riskmap}"); shift || true
exec /usr/bin/python3 - "$bin" "$@" <<'PY'
import glob, json, os, subprocess, sys, tempfile
binary, extra = sys.argv[1], sys.argv[2:]
data = os.path.abspath("data/kilns-s2-bd-dev")
labels = os.path.join(data, "labels.geojson")
chips = sorted(glob.glob(os.path.join(data, "chips", "*.tif")))
districts = sorted({os.path.basename(c).split("_")[0] for c in chips})
def run(args):
    r = subprocess.run([binary] + args, capture_output=True, text=True)
    if r.returncode: sys.exit(f"{' '.join(args)}\n{r.stderr}")
    return r.stdout
totals = {"without": [0, 0, 0], "with": [0, 0, 0]}
with tempfile.TemporaryDirectory() as tmp:
    for d in districts:
        test = [c for c in chips if os.path.basename(c).startswith(d + "_")]
        train = [c for c in chips if c not in test]
        model = os.path.join(tmp, f"{d}.yml")
        print(f"== held out: {d} ({len(test)} chips); trained on {len(train)} chips")
        print(run(["train", "--detector", "kiln", "--images", *train, "--labels", labels, "--group-field", "district", "--image-field", "chip",
                   "-o", model, *extra]), end="")
        for name, sets in (("without", []), ("with", ["--set", f"model={model}"])):
            out = os.path.join(tmp, f"{d}-{name}.geojson")
            run(["scan", *test, "--detector", "kiln", *sets, "-o", out, "-q"])
            e = json.loads(run(["eval", "--truth", labels, "--detections", out, "--truth-source-field", "chip",
                                "--radius-m", "60", "--bootstrap", "0", "--json"]))["overall"]
            for i, k in enumerate(("tp", "fp", "fn")): totals[name][i] += e[k]
            print(f"   {name:7s} model: TP {e['tp']:2d} FP {e['fp']:2d} FN {e['fn']:2d}  P {e['precision']:.3f} R {e['recall']:.3f}")
for name, (tp, fp, fn) in totals.items():
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    print(f"LODO {name:7s} model: TP {tp} FP {fp} FN {fn}  P {p:.3f} R {r:.3f}")
PY
