#!/usr/bin/python3
"""plant_camps_indep.py SCENE_DIR OUT_DIR SEED [--camps N]

A second camp generator for the `clearing` detector, written independently of
tests/support/CampPlanter.cpp and deliberately built on other assumptions:

                    CampPlanter (first)                  this generator
  donor spectra     Sen2Cor "not vegetated" interior      six kinds of ground, each chosen by its
                    pixels (dry January fields)           own rule or spectrum: wet/bank mud, bright
                                                          sand/silt, village roofs, burnt ground, cut and
                                                          drying vegetation, dry fields
  canopy            none: camp pixels are pure donor      35 % of camps keep 15-60 % canopy, varying
                                                          pixel to pixel (huts and racks under trees)
  shape             star polygon, 7-13 vertices,          blob (Fourier outline), elongated strip
                    stretched <= 2.5:1                    (3-8:1, curved, along the bank), compound
                                                          (rectangles: yard + rack rows), ring (a
                                                          tree clump left inside), cluster of 4-20
                                                          huts and racks instead of one patch
  edge              sub-pixel coverage only               soft alpha ramp 1-3 px wide outside the
                                                          outline (thinned forest edge; huts: none),
                                                          then a sensor PSF (Gaussian,
                                                          sigma 5 m on 10 m bands, 10 m on 20 m bands)
  sizes             log-uniform 0.1-3 ha                  log-uniform 0.1-5 ha (clusters <= 1.5 ha)
  water             never painted                         never painted; bank camps touch water
                                                          (big river or creek, recorded)
  placement         >= 1 km from land outside reserve     every painted pixel >= 1 km from land
                    (centre), 400 m apart                 outside the reserve, 500 m apart

Camps are placed inside the reserve and at least 1 km from land outside it, as the first
generator does: the detector rejects by design anything within 1 km of open land (farms,
villages, pond dikes), so a camp planted there measures the remoteness policy, not the
detector. The reserve polygon follows the boundary river's centre line, so land outside it is
the farmed north.

Writes planted copies of Sentinel-2_L2A_{B02,B03,B04,B08,B11,B12}_Raw.tiff (UInt16, sample 1 =
reflectance x 65535, sample 2 = dataMask, same georeferencing), reserve.geojson, and
truth.geojson: one point per camp (centroid of the painted footprint) with id, kind (bank or
inland), area_m2 (footprint on land), size_class, shape, donor, veg_fraction, edge_px,
cleared_m2 (alpha x bare share), difficult (area < 0.1 ha), and the outline as WKT.

numpy and osgeo.gdal only; seeded with numpy's PCG64, reproducible.
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
gdal.PushErrorHandler("CPLQuietErrorHandler")  # EO Browser TIFFs warn about ExtraSamples

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
BAND_GROUP_20M = {"B11", "B12"}  # 20 m native bands: wider PSF
FINE = 8  # sub-pixel oversampling for outlines

# Literature-shaped endmembers (surface reflectance) for kinds the scene has no pure pixels of.
# Burnt forest (post-fire char and ash): NIR falls, SWIR2 rises, NBR <= 0 (Key & Benson 2006).
BURNT = np.array([0.035, 0.045, 0.06, 0.10, 0.15, 0.13])
# Cut, drying vegetation (non-photosynthetic: red edge collapses, SWIR rises with water loss,
# cellulose-lignin dip at 2.1 um keeps B12 below B11; Daughtry 2001, Nagler et al. 2003).
CUT = np.array([0.05, 0.075, 0.10, 0.22, 0.28, 0.20])


# ----------------------------------------------------------------------------- scene

def nd(a, b):
    s = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s != 0, (a - b) / np.where(s != 0, s, 1), 0.0)


def read_scene(scene_dir):
    prefix = os.path.join(scene_dir, "Sentinel-2_L2A_")
    refl, valid, gt, proj = [], None, None, None
    for b in BANDS:
        ds = gdal.Open(prefix + b + "_Raw.tiff")
        v = ds.GetRasterBand(1).ReadAsArray().astype(np.float64) / 65535.0
        m = ds.GetRasterBand(2).ReadAsArray() > 0
        valid = m if valid is None else valid & m
        gt, proj = ds.GetGeoTransform(), ds.GetProjection()
        refl.append(v)
    return np.stack(refl), valid, gt, proj


def pixel_size_m(gt, h):
    """Geodesic size of one pixel at the scene centre (WGS 84), as riskmap computes it."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lat = math.radians(gt[3] + gt[5] * h / 2)
    s = math.sin(lat)
    mx = math.pi / 180 * a * math.cos(lat) / math.sqrt(1 - e2 * s * s)
    my = math.pi / 180 * a * (1 - e2) / (1 - e2 * s * s) ** 1.5
    return abs(gt[1]) * mx, abs(gt[5]) * my


