"""Prototype of a brick-kiln detector whose candidate stage needs no colour.

This file is the specification in executable form (REPORT.md describes it step by step).
Full-plane neighbourhood filters are only masked box sums and masked Gaussian sums of per-pixel
values (ExactFilters boxSum / gaussianSum in the C++); they are emulated here in float64. Every
other computation is per candidate, inside a disk of `window_m` around the candidate's peak.

Units: lengths in metres; `z` contrasts in units of the local standard deviation (SD) of
log-brightness; chroma contrasts in units of the local chroma SD.
"""
import json
import math

import cv2
import numpy as np
from scipy import ndimage as ndi

DEFAULTS = dict(
    # --- grid
    internal_gsd_m=10.0,      # working grid: block average of finer input (as today)
    max_gsd_m=20.0,           # coarser input cannot resolve a 100 x 50 m kiln (as today)
    dark_offset=0.02,         # of white, added to R, G, B before logs (as today)
    # --- full-plane stage (colour-free)
    background_window_m=400.0,  # box for local mean/SD of log-brightness: kiln+yard << 400 m << landscape
    sd_of='pixel',            # the SD that normalises z: of pixels ('pixel', default) or of Ls ('smooth', tested)
    chroma_sd_of='smooth',    # the chroma SD that normalises chroma contrasts: of kiln-scale smoothed chroma
    sd_floor=0.05,            # ln units: local SD never below this (5 %): flat water, uniform fields
    kiln_sigma_m=20.0,        # Gaussian ~ half the 40-60 m kiln width: matched filter for the body
    cand_nms_m=40.0,          # candidate peaks: strict local maxima of zs within this radius
    min_peak_sd=0.8,          # candidate: smoothed brightness contrast zs >= 0.8 SD
    min_chroma=0.18,          # colour images also: chroma contrast cc >= 0.18 (ln units, ~20 %)
    # --- per-candidate analysis
    window_m=250.0,           # analysis disk around the peak
    region_sd=0.7,            # the bright complex (kiln + yard): z >= 0.7 SD, 8-connected to the peak
    core_sd=1.0,              # the complex's bright core: z >= 1.0 SD
    yard_in_m=90.0,           # yard template: bright disk of 90 m radius about the peak ...
    surround_in_m=160.0, surround_out_m=250.0,  # ... against a ring 160-250 m out
    homog_m=60.0,             # yard homogeneity: SD of z within 60 m
    body_margin_m=40.0,       # colour images: the body is the chroma peak within the complex grown by 40 m
    body_search_m=150.0,      # ... and within 150 m of the peak
    chroma_min=0.02,          # local SD of smoothed chroma below this: no colour evidence (greyscale)
    body_len_m=130.0, body_wid_m=80.0,   # chroma body of a kiln on a ~10 m grid: 100-150 x 40-60 m, blurred
    blob_len_m=75.0, blob_wid_m=50.0,    # brightness blob (half-way above the yard) of a kiln body, 10 m grid
    ms_radius_m=30.0,         # NDVI/NDBI averaged within 30 m of the body
    max_ndvi=0.3,             # with nir: vegetated body -> reject (bare clay/brick NDVI <= 0.2, +0.1 for mixed pixels)
    min_ndbi=-0.2,            # with nir+swir1: wet or vegetated body -> reject (as today)
    max_complex_ha=30.0,      # bright complex larger than 30 ha: a field, river bar or town -> reject
    # --- decision
    det_nms_m=120.0,          # one detection per kiln: bodies closer than this are one object
    complex_nms_m=150.0,      # ... and a body inside a stronger detection's complex within 150 m
    min_probability=0.4,      # default operating point (calibrated probability; ~F1*/2, Lipton et al. 2014)
)

FREE_FEATURES = ['b_peak', 'b_lift', 'bb_mis', 'y_con', 'y_homog', 'ln_area', 'c_fill', 'c_wid',
                 'c_solid']
COLOUR_FEATURES = ['ccz', 'cc_yard', 'cb_mis']
EXTRA_FEATURES = ['c_len', 'c_elong', 'c_core', 'c_zin', 'c_tex', 'c_edge', 'c_open', 'y_in', 'y_out',
                  'b_dist', 'bb_area', 'bb_len', 'bb_wid', 'cb_len', 'cb_wid', 'valid_frac', 'sdL', 'cc', 'red']
