#!/usr/bin/python3
"""Is a faint camp a camp-sized anomaly the mangrove texture never makes? (docs/clearing.md)

  /usr/bin/python3 research/camps/recall.py --gen indep --seeds 1-22 --out OUT
  /usr/bin/python3 research/camps/anomaly.py --recall OUT/recall.json [--seeds 1-22] [--radius 1 2 3]
  /usr/bin/python3 tests/tools/make_reserve_mosaic.py data/sundarbans-s2-l2a-2020-01-27 MOSAIC
  /usr/bin/python3 research/camps/anomaly.py --recall OUT/recall.json --mosaic MOSAIC --thresholds 10 12 13 14 15 16

For NDVI and NBR (lower in a camp) and BSI and NDBI (higher), the mean over land pixels (MNDWI <= 0)
in a disk of `radius` pixels minus the mean over a box around it, in units of the box's pixel SD
times sqrt(pixels in the disk). Prints, per radius and index, the largest value on the unmodified
scene's reserve land where camps are planted (>= 900 m from land outside the reserve), and the
value within each missed camp >= 0.2 ha (its outline dilated by one pixel), planted again here by
tests/tools/plant_camps_indep.py with the same seeds.

With --mosaic, the NBR anomaly at radius 2 (41 px box) as a candidate source instead: blobs of
z >= T on land that pass enclosure >= 0.8 (forest or water on a ring 1-4 px beyond the blob) and a
forest matrix >= 0.7 (vegetated share of land within 27 px), counted on the mirrored reserve mosaic
(natural false alarms), and near the planted camps (within 100 m of a truth point): missed camps
found, and blobs away from every camp. numpy, OpenCV and GDAL only.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
gdal.PushErrorHandler("CPLQuietErrorHandler")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.path.join(REPO, "data", "sundarbans-s2-l2a-2020-01-27")
BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
PIXEL_M = 18.5


def load(d):
    a = {}
    for b in BANDS:
        ds = gdal.Open(f"{d}/Sentinel-2_L2A_{b}_Raw.tiff")
        a[b] = ds.GetRasterBand(1).ReadAsArray().astype(np.float64) / 65535.0
        if b == "B02":
            a["valid"] = ds.GetRasterBand(2).ReadAsArray() > 0
            a["gt"], a["wkt"] = ds.GetGeoTransform(), ds.GetProjection()
    return a


def nd(x, y):
    return (x - y) / np.maximum(x + y, 1e-9)


def local_sum(v, kernel):
    return cv2.filter2D(v, -1, kernel, borderType=cv2.BORDER_CONSTANT)


def anomalies(a, r, box):
    return anomalies_sd(a, r, box, 0.0)


def anomalies_sd(a, r, box, sd_floor):
    red, nir, grn, blu, sw1, sw2 = a["B04"], a["B08"], a["B03"], a["B02"], a["B11"], a["B12"]
    land = (a["valid"] & ~(nd(grn, sw1) > 0)).astype(np.float64)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = ((xx * xx + yy * yy) <= r * r + 0.5).astype(np.float64)
    ones = np.ones((box, box))
    dn, bn = local_sum(land, disk), local_sum(land, ones)
    out = {}
    for name, idx, sign in [("ndvi", nd(nir, red), -1), ("nbr", nd(nir, sw2), -1),
                            ("bsi", nd(sw1 + red, nir + blu), 1), ("ndbi", nd(sw1, nir), 1)]:
        dm = local_sum(idx * land, disk) / np.maximum(dn, 1e-9)
        bm = local_sum(idx * land, ones) / np.maximum(bn, 1e-9)
        b2 = local_sum(idx * idx * land, ones) / np.maximum(bn, 1e-9)
        sd = np.maximum(np.sqrt(np.maximum(b2 - bm * bm, 1e-6)), sd_floor)
        z = sign * (dm - bm) / sd * np.sqrt(dn)
        z[(land == 0) | (dn < 3)] = 0
        out[name] = z
    return out


def rasterize(wkts, a, shape):
    ds = gdal.GetDriverByName("MEM").Create("", shape[1], shape[0], 1, gdal.GDT_UInt16)
    ds.SetGeoTransform(a["gt"])
    ds.SetProjection(a["wkt"])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = ogr.GetDriverByName("Memory").CreateDataSource("")  # keep: the layer dies with it
    lyr = src.CreateLayer("l", srs, ogr.wkbUnknown)
    lyr.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    for i, w in enumerate(wkts):
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("id", i + 1)
        f.SetGeometry(ogr.CreateGeometryFromWkt(w))
        lyr.CreateFeature(f)
    gdal.RasterizeLayer(ds, [1], lyr, options=["ATTRIBUTE=id", "ALL_TOUCHED=TRUE"])
    return ds.GetRasterBand(1).ReadAsArray()


def eligible(base):
    shape = base["B02"].shape
    src = ogr.Open(f"{SCENE}/reserve.geojson")
    reserve = rasterize([f.GetGeometryRef().ExportToWkt() for f in src.GetLayer(0)], base, shape) > 0
    land = base["valid"] & ~(nd(base["B03"], base["B11"]) > 0)
    outside = (~reserve) & land
    dist = cv2.distanceTransform((~outside).astype(np.uint8), cv2.DIST_L2, 5) * PIXEL_M
    return reserve & land & (dist >= 900)


def disk_kernel(r):
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return ((xx * xx + yy * yy) <= r * r + 0.5).astype(np.uint8)


def blobs(img, t, zone=None, r=2, box=41):
    """NBR-anomaly blobs of z >= t that pass enclosure and the forest matrix: (x, y, z max)."""
    z = anomalies(img, r, box)["nbr"]
    water = (nd(img["B03"], img["B11"]) > 0) & img["valid"]
    land = img["valid"] & ~water
    veg = land & (nd(img["B08"], img["B04"]) >= 0.5)
    k = disk_kernel(27).astype(np.float64)
    share = local_sum(veg.astype(np.float64), k) / np.maximum(local_sum(land.astype(np.float64), k), 1)
    m = (z >= t) & land & (zone if zone is not None else True)
    n, lab, _, cent = cv2.connectedComponentsWithStats(m.astype(np.uint8), 8)
    out = []
    for i in range(1, n):
        comp = lab == i
        ring = (cv2.dilate(comp.astype(np.uint8), disk_kernel(4)) > 0) & ~(cv2.dilate(comp.astype(np.uint8), disk_kernel(1)) > 0)
        ring &= img["valid"]
        if (ring & (veg | water)).sum() / max(ring.sum(), 1) >= 0.8 and share[comp].mean() >= 0.7:
            out.append((float(cent[i][0]), float(cent[i][1]), float(z[comp].max())))
    return out


def candidate_study(planted, missed, small, zone, mosaic_dir, thresholds):
    mosaic = load(mosaic_dir)
    for t in thresholds:
        natural = blobs(mosaic, t)
        found = found_small = away = 0
        for s, img, truth in planted:
            bs = blobs(img, t, zone)
            near = lambda b, f: math.hypot(b[0] - f["properties"]["centroid_px"][0], b[1] - f["properties"]["centroid_px"][1]) * PIXEL_M <= 100
            for f in truth:
                hit = any(near(b, f) for b in bs)
                found += hit and (s, f["properties"]["id"]) in missed
                found_small += hit and (s, f["properties"]["id"]) in small
            away += sum(all(not near(b, f) for f in truth) for b in bs)
        print(f"T {t:5.1f}: natural blobs on the mosaic {len(natural):4d} (largest z {max([b[2] for b in natural], default=0):.1f}); "
              f"missed camps >= 0.2 ha found {found} of {len(missed)}, 0.1-0.2 ha {found_small} of {len(small)}; "
              f"blobs away from camps {away}")


def seeds_of(text):
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recall", required=True, help="recall.json of research/camps/recall.py --gen indep")
    ap.add_argument("--seeds", default="1-22")
    ap.add_argument("--radius", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--mosaic", help="output of tests/tools/make_reserve_mosaic.py: run the candidate study")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[10, 12, 13, 14, 15, 16])
    a = ap.parse_args()
    misses = [m for m in json.load(open(a.recall))["misses"] if m["generator"] == "indep"]
    missed = {(m["seed"], m["id"]) for m in misses if m["area_m2"] >= 2000}
    small = {(m["seed"], m["id"]) for m in misses if 1000 <= m["area_m2"] < 2000}
    base = load(SCENE)
    zone = eligible(base)
    print(f"reserve land where camps are planted: {zone.sum() * PIXEL_M ** 2 / 1e6:.1f} km2")
    with tempfile.TemporaryDirectory() as tmp:
        planted = []
        for s in seeds_of(a.seeds):
            d = os.path.join(tmp, str(s))
            subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "plant_camps_indep.py"), SCENE, d, str(s)],
                           check=True, stdout=subprocess.DEVNULL)
            truth = json.load(open(f"{d}/truth.geojson"))["features"]
            planted.append((s, load(d), truth))
        if a.mosaic:
            return candidate_study(planted, missed, small, zone, a.mosaic, a.thresholds)
        for r in a.radius:
            box = 27 if r == 1 else 41
            natural = anomalies(base, r, box)
            camps = {k: [] for k in natural}
            for s, img, truth in planted:
                z = anomalies(img, r, box)
                ids = rasterize([f["properties"]["outline_wkt"] for f in truth], img, img["B02"].shape)
                for i, f in enumerate(truth):
                    if (s, f["properties"]["id"]) not in missed:
                        continue
                    m = cv2.dilate((ids == i + 1).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
                    for k in camps:
                        camps[k].append(round(float(z[k][m].max()), 1))
            for k in natural:
                print(f"radius {r} px {k:5s} natural max {natural[k][zone].max():5.1f}  missed camps {sorted(camps[k])}")


if __name__ == "__main__":
    main()
