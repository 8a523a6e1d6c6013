"""Synthetic scenes for the tiny test models: textured land cover with kiln-, camp-, yard-,
bare-ground- and water-like objects at known positions.

Everything is drawn in surface reflectance first (one spectrum per land-cover type, bands
blue, green, red, nir, swir1), then converted to the bands and data type a model expects.
Objects are rasterised with 4x4 supersampling so their edges have sub-pixel coverage and
their geometry (box / rotated box) is known exactly in pixel coordinates (x right, y down,
origin at the top-left corner of pixel (0, 0)).
"""

import math

import cv2
import numpy as np

BANDS = ("blue", "green", "red", "nir", "swir1")

SPECTRA = {
    "vegetation": (0.035, 0.075, 0.045, 0.34, 0.17),
    "soil": (0.09, 0.13, 0.16, 0.24, 0.29),
    "water": (0.07, 0.07, 0.045, 0.02, 0.012),
    "brick": (0.11, 0.14, 0.33, 0.36, 0.40),    # fired-brick kiln body
    "fuel": (0.035, 0.035, 0.04, 0.05, 0.05),   # dark fuel trench / chimney
    "roof": (0.42, 0.44, 0.45, 0.47, 0.46),     # bright camp roofs / tarpaulin
    "yard": (0.24, 0.25, 0.25, 0.26, 0.30),     # grey drying yard (unfired bricks)
    "bare": (0.20, 0.24, 0.29, 0.33, 0.40),     # cleared / bare ground
}

SS = 4  # supersampling factor


def spectrum(name, bands):
    s = SPECTRA[name]
    return np.array([s[BANDS.index(b)] for b in bands], dtype=np.float32)


def smooth_noise(rng, h, w, cell):
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    g = rng.rand(gh, gw).astype(np.float32)
    return cv2.resize(g, (gw * cell, gh * cell), interpolation=cv2.INTER_CUBIC)[:h, :w]