ALL_FEATURES = FREE_FEATURES + COLOUR_FEATURES + EXTRA_FEATURES


def odd(n):
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


# ------------------------------------------------------------------ full-plane filters

def box_sum(x, kx, ky):
    """boxSum: sum over a kx x ky box centred on each pixel, zero outside the plane."""
    return ndi.uniform_filter(x.astype(np.float64), (ky, kx), mode='constant') * (kx * ky)


def gauss_sum(x, sx, sy):
    """gaussianSum: separable Gaussian, support +-4 sigma, zero outside (normalise by the mask)."""
    return ndi.gaussian_filter(x.astype(np.float64), (sy, sx), mode='constant', truncate=4.0)


class Grid:
    pass


def resample(img, p):
    """Step 1. Block-average onto the internal grid, anchored on the raster origin. An internal
    pixel is valid when at least half of its input pixels are."""
    f = max(1, int(round(p['internal_gsd_m'] / max(img.gsd_x, img.gsd_y))))
    h, w = img.rgb.shape[:2]
    H, W = h // f, w // f
    g = Grid()
    g.f, g.w, g.h = f, W, H
    g.gx, g.gy = img.gsd_x * f, img.gsd_y * f
    g.img = img

    def blk(a):
        return a[:H * f, :W * f].reshape(H, f, W, f).sum((1, 3))

    v = img.valid[:H * f, :W * f].astype(np.float64)
    cnt = blk(v)
    g.valid = 2 * cnt >= f * f
    c = np.maximum(cnt, 1)
    rgb = np.minimum(img.rgb.astype(np.float64), 255.0)
    g.R, g.G, g.B = [blk(rgb[..., i] * img.valid) / c for i in range(3)]
    g.nir = g.swir = g.red_refl = None
    if img.nir is not None:
        g.nir = blk(np.where(img.valid, img.nir, 0)) / c
        g.red_refl = blk(np.where(img.valid, img.red_refl, 0)) / c
    if img.swir1 is not None and img.nir is not None:
        g.swir = blk(np.where(img.valid, img.swir1, 0)) / c
    return g


def planes(g, p):
    """Step 2. Per-pixel log-brightness L and two orthonormal log-chromaticity coordinates."""
    c0 = p['dark_offset'] * 255.0
    R, G, B = g.R + c0, g.G + c0, g.B + c0
    lr, lg, lb = np.log(R), np.log(G), np.log(B)
    g.L = np.where(g.valid, np.log((R + G + B) / 3.0), 0.0)
    g.c1 = np.where(g.valid, (lr - lg) / math.sqrt(2.0), 0.0)
    g.c2 = np.where(g.valid, (lr + lg - 2.0 * lb) / math.sqrt(6.0), 0.0)
    g.redness = np.where(g.valid, np.minimum(lr - lg, lr - lb), 0.0)
    g.m = g.valid.astype(np.float64)


def background(g, p):
    """Step 3. Brightness contrast in units of the local variability of brightness.
    Ls = masked Gaussian of L (sigma = kiln_sigma_m). Over the background box: the mean mu and
    the SD sd of L (sd_of='pixel') or of Ls (sd_of='smooth'); z = (L - mu) / sd per pixel,
    zs = (Ls - mu) / sd. Five full-plane filters: gaussianSum of m and L; boxSum of m, X, X^2
    with X = L or Ls."""
    kx, ky = odd(p['background_window_m'] / g.gx), odd(p['background_window_m'] / g.gy)
    g.kx, g.ky = kx, ky
    sx, sy = p['kiln_sigma_m'] / g.gx, p['kiln_sigma_m'] / g.gy
    wsum = gauss_sum(g.m, sx, sy)
    Ls = np.where(g.valid & (wsum > 0), gauss_sum(g.L, sx, sy) / np.maximum(wsum, 1e-12), 0.0)
    X = Ls if p['sd_of'] == 'smooth' else g.L
    n = np.maximum(box_sum(g.m, kx, ky), 1)
    mu = box_sum(X, kx, ky) / n
    var = np.maximum(box_sum(X * X, kx, ky) / n - mu * mu, 0.0)
    sd = np.sqrt(np.maximum(var, p['sd_floor'] ** 2))
    g.muL, g.sdL = mu, sd
    g.z = np.where(g.valid, (g.L - mu) / sd, 0.0)
    g.zs = np.where(g.valid, (Ls - mu) / sd, -1e9)


