"""Data, image variants and evaluation shared by the kiln prototype.

Everything here mirrors what riskmap does: chips are read as 8-bit display RGB, positions are
lon/lat, matching is one-to-one within 60 m per chip with `difficult` labels as don't-care
(PointMatcher::match: maximum-cardinality, minimum-distance assignment to certain labels first,
then the left-over detections are matched to difficult labels and ignored).
"""
import glob
import json
import math
import os

import cv2
import numpy as np
from osgeo import gdal
from scipy.optimize import linear_sum_assignment

gdal.UseExceptions()
_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data')
DEV = os.path.join(_DATA, 'kilns-s2-bd-dev')
SUND = os.path.join(_DATA, 'sundarbans-s2-l2a-2020-01-27', 'Sentinel-2_L2A_')
DISTRICTS = ['jessore', 'manikganj', 'tangail']

WGS_A = 6378137.0
WGS_E2 = 0.00669437999014


def metres_per_degree(lat):
    """Geodesic metres per degree of longitude and latitude on WGS84 at `lat`."""
    p = math.radians(lat)
    s2 = math.sin(p) ** 2
    mlon = math.pi / 180 * WGS_A * math.cos(p) / math.sqrt(1 - WGS_E2 * s2)
    mlat = math.pi / 180 * WGS_A * (1 - WGS_E2) / (1 - WGS_E2 * s2) ** 1.5
    return mlon, mlat


class Image:
    """A scene as the detector sees it: display-scale RGB (0-255 floats), optional nir/swir1
    reflectance, a validity mask, the geotransform and the pixel size in metres."""

    def __init__(self, name, rgb, gt, valid=None, nir=None, swir1=None, labels=None, district=None, red_refl=None):
        self.name = name
        self.red_refl = red_refl
        self.rgb = rgb.astype(np.float32)
        self.gt = gt
        h, w = rgb.shape[:2]
        self.valid = np.ones((h, w), bool) if valid is None else valid
        self.nir = nir
        self.swir1 = swir1
        self.labels = labels or []
        self.district = district
        lat = gt[3] + gt[5] * h / 2
        mlon, mlat = metres_per_degree(lat)
        self.gsd_x = abs(gt[1]) * mlon
        self.gsd_y = abs(gt[5]) * mlat

    def lonlat(self, col, row):
        """Pixel-corner coordinates (col, row) -> lon, lat."""
        g = self.gt
        return g[0] + col * g[1], g[3] + row * g[5]


def load_chips():
    labels = json.load(open(DEV + '/labels.geojson'))['features']
    out = []
    for f in sorted(glob.glob(DEV + '/chips/*.tif')):
        ds = gdal.Open(f)
        a = ds.ReadAsArray()[:3].transpose(1, 2, 0)
        name = os.path.basename(f)[:-4]
        labs = []
        for l in labels:
            p = l['properties']
            if p['chip'] != name:
                continue
            lon, lat = l['geometry']['coordinates']
            labs.append(dict(lon=lon, lat=lat, difficult=bool(p.get('difficult')), uid=p['kiln_uid'],
                             col=p['col'], row=p['row'], edge=bool(p.get('edge'))))
        out.append(Image(name, a, ds.GetGeoTransform(), labels=labs, district=name.split('_')[0]))
    return out


def load_sundarbans():
    bands = {}
    mask = None
    for nm, b in [('blue', 'B02'), ('green', 'B03'), ('red', 'B04'), ('nir', 'B08'), ('swir1', 'B11')]:
        ds = gdal.Open(SUND + b + '_Raw.tiff')
        v = ds.GetRasterBand(1).ReadAsArray().astype(np.float64) * 1.5259e-5
        m = ds.GetRasterBand(2).ReadAsArray() > 0
        bands[nm] = v
        mask = m if mask is None else (mask & m)
        gt = ds.GetGeoTransform()
    # Reflectance rendered as Sentinel Hub's true colour: 2.5 x reflectance, clipped, 0-255.
    rgb = np.dstack([np.minimum(255.0, 2.5 * 255.0 * bands[c]) for c in ('red', 'green', 'blue')])
    rgb[~mask] = 0
    return Image('sundarbans', rgb, gt, valid=mask, nir=bands['nir'], swir1=bands['swir1'], red_refl=bands['red'])


def area_km2(img):
    return img.valid.sum() * img.gsd_x * img.gsd_y / 1e6


# ---------------------------------------------------------------- variants (made in code)

