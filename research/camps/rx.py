#!/usr/bin/python3
"""Does a multi-index camp-scale anomaly (Reed & Yu 1990, RX) separate faint camps from mangrove
texture better than the NBR anomaly alone? (docs/clearing.md, issue 11)

  /usr/bin/python3 research/camps/recall.py --gen indep --seeds 1-22 --out OUT
  /usr/bin/python3 research/camps/rx.py --recall OUT/recall.json [--seeds 1-22] [--radius 2] [--box 41]
      [--indices ndvi nbr bsi ndbi] [--mosaic MOSAIC]

For the chosen indices, the mean vector over land pixels in a disk of `radius` pixels minus the
mean vector over the box, whitened by the box's pixel covariance and scaled by sqrt(pixels in the
disk): z = sqrt(n d' C^-1 d) (Hotelling's T^2 of the disk mean). One-sided: z is 0 where the
departure does not point towards bare ground (NBR and NDVI lower, BSI and NDBI higher on the
sum). Prints the largest value on the unmodified scene's reserve land where camps are planted,
on the mirrored mosaic if given, and the value within each missed camp >= 0.2 ha (outline dilated
by one pixel), as research/camps/anomaly.py does for one index.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from anomaly import REPO, SCENE, eligible, load, local_sum, nd, rasterize, seeds_of  # noqa: E402

SIGN = {"ndvi": -1, "nbr": -1, "bsi": 1, "ndbi": 1, "bright": 1, "mndwi": 1, "ndwi": 1, "vis": 1, "bg": 1, "rg": 1}


def index_stack(a, names):
    red, nir, grn, blu, sw1, sw2 = a["B04"], a["B08"], a["B03"], a["B02"], a["B11"], a["B12"]
    f = {"ndvi": lambda: nd(nir, red), "nbr": lambda: nd(nir, sw2), "bsi": lambda: nd(sw1 + red, nir + blu),
         "ndbi": lambda: nd(sw1, nir), "bright": lambda: (blu + grn + red) / 3 * 10, "mndwi": lambda: nd(grn, sw1),
         "ndwi": lambda: nd(grn, nir), "vis": lambda: (blu + grn + red) / 3, "bg": lambda: nd(blu, grn), "rg": lambda: nd(red, grn)}
    return [f[n]() for n in names]


def rx(a, names, r, box, sd_floor):
    land = (a["valid"] & ~(nd(a["B03"], a["B11"]) > 0)).astype(np.float64)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = ((xx * xx + yy * yy) <= r * r + 0.5).astype(np.float64)
    ones = np.ones((box, box))
    dn, bn = local_sum(land, disk), local_sum(land, ones)
    xs = index_stack(a, names)
    k = len(xs)
    d = np.stack([local_sum(x * land, disk) / np.maximum(dn, 1e-9) - local_sum(x * land, ones) / np.maximum(bn, 1e-9)
                  for x in xs], -1)
    bm = np.stack([local_sum(x * land, ones) / np.maximum(bn, 1e-9) for x in xs], -1)
    cov = np.empty(d.shape[:2] + (k, k))
    for i in range(k):
        for j in range(i, k):
            e = local_sum(xs[i] * xs[j] * land, ones) / np.maximum(bn, 1e-9) - bm[..., i] * bm[..., j]
            cov[..., i, j] = cov[..., j, i] = e
    cov += np.eye(k) * sd_floor ** 2
    t2 = np.einsum("...i,...i->...", d, np.linalg.solve(cov, d[..., None])[..., 0]) * dn
    z = np.sqrt(np.maximum(t2, 0))
    toward = sum(SIGN[n] * d[..., i] / np.sqrt(cov[..., i, i]) for i, n in enumerate(names))
    z[(toward <= 0) | (land == 0) | (dn < 3)] = 0
    return z


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recall", required=True)
    ap.add_argument("--seeds", default="1-22")
    ap.add_argument("--radius", type=int, default=2)
    ap.add_argument("--box", type=int, default=41)
    ap.add_argument("--sd-floor", type=float, default=0.005)
    ap.add_argument("--indices", nargs="+", default=["ndvi", "nbr", "bsi", "ndbi"])
    ap.add_argument("--mosaic")
    a = ap.parse_args()
    misses = [m for m in json.load(open(a.recall))["misses"] if m["generator"] == "indep"]
    missed = {(m["seed"], m["id"]): m for m in misses if m["area_m2"] >= 1000}
    base = load(SCENE)
    zone = eligible(base)
    nat = rx(base, a.indices, a.radius, a.box, a.sd_floor)
    line = f"indices {' '.join(a.indices)} r {a.radius} box {a.box}: natural max {nat[zone].max():.1f}"
    if a.mosaic:
        mz = rx(load(a.mosaic), a.indices, a.radius, a.box, a.sd_floor)
        top = np.sort(mz.ravel())[::-1]
        line += f", mosaic max {top[0]:.1f} (99.999 % {np.quantile(mz, 0.99999):.1f})"
    print(line)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in seeds_of(a.seeds):
            if not any(k[0] == s for k in missed):
                continue
            d = os.path.join(tmp, str(s))
            subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "plant_camps_indep.py"), SCENE, d, str(s)],
                           check=True, stdout=subprocess.DEVNULL)
            truth = json.load(open(f"{d}/truth.geojson"))["features"]
            img = load(d)
            z = rx(img, a.indices, a.radius, a.box, a.sd_floor)
            ids = rasterize([f["properties"]["outline_wkt"] for f in truth], img, img["B02"].shape)
            for i, f in enumerate(truth):
                key = (s, f["properties"]["id"])
                if key in missed:
                    m = cv2.dilate((ids == i + 1).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
                    rows.append((float(z[m].max()), key, missed[key]["area_m2"], missed[key].get("gate")))
    for v, key, area, gate in sorted(rows, reverse=True):
        print(f"  {v:6.1f}  {key[0]}/{key[1]}  {area / 1e4:.2f} ha  {gate}")


if __name__ == "__main__":
    main()