def ellipse(rx_px, ry_px):
    rx, ry = int(math.floor(rx_px)), int(math.floor(ry_px))
    yy, xx = np.mgrid[-ry:ry + 1, -rx:rx + 1]
    return (xx / max(rx_px, 1e-9)) ** 2 + (yy / max(ry_px, 1e-9)) ** 2 <= 1.0


def local_maxima(a, valid, thr, gx, gy, radius_m):
    """Valid pixels with a >= thr that are the maximum of `a` within the radius ellipse; a plateau
    keeps its first pixel in raster order."""
    fp = ellipse(radius_m / gx, radius_m / gy)
    mx = ndi.maximum_filter(np.where(valid, a, -1e9), footprint=fp, mode='constant', cval=-1e9)
    pk = (a >= mx) & (a >= thr) & valid
    ys, xs = np.nonzero(pk)
    out = []
    taken = np.zeros_like(pk)
    ry, rx = fp.shape[0] // 2, fp.shape[1] // 2
    h, w = a.shape
    for y, x in zip(ys, xs):
        y0, y1 = max(0, y - ry), min(h, y + ry + 1)
        x0, x1 = max(0, x - rx), min(w, x + rx + 1)
        if (taken[y0:y1, x0:x1] & fp[y0 - y + ry:y1 - y + ry, x0 - x + rx:x1 - x + rx]).any():
            continue
        taken[y, x] = True
        out.append((int(y), int(x)))
    return out


def candidates(g, p):
    """Step 4. Candidates from two sources, merged: peaks of the smoothed brightness contrast zs
    (colour-free, always) and, in colour images, peaks of the chroma contrast cc (hue-free).
    Returns sorted unique (y, x, source)."""
    out = {(y, x): 'bright' for y, x in local_maxima(g.zs, g.valid, p['min_peak_sd'], g.gx, g.gy, p['cand_nms_m'])}
    if g.has_colour and p['min_chroma'] is not None:
        for y, x in local_maxima(g.cc, g.valid, p['min_chroma'], g.gx, g.gy, p['cand_nms_m']):
            out[(y, x)] = 'both' if (y, x) in out else 'chroma'
    return [(y, x, s) for (y, x), s in sorted(out.items())]


# ------------------------------------------------------------------ per-candidate analysis

def moments(ys, xs, gx, gy):
    """Length and width (4 sqrt of the eigenvalues of the covariance in metres, each pixel a
    square), orientation and centroid of a pixel set (as KilnDetector::measureShape)."""
    n = len(xs)
    mx, my = xs.mean(), ys.mean()
    dx, dy = (xs - mx) * gx, (ys - my) * gy
    den = max(n - 1, 1)
    a = (dx * dx).sum() / den + gx * gy / 12
    c = (dy * dy).sum() / den + gx * gy / 12
    b = (dx * dy).sum() / den
    mid, rad = (a + c) / 2, math.sqrt((a - c) ** 2 / 4 + b * b)
    l1, l2 = max(mid + rad, 1e-6), max(mid - rad, 1e-6)
    return 4 * math.sqrt(l1), 4 * math.sqrt(l2), 0.5 * math.atan2(2 * b, a - c), mx, my


def region(a, seed_y, seed_x, level, allowed, near):
    """8-connected component of {a >= level} within `allowed` that holds the seed; when the seed
    is below the level, the component with most pixels in `near` (ties: lowest label). None when
    there is none."""
    m = (a >= level) & allowed
    nl, lab = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
    l = lab[seed_y, seed_x]
    if l == 0:
        ls, cnts = np.unique(lab[near & m], return_counts=True)
        keep = ls > 0
        ls, cnts = ls[keep], cnts[keep]
        l = ls[np.argmax(cnts)] if len(ls) else 0
    return (lab == l) if l else None


