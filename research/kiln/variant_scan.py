#!/usr/bin/python3
"""Scan transformed copies of the dev chips with build/riskmap and score them with riskmap eval.

  /usr/bin/python3 research/kiln/variant_scan.py VARIANT [--set KEY=VALUE ...]

VARIANT: desatS (colour kept: each pixel's departure from its grey scaled by S, e.g. desat0.25),
tan (luminance times a tan tint), sepia, swaprb, or any of research/kiln/common.py's VARIANTS
(grey, hue+60, yiq-60, gain, blur1, up3, down2, ...). Prints TP/FP/FN, precision and recall of
the shipped model, in-sample, as tests/cli/test_kiln_variants_cli.cpp counts them (eval, 60 m,
per chip). Temporary copies are removed.
"""
import sys, os, glob, json, subprocess, tempfile
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
R = os.path.join(REPO, 'build', 'riskmap')
DEV = os.path.join(REPO, 'data', 'kilns-s2-bd-dev')

def transform(a, v):
    a = a.astype(np.float64)
    if v.startswith('desat'):
        s = float(v[5:]); y = a.mean(axis=2, keepdims=True)
        return y + s * (a - y)
    if v == 'tan':  # kiln red -> tan: mix each pixel toward a tan hue of its own luminance
        y = (0.299*a[...,0]+0.587*a[...,1]+0.114*a[...,2])[...,None]
        return y * np.array([1.08, 1.0, 0.85])
    if v == 'sepia':
        m = np.array([[0.393,0.769,0.189],[0.349,0.686,0.168],[0.272,0.534,0.131]])
        return a @ m.T
    if v == 'swaprb':
        return a[..., ::-1]
    img = common.Image('x', a.astype(np.uint8), (0,1,0,0,0,-1))
    return common.make_variant(img, v).rgb.astype(np.float64)

def main():
    v = sys.argv[1]; sets = sys.argv[2:]
    d = tempfile.mkdtemp()
    outs = []
    for p in sorted(glob.glob(DEV + '/chips/*.tif')):
        ds = gdal.Open(p)
        a = np.dstack([ds.GetRasterBand(i+1).ReadAsArray() for i in range(3)])
        b = np.clip(np.round(transform(a, v)), 0, 255).astype(np.uint8)
        q = os.path.join(d, os.path.basename(p)); outs.append(q)
        o = gdal.GetDriverByName('GTiff').Create(q, b.shape[1], b.shape[0], 3, gdal.GDT_Byte)
        o.SetGeoTransform(ds.GetGeoTransform()); o.SetProjection(ds.GetProjection())
        for i in range(3): o.GetRasterBand(i+1).WriteArray(b[..., i])
        o = None; ds = None
    args = [R, 'scan'] + outs + ['--detector', 'kiln', '-o', d + '/k.geojson', '-q']
    for s in sets: args += ['--set', s]
    subprocess.run(args, check=True)
    e = subprocess.run([R, 'eval', '--truth', DEV + '/labels.geojson', '--detections', d + '/k.geojson',
                        '--truth-source-field', 'chip', '--radius-m', '60', '--group-field', 'district', '--json'],
                       check=True, capture_output=True, text=True)
    rep = json.loads(e.stdout); o = rep['overall']
    tp, fp, fn = o['tp'], o['fp'], o['fn']
    print(f"{v:10s} {' '.join(sets):30s} {tp}/{fp}/{fn}  P {tp/max(1,tp+fp):.3f} R {tp/(tp+fn):.3f}")
    subprocess.run(['rm', '-rf', d])
main()
