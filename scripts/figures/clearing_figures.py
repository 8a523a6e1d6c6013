#!/usr/bin/python3
"""Figures for docs/clearing.md from riskmap outputs on the bundled Sundarbans scene.

usage: clearing_figures.py SCENE_DIR PLANTED_DIR PLANTED_DETECTIONS RELAXED_DETECTIONS OUT_DIR
  SCENE_DIR            data/sundarbans-s2-l2a-2020-01-27 (band files + reserve.geojson)
  PLANTED_DIR          a copy with planted camps (tests/tools/plant_camps), holding truth.geojson
  PLANTED_DETECTIONS   riskmap scan --detector clearing output on the planted copy
  RELAXED_DETECTIONS   the same on the unmodified scene with the core and width gates off
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from osgeo import gdal

gdal.UseExceptions()
gdal.PushErrorHandler("CPLQuietErrorHandler")


def load(d, b):
    ds = gdal.Open(f"{d}/Sentinel-2_L2A_{b}_Raw.tiff")
    return ds.GetRasterBand(1).ReadAsArray() / 65535.0, ds.GetRasterBand(2).ReadAsArray() > 0, ds.GetGeoTransform()


def false_colour(d):
    r, m, gt = load(d, "B11")
    g, _, _ = load(d, "B08")
    b, _, _ = load(d, "B04")
    img = np.dstack([np.clip(r / 0.35, 0, 1), np.clip(g / 0.45, 0, 1), np.clip(b / 0.2, 0, 1)])
    img[~m] = 0.15
    return img, gt


def to_px(gt, lon, lat):
    return (lon - gt[0]) / gt[1], (lat - gt[3]) / gt[5]


def rings(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"][0]]
    return [p[0] for p in geom["coordinates"]]


def main(scene, planted, planted_det, relaxed_det, out):
    reserve = json.load(open(f"{scene}/reserve.geojson"))["features"][0]["geometry"]["coordinates"][0]
    img, gt = false_colour(planted)
    fig, ax = plt.subplots(figsize=(4.2, 10))
    ax.imshow(img, interpolation="nearest")
    xs, ys = zip(*[to_px(gt, *p) for p in reserve])
    ax.plot(xs, ys, color="white", lw=1, ls="--", label="reserve (hand-drawn)")
    for f in json.load(open(f"{planted}/truth.geojson"))["features"]:
        x, y = to_px(gt, *f["geometry"]["coordinates"])
        ax.plot(x, y, "o", mfc="none", mec="yellow", ms=9, mew=1)
    for f in json.load(open(planted_det))["features"]:
        for r in rings(f["geometry"]):
            xs, ys = zip(*[to_px(gt, *p) for p in r])
            ax.plot(xs, ys, color="red", lw=1)
    ax.set_title("planted camps (yellow), detections (red)", fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(f"{out}/clearing_planted.png", dpi=60)

    img, gt = false_colour(scene)
    feats = sorted(json.load(open(relaxed_det))["features"], key=lambda f: -f["properties"]["score"])[:6]
    fig, axes = plt.subplots(2, 3, figsize=(9, 6.4))
    for ax, f in zip(axes.ravel(), feats):
        p = f["properties"]
        r = rings(f["geometry"])[0]
        cx = np.mean([to_px(gt, *q)[0] for q in r])
        cy = np.mean([to_px(gt, *q)[1] for q in r])
        x0, y0 = int(max(0, cx - 25)), int(max(0, cy - 25))
        ax.imshow(img[y0:y0 + 50, x0:x0 + 50], interpolation="nearest", extent=(x0, x0 + 50, y0 + 50, y0))
        for rr in rings(f["geometry"]):
            xs, ys = zip(*[to_px(gt, *q) for q in rr])
            ax.plot(xs, ys, color="red", lw=1)
        why = []
        if p["core_area_m2"] < 300:
            why.append("no clearly bare pixel")
        if p["width_m"] < 20:
            why.append(f"width {p['width_m']:.0f} m")
        lon, lat = np.mean([q[0] for q in r]), np.mean([q[1] for q in r])
        ax.set_title(f"{lon:.4f} E {lat:.4f} N, {p['area_m2'] / 1e4:.2f} ha\nrejected: {', '.join(why) or 'passes'}",
                     fontsize=7)
        ax.axis("off")
    fig.suptitle("Strongest candidates in the unmodified scene (false colour SWIR/NIR/red, ~0.9 km crops)", fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/clearing_nearmisses.png", dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:6])