def climb(a, zone, y, x):
    """Steepest ascent on `a` from (y, x) over 8-neighbours inside `zone` (ties: first in raster
    order of the neighbourhood); stops at a local maximum. The start need not be in the zone."""
    h, w = a.shape
    while True:
        best, by, bx = a[y, x] if zone[y, x] else -np.inf, y, x
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = y + dy, x + dx
                if (dy or dx) and 0 <= yy < h and 0 <= xx < w and zone[yy, xx] and a[yy, xx] > best:
                    best, by, bx = a[yy, xx], yy, xx
        if (by, bx) == (y, x):
            return y, x
        y, x = by, bx


def misfit(length, width, l0, w0):
    """Distance of a blob's size from the expected one in log space; 3 (= 20x off) when absent."""
    if length <= 0 or width <= 0:
        return 3.0
    return min(3.0, math.hypot(math.log(length / l0), math.log(width / w0)))


def analyse(g, p, y, x):
    """Step 5. Everything measured around candidate peak (y, x): returns the feature dict, the
    body position and the complex (for NMS)."""
    R = p['window_m']
    gx, gy = g.gx, g.gy
    rx, ry = int(math.ceil(R / gx)), int(math.ceil(R / gy))
    y0, y1, x0, x1 = max(0, y - ry), min(g.h, y + ry + 1), max(0, x - rx), min(g.w, x + rx + 1)
    cy, cx = y - y0, x - x0
    sl = np.s_[y0:y1, x0:x1]
    z, zs, valid = g.z[sl], g.zs[sl], g.valid[sl]
    shape = z.shape
    jj, ii = np.mgrid[0:shape[0], 0:shape[1]]

    def dist(py, px):
        return np.sqrt(((ii - px) * gx) ** 2 + ((jj - py) * gy) ** 2)

    d0 = dist(cy, cx)
    inwin = (d0 <= R) & valid
    near = (d0 <= 60.0) & valid
    near30 = (d0 <= 30.0) & valid
    f = {'peak_sd': float(g.zs[y, x]), 'sdL': float(g.sdL[y, x])}

    # 5a. the bright complex (kiln + drying yard)
    reg = region(z, cy, cx, p['region_sd'], inwin, near)
    if reg is None:
        reg = np.zeros(shape, bool)
        reg[cy, cx] = True
    ys, xs = np.nonzero(reg)
    n = len(xs)
    area = n * gx * gy
    f['c_area'] = area / 1e4
    f['ln_area'] = math.log(max(f['c_area'], 0.01))
    L, W, _, mx, my = moments(ys, xs, gx, gy)
    f['c_len'], f['c_wid'], f['c_elong'] = L, W, L / max(W, 1e-6)
    if n >= 3:
        pts = np.stack([xs * gx, ys * gy], 1).astype(np.float32)
        rect = cv2.minAreaRect(pts)
        f['c_fill'] = min(1.0, area / max((rect[1][0] + gx) * (rect[1][1] + gy), 1e-9))
        hull = cv2.convexHull(pts)
        # hull of the pixel centres grown by half a pixel all round
        ha = cv2.contourArea(hull) + (gx + gy) / 2 * cv2.arcLength(hull, True) / 2 + gx * gy
        f['c_solid'] = min(1.0, area / ha)
    else:
        f['c_fill'], f['c_solid'] = 1.0, 1.0
    rim = inwin & (d0 > R - 1.5 * max(gx, gy))
    f['c_open'] = (reg & rim).sum() / max(rim.sum(), 1)
    f['c_zin'] = float(z[reg].mean())
    f['c_tex'] = float(z[reg].std())
    core = region(z, cy, cx, p['core_sd'], inwin, near)
    f['c_core'] = core.sum() * gx * gy / 1e4 if core is not None else 0.0
    dout = ndi.distance_transform_edt(~reg, sampling=(gy, gx))
    din = ndi.distance_transform_edt(reg, sampling=(gy, gx))
    px = 1.5 * max(gx, gy)
    bi, bo = reg & (din <= px), (~reg) & (dout <= px) & valid
    f['c_edge'] = float((z[bi].mean() if bi.any() else 0) - (z[bo].mean() if bo.any() else 0))
    f['valid_frac'] = min(1.0, inwin.sum() * gx * gy / (math.pi * R * R))

    # 5b. yard template about the peak: a bright disk against a darker ring
    ind = (d0 <= p['yard_in_m']) & valid
    outd = (d0 >= p['surround_in_m']) & (d0 <= p['surround_out_m']) & valid
    f['y_in'] = float(z[ind].mean()) if ind.any() else 0.0
    f['y_out'] = float(z[outd].mean()) if outd.any() else 0.0
    f['y_con'] = f['y_in'] - f['y_out']
    hm = (d0 <= p['homog_m']) & valid
    f['y_homog'] = float(z[hm].std()) if hm.sum() > 1 else 0.0

    # 5c. colour evidence (hue-free): the body is the chroma peak of the complex
    by, bx = cy, cx
    shape_out = None   # (length, width, angle, x, y) of the reported kiln body
    colour = False
    if g.has_colour:
        # local chroma mean and SD over the background box centred on the peak
        kx2, ky2 = g.kx // 2, g.ky // 2
        bsl = np.s_[max(0, y - ky2):y + ky2 + 1, max(0, x - kx2):x + kx2 + 1]
        bm = g.valid[bsl]
        # (of the kiln-scale smoothed chroma, so that pixel noise and fine blur do not change it)
        if p['sd_of'] == 'smooth' or p['chroma_sd_of'] == 'smooth':
            sdc = math.sqrt(max(g.c1s[bsl][bm].var() + g.c2s[bsl][bm].var(), 0.0))
        else:
            sdc = math.sqrt(max(g.c1[bsl][bm].var() + g.c2[bsl][bm].var(), 0.0))
        colour = sdc >= p['chroma_min']
    f['has_colour'] = float(colour)
    if colour:
        c1s, c2s = g.c1s[sl], g.c2s[sl]
        cc = g.cc[sl]
        zone = (dout <= p['body_margin_m']) & (d0 <= p['body_search_m']) & valid
        by, bx = climb(cc, zone, cy, cx)
        f['cc'] = float(cc[by, bx])
        f['ccz'] = f['cc'] / sdc
        yard = reg & (dist(by, bx) > 40.0)
        if yard.sum() >= 3:
            f['cc_yard'] = math.hypot(c1s[by, bx] - g.c1[sl][yard].mean(), c2s[by, bx] - g.c2[sl][yard].mean()) / sdc
        else:
            f['cc_yard'] = 0.0
        f['red'] = float(g.reds[sl][by, bx])
        # chroma body: pixels at least half as far along the body's own chroma direction (from
        # the local background) as the body peak; 8-connected to it (hue-free 'redness')
        b1, b2 = c1s - g.m1[sl], c2s - g.m2[sl]
        u1, u2 = b1[by, bx], b2[by, bx]
        nu = math.hypot(u1, u2)
        proj = (b1 * u1 + b2 * u2) / max(nu, 1e-9)
        cb = region(proj, by, bx, 0.5 * nu, inwin & (dist(by, bx) <= 120.0), dist(by, bx) <= 10.0)
        if cb is not None and cb.sum() >= 2:
            cys, cxs = np.nonzero(cb)
            cl, cw, cang, cmx, cmy = moments(cys, cxs, gx, gy)
            f['cb_len'], f['cb_wid'] = cl, cw
            shape_out = (cl, cw, cang, cmx + x0, cmy + y0)
        else:
            f['cb_len'] = f['cb_wid'] = 0.0
        f['cb_mis'] = misfit(f['cb_len'], f['cb_wid'], p['body_len_m'], p['body_wid_m'])
    else:
        f['cc'] = f['ccz'] = f['cc_yard'] = f['red'] = f['cb_len'] = f['cb_wid'] = f['cb_mis'] = 0.0

    # 5d. the kiln body (colour-free, always at the brightness peak so that these features mean
    # the same with and without colour): zs half-way between the yard level and the peak
    f['b_peak'] = float(zs[cy, cx])
    f['b_dist'] = math.hypot((cx - mx) * gx, (cy - my) * gy)
    level = float(np.median(z[reg]))
    f['b_lift'] = f['b_peak'] - level
    body = None
    if f['b_peak'] > 0:
        body = region(zs, cy, cx, (f['b_peak'] + max(level, 0.0)) / 2, inwin, near30)
    if body is not None and body.sum() >= 2:
        bys, bxs = np.nonzero(body)
        bl, bw, bang, bmx, bmy = moments(bys, bxs, gx, gy)
        f['bb_len'], f['bb_wid'], f['bb_area'] = bl, bw, body.sum() * gx * gy / 1e4
        f['orientation'] = bang
        if not colour:
            shape_out = (bl, bw, bang, bmx + x0, bmy + y0)
    else:
        f['bb_len'] = f['bb_wid'] = f['bb_area'] = 0.0
        f['orientation'] = 0.0
    f['bb_mis'] = misfit(f['bb_len'], f['bb_wid'], p['blob_len_m'], p['blob_wid_m'])

    # 5e. multispectral evidence around the body
    if g.nir is not None:
        bd = (dist(by, bx) <= p['ms_radius_m']) & valid
        nir, red = g.nir[sl][bd], g.red_refl[sl][bd]
        f['ndvi'] = float(((nir - red) / np.maximum(nir + red, 1e-9)).mean())
        if g.swir is not None:
            sw = g.swir[sl][bd]
            f['ndbi'] = float(((sw - nir) / np.maximum(sw + nir, 1e-9)).mean())
    f['y'], f['x'] = int(y), int(x)
    f['by'], f['bx'] = int(by + y0), int(bx + x0)
    # 5f. the reported kiln: centroid, length, width and orientation of the chroma body (colour)
    # or of the brightness blob (no colour); the body pixel when neither region exists
    if shape_out is None:
        shape_out = (0.0, 0.0, 0.0, float(bx + x0), float(by + y0))
    f['length_m'], f['width_m'], f['angle'], f['px'], f['py'] = shape_out
    ry_, rx_ = np.nonzero(reg)
    f['_complex'] = set(((ry_ + y0) * g.w + (rx_ + x0)).tolist())
    return f