def reserve_mask(scene_dir, h, w):
    fc = json.load(open(os.path.join(scene_dir, "reserve.geojson")))
    poly = np.array(fc["features"][0]["properties"]["pixel_vertices_col_row"], dtype=float)
    yy, xx = np.mgrid[0:h, 0:w]
    return points_in_polygon(poly, xx.ravel() + 0.5, yy.ravel() + 0.5).reshape(h, w)


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


def edt(mask, sy=1.0, sx=1.0):
    """Distance (in the units of sy, sx) from every pixel to the nearest True pixel, by GDAL's
    proximity algorithm (numpy and GDAL only; the same result wherever it runs). Pixels are
    taken as square with the mean of sy and sx (our scenes are square within 0.6 %)."""
    h, w = mask.shape
    drv = gdal.GetDriverByName("MEM")
    src = drv.Create("", w, h, 1, gdal.GDT_Byte)
    src.GetRasterBand(1).WriteArray(mask.astype(np.uint8))
    dst = drv.Create("", w, h, 1, gdal.GDT_Float32)
    if not mask.any():
        return np.full((h, w), np.inf)
    gdal.ComputeProximity(src.GetRasterBand(1), dst.GetRasterBand(1), ["VALUES=1", "DISTUNITS=PIXEL"])
    return dst.GetRasterBand(1).ReadAsArray().astype(np.float64) * (0.5 * (sy + sx))


def connected(mask):
    """True when the mask's pixels form one 8-connected piece."""
    if not mask.any():
        return False
    seed = np.zeros_like(mask)
    y, x = np.argwhere(mask)[0]
    seed[y, x] = True
    while True:
        grown = dilate8(seed) & mask
        if (grown == seed).all():
            return bool((seed == mask).all())
        seed = grown


def dilate8(m):
    o = m.copy()
    o[1:] |= m[:-1]
    o[:-1] |= m[1:]
    o[:, 1:] |= o[:, :-1].copy()
    o[:, :-1] |= o[:, 1:].copy()
    return o


def dilate(mask, r):
    out = mask.copy()
    for _ in range(r):
        o = out.copy()
        o[1:] |= out[:-1]
        o[:-1] |= out[1:]
        o[:, 1:] |= out[:, :-1]
        o[:, :-1] |= out[:, 1:]
        out = o
    return out


# ----------------------------------------------------------------------------- donors

