#!/usr/bin/python3
"""Writes the benchmark raster: SIZE x SIZE, 4-band UInt16 (blue, green, red, nir as
reflectance x 10000), 256-pixel tiles, DEFLATE. Fields, vegetation, bare patches and ponds with
sensor-like noise, so that compression and detector work resemble a real scene."""
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def main(path, size=10000, seed=42):
    rng = np.random.default_rng(seed)
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, size, size, 4, gdal.GDT_UInt16,
                    ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE",
                     "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS"])
    ds.SetGeoTransform([500000, 10, 0, 2600000, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32645)
    ds.SetSpatialRef(srs)
    for b, name in enumerate(["B02", "B03", "B04", "B08"], start=1):
        ds.GetRasterBand(b).SetDescription(name)
    veg = np.array([400, 800, 500, 3200], dtype=np.float32)
    bare = np.array([1500, 1700, 2100, 2400], dtype=np.float32)
    water = np.array([600, 1000, 500, 250], dtype=np.float32)
    strip = 512
    xs = np.arange(size, dtype=np.float32)
    for y0 in range(0, size, strip):
        h = min(strip, size - y0)
        ys = np.arange(y0, y0 + h, dtype=np.float32)[:, None]
        # Field pattern: smooth fields of mixed cover with sharp edges every ~300 m.
        field = (np.sin(xs[None, :] / 37.0) * np.cos(ys / 29.0) + np.sin((xs[None, :] + ys) / 53.0))
        frac = np.clip(0.5 + 0.4 * field, 0, 1)
        bare_mask = field > 1.1
        water_mask = field < -1.35
        out = np.empty((4, h, size), dtype=np.uint16)
        for b in range(4):
            v = veg[b] * frac + bare[b] * (1 - frac)
            v = np.where(bare_mask, bare[b], v)
            v = np.where(water_mask, water[b], v)
            v = v + rng.normal(0, 40, size=(h, size)).astype(np.float32)
            out[b] = np.clip(v, 1, 65535).astype(np.uint16)
        for b in range(4):
            ds.GetRasterBand(b + 1).WriteArray(out[b], 0, y0)
    ds = None


if __name__ == "__main__":
    asked = any(a in ("-h", "--help") for a in sys.argv[1:])
    if asked or not 2 <= len(sys.argv) <= 3 or sys.argv[1].startswith("-") or (len(sys.argv) == 3 and not sys.argv[2].isdigit()):
        print(__doc__)
        sys.exit(0 if asked else 1)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