def colour_planes(g, p):
    """Chroma smoothed at the kiln scale. In C++ only inside candidate windows (window_m + 4 sigma);
    the values are the same."""
    sx, sy = p['kiln_sigma_m'] / g.gx, p['kiln_sigma_m'] / g.gy
    w = np.maximum(gauss_sum(g.m, sx, sy), 1e-12)
    g.c1s = gauss_sum(g.c1, sx, sy) / w
    g.c2s = gauss_sum(g.c2, sx, sy) / w
    n = np.maximum(box_sum(g.m, g.kx, g.ky), 1)
    g.m1 = box_sum(g.c1, g.kx, g.ky) / n
    g.m2 = box_sum(g.c2, g.kx, g.ky) / n
    g.cc = np.where(g.valid, np.hypot(g.c1s - g.m1, g.c2s - g.m2), 0.0)
    g.reds = gauss_sum(g.redness - box_sum(g.redness, g.kx, g.ky) / n, sx, sy) / w


# ------------------------------------------------------------------ scoring

def gates(f, p):
    """Step 6. Hard physical gates; returns (gate name, measured value, limit) or None."""
    if f.get('ndvi') is not None and f['ndvi'] > p['max_ndvi']:
        return 'ndvi', f['ndvi'], p['max_ndvi']
    if f.get('ndbi') is not None and f['ndbi'] < p['min_ndbi']:
        return 'ndbi', f['ndbi'], p['min_ndbi']
    if f['c_area'] > p['max_complex_ha']:
        return 'complex_area_ha', f['c_area'], p['max_complex_ha']
    return None