def background(rng, h, w, bands):
    """Vegetation / soil mosaic with fields, a road or two and pixel noise (reflectance)."""
    f = 0.55 * smooth_noise(rng, h, w, 24) + 0.3 * smooth_noise(rng, h, w, 8) + 0.15 * rng.rand(h, w)
    f = np.clip((f - 0.25) * 1.6, 0, 1).astype(np.float32)  # 1 = vegetation
    # rectangular fields with their own cover fraction
    for _ in range(rng.randint(1, 5)):
        x0, y0 = rng.randint(0, w), rng.randint(0, h)
        fw, fh = rng.randint(w // 6, w // 2), rng.randint(h // 6, h // 2)
        f[y0:y0 + fh, x0:x0 + fw] = np.clip(f[y0:y0 + fh, x0:x0 + fw] * 0.3 + rng.rand() * 0.7, 0, 1)
    veg, soil = spectrum("vegetation", bands), spectrum("soil", bands)
    img = f[None] * veg[:, None, None] + (1 - f[None]) * soil[:, None, None]
    # roads: thin straight lines of bare soil
    for _ in range(rng.randint(0, 3)):
        m = np.zeros((h * SS, w * SS), np.uint8)
        p0 = (int(rng.rand() * w * SS), 0)
        p1 = (int(rng.rand() * w * SS), h * SS - 1)
        if rng.rand() < 0.5:
            p0, p1 = (0, p0[0] * h // w), (w * SS - 1, p1[0] * h // w)
        cv2.line(m, p0, p1, 255, thickness=int(SS * rng.uniform(0.8, 1.8)))
        a = cv2.resize(m.astype(np.float32) / 255, (w, h), interpolation=cv2.INTER_AREA)
        img = img * (1 - a[None]) + a[None] * (spectrum("soil", bands) * 1.25)[:, None, None]
    img *= (1 + 0.06 * rng.randn(1, h, w)).astype(np.float32)  # illumination / texture
    img += (0.006 * rng.randn(len(bands), h, w)).astype(np.float32)  # sensor noise
    return img.astype(np.float32)


def coverage_poly(h, w, pts):
    """Fractional coverage of polygon pts (K, 2) in pixel coords, via 4x4 supersampling."""
    m = np.zeros((h * SS, w * SS), np.uint8)
    q = np.round((np.asarray(pts, np.float64) * SS - 0.5) * 16).astype(np.int32)
    cv2.fillPoly(m, [q.reshape(-1, 1, 2)], 255, lineType=cv2.LINE_8, shift=4)
    return cv2.resize(m.astype(np.float32) / 255, (w, h), interpolation=cv2.INTER_AREA)


def rect_corners(cx, cy, w, h, t):
    c, s = math.cos(t), math.sin(t)
    v1 = np.array([w / 2 * c, w / 2 * s])
    v2 = np.array([-h / 2 * s, h / 2 * c])
    ctr = np.array([cx, cy])
    return np.stack([ctr + v1 + v2, ctr + v1 - v2, ctr - v1 - v2, ctr - v1 + v2])


def paint(img, a, spec):
    return img * (1 - a[None]) + a[None] * spec[:, None, None]


def draw_kiln(img, bands, cx, cy, w, h, t):
    """Brick body with a dark fuel trench along its long axis (the bull's-trench look)."""
    _, H, W = img.shape
    img = paint(img, coverage_poly(H, W, rect_corners(cx, cy, w, h, t)), spectrum("brick", bands))
    tw, th = (w * 0.72, max(1.0, h * 0.28)) if w >= h else (max(1.0, w * 0.28), h * 0.72)
    img = paint(img, coverage_poly(H, W, rect_corners(cx, cy, tw, th, t)), spectrum("fuel", bands))
    return img


def draw_rect(img, bands, cx, cy, w, h, t, cover):
    _, H, W = img.shape
    return paint(img, coverage_poly(H, W, rect_corners(cx, cy, w, h, t)), spectrum(cover, bands))


def place(rng, objs, cx, cy, r, h, w, margin=2):
    if cx - r < margin or cy - r < margin or cx + r > w - margin or cy + r > h - margin:
        return False
    for o in objs:
        if math.hypot(o["cx"] - cx, o["cy"] - cy) < (o["r"] + r) + 3:
            return False
    return True


def scene_axis(rng, h, w, bands, n_max=6):
    """Axis-aligned objects.  class 0 kiln (elongated, horizontal or vertical), class 1 camp
    (small bright near-square roof).  Returns (img reflectance (B, H, W), objects)."""
    img = background(rng, h, w, bands)
    objs = []
    for _ in range(rng.randint(0, n_max + 1) * 3):
        if len(objs) >= n_max:
            break
        cls = int(rng.rand() < 0.45)
        if cls == 0:
            L = rng.uniform(18, 40)
            S = L / rng.uniform(2.2, 3.4)
            bw, bh = (L, S) if rng.rand() < 0.5 else (S, L)
        else:
            bw = rng.uniform(10, 17)
            bh = bw * rng.uniform(0.85, 1.18)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = math.hypot(bw, bh) / 2
        if not place(rng, objs, cx, cy, r, h, w):
            continue
        objs.append({"cls": cls, "cx": cx, "cy": cy, "w": bw, "h": bh, "t": 0.0, "r": r})
    # distractors: irregular bright-soil patches (not objects)
    for _ in range(rng.randint(0, 3)):
        cx, cy, rr = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, 9)
        n = 9
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        pts = np.stack([cx + rr * rng.uniform(0.6, 1.3, n) * np.cos(ang),
                        cy + rr * rng.uniform(0.6, 1.3, n) * np.sin(ang)], 1)
        if place(rng, objs, cx, cy, rr * 1.3, h, w, margin=-100):
            img = paint(img, coverage_poly(h, w, pts), spectrum("bare", bands) * 0.85)
    for o in objs:
        if o["cls"] == 0:
            img = draw_kiln(img, bands, o["cx"], o["cy"], o["w"], o["h"], 0.0)
        else:
            img = draw_rect(img, bands, o["cx"], o["cy"], o["w"], o["h"], 0.0, "roof")
    return img, objs


def scene_rotated(rng, h, w, bands, n_max=6):
    """Rotated objects.  class 0 kiln (aspect 2.2-3.4), class 1 drying yard (grey, aspect
    1.5-1.9).  Angles uniform; stored in long-edge form (w >= h, theta in [0, pi))."""
    img = background(rng, h, w, bands)
    objs = []
    for _ in range(rng.randint(0, n_max + 1) * 3):
        if len(objs) >= n_max:
            break
        cls = int(rng.rand() < 0.4)
        if cls == 0:
            L = rng.uniform(16, 38)
            S = L / rng.uniform(2.2, 3.4)
        else:
            L = rng.uniform(14, 26)
            S = L / rng.uniform(1.5, 1.9)
        t = rng.uniform(0, math.pi)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = math.hypot(L, S) / 2
        if not place(rng, objs, cx, cy, r, h, w):
            continue
        objs.append({"cls": cls, "cx": cx, "cy": cy, "w": L, "h": S, "t": t, "r": r})
    for o in objs:
        if o["cls"] == 0:
            img = draw_kiln(img, bands, o["cx"], o["cy"], o["w"], o["h"], o["t"])
        else:
            img = draw_rect(img, bands, o["cx"], o["cy"], o["w"], o["h"], o["t"], "yard")
    return img, objs


def scene_segment(rng, h, w, bands):
    """Per-pixel labels: 0 background, 1 bare ground (rotated rectangles and blobs),
    2 water (smooth irregular ponds and a channel).  Returns (img, labels uint8 (H, W))."""
    img = background(rng, h, w, bands)
    lab = np.zeros((h, w), np.uint8)
    # water: thresholded smooth noise gives ponds of irregular outline
    if rng.rand() < 0.8:
        n = smooth_noise(rng, h * SS, w * SS, 20 * SS) * 0.7 + smooth_noise(rng, h * SS, w * SS, 8 * SS) * 0.3
        thr = rng.uniform(0.62, 0.75)
        a = cv2.resize((n > thr).astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        img = paint(img, a, spectrum("water", bands))
        lab[a >= 0.5] = 2
    for _ in range(rng.randint(0, 5)):
        L = rng.uniform(8, 30)
        S = L / rng.uniform(1.0, 3.0)
        cx, cy, t = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, math.pi)
        a = coverage_poly(h, w, rect_corners(cx, cy, L, S, t))
        img = paint(img, a, spectrum("bare", bands) * rng.uniform(0.9, 1.1))
        lab[a >= 0.5] = 1
    return img.astype(np.float32), lab


def to_uint8_rgb(refl):
    """True-colour 8-bit rendering: DN = clip(reflectance / 0.5 * 255) (bands as given)."""
    return np.clip(np.round(refl / 0.5 * 255.0), 0, 255).astype(np.uint8)


def to_uint16_dn(refl):
    """Sentinel-2 L2A style integer: DN = reflectance * 10000."""
    return np.clip(np.round(refl * 10000.0), 0, 65535).astype(np.uint16)
