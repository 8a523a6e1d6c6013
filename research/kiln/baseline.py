"""Figures of the existing C++ detector (/work/snap/riskmap, not rebuilt) on every variant.
Variant chips are written to a temporary folder only for the binary to read."""
import json, os, subprocess, sys, tempfile
import numpy as np
from osgeo import gdal
sys.path.insert(0, os.path.dirname(__file__))
import common as C

BIN = os.environ.get('RISKMAP_BASELINE', '/work/snap/riskmap')  # the pre-issue-10 binary

def write(img, path):
    h, w = img.rgb.shape[:2]
    ds = gdal.GetDriverByName('GTiff').Create(path, w, h, 3, gdal.GDT_Byte)
    ds.SetGeoTransform(img.gt)
    ds.SetProjection('EPSG:4326')
    for i in range(3):
        ds.GetRasterBand(i + 1).WriteArray(img.rgb[..., i].astype(np.uint8))
    ds = None

def run(variants):
    chips = C.load_chips()
    out = {}
    tmp = tempfile.mkdtemp(prefix='kilnbase')
    for v in variants:
        d = os.path.join(tmp, v); os.makedirs(d)
        for c in chips:
            write(C.make_variant(c, v), os.path.join(d, c.name + '.tif'))
        det = os.path.join(d, 'k.geojson')
        subprocess.run([BIN, 'scan', *sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.tif')),
                        '--detector', 'kiln', '-o', det, '--quiet', '--threads', '1'], check=True)
        feats = json.load(open(det))['features']
        dets = {}
        for f in feats:
            ring = f['geometry']['coordinates'][0] if f['geometry']['type'] == 'Polygon' else f['geometry']['coordinates'][0][0]
            xs = np.array(ring[:-1]); lon, lat = xs.mean(0)
            # Overlapping chips: one feature lists every scene it was seen in; eval (with
            # --truth-source-field chip) counts it in each of them.
            for src in f['properties']['sources']:
                dets.setdefault(os.path.basename(src)[:-4], []).append(dict(lon=lon, lat=lat, score=f['properties']['score']))
        r = C.evaluate(dets, chips)
        out[v] = r
        print(v, {k: (t, C.prf(*t)[:2]) for k, t in r.items()}, flush=True)
    return out

if __name__ == '__main__':
    run(sys.argv[1:] or C.VARIANTS)
