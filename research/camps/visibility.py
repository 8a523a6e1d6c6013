#!/usr/bin/python3
"""What an 18.5 m sensor can see of each planted camp, against whether `clearing` found it.

  /usr/bin/python3 research/camps/visibility.py RECALL_JSON [--gen third] [--work DIR]

RECALL_JSON is research/camps/recall.py's output for one generator (--out DIR/recall.json). For
each camp of >= 0.2 ha of the seeds in it, the camp is planted again (same seed: same files) and
compared with the unmodified scene over the camp's outline envelope plus 3 pixels:
  opened   pixels that went from NDVI >= 0.5 (the detector's vegetation test) to below it;
  drop2    pixels whose NDVI fell by 0.2 or more;
  maxdrop  the largest NDVI fall.
Prints found / camps in bins of each, so a recall figure can be read against what the pixels
hold. Measures the generator's output, not the detector: no detector code is used.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.path.join(REPO, "data", "sundarbans-s2-l2a-2020-01-27")
PLANTERS = {"third": "plant_camps_third.py", "indep": "plant_camps_indep.py"}


def ndvi(d):
    bands = {}
    for b in ("B04", "B08"):
        ds = gdal.Open(f"{d}/Sentinel-2_L2A_{b}_Raw.tiff")
        bands[b] = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
        gt = ds.GetGeoTransform()
    r, n = bands["B04"], bands["B08"]
    return (n - r) / (n + r + 1e-9), gt


def camp_rows(seed, gen, work, v0, gt, missed):
    d = os.path.join(work, f"{gen}-{seed}")
    if not os.path.exists(os.path.join(d, "truth.geojson")):
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tests", "tools", PLANTERS[gen]), SCENE, d, str(seed)],
                       check=True, capture_output=True)
    v1, _ = ndvi(d)
    rows = []
    for f in json.load(open(os.path.join(d, "truth.geojson")))["features"]:
        p = f["properties"]
        if p["area_m2"] < 2000:
            continue
        env = ogr.CreateGeometryFromWkt(p["outline_wkt"]).GetEnvelope()
        c0, c1 = max(0, int((env[0] - gt[0]) / gt[1]) - 3), int((env[1] - gt[0]) / gt[1]) + 3
        r0, r1 = max(0, int((env[3] - gt[3]) / gt[5]) - 3), int((env[2] - gt[3]) / gt[5]) + 3
        a, b = v0[r0:r1 + 1, c0:c1 + 1], v1[r0:r1 + 1, c0:c1 + 1]
        rows.append({"seed": seed, "id": p["id"], "shape": p.get("shape"), "found": (seed, p["id"]) not in missed,
                     "opened": int(((a >= 0.5) & (b < 0.5)).sum()), "drop2": int((b - a <= -0.2).sum()),
                     "maxdrop": float((a - b).max())})
    return rows


def table(rows, key, bins):
    for lo, hi in bins:
        s = [r for r in rows if lo <= r[key] < hi]
        print(f"  {key:8s} [{lo:g}, {hi:g}): found {sum(r['found'] for r in s):3d} / {len(s):3d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recall_json")
    ap.add_argument("--gen", default="third", choices=sorted(PLANTERS))
    ap.add_argument("--work", help="keep the planted copies here (default: a temporary folder)")
    args = ap.parse_args()
    rec = json.load(open(args.recall_json))
    missed = {(m["seed"], m["id"]) for m in rec["misses"] if m.get("generator", args.gen) == args.gen}
    seeds = sorted({s["seed"] for s in rec["seeds"] if s.get("generator", args.gen) == args.gen})
    v0, gt = ndvi(SCENE)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        rows = [r for seed in seeds for r in camp_rows(seed, args.gen, work, v0, gt, missed)]
    print(f"{args.gen}, seeds {seeds[0]}-{seeds[-1]}: {len(rows)} camps >= 0.2 ha, found {sum(r['found'] for r in rows)}")
    table(rows, "opened", [(0, 1), (1, 2), (2, 4), (4, 8), (8, float("inf"))])
    table(rows, "drop2", [(0, 1), (1, 4), (4, 8), (8, float("inf"))])
    table(rows, "maxdrop", [(0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.45), (0.45, 9)])


if __name__ == "__main__":
    main()