def donor_masks(refl, valid, inres):
    """Masks of real pixels for each donor kind, by rules independent of the detector's indices
    (brightness, whiteness, distance to water or trees), all outside the reserve."""
    b02, b03, b04, b08, b11, b12 = refl
    ndvi = nd(b08, b04)
    wet = (nd(b03, b11) > 0) | (nd(b03, b08) > 0)  # MNDWI or NDWI: open water
    out = valid & ~inres & ~wet
    vis = (b02 + b03 + b04) / 3
    with np.errstate(invalid="ignore", divide="ignore"):
        white = np.minimum(np.minimum(b02, b03), b04) / np.maximum(np.maximum(b02, b03), b04)
    white = np.nan_to_num(white)
    trees = valid & ~inres & ~wet & (ndvi > 0.55)
    near_trees = dilate(trees, 2)
    near_water = dilate(wet & valid, 2)
    mndwi = nd(b03, b11)
    bare_sel = out & ~near_trees & ~near_water & (ndvi < 0.2)
    bright_cut = np.percentile(vis[bare_sel], 97) if bare_sel.any() else 1.0
    masks = {
        # Wet mud of pond beds, dikes and river banks: next to water, moist (MNDWI just below 0).
        "mud": out & near_water & (ndvi < 0.25) & (mndwi > -0.3),
        # The brightest bare ground (top 3 % of visible albedo where NDVI < 0.2), away from
        # village trees and water: sand, threshing floors, dry silt.
        "sand": out & ~near_trees & ~near_water & (ndvi < 0.2) & (vis >= bright_cut),
        # Roofs: bright, grey pixels inside the village tree belts (mixed roof and yard at 18 m).
        "roof": out & near_trees & (vis > 0.12) & (white > 0.7) & (ndvi < 0.3),
        # Dark non-vegetated ground: texture source for burnt ground.
        "dark": out & (ndvi < 0.35) & (b08 < 0.15) & ~near_water,
        # Dry fields away from water and trees (closest to the first generator's donors).
        "field": out & ~near_trees & ~near_water & (ndvi < 0.3) & (vis > 0.08) & (vis <= 0.15),
    }
    # Keep pixels whose 4-neighbours share the kind (no class-edge pixels).
    for k, m in masks.items():
        core = m.copy()
        core[1:] &= m[:-1]
        core[:-1] &= m[1:]
        core[:, 1:] &= m[:, :-1]
        core[:, :-1] &= m[:, 1:]
        masks[k] = core if core.sum() >= 50 else m
    return masks


