#!/usr/bin/python3
"""make_reserve_mosaic.py SCENE_DIR OUT_DIR [--tiles-x 4] [--tiles-y 4] [--min-dist-outside-m 300]

A large test area of real mangrove texture for counting false alarms of the `clearing` detector:
the reserve part of the Sundarbans scene (SCENE_DIR/reserve.geojson), cut to its bounding box and
laid out tiles-x by tiles-y times, every other copy mirrored (left-right in odd columns, up-down in
odd rows). Mirroring makes each seam a line of symmetry, so texture, creeks and the forest canopy
run on across it: a seam creates no straight artificial edge and no step in brightness.

The tile's edges are trimmed until no edge crosses the scene's own nodata inside the reserve
(the slanted swath edge in the south-east), so that no seam carries a line of nodata.
Everything outside the reserve (the farmed north and the boundary river's far half) is set to
nodata through each file's dataMask sample (value 0, mask 0), as are the scene's own nodata
pixels. So is every reserve pixel closer than --min-dist-outside-m (default 300 m) to land
outside the reserve: the hand-drawn reserve polygon takes in slivers of the farmed far bank
(fields and pond dikes, up to ~200 px), which in a mosaic lose their farmland context and look
like clearings enclosed by forest. They are not forest texture.

With the farmland gone, nothing in the mosaic is "open land" except what the reserve itself
holds, so remoteness never rejects a patch: the count is of the forest texture alone and errs on
the side of more false alarms.

Writes OUT_DIR/Sentinel-2_L2A_{B02,B03,B04,B08,B11,B12}_Raw.tiff (UInt16, sample 1 = reflectance
x 65535, sample 2 = dataMask, EPSG:4326 with the scene's pixel size, starting at the reserve's
north-west corner and extending east and south; the mosaic's coordinates are not real places) and
OUT_DIR/mosaic.json with the reserve area (valid pixels, and land: MNDWI <= 0), the layout and
the geodesic pixel size.

Caveat for statistics: the copies repeat the same ~31 km2 of reserve (~24 km2 of land). A patch far from a seam
gets the same decision in every copy, so the mosaic tests seams and repeats the scene; it is not
300 km2 of independent forest.

numpy and osgeo.gdal only.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
gdal.PushErrorHandler("CPLQuietErrorHandler")

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]


def points_in_polygon(poly, x, y):
    inside = np.zeros(x.shape, bool)
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        cross = (y1 > y) != (y2 > y)
        with np.errstate(invalid="ignore", divide="ignore"):
            xi = (x2 - x1) * (y - y1) / (y2 - y1) + x1
        inside ^= cross & (x < xi)
    return inside


def pixel_size_m(gt, row):
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lat = math.radians(gt[3] + gt[5] * row)
    s = math.sin(lat)
    mx = math.pi / 180 * a * math.cos(lat) / math.sqrt(1 - e2 * s * s)
    my = math.pi / 180 * a * (1 - e2) / (1 - e2 * s * s) ** 1.5
    return abs(gt[1]) * mx, abs(gt[5]) * my


def proximity(mask):
    """Distance in pixels to the nearest True pixel (GDAL's proximity algorithm)."""
    h, w = mask.shape
    if not mask.any():
        return np.full((h, w), np.inf)
    drv = gdal.GetDriverByName("MEM")
    src = drv.Create("", w, h, 1, gdal.GDT_Byte)
    src.GetRasterBand(1).WriteArray(mask.astype(np.uint8))
    dst = drv.Create("", w, h, 1, gdal.GDT_Float32)
    gdal.ComputeProximity(src.GetRasterBand(1), dst.GetRasterBand(1), ["VALUES=1", "DISTUNITS=PIXEL"])
    return dst.GetRasterBand(1).ReadAsArray().astype(np.float64)


def main(argv=None):
    ap = argparse.ArgumentParser(description="mirrored mosaic of the reserve's texture")
    ap.add_argument("scene_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--tiles-x", type=int, default=4)
    ap.add_argument("--tiles-y", type=int, default=4)
    ap.add_argument("--min-dist-outside-m", type=float, default=300.0)
    a = ap.parse_args(argv)

    prefix = os.path.join(a.scene_dir, "Sentinel-2_L2A_")
    vals, valid, gt, srs = [], None, None, None
    for b in BANDS:
        ds = gdal.Open(prefix + b + "_Raw.tiff")
        vals.append(ds.GetRasterBand(1).ReadAsArray())
        m = ds.GetRasterBand(2).ReadAsArray() > 0
        valid = m if valid is None else valid & m
        gt, srs = ds.GetGeoTransform(), ds.GetProjection()
    H, W = valid.shape
    fc = json.load(open(os.path.join(a.scene_dir, "reserve.geojson")))
    poly = np.array(fc["features"][0]["properties"]["pixel_vertices_col_row"], dtype=float)
    yy, xx = np.mgrid[0:H, 0:W]
    inres = points_in_polygon(poly, xx.ravel() + 0.5, yy.ravel() + 0.5).reshape(H, W)
    g = vals[1].astype(np.float64)
    s = vals[4].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mndwi = np.where(g + s > 0, (g - s) / (g + s), 0)
    outside_land = valid & ~inres & (mndwi <= 0)
    gx0, gy0 = pixel_size_m(gt, H / 2)
    d_out = proximity(outside_land) * 0.5 * (gx0 + gy0)
    keep = inres & valid & (d_out >= a.min_dist_outside_m)
    rows = np.nonzero(keep.any(axis=1))[0]
    cols = np.nonzero(keep.any(axis=0))[0]
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    # Trim edges that cross the scene's own nodata inside the reserve (the slanted swath edge):
    # mirrored, such an edge would become a line of nodata through the forest at every seam.
    # Each step trims the side whose edge line has the most such pixels, so a slanted edge costs
    # a few columns, not every row.
    bad = inres & ~valid
    while True:
        edges = {"top": bad[r0, c0:c1].sum(), "bottom": bad[r1 - 1, c0:c1].sum(),
                 "left": bad[r0:r1, c0].sum(), "right": bad[r0:r1, c1 - 1].sum()}
        side = max(edges, key=lambda k: edges[k])
        if edges[side] == 0 or r1 - r0 < 3 or c1 - c0 < 3:
            break
        if side == "top":
            r0 += 1
        elif side == "bottom":
            r1 -= 1
        elif side == "left":
            c0 += 1
        else:
            c1 -= 1
    tile_keep = keep[r0:r1, c0:c1]
    th, tw = tile_keep.shape

    def lay(tile):
        out = np.zeros((th * a.tiles_y, tw * a.tiles_x), tile.dtype)
        for ty in range(a.tiles_y):
            for tx in range(a.tiles_x):
                t = tile
                if tx % 2:
                    t = t[:, ::-1]
                if ty % 2:
                    t = t[::-1, :]
                out[ty * th:(ty + 1) * th, tx * tw:(tx + 1) * tw] = t
        return out

    mask = lay(tile_keep)
    os.makedirs(a.out_dir, exist_ok=True)
    ogt = (gt[0] + c0 * gt[1], gt[1], 0.0, gt[3] + r0 * gt[5], 0.0, gt[5])
    drv = gdal.GetDriverByName("GTiff")
    mh, mw = mask.shape
    for b, v in zip(BANDS, vals):
        big = lay(v[r0:r1, c0:c1])
        big = np.where(mask, big, 0).astype(np.uint16)
        path = os.path.join(a.out_dir, "Sentinel-2_L2A_" + b + "_Raw.tiff")
        ds = drv.Create(path, mw, mh, 2, gdal.GDT_UInt16,
                        options=["COMPRESS=DEFLATE", "INTERLEAVE=PIXEL", "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
        ds.SetGeoTransform(ogt)
        ds.SetProjection(srs)
        ds.GetRasterBand(1).WriteArray(big)
        ds.GetRasterBand(2).WriteArray(mask.astype(np.uint16))
        ds.FlushCache()
        ds = None

    # Areas (geodesic pixel size per row, WGS 84).
    land = lay(tile_keep & (mndwi[r0:r1, c0:c1] <= 0))
    row_area = np.array([np.prod(pixel_size_m(ogt, r + 0.5)) for r in range(mh)])
    area = float((mask.sum(axis=1) * row_area).sum() / 1e6)
    land_area = float((land.sum(axis=1) * row_area).sum() / 1e6)
    gx, gy = pixel_size_m(ogt, mh / 2)
    info = {
        "scene": os.path.abspath(a.scene_dir),
        "tile_window_px": {"col0": int(c0), "row0": int(r0), "cols": int(tw), "rows": int(th)},
        "tiles": [a.tiles_x, a.tiles_y],
        "size_px": [int(mw), int(mh)],
        "gsd_m_centre": [gx, gy],
        "reserve_area_km2": round(area, 3),
        "reserve_land_km2": round(land_area, 3),
        "one_copy_reserve_area_km2": round(area / (a.tiles_x * a.tiles_y), 3),
        "one_copy_land_km2": round(land_area / (a.tiles_x * a.tiles_y), 3),
        "mirroring": "odd columns left-right, odd rows up-down",
        "min_dist_outside_m": a.min_dist_outside_m,
    }
    json.dump(info, open(os.path.join(a.out_dir, "mosaic.json"), "w"), indent=1)
    print("mosaic %d x %d px, reserve %.1f km2 (land %.1f km2) in %s" % (mw, mh, area, land_area, a.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
