#!/usr/bin/python3
"""A 10000 x 10000 raster with real texture for the speed bench (issue 14).

The bundled Sentinel-2 L2A Sundarbans scene (B02, B03, B04, B08; mangrove, rivers, farms,
villages) mirrored and tiled to SIZE x SIZE, values / 6 (the export is reflectance x 65535; / 6
gives Sentinel-2 L2A digital numbers, reflectance x 10000), nodata 0 where the scene has no data,
written as a 4-band UInt16 GeoTIFF with 256-px DEFLATE tiles and band descriptions B02..B08 so
that the sentinel2 profile names the bands. Georeferenced at 10 m in UTM 45N (EPSG:32645).

Usage: bench/make_real_mosaic.py OUT.tif [SIZE]
"""
import os
import sys

import numpy as np
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
SCENE = os.path.join(HERE, "..", "data", "sundarbans-s2-l2a-2020-01-27", "Sentinel-2_L2A_{}_Raw.tiff")
BANDS = ["B02", "B03", "B04", "B08"]


def mirrored(tile, size):
    """The tile repeated with alternate copies flipped, so seams join like the scene's own edges."""
    h, w = tile.shape
    row = np.concatenate([tile if i % 2 == 0 else tile[:, ::-1] for i in range(size // w + 1)], axis=1)
    full = np.concatenate([row if j % 2 == 0 else row[::-1, :] for j in range(size // h + 1)], axis=0)
    return full[:size, :size]


def check_usage():
    """Usage on -h, or on anything but OUT.tif [SIZE]: "--help" was once taken for the output
    path, and a 181 MB file of that name written."""
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        sys.exit(0)
    if not 1 <= len(args) <= 2 or args[0].startswith("-") or (len(args) == 2 and not args[1].isdigit()):
        sys.exit(__doc__.strip().splitlines()[-1])


def main():
    check_usage()
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    gdal.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # the EO Browser export's odd TIFF tags
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(out, size, size, len(BANDS), gdal.GDT_UInt16,
                    ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    ds.SetGeoTransform((600000.0, 10.0, 0.0, 2500000.0, 0.0, -10.0))
    srs = gdal.osr.SpatialReference()
    srs.ImportFromEPSG(32645)
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(BANDS):
        src = gdal.Open(SCENE.format(name))
        value = src.GetRasterBand(1).ReadAsArray().astype(np.float64)
        valid = src.GetRasterBand(2).ReadAsArray() > 0
        dn = np.where(valid, np.clip(np.round(value / 6.0), 1, 65535), 0).astype(np.uint16)
        band = ds.GetRasterBand(i + 1)
        band.SetDescription(name)
        band.SetNoDataValue(0)
        band.WriteArray(mirrored(dn, size))
    ds.FlushCache()
    ds = None
    print(f"wrote {out} ({size} x {size}, 4 bands, real Sundarbans texture)")


if __name__ == "__main__":
    main()