def _rgb_to_hsv(rgb):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = rgb.max(-1)
    mn = rgb.min(-1)
    d = mx - mn
    h = np.zeros_like(mx)
    nz = d > 0
    rc = np.where(nz, (mx - r) / np.where(nz, d, 1), 0)
    gc = np.where(nz, (mx - g) / np.where(nz, d, 1), 0)
    bc = np.where(nz, (mx - b) / np.where(nz, d, 1), 0)
    h = np.where(r == mx, bc - gc, np.where(g == mx, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(nz, (h / 6.0) % 1.0, 0)
    s = np.where(mx > 0, d / np.where(mx > 0, mx, 1), 0)
    return h, s, mx


def _hsv_to_rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    i = i.astype(int) % 6
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.dstack([r, g, b])


def hue_rotate_hsv(rgb, deg):
    h, s, v = _rgb_to_hsv(rgb.astype(np.float64))
    return _hsv_to_rgb((h + deg / 360.0) % 1.0, s, v)


def hue_rotate_yiq(rgb, deg):
    """Rotation of the chroma plane about the grey axis (YIQ), the other common 'hue rotate'."""
    m = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    yiq = rgb.astype(np.float64) @ m.T
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    i, q = yiq[..., 1].copy(), yiq[..., 2].copy()
    yiq[..., 1] = c * i - s * q
    yiq[..., 2] = s * i + c * q
    return yiq @ np.linalg.inv(m).T


def q8(a):
    return np.clip(np.round(a), 0, 255).astype(np.uint8).astype(np.float32)


def resample_gt(gt, k):
    return (gt[0], gt[1] / k, gt[2], gt[3], gt[4], gt[5] / k)


VARIANTS = ['orig', 'grey', 'hue+60', 'hue-60', 'yiq+60', 'yiq-60', 'gain', 'gamma0.7', 'gamma1.4',
            'blur1', 'up3', 'up10', 'down2', 'noise3', 'noise8']


def make_variant(img, v, seed=0):
    """Returns a new Image: the variant `v` of an 8-bit chip (results re-quantised to 8 bits)."""
    a = img.rgb.astype(np.float64)
    gt = img.gt
    if v == 'orig':
        b = a
    elif v == 'grey':
        y = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
        b = np.dstack([y, y, y])
    elif v.startswith('hue'):
        b = hue_rotate_hsv(a, float(v[3:]))
    elif v.startswith('yiq'):
        b = hue_rotate_yiq(a, float(v[3:]))
    elif v == 'gain':
        b = a * np.array([0.8, 1.1, 1.25])
    elif v.startswith('gamma'):
        g = float(v[5:])
        b = 255.0 * (a / 255.0) ** g
    elif v == 'blur1':
        b = cv2.GaussianBlur(a, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    elif v.startswith('up'):
        k = int(v[2:])
        h, w = a.shape[:2]
        b = cv2.resize(a, (w * k, h * k), interpolation=cv2.INTER_CUBIC)
        gt = resample_gt(gt, k)
    elif v == 'down2':
        h, w = a.shape[:2]
        b = a[:h // 2 * 2, :w // 2 * 2].reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
        gt = resample_gt(gt, 0.5)
    elif v.startswith('noise'):
        s = float(v[5:])
        rng = np.random.default_rng(seed + sum(map(ord, img.name)))
        b = a + rng.normal(0, s, a.shape)
    else:
        raise ValueError(v)
    return Image(img.name, q8(b), gt, labels=img.labels, district=img.district)


def grey_sundarbans(img):
    a = img.rgb.astype(np.float64)
    y = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
    return Image(img.name + '-grey', np.dstack([y, y, y]), img.gt, valid=img.valid, nir=img.nir, swir1=img.swir1,
                 red_refl=img.red_refl)


# ---------------------------------------------------------------- evaluation

def _dist_m(lon1, lat1, lon2, lat2):
    mlon, mlat = metres_per_degree((lat1 + lat2) / 2)
    return math.hypot((lon1 - lon2) * mlon, (lat1 - lat2) * mlat)


def _assign(dets, truth, di, ti, radius):
    """Maximum number of pairs within radius, then minimum total distance (eval --method optimal)."""
    if not di or not ti:
        return []
    big = 1e6 * (radius + 1) * (len(di) + 1)
    cost = np.full((len(di), len(ti)), big)
    for a, d in enumerate(di):
        for b, t in enumerate(ti):
            dist = _dist_m(dets[d]['lon'], dets[d]['lat'], truth[t]['lon'], truth[t]['lat'])
            if dist <= radius:
                cost[a, b] = dist - 1e-9 * dets[d].get('score', 0)
    r, c = linear_sum_assignment(cost)
    return [(di[a], ti[b], cost[a, b]) for a, b in zip(r, c) if cost[a, b] < big]


def match_chip(dets, truth, radius=60.0):
    """Returns (tp, fp, fn, det_status list, truth_status list). det_status: 'tp', 'fp', 'ignored'."""
    certain = [i for i, t in enumerate(truth) if not t['difficult']]
    diff = [i for i, t in enumerate(truth) if t['difficult']]
    hits = _assign(dets, truth, list(range(len(dets))), certain, radius)
    dstat = ['fp'] * len(dets)
    tstat = ['fn' if not t['difficult'] else 'dc' for t in truth]
    for d, t, _ in hits:
        dstat[d] = 'tp'
        tstat[t] = 'tp'
    rest = [i for i in range(len(dets)) if dstat[i] != 'tp']
    for d, t, _ in _assign(dets, truth, rest, diff, radius):
        dstat[d] = 'ignored'
    tp = len(hits)
    return tp, dstat.count('fp'), len(certain) - tp, dstat, tstat


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(dets_by_chip, chips, min_score=0.0, radius=60.0):
    """dets_by_chip: name -> list of dicts with lon, lat, score. Returns counts per district and
    overall: dict district -> (tp, fp, fn)."""
    res = {}
    for c in chips:
        ds = [d for d in dets_by_chip.get(c.name, []) if d['score'] >= min_score]
        tp, fp, fn, _, _ = match_chip(ds, c.labels, radius)
        for k in (c.district, 'all'):
            t = res.setdefault(k, [0, 0, 0])
            t[0] += tp
            t[1] += fp
            t[2] += fn
    return res