class Donors:
    def __init__(self, refl, valid, inres):
        self.refl = refl
        self.masks = donor_masks(refl, valid, inres)
        self.pts = {}
        for k, m in self.masks.items():
            if m.sum() == 0:
                raise SystemExit("no donor pixels of kind " + k)
            self.pts[k] = np.argwhere(m)
        self.dark_median = np.median(refl[:, self.masks["dark"]], axis=1)

    def texture(self, kind, rng, hh, ww):
        """A hh x ww window of real pixels of `kind` around a random anchor: a pixel of that kind
        at the same offset is taken as it is; elsewhere one of the 8 nearest pixels of the kind,
        at random (real texture and spatial correlation, no blocks of one repeated pixel)."""
        src = "dark" if kind == "burnt" else kind
        pts = self.pts[src]
        m = self.masks[src]
        H, W = m.shape
        ay, ax = pts[rng.integers(len(pts))]
        yy, xx = np.mgrid[0:hh, 0:ww]
        ty = (ay - hh // 2 + yy).ravel()
        tx = (ax - ww // 2 + xx).ravel()
        inside = (ty >= 0) & (ty < H) & (tx >= 0) & (tx < W)
        own = np.zeros(ty.shape, bool)
        own[inside] = m[ty[inside], tx[inside]]
        reach = max(hh, ww) + 40
        near = pts[(np.abs(pts[:, 0] - ay) <= reach) & (np.abs(pts[:, 1] - ax) <= reach)]
        k = min(8, len(near))
        iy, ix = ty.copy(), tx.copy()
        todo = np.nonzero(~own)[0]
        pick = rng.integers(k, size=len(todo))
        for c in range(0, len(todo), 256):
            sel = todo[c:c + 256]
            d = (ty[sel, None] - near[None, :, 0]) ** 2 + (tx[sel, None] - near[None, :, 1]) ** 2
            nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
            j = nearest[np.arange(len(sel)), pick[c:c + 256]]
            iy[sel], ix[sel] = near[j, 0], near[j, 1]
        tex = self.refl[:, iy.reshape(hh, ww), ix.reshape(hh, ww)]
        if kind == "burnt":  # real texture, burnt level
            tex = tex / self.dark_median[:, None, None] * BURNT[:, None, None]
        return tex


# ----------------------------------------------------------------------------- shapes
# Outlines are lists of rings (x, y) in metres around the camp centre; the first ring of a part is
# its exterior, later rings with hole=True are holes. A shape is a list of (ring, is_hole).

def rot(pts, th):
    c, s = math.cos(th), math.sin(th)
    return np.c_[pts[:, 0] * c - pts[:, 1] * s, pts[:, 0] * s + pts[:, 1] * c]


def ring_area(p):
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def fourier_blob(rng, aspect, rough):
    t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    r = np.ones_like(t)
    for k in range(2, 7):
        r += rng.normal(0, rough / k) * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 0.35, None)
    return np.c_[r * np.cos(t) * math.sqrt(aspect), r * np.sin(t) / math.sqrt(aspect)]


def scaled(rings, area):
    a = sum(ring_area(r) * (-1 if hole else 1) for r, hole in rings)
    s = math.sqrt(area / a)
    return [(r * s, hole) for r, hole in rings]


def shape_blob(rng, area, th):
    p = fourier_blob(rng, rng.uniform(1.0, 2.0), rng.uniform(0.15, 0.45))
    return [(rot(r, th), h) for r, h in scaled([(p, False)], area)]


def shape_ring(rng, area, th):
    outer = fourier_blob(rng, rng.uniform(1.0, 1.6), rng.uniform(0.1, 0.3))
    hole = fourier_blob(rng, rng.uniform(1.0, 1.5), 0.2) * rng.uniform(0.35, 0.5)
    hole += rng.uniform(-0.15, 0.15, 2)
    return [(rot(r, th), h) for r, h in scaled([(outer, False), (hole, True)], area)]


def shape_elongated(rng, area, th):
    """A strip along a curved centre line, 3-8 times longer than wide, width >= 25 m."""
    aspect = rng.uniform(3.0, 8.0)
    width = max(25.0, math.sqrt(area / aspect))
    length = area / width
    if length > 520:  # the detector's 600 m extent limit is not what this tests
        length = 520.0
        width = area / length
    s = np.linspace(-0.5, 0.5, 40) * length
    bend = rng.uniform(-0.25, 0.25) * length
    yc = bend * (1 - (2 * s / length) ** 2) + rng.uniform(-0.06, 0.06) * length * np.sin(2 * math.pi * s / length * rng.uniform(1, 2))
    wob = width / 2 * (1 + 0.25 * np.sin(2 * math.pi * s / length * rng.uniform(2, 4) + rng.uniform(0, 6)))
    dy = np.gradient(yc, s)
    nx, ny = -dy / np.hypot(1, dy), 1 / np.hypot(1, dy)
    left = np.c_[s + nx * wob, yc + ny * wob]
    right = np.c_[s - nx * wob, yc - ny * wob][::-1]
    p = np.r_[left, right]
    p[:, 1] -= yc.mean()
    return [(rot(r, th), h) for r, h in scaled([(p, False)], area)]


def rect(cx, cy, w, h, th):
    p = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return rot(p, th) + [cx, cy]


def shape_compound(rng, area, th):
    """A yard with 1-3 wings at right angles (rack rows, sheds): an L, T or comb outline.
    Returned as separate overlapping rectangles; rasterised as their union."""
    n = int(rng.integers(2, 5))
    rects = []
    yard_w = rng.uniform(1.0, 1.8)
    rects.append(rect(0, 0, yard_w, 1.0, 0))
    for i in range(n - 1):
        side = rng.integers(4)
        lw, ll = rng.uniform(0.25, 0.5), rng.uniform(0.6, 1.4)
        if side == 0:
            rects.append(rect(yard_w / 2 + ll / 2 - 0.05, rng.uniform(-0.3, 0.3), ll, lw, 0))
        elif side == 1:
            rects.append(rect(-yard_w / 2 - ll / 2 + 0.05, rng.uniform(-0.3, 0.3), ll, lw, 0))
        elif side == 2:
            rects.append(rect(rng.uniform(-0.4, 0.4) * yard_w, 0.5 + ll / 2 - 0.05, lw, ll, 0))
        else:
            rects.append(rect(rng.uniform(-0.4, 0.4) * yard_w, -0.5 - ll / 2 + 0.05, lw, ll, 0))
    return [(rot(r, th), False) for r in rects], True  # union: area fixed after rasterising


def shape_cluster(rng, area, th):
    """4-20 huts (6-16 m) and drying racks (2-4 m x 15-50 m) scattered over a yard 1.5 to 3.5
    times their total footprint, among the trees. Returned as separate rectangles, rasterised as their union."""
    n = int(rng.integers(4, 21))
    parts, total = [], 0.0
    fp = []
    for i in range(n):
        if rng.uniform() < 0.35:
            w, h = rng.uniform(2, 4), rng.uniform(15, 50)  # rack
        else:
            w, h = rng.uniform(6, 16), rng.uniform(6, 16)  # hut
        fp.append((w, h))
        total += w * h
    s = math.sqrt(area / total)
    spread = math.sqrt(area * rng.uniform(1.5, 3.5) / math.pi)
    base = rng.uniform(0, math.pi)
    for w, h in fp:
        r = spread * math.sqrt(rng.uniform())
        a = rng.uniform(0, 2 * math.pi)
        ang = base + (rng.uniform(-0.2, 0.2) if rng.uniform() < 0.7 else rng.uniform(0, math.pi))
        parts.append((rect(r * math.cos(a), r * math.sin(a), w * s, h * s, ang), False))
    return parts, True


SHAPES = ["blob", "elongated", "compound", "ring", "cluster"]
SHAPE_P = [0.25, 0.2, 0.15, 0.1, 0.3]
DONORS = ["mud", "sand", "roof", "burnt", "cut", "field"]
DONOR_P = [0.22, 0.16, 0.16, 0.12, 0.16, 0.18]


def union_area(parts, n=400):
    """Area of the union of separate rings, on an n x n grid over their bounding box."""
    allp = np.vstack([r for r, _ in parts])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    mask = np.zeros((n, n), bool)
    for r, _ in parts:
        mask |= fill_rings(n, n, [(r - lo) / span * n])
    return mask.mean() * span[0] * span[1]


def make_shape(style, rng, area, th):
    if style == "blob":
        return shape_blob(rng, area, th), False
    if style == "ring":
        return shape_ring(rng, area, th), False
    if style == "elongated":
        return shape_elongated(rng, area, th), False
    parts, union = shape_compound(rng, area, th) if style == "compound" else shape_cluster(rng, area, th)
    s = math.sqrt(area / union_area(parts))
    return [(r * s, h) for r, h in parts], union


# ----------------------------------------------------------------------------- rasterising

def fill_rings(fine_h, fine_w, rings_fine):
    """Even-odd fill of rings (fine-pixel coordinates) on a fine grid, sampled at cell centres."""
    yy, xx = np.mgrid[0:fine_h, 0:fine_w]
    x, y = xx.ravel() + 0.5, yy.ravel() + 0.5
    inside = np.zeros(x.shape, bool)
    for ring in rings_fine:
        inside ^= points_in_polygon(ring, x, y)
    return inside.reshape(fine_h, fine_w)


def coverage(parts, union, cx, cy, px, py, edge_m, margin_px):
    """Alpha per scene pixel for the shape centred at pixel-corner coordinates (cx, cy).
    Alpha = 1 inside the outline (the cleared camp), falling linearly to 0 over edge_m outside it
    (thinned, trampled forest edge blending into the canopy)."""
    allp = np.vstack([r for r, _ in parts])
    hx = np.abs(allp[:, 0]).max() / px + margin_px
    hy = np.abs(allp[:, 1]).max() / py + margin_px
    x0, y0 = int(math.floor(cx - hx)), int(math.floor(cy - hy))
    x1, y1 = int(math.ceil(cx + hx)), int(math.ceil(cy + hy))
    fh, fw = (y1 - y0) * FINE, (x1 - x0) * FINE
    mask = np.zeros((fh, fw), bool)
    if union:
        for r, _ in parts:
            rf = np.c_[(r[:, 0] / px + cx - x0) * FINE, (r[:, 1] / py + cy - y0) * FINE]
            mask |= fill_rings(fh, fw, [rf])
    else:
        rings = [np.c_[(r[:, 0] / px + cx - x0) * FINE, (r[:, 1] / py + cy - y0) * FINE] for r, _ in parts]
        mask = fill_rings(fh, fw, rings)
    sy, sx = py / FINE, px / FINE
    if edge_m > 0:
        d_out = edt(mask, sy, sx)       # outside: distance to the shape
        alpha_f = np.where(mask, 1.0, np.clip(1 - (d_out - 0.5 * min(sx, sy)) / edge_m, 0, 1))
    else:
        alpha_f = mask.astype(float)
    alpha = alpha_f.reshape(y1 - y0, FINE, x1 - x0, FINE).mean(axis=(1, 3))
    footprint = mask.reshape(y1 - y0, FINE, x1 - x0, FINE).mean(axis=(1, 3))
    return x0, y0, alpha, footprint, mask


def outline_wkt(parts, union, cx, cy, gt, px, py):
    def lonlat(r):
        col, row = r[:, 0] / px + cx, r[:, 1] / py + cy
        return np.c_[gt[0] + gt[1] * col + gt[2] * row, gt[3] + gt[4] * col + gt[5] * row]

    def ring_txt(r):
        q = lonlat(r)
        q = np.r_[q, q[:1]]
        return "(" + ",".join("%.7f %.7f" % (a, b) for a, b in q) + ")"

    if union:  # separate (possibly overlapping) parts: a MULTIPOLYGON of them
        return "MULTIPOLYGON(" + ",".join("(" + ring_txt(r) + ")" for r, _ in parts) + ")"
    return "POLYGON(" + ",".join(ring_txt(r) for r, _ in parts) + ")"


def gaussian_blur(img, sigma):
    if sigma <= 0:
        return img
    rad = int(math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-rad, rad + 1) / sigma) ** 2)
    k /= k.sum()
    p = np.pad(img, rad, mode="edge")
    p = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 1, p)
    p = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 0, p)
    return p