class Model:
    """Two-stage logistic evidence model, calibrated.

    logit_free = a0 + sum_i a_i * (x_i - mu_i) / sd_i        over FREE_FEATURES
    logit      = logit_free + [colour] * (b0 + sum_j b_j * (c_j - nu_j) / tau_j)   over COLOUR_FEATURES
    probability = 1 / (1 + exp(-(A_mode * logit + B_mode)))   (Platt; mode = colour or free)
    """

    def __init__(self, d):
        self.d = d

    @staticmethod
    def load(path):
        return Model(json.load(open(path)))

    def logits(self, f):
        d = self.d
        lf = d['free']['intercept'] + sum(w * (f[k] - m) / s for k, w, m, s in
                                          zip(d['free']['features'], d['free']['coef'], d['free']['mean'], d['free']['sd']))
        if f['has_colour'] and d.get('colour'):
            c = d['colour']
            lc = c['intercept'] + sum(w * (f[k] - m) / s for k, w, m, s in
                                      zip(c['features'], c['coef'], c['mean'], c['sd']))
            return lf, lf + lc, 'colour'
        return lf, lf, 'free'

    def probability(self, f):
        lf, l, mode = self.logits(f)
        A, B = self.d['platt'][mode]
        return 1.0 / (1.0 + math.exp(-(A * l + B))), l, mode