def size_class(a):
    ha = a / 1e4
    for lo, hi in [(0, 0.1), (0.1, 0.2), (0.2, 0.5), (0.5, 1), (1, 2), (2, 5)]:
        if ha < hi:
            return "%g-%g ha" % (lo, hi)
    return ">=5 ha"


# ----------------------------------------------------------------------------- planting

def plant(scene_dir, out_dir, seed, n_camps, min_ha=0.1, max_ha=5.0, bank_share=0.5, sep_m=500.0,
          remote_m=1000.0, partveg_share=0.35):
    refl, valid, gt, proj = read_scene(scene_dir)
    nb, H, W = refl.shape
    px, py = pixel_size_m(gt, H)
    inres = reserve_mask(scene_dir, H, W)
    b02, b03, b04, b08, b11, b12 = refl
    water = valid & ((nd(b03, b11) > 0) | (nd(b03, b08) > 0))
    land = valid & ~water
    d_out = edt(land & ~inres, py, px)      # metres to land outside the reserve
    d_wat = edt(water, py, px)
    gy_w, gx_w = np.gradient(d_wat)  # points away from the water
    water_r = edt(~water, py, px)           # inside water: distance to its bank (half width)
    domain = inres & land & (d_out >= remote_m)
    donors = Donors(refl, valid, inres)
    rng = np.random.default_rng(seed)
    orig = refl.copy()
    planted = refl.copy()
    occupied = np.zeros((H, W), bool)
    camps = []
    tries = 0
    shore = domain & dilate(water, 1) & ~water  # land pixels touching water
    shore_pts = np.argwhere(shore)
    inland_pts = np.argwhere(domain & (d_wat >= 60))
    while len(camps) < n_camps and tries < 300 * n_camps:
        tries += 1
        area = math.exp(rng.uniform(math.log(min_ha), math.log(max_ha))) * 1e4
        style = SHAPES[rng.choice(len(SHAPES), p=SHAPE_P)]
        if style == "cluster" and area > 1.5e4:
            style = "blob"
        donor = DONORS[rng.choice(len(DONORS), p=DONOR_P)]
        bank = rng.uniform() < bank_share
        partveg = rng.uniform() < partveg_share
        veg = rng.uniform(0.15, 0.6) if partveg else 0.0
        edge_px = int(rng.integers(1, 4)) if style != "cluster" else 0
        th = rng.uniform(0, math.pi)
        pts = shore_pts if bank else inland_pts
        if len(pts) == 0:
            continue
        y, x = pts[rng.integers(len(pts))]
        if occupied[y, x]:
            continue
        if bank:
            # Orient along the shore and push the centre inland so that one side meets the water.
            ny, nx = gy_w[y, x], gx_w[y, x]
            nn = math.hypot(nx, ny)
            if nn == 0:
                continue
            ny, nx = ny / nn, nx / nn
            th = math.atan2(ny, nx) + math.pi / 2  # long axis along the shore
        parts, union = make_shape(style, rng, area, th)
        allp = np.vstack([r for r, _ in parts])
        if bank:
            # distance from centre to the shape's edge towards the water (along -normal)
            proj_n = allp[:, 0] * nx + allp[:, 1] * ny
            push = -proj_n.min() * rng.uniform(0.75, 0.95)
            cx = x + 0.5 + nx * push / px
            cy = y + 0.5 + ny * push / py
        else:
            cx, cy = x + 0.5, y + 0.5
        edge_m = edge_px * 0.5 * (px + py)
        x0, y0, alpha, fp, _ = coverage(parts, union, cx, cy, px, py, edge_m, margin_px=edge_px + 2)
        hh, ww = alpha.shape
        if x0 < 0 or y0 < 0 or x0 + ww > W or y0 + hh > H:
            continue
        win = (slice(y0, y0 + hh), slice(x0, x0 + ww))
        lw = land[win]
        alpha = alpha * lw  # never paint water
        fp_land = fp * lw
        painted = alpha > 0.01
        if not painted.any() or fp_land.sum() * px * py < 0.5 * area:
            continue
        if not (domain[win] | ~painted).all():  # every painted pixel in the domain
            continue
        if not valid[win][fp > 0].all() or not inres[win][fp > 0].all():  # whole, not cut by nodata
            continue
        if fp_land.sum() < 0.75 * fp.sum():  # mostly on land (bank camps dip into the water)
            continue
        if style != "cluster" and not connected(painted & (alpha >= 0.25)):
            continue  # one piece: a camp split by a creek is two camps
        if (occupied[win] & painted).any():
            continue
        touches = bool((dilate(painted, 1) & water[win]).any())
        if bank and not touches:
            continue
        if not bank and d_wat[win][painted].min() < 40:
            continue
        # Donor spectra, part-vegetated canopy, mixing.
        if donor == "cut":
            base = orig[:, win[0], win[1]]
            rel = base / np.median(base[:, painted], axis=1)[:, None, None]
            tex = rel * CUT[:, None, None]
        else:
            tex = donors.texture(donor, rng, hh, ww)
        if donor in ("sand", "roof"):
            tex = tex * rng.uniform(1.0, 1.35)
        cover = alpha.copy()
        if partveg:
            # Canopy left over the camp: a mean share `veg`, patchy from pixel to pixel.
            noise = gaussian_blur(rng.normal(0, 1, alpha.shape), 0.8)
            noise /= noise.std() or 1
            keep = np.clip(veg + 0.12 * noise, 0.0, 0.9)
            cover = cover * (1 - keep)
        cur = planted[:, win[0], win[1]]
        planted[:, win[0], win[1]] = cover * tex + (1 - cover) * cur
        # Keep camps apart.
        gy0, gx0 = max(0, y0 - int(sep_m / py) - 1), max(0, x0 - int(sep_m / px) - 1)
        gy1, gx1 = min(H, y0 + hh + int(sep_m / py) + 1), min(W, x0 + ww + int(sep_m / px) + 1)
        big = np.zeros((gy1 - gy0, gx1 - gx0), bool)
        big[y0 - gy0:y0 - gy0 + hh, x0 - gx0:x0 - gx0 + ww] = painted
        occupied[gy0:gy1, gx0:gx1] |= edt(big, py, px) <= sep_m
        # Truth.
        wsum = fp_land.sum()
        yy, xx = np.mgrid[y0:y0 + hh, x0:x0 + ww]
        ccol = (fp_land * (xx + 0.5)).sum() / wsum
        crow = (fp_land * (yy + 0.5)).sum() / wsum
        lon = gt[0] + gt[1] * ccol + gt[2] * crow
        lat = gt[3] + gt[4] * ccol + gt[5] * crow
        area_land = wsum * px * py
        near_w = None
        if touches:
            ws = water[win] & dilate(painted, 1)
            # width of the water body it meets: twice the deepest water pixel within ~90 m
            gy0, gx0 = max(0, y0 - 6), max(0, x0 - 6)
            big = np.zeros((min(H, y0 + hh + 6) - gy0, min(W, x0 + ww + 6) - gx0), bool)
            big[y0 - gy0:y0 - gy0 + hh, x0 - gx0:x0 - gx0 + ww] = ws
            near = dilate(big, 5) & water[gy0:gy0 + big.shape[0], gx0:gx0 + big.shape[1]]
            near_w = float(2 * water_r[gy0:gy0 + big.shape[0], gx0:gx0 + big.shape[1]][near].max())
        camps.append({
            "id": len(camps), "kind": "bank" if bank else "inland",
            "area_m2": round(area_land, 1), "size_class": size_class(area_land),
            "shape": style, "donor": donor, "veg_fraction": round(veg, 3),
            "part_vegetated": partveg, "edge_px": edge_px,
            "cleared_m2": round(float((cover * lw).sum() * px * py), 1),
            "touches_water": touches,
            "water_width_m": None if near_w is None else round(near_w, 1),
            "bank_of": None if near_w is None else ("creek" if near_w < 60 else "river"),
            "difficult": bool(area_land < 1000.0),
            "centroid_px": [round(ccol, 2), round(crow, 2)],
            "outline_wkt": outline_wkt(parts, union, cx, cy, gt, px, py),
            "lonlat": [lon, lat],
        })
    if len(camps) < n_camps:
        print("warning: placed %d of %d camps" % (len(camps), n_camps), file=sys.stderr)

    # Sensor PSF on the planted change only (the untouched forest keeps its own texture).
    delta = planted - orig
    for i, b in enumerate(BANDS):
        sig_m = 10.0 if b in BAND_GROUP_20M else 5.0
        sig = sig_m / (0.5 * (px + py))
        if np.any(delta[i]):
            delta[i] = gaussian_blur(delta[i], sig)
    final = np.clip(orig + delta, 0, 1)
    final = np.where(valid[None], final, orig)

    os.makedirs(out_dir, exist_ok=True)
    drv = gdal.GetDriverByName("GTiff")
    for i, b in enumerate(BANDS):
        src_path = os.path.join(scene_dir, "Sentinel-2_L2A_" + b + "_Raw.tiff")
        dst_path = os.path.join(out_dir, "Sentinel-2_L2A_" + b + "_Raw.tiff")
        src = gdal.Open(src_path)
        dst = drv.CreateCopy(dst_path, src, options=["COMPRESS=DEFLATE", "INTERLEAVE=PIXEL", "BLOCKYSIZE=8"])
        v = np.round(final[i] * 65535).astype(np.uint16)
        raw = src.GetRasterBand(1).ReadAsArray()
        v = np.where(valid, v, raw)
        dst.GetRasterBand(1).WriteArray(v)
        dst.FlushCache()
        dst = None
    shutil.copyfile(os.path.join(scene_dir, "reserve.geojson"), os.path.join(out_dir, "reserve.geojson"))

    feats = []
    for c in camps:
        props = {k: v for k, v in c.items() if k not in ("lonlat",)}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [round(c["lonlat"][0], 7), round(c["lonlat"][1], 7)]}})
    truth = {"type": "FeatureCollection", "name": "planted_camps_indep",
             "generator": {"name": "plant_camps_indep.py", "seed": seed, "camps": n_camps,
                           "scene": os.path.abspath(scene_dir)},
             "features": feats}
    with open(os.path.join(out_dir, "truth.geojson"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    return camps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scene_dir")
    ap.add_argument("out_dir")
    ap.add_argument("seed", type=int)
    ap.add_argument("--camps", type=int, default=15)
    ap.add_argument("--min-ha", type=float, default=0.1)
    ap.add_argument("--max-ha", type=float, default=5.0)
    a = ap.parse_args(argv)
    camps = plant(a.scene_dir, a.out_dir, a.seed, a.camps, a.min_ha, a.max_ha)
    print("planted %d camps into %s" % (len(camps), a.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