def nms(cands, p, key, gx, gy, gw):
    """Step 8. Greedy by `key` (descending; ties by raster order of the peak): a candidate is
    suppressed when its body lies within det_nms_m of a kept body, or within complex_nms_m of a kept
    body and inside that detection's complex (or the kept body inside its complex)."""
    order = sorted(range(len(cands)), key=lambda i: (-key(cands[i]), cands[i]['y'], cands[i]['x']))
    kept = []
    suppressed = {}
    for i in order:
        c = cands[i]
        sup = None
        for j in kept:
            k = cands[j]
            d = math.hypot((c['px'] - k['px']) * gx, (c['py'] - k['py']) * gy)
            if d <= p['det_nms_m'] or (d <= p['complex_nms_m'] and (
                    c['by'] * gw + c['bx'] in k['_complex'] or k['by'] * gw + k['bx'] in c['_complex'])):
                sup = j
                break
        if sup is None:
            kept.append(i)
        else:
            suppressed[i] = (sup, d)
    return kept, suppressed


def body_evidence(c):
    """Which candidate of a complex holds the kiln body: the most chromatic one in colour images
    (chroma contrast, local chroma SD units), else the brightest (zs, SD units)."""
    return c['ccz'] if c['has_colour'] else c['b_peak']


def body_choice(cands, p, gx, gy, gw):
    """Step 7. Within one bright complex, candidates closer than complex_nms_m are one kiln: keep
    the one with the strongest body evidence. Returns the indices kept."""
    order = sorted(range(len(cands)), key=lambda i: (-body_evidence(cands[i]), cands[i]['y'], cands[i]['x']))
    kept, sup = [], {}
    for i in order:
        c = cands[i]
        hit = None
        for j in kept:
            k = cands[j]
            d = math.hypot((c['bx'] - k['bx']) * gx, (c['by'] - k['by']) * gy)
            if d <= p['complex_nms_m'] and (c['y'] * gw + c['x'] in k['_complex'] or k['y'] * gw + k['x'] in c['_complex']):
                hit = (j, d)
                break
        if hit is None:
            kept.append(i)
        else:
            sup[i] = hit
    return kept, sup


def extract(img, p=None, with_colour=True):
    """Steps 1-5 and 6 (gates): the candidates of one scene with their features."""
    p = dict(DEFAULTS, **(p or {}))
    g = resample(img, p)
    planes(g, p)
    background(g, p)
    g.has_colour = with_colour
    if with_colour:
        colour_planes(g, p)
        # an image with no chroma variation at all (greyscale) has no colour evidence
        g.has_colour = bool((g.cc[g.valid] > 1e-6).any())
    out = []
    for (y, x, src) in candidates(g, p):
        f = analyse(g, p, y, x)
        f['source'] = src
        gt = gates(f, p)
        if gt:
            f['rejected_by'] = gt
        # body centre in input pixel-corner coordinates
        f['col'] = (f['px'] + 0.5) * g.f
        f['row'] = (f['py'] + 0.5) * g.f
        out.append(f)
    return g, out


def detect(img, model, p=None, with_colour=True, min_probability=None):
    """The whole detector on one scene: returns (detections, rejected candidates)."""
    p = dict(DEFAULTS, **(p or {}))
    thr = p['min_probability'] if min_probability is None else min_probability
    g, cands = extract(img, p, with_colour)
    live = []
    for c in cands:
        c['probability'], c['logit'], c['mode'] = model.probability(c)
        if 'rejected_by' in c:
            continue
        if c['probability'] < thr:
            c['rejected_by'] = ('probability', c['probability'], thr)
            continue
        live.append(c)
    kept, sup = nms(live, p, lambda c: c['logit'], g.gx, g.gy, g.w)
    for i, (j, d) in sup.items():
        live[i]['rejected_by'] = ('nms', round(d, 1), p['det_nms_m'])
    dets = [live[i] for i in kept]
    for d in dets:
        d['lon'], d['lat'] = img.lonlat(d['col'], d['row'])
        d['score'] = d['probability']
    rejected = [c for c in cands if 'rejected_by' in c]
    return dets, rejected
