#!/usr/bin/python3
"""plant_camps_third.py SCENE_DIR OUT_DIR SEED [--camps N]

A third camp generator, written without reading the detector, the first two generators'
planting code or the detector's design notes. It exists to measure recall on camps whose look
was designed from what Sundarbans camps are (fishers' khal camps, dried-fish "shutki" rack
yards, logging / fuelwood cuts, honey collectors' scattered huts), not from what a detector
measures. Output contract as the other generators (see the end of this docstring).

MODEL IN ONE PARAGRAPH
A camp is laid out as objects in metres on a fine grid (12 x 12 cells per scene pixel,
about 1.5 m cells), each fine cell holding (a) a remaining canopy fraction c and (b) the
spectrum of what is seen through the opening (ground, roof, racks, boats ...), with shadows
cast by the remaining trees and by the objects. The fine scene is c * (existing pixel) +
(1 - c) * (shaded camp material), so the camp is painted as a *change* to the existing
pixel, aggregated to the scene grid through a band-dependent sensor point-spread function.
Nothing is a pure pixel unless a cleared area is much larger than the PSF.

HOW THIS DIFFERS FROM "ONE BRIGHT BARE POLYGON"
  * Most of a camp is not bright: wet bank mud, trampled silt, slash, dark mangrove floor,
    shade. The bright things (tin, white tarp, drying fish, bamboo racks, sand) are small
    objects, sub-pixel, and appear only as mixed pixels.
  * Canopy is kept: trees left standing in yards (0-25 %), selective felling (15-60 % kept),
    hidden camps under thinned canopy (50-80 % kept), trails mostly under canopy.
  * Edges are sharp (machete-cleared, trampled) or thinned over 5-25 m (tree by tree).
  * Forest-edge and tree shadows fall into clearings (sun azimuth 152 deg, elevation 44 deg
    for 2020-01-27 ~10:35 local solar time at 22.2 N), so small gaps are *darker* than
    canopy in NIR, not brighter.
  * Camps hug the water: khal/river-bank strips follow the bank curve, rack yards touch the
    bank, inland camps are 40-300 m from a creek and usually linked to it by a trail.
  * Some camps are 3-8 scattered huts over 80-220 m joined by 1-2 m trails (MULTIPOLYGON).

CAMP KINDS ("shape" in truth)    drawn given size: <= 1.5 ha / > 1.5 ha;  seen in seeds 1-20
  bank_strip     fishers' khal camp: a strip along a creek or river bank,   .24 / .18    20 %
                 10-50 m deep (deeper only so it stays <= 600 m long),
                 depth wobbling +-30 % at ~12 m scale, following the bank
                 (often round a creek mouth); 1-10 huts 4-15 m from the
                 waterline, 0-4 boats pulled up on the mud, 0-4 short
                 rack rows (50 %), fish mats (30 %), fire spots, a trampled
                 path along it; 0-25 % trees kept.
  rack_yard      dried-fish (shutki) yard on a bank: rounded rectangle      .10 / .32    16 %
                 (superellipse, exponent 2.5-5, aspect 1-2.5) touching the
                 water; parallel rows of bamboo racks (1.2-2.2 m wide,
                 3.5-7 m apart, 35-70 % cover, 30-70 % of it fish, broken
                 into 10-40 m segments) over most of it, fish on mats,
                 2-14 huts / sheds (4-12 x 3-6 m) clustered in one part,
                 1-6 boats, fish-smoking fires; 0-10 % trees kept; 70 %
                 sharp-edged.
  felling_patch  logging / fuelwood camp: lobed union of 3-10 felling      .18 / .30    24 %
                 "bites" (ellipses), 15-60 % canopy kept (unfelled trees),
                 30-70 % of the ground under slash (dry or wilting
                 branches) over wet floor, 1-4 log stacks, 0-2 huts,
                 burnt slash heaps, drag trail to the creek (60 %); 70 %
                 thinned edge (8-25 m).
  hut_scatter    honey / crab collectors: 3-8 huts within 40-110 m of      .28 / 0      18 %
                 each other, each in a small clearing (10-60 % canopy
                 kept, 3-8 m thinned edge), joined by 1.0-1.8 m trails
                 (30-70 % canopy over them), trail to the creek (60 %).
                 Footprint is a MULTIPOLYGON.
  under_canopy   a hidden camp: canopy thinned to ~50-80 % over the         .20 / .20    22 %
                 footprint (called thinned_block above 1.5 ha), 1-3 huts
                 in 3-7 m gaps (partly under overhanging crowns), a little
                 trampled ground, a rack (30 %).
Visibility (truth property, computed afterwards): faint = veg_fraction >= 0.5 or less
than 400 m2 of opened canopy; obvious = veg_fraction < 0.3 and >= 2500 m2 opened; else
moderate. Seeds 1-20 (300 camps): 39 % faint, 31 % moderate, 29 % obvious; 57 % bank.
By kind: under_canopy all faint; felling_patch and hut_scatter mostly faint / moderate;
bank_strip and rack_yard mostly obvious. My assumption: in the Sundarbans most camps are
small and temporary, tucked under trees and along khals; large open shutki yards exist
(Dubla char) but are a minority.

SIZES  footprint area log-uniform 0.1-5 ha (the kind is drawn *given* the size, so the
marginal stays log-uniform); hut_scatter only up to 1.5 ha. The footprint is the designed
camp area (yard, clearings, trails, thinned margin, trees kept inside it) clipped to land;
an iteration scales the layout towards the drawn size (seeds 1-20: 0.76-1.17 x, median
0.99). difficult = area < 1000 m2 (rare: only after clipping to land). The centroid of a
curved strip or of scattered huts can lie outside the footprint (it is the centroid).

MATERIALS  reflectance in B02 B03 B04 B08 B11 B12 (surface reflectance, 0-1)
 from this scene (each camp averages 5 random pixels of the pool):
  scene_bank_mud     reserve land pixels next to water, NDVI < .3, B08 >= .08
                     (n ~ 520; median .064 .086 .068 .103 .062 .032: wet mud at the waterline)
  scene_field_soil   land outside the reserve, NDVI < .12, B08 >= .10, B04 >= .09
                     (dry January rice fields; median .091 .111 .111 .128 .136 .100):
                     trampled / compacted silt of a yard
  scene_bright_bare  land outside the reserve, NDVI < .2, B02 >= 99th percentile (village
                     courtyards, roofs, threshing floors; median .142 .175 .198 .252 .274 .232):
                     dry, salt-crusted trampled yard of a rack yard
  canopy             the existing pixel itself (whatever is left standing)
 literature-shaped (my numbers; shapes after USGS / ECOSTRESS-type library spectra):
  tin_new          .36 .38 .39 .40 .37 .33   galvanised corrugated sheet, diffuse
  tin_rusty        .09 .11 .16 .24 .29 .26
  tarp_blue        .30 .20 .08 .42 .32 .21   PE tarpaulin: blue peak, red trough, NIR high
  tarp_orange      .08 .16 .45 .55 .38 .25
  tarp_white       .50 .52 .53 .55 .45 .32
  tarp_black       .04 .04 .04 .05 .05 .05
  thatch_dry       .08 .11 .14 .30 .34 .24   sun-dried golpata (Nypa) leaves: low NDVI, SWIR up
  thatch_weathered .10 .12 .13 .20 .24 .19
  thatch_fresh     .04 .07 .07 .28 .22 .12   recently cut golpata, still green
  bamboo_dry       .13 .18 .25 .40 .42 .31   rack poles, mats
  fish_drying      .20 .23 .26 .32 .30 .24   salted / sun-dried fish, silvery brown
  sand_char        .14 .18 .22 .27 .33 .28   grey micaceous char sand
  mangrove_floor   .05 .07 .075 .15 .13 .075 sunlit wet clay, pneumatophores, litter
  ash_grey         .10 .11 .12 .14 .17 .17
  charcoal         .03 .03 .03 .04 .05 .05
  slash_dry        .06 .09 .12 .24 .32 .22   dead leaves and branches
  slash_fresh      .04 .07 .06 .24 .18 .09   wilting cut branches
  logs             .07 .09 .12 .22 .26 .19   bark and cut ends
  boat_wood        .05 .06 .06 .09 .10 .08   tarred / old wood
  boat_painted     .10 .14 .10 .16 .12 .08
 Each camp multiplies every material by exp(N(0, .10)) and each band by 1 + N(0, .03);
 ground gets a +-8 % texture at ~3 m scale. Roofs (camps / rack yards): thatch_dry .30/.20,
 thatch_weathered .15/.10, thatch_fresh .05/0, tarp_blue .17/.20, tarp_black .08/.05,
 tarp_orange .04/.05, tarp_white .05/.08, tin_rusty .10/.17, tin_new .06/.15.
 Shadow multiplies shaded material by .40 .33 .27 .20 .16 .15 (diffuse light only, hazy).
 Moisture: on banks the ground goes from scene_bank_mud at the waterline to the dry ground
 with e-folding 5-15 m.

SENSOR  effective PSF per band = Gaussian optics (sigma 4.4 m for 10 m bands, 9.7 m for
20 m bands; from an MTF at Nyquist of ~.25 / .2) convolved with the native detector box (10 /
20 m) and a bilinear resampling triangle of the native spacing, centred on each 18.5 m output
pixel, separable in x and y. Visible bands get an extra 4 m (in quadrature) for the hazy
atmosphere's adjacency blur. Check on this scene: the high-passed B11 is best predicted by
B08 blurred with sigma ~0.7 output px (13 m), which this model reproduces (sqrt(14^2-6.7^2)
m); nearest-neighbour resampling from 20 m would give ~7 % exactly repeated neighbours in
B11, the scene has ~2 % (as in the 10 m bands), so bilinear-like resampling is assumed.

PLACEMENT (by design of the tool, not tuned): every painted pixel (any band changed by >= 1
DN) is inside the reserve polygon, on valid data, not water, >= 1000 m from any land pixel
outside the reserve (nodata outside counts as land), >= 2 px from the scene edge; camps'
painted pixels >= 500 m apart. Water = B08 < .075, or MNDWI > .2 with NDVI < .15, or a
narrow creek (B08 < .2 and < .6 x its 5 x 5 median); water pixels are never painted, so the
PSF halo of a bank camp stops at the bank. Bank camps are anchored on land pixels next to
water (half on wide water, "river", half on creeks), inland ones 40-300 m from water (80 %)
or anywhere (20 %).

OUTPUT  OUT_DIR/Sentinel-2_L2A_{B02,B03,B04,B08,B11,B12}_Raw.tiff (copies, UInt16, sample 1
= reflectance x 65535 with the camps, sample 2 = dataMask unchanged), reserve.geojson, and
truth.geojson: one Point per camp (area-weighted centroid of the footprint on land) with id,
area_m2 (geodesic), outline_wkt (POLYGON / MULTIPOLYGON, lon/lat), kind ("bank" if the
footprint touches water, else "inland"), shape (kinds above), donor (ground materials),
veg_fraction (mean remaining canopy over the footprint), difficult (area < 1000 m2), and
extra: visibility, exposed_m2 ((1 - c) x area), edge, roofs, objects, water_body,
target_m2. Deterministic for a seed (numpy default_rng).

UNSURE: reflectances of tin/tarp/thatch/fish are literature-shaped guesses, not measured;
mixed land/water pixels at banks are treated as land (a camp there is slightly overstated);
haze over parts of the reserve is not applied to the camp change; bilinear-like resampling
is inferred from the data, not known; the shadow factors are rough; the water mask is mine
(a detector's may differ at 1-px creeks); the mix of kinds and faint share is my judgement.
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
NB = len(BANDS)
K = 12                      # fine cells per scene pixel and axis (~1.5 m)
DN = 65535.0

# sensor model
OPTICS_SIGMA = np.array([4.4, 4.4, 4.4, 4.4, 9.7, 9.7])
NATIVE_M = np.array([10.0, 10.0, 10.0, 10.0, 20.0, 20.0])
EXTRA_SIGMA = np.array([4.0, 4.0, 4.0, 0.0, 0.0, 0.0])
SUN_AZ = math.radians(152.0)
SUN_EL = math.radians(44.4)
SHADE = np.array([0.40, 0.33, 0.27, 0.20, 0.16, 0.15])

MIN_OUTSIDE_M = 1000.0
MIN_APART_M = 500.0
HALO_M = 70.0               # how far painting may reach beyond the footprint (PSF support)

LIT = {
    "tin_new":          [0.36, 0.38, 0.39, 0.40, 0.37, 0.33],
    "tin_rusty":        [0.09, 0.11, 0.16, 0.24, 0.29, 0.26],
    "tarp_blue":        [0.30, 0.20, 0.08, 0.42, 0.32, 0.21],
    "tarp_orange":      [0.08, 0.16, 0.45, 0.55, 0.38, 0.25],
    "tarp_white":       [0.50, 0.52, 0.53, 0.55, 0.45, 0.32],
    "tarp_black":       [0.04, 0.04, 0.04, 0.05, 0.05, 0.05],
    "thatch_dry":       [0.08, 0.11, 0.14, 0.30, 0.34, 0.24],
    "thatch_weathered": [0.10, 0.12, 0.13, 0.20, 0.24, 0.19],
    "thatch_fresh":     [0.04, 0.07, 0.07, 0.28, 0.22, 0.12],
    "bamboo_dry":       [0.13, 0.18, 0.25, 0.40, 0.42, 0.31],
    "fish_drying":      [0.20, 0.23, 0.26, 0.32, 0.30, 0.24],
    "sand_char":        [0.14, 0.18, 0.22, 0.27, 0.33, 0.28],
    "mangrove_floor":   [0.05, 0.07, 0.075, 0.15, 0.13, 0.075],
    "ash_grey":         [0.10, 0.11, 0.12, 0.14, 0.17, 0.17],
    "charcoal":         [0.03, 0.03, 0.03, 0.04, 0.05, 0.05],
    "slash_dry":        [0.06, 0.09, 0.12, 0.24, 0.32, 0.22],
    "slash_fresh":      [0.04, 0.07, 0.06, 0.24, 0.18, 0.09],
    "logs":             [0.07, 0.09, 0.12, 0.22, 0.26, 0.19],
    "boat_wood":        [0.05, 0.06, 0.06, 0.09, 0.10, 0.08],
    "boat_painted":     [0.10, 0.14, 0.10, 0.16, 0.12, 0.08],
}
ROOFS_CAMP = {"thatch_dry": .30, "thatch_weathered": .15, "thatch_fresh": .05, "tarp_blue": .17,
              "tarp_black": .08, "tarp_orange": .04, "tarp_white": .05, "tin_rusty": .10,
              "tin_new": .06}
ROOFS_YARD = {"thatch_dry": .20, "thatch_weathered": .10, "tarp_blue": .20, "tarp_black": .05,
              "tarp_orange": .05, "tarp_white": .08, "tin_rusty": .17, "tin_new": .15}

KINDS_SMALL = (("bank_strip", .24), ("rack_yard", .10), ("felling_patch", .18),
               ("hut_scatter", .28), ("under_canopy", .20))
KINDS_LARGE = (("bank_strip", .18), ("rack_yard", .32), ("felling_patch", .30),
               ("under_canopy", .20))


# ----------------------------------------------------------------------------- helpers

def ellipsoid_radii(lat_deg):
    a, e2 = 6378137.0, 6.69437999014e-3
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1 - e2 * s * s)
    return a * (1 - e2) / w ** 3, a / w          # meridional M, prime vertical N


def proximity(mask):
    """Euclidean distance in cells to the nearest True cell (GDAL, C speed)."""
    h, w = mask.shape
    if not mask.any():
        return np.full(mask.shape, 1e9)
    drv = gdal.GetDriverByName("MEM")
    src = drv.Create("", w, h, 1, gdal.GDT_Byte)
    src.GetRasterBand(1).WriteArray(mask.astype(np.uint8))
    dst = drv.Create("", w, h, 1, gdal.GDT_Float32)
    gdal.ComputeProximity(src.GetRasterBand(1), dst.GetRasterBand(1),
                          ["VALUES=1", "DISTUNITS=PIXEL"])
    return dst.GetRasterBand(1).ReadAsArray().astype(np.float64)


def polygonize(mask, geotransform):
    """Polygons of the 1-cells of a 0/1 array (GDAL polygonize): (datasource, layer); keep both."""
    h, w = mask.shape
    src = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Byte)
    src.SetGeoTransform(geotransform)
    band = src.GetRasterBand(1)
    band.WriteArray(mask.astype(np.uint8))
    vds = ogr.GetDriverByName("Memory").CreateDataSource("p")
    lyr = vds.CreateLayer("p")
    lyr.CreateField(ogr.FieldDefn("v", ogr.OFTInteger))
    gdal.Polygonize(band, band, lyr, 0, [])
    return vds, lyr


def component_at(mask, i, j):
    """4-connected component of mask containing cell (i, j) (via GDAL polygonize)."""
    if not mask[i, j]:
        return np.zeros_like(mask)
    h, w = mask.shape
    drv = gdal.GetDriverByName("MEM")
    vds, lyr = polygonize(mask, (0, 1, 0, 0, 0, 1))
    pt = ogr.Geometry(ogr.wkbPoint)
    pt.AddPoint_2D(j + 0.5, i + 0.5)
    lyr.SetSpatialFilter(pt)
    out = drv.Create("", w, h, 1, gdal.GDT_Byte)
    out.SetGeoTransform((0, 1, 0, 0, 0, 1))
    keep = None
    for f in lyr:
        if f.GetGeometryRef().Contains(pt):
            keep = f.GetFID()
            break
    if keep is None:
        return np.zeros_like(mask)
    lyr.SetSpatialFilter(None)
    lyr.SetAttributeFilter(None)
    sel = ogr.GetDriverByName("Memory").CreateDataSource("s")
    sl = sel.CreateLayer("s")
    sl.CreateFeature(lyr.GetFeature(keep).Clone())
    gdal.RasterizeLayer(out, [1], sl, burn_values=[1])
    return (out.GetRasterBand(1).ReadAsArray() == 1) & mask


def smooth_noise(rng, shape, sigma_cells):
    w = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.fft.rfft2(w) * np.exp(-2 * np.pi ** 2 * sigma_cells ** 2 * (fx ** 2 + fy ** 2))
    n = np.fft.irfft2(f, s=shape)
    return (n - n.mean()) / (n.std() + 1e-12)


def upsample(a):
    return np.repeat(np.repeat(a, K, axis=-2), K, axis=-1)


def shift(a, dr, dc, fill):
    """b[i, j] = a[i + dr, j + dc]."""
    h, w = a.shape
    b = np.full_like(a, fill)
    i0, i1 = max(0, -dr), min(h, h - dr)
    j0, j1 = max(0, -dc), min(w, w - dc)
    if i0 < i1 and j0 < j1:
        b[i0:i1, j0:j1] = a[i0 + dr:i1 + dr, j0 + dc:j1 + dc]
    return b


def pick(rng, table):
    names = list(table)
    p = np.array([table[n] for n in names], float)
    return names[rng.choice(len(names), p=p / p.sum())]


def jitter(rng, spec, bright=0.10, band=0.03):
    s = np.asarray(spec, float) * math.exp(rng.normal(0, bright)) * (1 + rng.normal(0, band, NB))
    return np.clip(s, 0.005, 0.95)


def psf_1d(sigma, native):
    """Gaussian(sigma) * box(native) * triangle(native), sampled every 0.1 m, unit integral."""
    step = 0.1
    half = 3.5 * sigma + 1.5 * native + 1
    x = np.arange(-half, half + step / 2, step)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    box = (np.abs(x) <= native / 2).astype(float)
    tri = np.clip(1 - np.abs(x) / native, 0, None)
    k = np.convolve(np.convolve(g, box, "same"), tri, "same")
    k /= k.sum() * step
    return x, k


# ----------------------------------------------------------------------------- scene

class Scene:
    def __init__(self, d):
        self.dir = d
        self.paths = {b: os.path.join(d, f"Sentinel-2_L2A_{b}_Raw.tiff") for b in BANDS}
        raw, valid = [], None
        for b in BANDS:
            ds = gdal.Open(self.paths[b])
            if b == BANDS[0]:
                self.gt = ds.GetGeoTransform()
                self.proj = ds.GetProjection()
                self.H, self.W = ds.RasterYSize, ds.RasterXSize
            raw.append(ds.GetRasterBand(1).ReadAsArray())
            m = ds.GetRasterBand(2).ReadAsArray() == 1
            valid = m if valid is None else (valid & m)
            ds = None
        self.raw = np.stack(raw)                       # uint16, 6 x H x W
        self.refl = self.raw.astype(np.float64) / DN
        self.valid = valid
        gt = self.gt
        lat_c = gt[3] + gt[5] * self.H / 2
        M, N = ellipsoid_radii(lat_c)
        self.dx = abs(gt[1]) * math.pi / 180 * N * math.cos(math.radians(lat_c))
        self.dy = abs(gt[5]) * math.pi / 180 * M
        self._masks()
        self._pools()

    def row_lat(self, rows):
        return self.gt[3] + self.gt[5] * rows

    def _masks(self):
        b2, b3, b4, b8, b11, b12 = self.refl
        v = self.valid
        ndvi = (b8 - b4) / (b8 + b4 + 1e-9)
        mndwi = (b3 - b11) / (b3 + b11 + 1e-9)
        pad = np.pad(b8, 2, mode="edge")
        med = np.median(np.stack([pad[i:i + self.H, j:j + self.W]
                                  for i in range(5) for j in range(5)]), axis=0)
        creek = (b8 < 0.2) & (b8 < 0.6 * med)
        self.water = v & ((b8 < 0.075) | ((mndwi > 0.2) & (ndvi < 0.15)) | creek)
        self.land = v & ~self.water
        self.ndvi = ndvi
        # reserve polygon
        drv = gdal.GetDriverByName("MEM")
        r = drv.Create("", self.W, self.H, 1, gdal.GDT_Byte)
        r.SetGeoTransform(self.gt)
        r.SetProjection(self.proj)
        vds = ogr.Open(os.path.join(self.dir, "reserve.geojson"))
        gdal.RasterizeLayer(r, [1], vds.GetLayer(0), burn_values=[1])
        self.reserve = r.GetRasterBand(1).ReadAsArray() == 1
        vds = None
        outside_land = ~self.reserve & ~self.water        # nodata outside counts as land
        self.dist_out = proximity(outside_land) * min(self.dx, self.dy)
        self.dist_water = proximity(self.water) * min(self.dx, self.dy)
        near_nodata = proximity(~self.valid) <= 1.5
        edge = np.zeros_like(self.valid)
        edge[:2, :] = edge[-2:, :] = edge[:, :2] = edge[:, -2:] = True
        self.allowed = (self.reserve & self.land & (self.dist_out >= MIN_OUTSIDE_M)
                        & ~near_nodata & ~edge)
        w4 = np.zeros_like(self.water)
        w4[1:] |= self.water[:-1]
        w4[:-1] |= self.water[1:]
        w4[:, 1:] |= self.water[:, :-1]
        w4[:, :-1] |= self.water[:, 1:]
        self.bank = self.allowed & w4
        # wide water (river) vs creek: share of water in a 7 x 7 neighbourhood
        wp = np.pad(self.water.astype(float), 3)
        wf = sum(wp[i:i + self.H, j:j + self.W] for i in range(7) for j in range(7)) / 49
        self.bank_river = self.bank & (wf >= 0.3)
        self.bank_creek = self.bank & (wf < 0.3)
        self.water_wide = self.water & (wf >= 0.5)

    def _pools(self):
        b2, b3, b4, b8 = self.refl[0], self.refl[1], self.refl[2], self.refl[3]
        ndvi = self.ndvi
        w8 = np.zeros_like(self.water)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                w8 |= shift(self.water, dr, dc, False)
        out_land = ~self.reserve & self.land
        sel = {
            "scene_bank_mud": self.reserve & self.land & w8 & (ndvi < 0.3) & (b8 >= 0.08),
            "scene_field_soil": out_land & (ndvi < 0.12) & (b8 >= 0.10) & (b4 >= 0.09),
        }
        thr = np.percentile(b2[out_land], 99)
        sel["scene_bright_bare"] = out_land & (ndvi < 0.2) & (b2 >= thr)
        self.pools = {k: self.refl[:, m].T.copy() for k, m in sel.items()}
        for k, p in self.pools.items():
            if len(p) < 20:
                raise SystemExit(f"donor pool {k} too small ({len(p)} px)")

    def donor(self, rng, name):
        p = self.pools[name]
        idx = rng.choice(len(p), 5, replace=False)
        return jitter(rng, p[idx].mean(axis=0), bright=0.05, band=0.02)


# ----------------------------------------------------------------------------- fine grid

class Grid:
    def __init__(self, sc, ar, ac, hw):
        self.r0, self.c0 = ar - hw, ac - hw
        self.nr = self.nc = 2 * hw + 1
        self.H, self.W = self.nr * K, self.nc * K
        self.cdx, self.cdy = sc.dx / K, sc.dy / K
        self.cell = 0.5 * (self.cdx + self.cdy)
        jj, ii = np.arange(self.W), np.arange(self.H)
        self.xs = ((self.c0 + (jj + 0.5) / K) - (ac + 0.5)) * sc.dx
        self.ys = -((self.r0 + (ii + 0.5) / K) - (ar + 0.5)) * sc.dy
        self.X = self.xs[None, :]
        self.Y = self.ys[:, None]
        self.win = (slice(self.r0, self.r0 + self.nr), slice(self.c0, self.c0 + self.nc))
        lat = sc.row_lat(self.r0 + (ii + 0.5) / K)
        dlon = math.radians(abs(sc.gt[1]) / K)
        dlat = math.radians(abs(sc.gt[5]) / K)
        rad = np.array([ellipsoid_radii(l) for l in lat])
        self.cell_area = dlon * dlat * rad[:, 0] * rad[:, 1] * np.cos(np.radians(lat))  # per row

    def sub(self, cx, cy, rad):
        j0 = max(0, int(math.floor((cx - rad - self.xs[0]) / self.cdx)))
        j1 = min(self.W, int(math.ceil((cx + rad - self.xs[0]) / self.cdx)) + 1)
        i0 = max(0, int(math.floor((self.ys[0] - (cy + rad)) / self.cdy)))
        i1 = min(self.H, int(math.ceil((self.ys[0] - (cy - rad)) / self.cdy)) + 1)
        if i0 >= i1 or j0 >= j1:
            return None
        return (slice(i0, i1), slice(j0, j1)), self.xs[j0:j1][None, :], self.ys[i0:i1][:, None]

    def index(self, x, y):
        return (int((self.ys[0] - y) / self.cdy + 0.5), int((x - self.xs[0]) / self.cdx + 0.5))

    def area(self, m):
        return float((m.sum(axis=1) * self.cell_area).sum())


def rot(X, Y, cx, cy, ang):
    ca, sa = math.cos(ang), math.sin(ang)
    return (X - cx) * ca + (Y - cy) * sa, -(X - cx) * sa + (Y - cy) * ca


def cov_rect(X, Y, cx, cy, L, Wd, ang, cell):
    u, v = rot(X, Y, cx, cy, ang)
    sd = np.maximum(np.abs(u) - L / 2, np.abs(v) - Wd / 2)
    return np.clip(0.5 - sd / cell, 0, 1)


def cov_ellipse(X, Y, cx, cy, a, b, ang, cell):
    u, v = rot(X, Y, cx, cy, ang)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return np.clip(0.5 - (r - 1) * min(a, b) / cell, 0, 1)


def cov_segment(X, Y, p, q, w, cell):
    d0, d1 = q[0] - p[0], q[1] - p[1]
    L2 = d0 * d0 + d1 * d1 + 1e-9
    t = np.clip(((X - p[0]) * d0 + (Y - p[1]) * d1) / L2, 0, 1)
    dist = np.hypot(X - (p[0] + t * d0), Y - (p[1] + t * d1))
    return np.clip(0.5 - (dist - w / 2) / cell, 0, 1)


# ----------------------------------------------------------------------------- camp canvas

class Canvas:
    """Fine-scale camp: ground spectra G, object layers, canopy opening target."""

    def __init__(self, grid, R):
        self.g = grid
        self.R = R
        h, w = grid.H, grid.W
        self.G = np.zeros((NB, h, w))
        self.otgt = np.zeros((h, w))
        self.open_obj = np.zeros((h, w))
        self.obj_h = np.zeros((h, w))
        self.obj_a = np.zeros((h, w))
        self.objects = {}
        self.roofs = []

    def count(self, name):
        self.objects[name] = self.objects.get(name, 0) + 1

    def paint(self, cov, sl, spec, height=0.0, opacity=1.0, vis=1.0):
        cov = cov * self.R[sl]
        if not cov.any():
            return False
        G = self.G[(slice(None),) + sl]
        G *= (1 - cov)[None]
        G += cov[None] * np.asarray(spec)[:, None, None]
        if vis > 0:
            self.open_obj[sl] = np.maximum(self.open_obj[sl], cov * vis)
        if height > 0:
            top = cov > 0.3
            self.obj_h[sl] = np.where(top, np.maximum(self.obj_h[sl], height), self.obj_h[sl])
            self.obj_a[sl] = np.maximum(self.obj_a[sl], cov * opacity)
        return True

    def rect(self, cx, cy, L, Wd, ang, spec, **kw):
        s = self.g.sub(cx, cy, 0.5 * math.hypot(L, Wd) + 2 * self.g.cell)
        if s is None:
            return False
        sl, X, Y = s
        return self.paint(cov_rect(X, Y, cx, cy, L, Wd, ang, self.g.cell), sl, spec, **kw)

    def ellipse(self, cx, cy, a, b, ang, spec, **kw):
        s = self.g.sub(cx, cy, max(a, b) + 2 * self.g.cell)
        if s is None:
            return False
        sl, X, Y = s
        return self.paint(cov_ellipse(X, Y, cx, cy, a, b, ang, self.g.cell), sl, spec, **kw)

    def hut(self, rng, cx, cy, ang, size, roofs, vis=1.0):
        L = rng.uniform(*size[0])
        Wd = rng.uniform(*size[1])
        roof = pick(rng, roofs)
        spec = jitter(rng, LIT[roof])
        ok = self.rect(cx, cy, L, Wd, ang + rng.normal(0, 0.25), spec,
                       height=rng.uniform(2.2, 3.4), opacity=1.0, vis=vis)
        if ok:
            self.roofs.append(roof)
            self.count("hut")
        return ok


def segment_cov_full(grid, p, q, w):
    rad = 0.5 * math.hypot(q[0] - p[0], q[1] - p[1]) + w + 2 * grid.cell
    s = grid.sub(0.5 * (p[0] + q[0]), 0.5 * (p[1] + q[1]), rad)
    out = np.zeros((grid.H, grid.W))
    if s is not None:
        sl, X, Y = s
        out[sl] = cov_segment(X, Y, p, q, w, grid.cell)
    return out


def sample_cells(rng, grid, cand, n, min_sep, tries=400):
    """Up to n cell centres (x, y) from boolean cand, at least min_sep metres apart."""
    idx = np.flatnonzero(cand)
    pts = []
    if idx.size == 0:
        return pts
    for _ in range(tries):
        if len(pts) >= n:
            break
        k = idx[rng.integers(idx.size)]
        i, j = divmod(int(k), grid.W)
        x = grid.xs[j] + rng.uniform(-0.5, 0.5) * grid.cdx
        y = grid.ys[i] + rng.uniform(-0.5, 0.5) * grid.cdy
        if all(math.hypot(x - a, y - b) >= min_sep for a, b in pts):
            pts.append((x, y))
    return pts


# ----------------------------------------------------------------------------- camp kinds

class Attempt:
    """Everything about one try to place one camp."""

    def __init__(self, sc, rng, kind, target, anchor, hw, ext):
        self.sc, self.rng, self.kind, self.target = sc, rng, kind, target
        self.ar, self.ac = anchor
        self.ext = ext
        g = self.g = Grid(sc, self.ar, self.ac, hw)
        win = g.win
        self.Wf = upsample(sc.water[win])
        self.Lf = upsample(sc.land[win])
        self.Af = upsample(sc.allowed[win])
        self.dW = proximity(self.Wf) * g.cell
        self.edge = "sharp"
        self.water_body = None
        self.ground_names = []
        self.trail_pts = []
        self.centre_cell = (g.H // 2, g.W // 2)

    # -- shared pieces
    def waterline(self):
        """Nearest water cell to the anchor and the inland normal there."""
        g = self.g
        wi, wj = np.nonzero(self.Wf)
        xw, yw = g.xs[wj], g.ys[wi]
        d = np.hypot(xw, yw)
        k = int(np.argmin(d))
        px, py = float(xw[k]), float(yw[k])
        near = np.hypot(xw - px, yw - py) < 60
        mx, my = xw[near].mean() - px, yw[near].mean() - py
        nx, ny = -mx, -my
        nn = math.hypot(nx, ny)
        if nn < 1e-6:
            nx, ny = -px, -py
            nn = math.hypot(nx, ny) + 1e-9
        return px, py, nx / nn, ny / nn

    def scale_region(self, make, s0=1.0, tol=0.12, iters=6):
        s = s0
        R = None
        for _ in range(iters):
            R = make(s)
            a = self.g.area(R)
            if a <= 0:
                return None
            r = self.target_main / a
            if abs(math.log(r)) < tol:
                break
            s *= r ** 0.5
        return R

    def trail_to_water(self, start, maxlen, width):
        g = self.g
        wi, wj = np.nonzero(self.Wf)
        if wi.size == 0:
            return None
        xw, yw = g.xs[wj], g.ys[wi]
        d = np.hypot(xw - start[0], yw - start[1])
        k = int(np.argmin(d))
        if d[k] > maxlen:
            return None
        end = (float(xw[k]), float(yw[k]))
        mid = (0.5 * (start[0] + end[0]) + self.rng.normal(0, 0.12 * d[k]),
               0.5 * (start[1] + end[1]) + self.rng.normal(0, 0.12 * d[k]))
        cov = np.maximum(segment_cov_full(g, start, mid, width),
                         segment_cov_full(g, mid, end, width))
        self.trail_pts.append((start, mid, end))
        return cov

    def edge_ramp(self, R, width, gamma=0.7):
        """0..1 inside R, rising from the land edge of R over width metres."""
        d_in = proximity(~R & ~self.Wf) * self.g.cell
        if width <= 2:
            return np.clip((d_in + 0.5 * self.g.cell) / 1.5, 0, 1)
        return np.clip(d_in / width, 0, 1) ** gamma

    def moisture(self, efold):
        rng = self.rng
        n = smooth_noise(rng, (self.g.H, self.g.W), 8 / self.g.cell)
        return np.clip(np.exp(-self.dW / efold) * (1 + 0.3 * n), 0, 1)

    def texture(self, G):
        n = smooth_noise(self.rng, (self.g.H, self.g.W), 3 / self.g.cell)
        G *= (1 + 0.08 * n)[None]

    # -- kinds
    def build(self):
        rng = self.rng
        self.trail_area = 0.0
        self.target_main = self.target
        fn = getattr(self, "build_" + self.kind)
        return fn()

    def build_bank_strip(self):
        rng, g = self.rng, self.g
        aspect = math.exp(rng.uniform(math.log(3), math.log(10)))
        D = min(max(math.sqrt(self.target / aspect), 10.0), 50.0)
        D = max(D, self.target / 600.0)           # at most ~600 m along the bank
        Lh = 0.5 * self.target / D
        px, py, nx, ny = self.waterline()
        n1 = smooth_noise(rng, (g.H, g.W), 12 / g.cell)
        n2 = smooth_noise(rng, (g.H, g.W), 25 / g.cell)
        dist_w = np.hypot(g.X - px, g.Y - py)
        base = self.Lf & ~self.Wf
        ci, cj = g.index(px + nx * 3, py + ny * 3)
        ci = min(max(ci, 0), g.H - 1)
        cj = min(max(cj, 0), g.W - 1)
        if not base[ci, cj]:
            ci, cj = g.index(0.0, 0.0)
        self.centre_cell = (ci, cj)

        def make(s):
            cand = base & (self.dW <= D * s * (1 + 0.3 * n1)) & (dist_w <= Lh * s * (1 + 0.08 * n2))
            return component_at(cand, ci, cj)
        R = self.scale_region(make)
        if R is None:
            return None
        self.edge = "sharp" if rng.random() < 0.55 else "thinned"
        ramp = self.edge_ramp(R, 1.5 if self.edge == "sharp" else rng.uniform(5, 15))
        keep_trees = rng.uniform(0.0, 0.25)
        cv = Canvas(g, R)
        cv.otgt = R * (1 - keep_trees) * ramp
        wet = self.sc.donor(rng, "scene_bank_mud")
        dry = self.sc.donor(rng, "scene_field_soil")
        litter = rng.uniform(0, 0.3)
        dry = (1 - litter) * dry + litter * jitter(rng, LIT["slash_dry"])
        self.ground_names = ["scene_bank_mud", "scene_field_soil"] + (["slash_dry"] if litter > .1 else [])
        m = self.moisture(rng.uniform(5, 15))
        cv.G = m[None] * wet[:, None, None] + (1 - m)[None] * dry[:, None, None]
        self.texture(cv.G)
        tang = math.atan2(nx, -ny)      # bank direction (tangent), radians from +x
        # trampled path along the strip
        trampled = jitter(rng, self.sc.donor(rng, "scene_field_soil") * 1.12)
        depth_mid = min(D * 0.5, 10)
        p = (px + nx * depth_mid - math.cos(tang) * Lh * 0.8, py + ny * depth_mid - math.sin(tang) * Lh * 0.8)
        q = (px + nx * depth_mid + math.cos(tang) * Lh * 0.8, py + ny * depth_mid + math.sin(tang) * Lh * 0.8)
        pc = segment_cov_full(g, p, q, rng.uniform(1.0, 2.0))
        full = (slice(0, g.H), slice(0, g.W))
        cv.paint(pc * 0.8, full, trampled, vis=0)
        # huts in a row along the bank
        nh = min(10, int(rng.integers(1, 5) + round(self.target / 5000)))
        cand = R & (self.dW >= 4) & (self.dW <= max(8, min(15, D * 0.8))) & (self.edge_ramp(R, 4) > 0.9)
        for (x, y) in sample_cells(rng, g, cand, nh, 7):
            cv.hut(rng, x, y, tang, ((3, 6), (2.5, 4)), ROOFS_CAMP)
        # boats pulled up on the mud
        for (x, y) in sample_cells(rng, g, R & (self.dW <= 3.5), int(rng.integers(0, 5)), 10):
            self.boat(cv, x, y, tang)
        # short rack rows
        if rng.random() < 0.5:
            cand = R & (self.dW >= 5) & (self.edge_ramp(R, 4) > 0.9)
            ang = tang + (0 if rng.random() < 0.5 else math.pi / 2)
            for (x, y) in sample_cells(rng, g, cand, int(rng.integers(1, 5)), 5):
                self.rack(cv, x, y, rng.uniform(6, 25), ang)
        if rng.random() < 0.3:
            for (x, y) in sample_cells(rng, g, R & (self.dW >= 4), int(rng.integers(1, 4)), 6):
                self.mat(cv, x, y, tang)
        for (x, y) in sample_cells(rng, g, R & (self.dW >= 4), int(rng.integers(0, 3)), 10):
            self.fire(cv, x, y)
        self.water_body = self.body
        return cv

    def build_rack_yard(self):
        rng, g = self.rng, self.g
        aspect = rng.uniform(1, 2.5)
        pe = rng.uniform(2.5, 5)
        px, py, nx, ny = self.waterline()
        tang = math.atan2(nx, -ny) + rng.normal(0, 0.3)
        n1 = smooth_noise(rng, (g.H, g.W), 15 / g.cell)
        b0 = math.sqrt(self.target / (3.3 * aspect))
        base = self.Lf & ~self.Wf

        def make(s):
            a, b = aspect * b0 * s, b0 * s
            cx, cy = px + nx * 0.55 * b, py + ny * 0.55 * b
            u, v = rot(g.X, g.Y, cx, cy, tang)
            r = (np.abs(u / a) ** pe + np.abs(v / b) ** pe) ** (1 / pe)
            cand = base & (r <= 1 + 0.08 * n1)
            ci, cj = g.index(px + nx * 3, py + ny * 3)
            if not (0 <= ci < g.H and 0 <= cj < g.W) or not cand[ci, cj]:
                ci, cj = g.index(cx, cy)
                if not (0 <= ci < g.H and 0 <= cj < g.W):
                    return np.zeros_like(cand)
            self.centre_cell = (ci, cj)
            return component_at(cand, ci, cj)
        R = self.scale_region(make)
        if R is None:
            return None
        self.edge = "sharp" if rng.random() < 0.7 else "thinned"
        ramp = self.edge_ramp(R, 1.5 if self.edge == "sharp" else rng.uniform(4, 10))
        cv = Canvas(g, R)
        cv.otgt = R * (1 - rng.uniform(0, 0.1)) * ramp
        dryname = pick(rng, {"scene_bright_bare": .35, "sand_char": .30, "scene_field_soil": .35})
        dry = self.sc.donor(rng, dryname) if dryname.startswith("scene") else jitter(rng, LIT[dryname])
        wet = self.sc.donor(rng, "scene_bank_mud")
        self.ground_names = ["scene_bank_mud", dryname]
        m = self.moisture(rng.uniform(4, 10))
        cv.G = m[None] * wet[:, None, None] + (1 - m)[None] * dry[:, None, None]
        self.texture(cv.G)
        inner = R & (self.edge_ramp(R, 3) > 0.95) & (self.dW >= 4)
        # hut zone: a disc around a random inner point; racks elsewhere
        hz = sample_cells(rng, g, inner, 1, 0)
        if not hz:
            return None
        hx, hy = hz[0]
        hr = math.sqrt(self.target) * rng.uniform(0.25, 0.4)
        hut_zone = np.hypot(g.X - hx, g.Y - hy) <= hr
        rack_zone = inner & ~hut_zone
        if rng.random() < 0.85:
            rack_zone &= smooth_noise(rng, (g.H, g.W), 20 / g.cell) > rng.uniform(-1.0, 0.0)
        ang = tang + (0 if rng.random() < 0.5 else math.pi / 2) + rng.normal(0, 0.15)
        sp, wd = rng.uniform(3.5, 7), rng.uniform(1.2, 2.2)
        cover = rng.uniform(0.35, 0.7)
        seg, keep = rng.uniform(10, 40), rng.uniform(0.7, 0.95)
        u, v = rot(g.X, g.Y, hx, hy, ang)
        row = np.round(v / sp)
        table = rng.random(65536)
        off = table[(row.astype(np.int64) * 7919) % 65536] * seg
        sid = np.floor((u + off) / seg)
        kept = table[((row.astype(np.int64) * 104729 + sid.astype(np.int64) * 1299709) % 65536)] < keep
        prof = np.clip(0.5 - (np.abs(v - row * sp) - wd / 2) / g.cell, 0, 1)
        rackcov = prof * kept * rack_zone * cover
        fishf = rng.uniform(0.3, 0.7)
        rspec = fishf * jitter(rng, LIT["fish_drying"]) + (1 - fishf) * jitter(rng, LIT["bamboo_dry"])
        full = (slice(0, g.H), slice(0, g.W))
        if cv.paint(rackcov, full, rspec, height=rng.uniform(1.5, 2.0), opacity=0.5):
            cv.objects["rack_rows"] = int(len(np.unique(row[rackcov > 0.1])))
        # fish on mats between the racks
        for (x, y) in sample_cells(rng, g, rack_zone, int(rng.integers(0, 10)), 8):
            self.mat(cv, x, y, ang)
        nh = min(14, int(rng.integers(2, 5) + round(self.target / 6000)))
        cand = inner & (hut_zone | (rng.random() < 0.2))
        for (x, y) in sample_cells(rng, g, cand, nh, 8):
            cv.hut(rng, x, y, tang, ((4, 12), (3, 6)), ROOFS_YARD)
        for (x, y) in sample_cells(rng, g, R & (self.dW <= 3.5), int(rng.integers(1, 7)), 9):
            self.boat(cv, x, y, tang + math.pi / 2 * (rng.random() < 0.3))
        for (x, y) in sample_cells(rng, g, inner, int(rng.integers(1, 5)), 10):
            self.fire(cv, x, y)
        self.water_body = self.body
        return cv

    def build_felling_patch(self):
        rng, g = self.rng, self.g
        nb = int(rng.integers(3, 11))
        cs = [(0.0, 0.0)]
        rs = [math.exp(rng.normal(0, 0.35))]
        for _ in range(nb - 1):
            k = int(rng.integers(len(cs)))
            r = math.exp(rng.normal(0, 0.35))
            a = rng.uniform(0, 2 * math.pi)
            step = (rs[k] + r) * rng.uniform(0.5, 0.9)
            cs.append((cs[k][0] + step * math.cos(a), cs[k][1] + step * math.sin(a)))
            rs.append(r)
        asp = [rng.uniform(1, 2) for _ in cs]
        angs = [rng.uniform(0, math.pi) for _ in cs]
        cs = np.array(cs) - np.mean(cs, axis=0)
        unit = math.sqrt(self.target / (math.pi * sum(r * r for r in rs)) * 1.6)
        n1 = smooth_noise(rng, (g.H, g.W), 6 / g.cell)
        base = self.Lf & ~self.Wf
        self.centre_cell = g.index(0.0, 0.0)

        def make(s):
            acc = np.zeros((g.H, g.W), bool)
            for (cx, cy), r, q, an in zip(cs, rs, asp, angs):
                a = r * unit * s * math.sqrt(q)
                b = r * unit * s / math.sqrt(q)
                sub = g.sub(cx * unit * s, cy * unit * s, a + 2)
                if sub is None:
                    continue
                sl, X, Y = sub
                u, v = rot(X, Y, cx * unit * s, cy * unit * s, an)
                acc[sl] |= np.sqrt((u / a) ** 2 + (v / b) ** 2) <= 1 + 0.12 * n1[sl]
            ci, cj = self.centre_cell
            return component_at(base & acc, ci, cj)
        self.target_main = self.target * 0.95
        R = self.scale_region(make)
        if R is None:
            return None
        if rng.random() < 0.6:
            tc = self.trail_to_water((0.0, 0.0), 200, rng.uniform(1.5, 3.0))
            if tc is not None:
                R = R | ((tc > 0.5) & base)
        self.edge = "thinned" if rng.random() < 0.7 else "sharp"
        ramp = self.edge_ramp(R, rng.uniform(8, 25) if self.edge == "thinned" else 1.5)
        cv = Canvas(g, R)
        cv.otgt = R * rng.uniform(0.4, 0.85) * ramp
        floor = 0.5 * jitter(rng, LIT["mangrove_floor"]) + 0.5 * self.sc.donor(rng, "scene_bank_mud")
        sd, sf = jitter(rng, LIT["slash_dry"]), jitter(rng, LIT["slash_fresh"])
        fresh = rng.uniform(0, 1)
        slash = fresh * sf + (1 - fresh) * sd
        scov = np.clip(smooth_noise(rng, (g.H, g.W), 4 / g.cell) * 0.8 + rng.uniform(-0.4, 0.4) + 0.5, 0, 1)
        cv.G = floor[:, None, None] * (1 - scov)[None] + slash[:, None, None] * scov[None]
        self.texture(cv.G)
        self.ground_names = ["mangrove_floor", "scene_bank_mud", "slash_fresh" if fresh > .5 else "slash_dry"]
        inner = R & (self.edge_ramp(R, 3) > 0.9)
        pts = sample_cells(rng, g, inner, int(rng.integers(0, 3)), 8)
        for (x, y) in pts:
            cv.hut(rng, x, y, rng.uniform(0, math.pi), ((3, 5), (2.5, 3.5)), ROOFS_CAMP)
        logs = jitter(rng, LIT["logs"])
        for (x, y) in sample_cells(rng, g, inner, int(rng.integers(1, 5)), 6):
            if cv.rect(x, y, rng.uniform(4, 10), rng.uniform(2, 4), rng.uniform(0, math.pi), logs,
                       height=rng.uniform(1.0, 1.5), opacity=1.0):
                cv.count("log_stack")
        for (x, y) in sample_cells(rng, g, inner, int(rng.integers(0, 4)), 10):
            self.fire(cv, x, y, big=True)
        self.water_body = "creek" if self.trail_pts else None
        return cv

    def build_hut_scatter(self):
        rng, g = self.rng, self.g
        n = int(min(8, self.target // 2500 + rng.integers(3, 6)))
        r_est = math.sqrt(self.target / (math.pi * n))
        Rs = max(rng.uniform(40, 110), 1.1 * math.sqrt(n) * r_est)
        base = self.Lf & ~self.Wf
        spread = base & (np.hypot(g.X, g.Y) <= Rs) & self.Af
        pts = sample_cells(rng, g, spread, n, max(18.0, 2.2 * r_est))
        if len(pts) < 2:
            return None
        w_t = rng.uniform(1.0, 1.8)
        trails = np.zeros((g.H, g.W))
        for k in range(1, len(pts)):
            j = min(range(k), key=lambda q: math.hypot(pts[q][0] - pts[k][0], pts[q][1] - pts[k][1]))
            trails = np.maximum(trails, segment_cov_full(g, pts[j], pts[k], w_t))
        if rng.random() < 0.6:
            tc = self.trail_to_water(pts[0], 150, w_t)
            if tc is not None:
                trails = np.maximum(trails, tc)
        T = (trails > 0.5) & base
        rel = [math.exp(rng.normal(0, 0.3)) for _ in pts]
        n1 = smooth_noise(rng, (g.H, g.W), 4 / g.cell)
        self.target_main = max(self.target - g.area(T), self.target * 0.5)
        ci, cj = g.index(*pts[0])
        self.centre_cell = (ci, cj)

        def make(s):
            acc = np.zeros((g.H, g.W), bool)
            for (x, y), r in zip(pts, rel):
                rr = r * s
                sub = g.sub(x, y, rr * 1.3 + 2)
                if sub is None:
                    continue
                sl, X, Y = sub
                acc[sl] |= np.hypot(X - x, Y - y) <= rr * (1 + 0.2 * n1[sl])
            return acc & base
        r0 = math.sqrt(self.target_main / (math.pi * sum(r * r for r in rel)))
        C = self.scale_region(make, s0=r0)
        if C is None:
            return None
        R = C | T
        self.edge = "thinned"
        ramp = self.edge_ramp(C, rng.uniform(3, 8))
        cv = Canvas(g, R)
        trail_open = rng.uniform(0.3, 0.7)
        cv.otgt = np.where(C, rng.uniform(0.4, 0.9) * ramp, 0) + np.where(T & ~C, trail_open, 0)
        soil = self.sc.donor(rng, "scene_field_soil")
        floor = jitter(rng, LIT["mangrove_floor"])
        mix = rng.uniform(0.2, 0.7)
        cv.G = np.broadcast_to((mix * soil + (1 - mix) * floor)[:, None, None], (NB, g.H, g.W)).copy()
        self.texture(cv.G)
        self.ground_names = ["scene_field_soil", "mangrove_floor"]
        for (x, y) in pts:
            cv.hut(rng, x, y, rng.uniform(0, math.pi), ((3, 5), (2.5, 3.5)), ROOFS_CAMP,
                   vis=rng.uniform(0.6, 1.0))
            if rng.random() < 0.3:
                self.rack(cv, x + rng.normal(0, 4), y + rng.normal(0, 4), rng.uniform(4, 10),
                          rng.uniform(0, math.pi))
            if rng.random() < 0.5:
                self.fire(cv, x + rng.normal(0, 5), y + rng.normal(0, 5))
        self.water_body = "creek" if self.trail_pts else None
        return cv

    def build_under_canopy(self):
        rng, g = self.rng, self.g
        asp = rng.uniform(1, 2.2)
        ang = rng.uniform(0, math.pi)
        n1 = smooth_noise(rng, (g.H, g.W), 20 / g.cell)
        base = self.Lf & ~self.Wf
        self.centre_cell = g.index(0.0, 0.0)

        def make(s):
            a = math.sqrt(self.target * asp / math.pi) * s
            b = a / asp
            u, v = rot(g.X, g.Y, 0.0, 0.0, ang)
            cand = base & (np.sqrt((u / a) ** 2 + (v / b) ** 2) <= 1 + 0.2 * n1)
            ci, cj = self.centre_cell
            return component_at(cand, ci, cj)
        R = self.scale_region(make)
        if R is None:
            return None
        self.edge = "thinned"
        ramp = self.edge_ramp(R, rng.uniform(10, 30))
        cv = Canvas(g, R)
        cv.otgt = R * rng.uniform(0.2, 0.5) * ramp
        floor = jitter(rng, LIT["mangrove_floor"])
        soil = self.sc.donor(rng, "scene_field_soil")
        cv.G = np.broadcast_to(floor[:, None, None], (NB, g.H, g.W)).copy()
        self.texture(cv.G)
        self.ground_names = ["mangrove_floor", "scene_field_soil"]
        inner = R & (ramp > 0.8)
        if inner.sum() < 20:
            inner = R & (ramp >= np.percentile(ramp[R], 70))
        for (x, y) in sample_cells(rng, g, inner, int(rng.integers(1, 4)), 15):
            gap = rng.uniform(3, 7)
            sub = g.sub(x, y, gap + 3)
            if sub is not None:
                sl, X, Y = sub
                d = np.hypot(X - x, Y - y)
                cv.otgt[sl] = np.maximum(cv.otgt[sl], np.clip(1.2 - d / gap, 0, 0.95) * R[sl])
                cv.paint(np.clip(1.0 - d / (gap + 2), 0, 1) * 0.7, sl, soil, vis=0)
            cv.hut(rng, x, y, rng.uniform(0, math.pi), ((3, 5), (2.5, 3.5)), ROOFS_CAMP,
                   vis=rng.uniform(0.5, 0.9))
        if rng.random() < 0.3:
            for (x, y) in sample_cells(rng, g, inner, 1, 0):
                self.rack(cv, x, y, rng.uniform(4, 10), rng.uniform(0, math.pi), vis=0.6)
        self.water_body = None
        return cv

    # -- small objects
    def boat(self, cv, x, y, ang):
        rng = self.rng
        L, Wd = rng.uniform(7, 14), rng.uniform(1.6, 2.6)
        hull = jitter(rng, LIT["boat_painted" if rng.random() < 0.2 else "boat_wood"])
        if cv.ellipse(x, y, L / 2, Wd / 2, ang + rng.normal(0, 0.2), hull, height=0.8, opacity=1.0):
            cv.count("boat")
            if rng.random() < 0.3:   # hooped golpata / tarp cover amidships
                cover = jitter(rng, LIT["thatch_dry" if rng.random() < 0.6 else "tarp_blue"])
                cv.rect(x, y, L * 0.35, Wd * 0.9, ang, cover, height=1.5, opacity=1.0)

    def rack(self, cv, x, y, length, ang, vis=1.0):
        rng = self.rng
        fishf = rng.uniform(0.2, 0.7)
        spec = fishf * jitter(rng, LIT["fish_drying"]) + (1 - fishf) * jitter(rng, LIT["bamboo_dry"])
        s = self.g.sub(x, y, length / 2 + 4)
        if s is None:
            return
        sl, X, Y = s
        cov = cov_rect(X, Y, x, y, length, rng.uniform(1.2, 2.2), ang, self.g.cell) * rng.uniform(0.35, 0.7)
        if cv.paint(cov, sl, spec, height=rng.uniform(1.5, 2.0), opacity=0.5, vis=vis):
            cv.count("rack")

    def mat(self, cv, x, y, ang):
        rng = self.rng
        f = rng.uniform(0.6, 0.9)
        spec = f * jitter(rng, LIT["fish_drying"]) + (1 - f) * jitter(rng, LIT["bamboo_dry"])
        if cv.rect(x, y, rng.uniform(3, 10), rng.uniform(2, 4), ang + rng.normal(0, 0.2),
                   spec * rng.uniform(0.8, 0.95) + 0.0):
            cv.count("fish_mat")

    def fire(self, cv, x, y, big=False):
        rng = self.rng
        r = rng.uniform(3, 8) if big else rng.uniform(1.5, 4)
        s = self.g.sub(x, y, r + 3)
        if s is None:
            return
        sl, X, Y = s
        d = np.hypot(X - x, Y - y) / r
        ash = jitter(rng, LIT["ash_grey"])
        char = jitter(rng, LIT["charcoal"])
        a = np.clip(1.2 - d, 0, 1)
        core = np.clip(1 - 2 * d, 0, 1)[None]
        spec_field = ash[:, None, None] * (1 - core) + char[:, None, None] * core
        cov = a * cv.R[sl]
        G = cv.G[(slice(None),) + sl]
        G *= (1 - cov)[None]
        G += cov[None] * spec_field
        if cov.any():
            cv.open_obj[sl] = np.maximum(cv.open_obj[sl], cov * 0.8)
            cv.count("ash")


# ----------------------------------------------------------------------------- rendering

def shadows(c, h_can, obj_h, obj_a, cell):
    """Fraction of direct sun blocked, per cell, by canopy (height h_can, opacity c) and
    objects, looking towards the sun."""
    ds_e, ds_n = math.sin(SUN_AZ), math.cos(SUN_AZ)   # unit vector towards the sun (east, north)
    tanel = math.tan(SUN_EL)
    S = np.zeros_like(c)
    nmax = int(math.ceil(h_can / tanel / cell)) + 1
    recv = obj_h
    for s in range(1, nmax + 1):
        dist = s * cell
        dr = int(round(-s * ds_n))     # north is -row
        dc = int(round(s * ds_e))
        occ_c = shift(c, dr, dc, 1.0)
        hit = occ_c * ((h_can - recv) >= dist * tanel)
        oh = shift(obj_h, dr, dc, 0.0)
        oa = shift(obj_a, dr, dc, 0.0)
        hit = np.maximum(hit, oa * ((oh - recv) >= dist * tanel))
        np.maximum(S, hit, out=S)
    return S


_KCACHE = {}


def kernel_matrix(n_out, pix_m, band):
    key = (n_out, round(pix_m, 6), band)
    if key not in _KCACHE:
        sigma = math.hypot(OPTICS_SIGMA[band], EXTRA_SIGMA[band])
        x, k = psf_1d(sigma, NATIVE_M[band])
        xo = (np.arange(n_out) + 0.5) * pix_m
        xf = (np.arange(n_out * K) + 0.5) * pix_m / K
        _KCACHE[key] = np.interp(xf[None, :] - xo[:, None], x, k, left=0, right=0) * (pix_m / K)
    return _KCACHE[key]


def compose(att, cv):
    """Delta reflectance per scene pixel of the window (6 x nr x nc) and fine canopy."""
    sc, g, rng = att.sc, att.g, att.rng
    R = cv.R
    u = 1 / (1 + np.exp(-1.702 * smooth_noise(rng, (g.H, g.W), 1.3 / g.cell)))   # crowns, ~U(0,1)
    c = np.where(cv.otgt > 0, np.clip((u - cv.otgt) / 0.06, 0, 1), 1.0)
    c = np.minimum(c, 1 - cv.open_obj)
    c = np.where(R, c, 1.0)
    h_can = rng.uniform(8, 14)
    S = shadows(c, h_can, cv.obj_h, cv.obj_a, g.cell)
    Gs = cv.G * (1 - S[None] * (1 - SHADE[:, None, None]))
    orig_up = upsample(sc.refl[(slice(None),) + g.win])
    delta = (1 - c)[None] * (Gs - orig_up)
    delta[:, ~R] = 0
    out = np.empty((NB, g.nr, g.nc))
    for b in range(NB):
        Ky = kernel_matrix(g.nr, sc.dy, b)
        Kx = kernel_matrix(g.nc, sc.dx, b)
        out[b] = Ky @ delta[b] @ Kx.T
    return out, c, h_can


def place(sc, rng, kind, target, placed, cid):
    """One attempt. Returns a camp record or None."""
    # extent of the layout from the anchor, metres (for window size and quick checks)
    if kind == "bank_strip":
        ext = 0.5 * target / max(10.0, min(50.0, math.sqrt(target / 10)), target / 600) * 1.15 + 30
    elif kind == "rack_yard":
        ext = math.sqrt(target) * 1.6 + 20
    elif kind == "felling_patch":
        ext = math.sqrt(target) * 1.7 + 210
    elif kind == "hut_scatter":
        ext = max(110, 1.1 * math.sqrt(8 * target / math.pi)) + 40 + 160
    else:
        ext = math.sqrt(target * 2.2 / math.pi) * 1.3 + 20
    if kind in ("bank_strip", "rack_yard"):
        pool = sc.bank_river if rng.random() < 0.5 else sc.bank_creek
        body = "river" if pool is sc.bank_river else "creek"
        if not pool.any():
            pool, body = sc.bank, "bank"
    else:
        body = None
        if rng.random() < 0.8:
            pool = sc.allowed & (sc.dist_water >= 40) & (sc.dist_water <= 300)
        else:
            pool = sc.allowed & (sc.dist_water >= 40)
    cand = pool & (sc.dist_out >= MIN_OUTSIDE_M + min(ext, 250) + HALO_M)
    idx = np.flatnonzero(cand)
    if idx.size == 0:
        return None
    ar, ac = divmod(int(idx[rng.integers(idx.size)]), sc.W)
    ay, ax = ar * sc.dy, ac * sc.dx
    for p in placed:
        if np.min(np.hypot(p["py"] - ay, p["px"] - ax)) < MIN_APART_M + HALO_M:
            return None
    hw = int(math.ceil((min(ext, 480) + 130) / min(sc.dx, sc.dy)))
    if ar - hw < 0 or ac - hw < 0 or ar + hw >= sc.H or ac + hw >= sc.W:
        hw = min(ar, ac, sc.H - 1 - ar, sc.W - 1 - ac)
        if hw < 12:
            return None
    att = Attempt(sc, rng, kind, target, (ar, ac), hw, ext)
    att.body = body
    cv = att.build()
    if cv is None:
        return None
    g = att.g
    R = cv.R & att.Lf & ~att.Wf
    cv.R = R
    area = g.area(R)
    if area <= 0 or abs(math.log(area / target)) > 0.35:
        return None
    if (R & ~att.Af).any():
        return None
    # footprint away from the window border (PSF support must fit)
    m = 4 * K
    if R[:m].any() or R[-m:].any() or R[:, :m].any() or R[:, -m:].any():
        return None
    dout, c, h_can = compose(att, cv)
    win = g.win
    dout[:, sc.water[win]] = 0.0
    orig = sc.raw[(slice(None),) + win]
    new = np.clip(np.rint(sc.refl[(slice(None),) + win] * DN + dout * DN), 1, 65535).astype(np.uint16)
    new = np.where(sc.water[win][None], orig, new)
    painted = (new != orig).any(axis=0)
    if not painted.any():
        return None
    if (painted & ~sc.allowed[win]).any():
        return None
    pr, pc = np.nonzero(painted)
    py = (pr + g.r0) * sc.dy
    px = (pc + g.c0) * sc.dx
    for p in placed:
        # chunked min distance between painted pixel sets
        d2 = (py[:, None] - p["py"][None, :]) ** 2 + (px[:, None] - p["px"][None, :]) ** 2
        if d2.min() < MIN_APART_M ** 2:
            return None
    # ---- truth
    ii, jj = np.nonzero(R)
    wts = g.cell_area[ii]
    lon = sc.gt[0] + (g.c0 + (jj + 0.5) / K) * sc.gt[1]
    lat = sc.gt[3] + (g.r0 + (ii + 0.5) / K) * sc.gt[5]
    clon = float((lon * wts).sum() / wts.sum())
    clat = float((lat * wts).sum() / wts.sum())
    veg = float((c[ii, jj] * wts).sum() / wts.sum())
    exposed = float(((1 - c[ii, jj]) * wts).sum())
    touch = R.copy()
    for dr in (-2, -1, 0, 1, 2):
        for dc in (-2, -1, 0, 1, 2):
            touch |= shift(R, dr, dc, False)
    kind_bank = bool((touch & att.Wf).any())
    if veg >= 0.5 or exposed < 400:
        vis = "faint"
    elif veg < 0.3 and exposed >= 2500:
        vis = "obvious"
    else:
        vis = "moderate"
    shape = kind
    if kind == "under_canopy" and target > 15000:
        shape = "thinned_block"
    water_body = None
    if kind_bank:
        wi, wj = np.nonzero(touch & att.Wf)
        wide = sc.water_wide[win][wi // K, wj // K]
        water_body = "river" if wide.any() else "creek"
    rec = {
        "lon": clon, "lat": clat,
        "props": {
            "area_m2": round(area, 1),
            "outline_wkt": outline_wkt(sc, g, R),
            "kind": "bank" if kind_bank else "inland",
            "shape": shape,
            "donor": "+".join(att.ground_names),
            "veg_fraction": round(veg, 3),
            "difficult": bool(area < 1000),
            "visibility": vis,
            "exposed_m2": round(exposed, 1),
            "edge": att.edge,
            "roofs": sorted(set(cv.roofs)),
            "objects": dict(sorted(cv.objects.items())),
            "water_body": water_body,
            "target_m2": round(target, 1),
            "canopy_height_m": round(h_can, 1),
        },
        "py": py, "px": px,
        "win": win, "new": new, "painted": painted,
    }
    return rec


def outline_wkt(sc, g, R):
    gt = sc.gt
    vds, lyr = polygonize(R, (gt[0] + g.c0 * gt[1], gt[1] / K, 0, gt[3] + g.r0 * gt[5], 0, gt[5] / K))
    multi = ogr.Geometry(ogr.wkbMultiPolygon)
    for f in lyr:
        geom = f.GetGeometryRef()
        if geom.GetGeometryType() == ogr.wkbPolygon:
            multi.AddGeometry(geom.Clone())
    tol = 0.3 * abs(gt[1]) / K
    geom = multi.SimplifyPreserveTopology(tol)
    if geom.GetGeometryType() == ogr.wkbMultiPolygon and geom.GetGeometryCount() == 1:
        geom = geom.GetGeometryRef(0).Clone()
    geom.SetCoordinateDimension(2)
    return geom.ExportToWkt()


def choose_kind(rng, area):
    table = KINDS_SMALL if area <= 15000 else KINDS_LARGE
    names = [k for k, _ in table]
    p = np.array([w for _, w in table])
    return names[rng.choice(len(names), p=p / p.sum())]


def write_outputs(sc, out_dir, work, camps):
    os.makedirs(out_dir, exist_ok=True)
    mem = gdal.GetDriverByName("MEM")
    gtiff = gdal.GetDriverByName("GTiff")
    for b, name in enumerate(BANDS):
        src = gdal.Open(sc.paths[name])
        m = mem.CreateCopy("", src)
        m.GetRasterBand(1).WriteArray(work[b])
        dst = os.path.join(out_dir, os.path.basename(sc.paths[name]))
        if os.path.exists(dst):
            os.remove(dst)
        o = gtiff.CreateCopy(dst, m, options=["COMPRESS=DEFLATE", "INTERLEAVE=PIXEL",
                                              "BLOCKYSIZE=8"])
        o = None
        m = None
        src = None
    shutil.copyfile(os.path.join(sc.dir, "reserve.geojson"), os.path.join(out_dir, "reserve.geojson"))
    feats = []
    for cid in sorted(camps):
        c = camps[cid]
        props = {"id": cid}
        props.update(c["props"])
        feats.append({"type": "Feature",
                      "geometry": {"type": "Point", "coordinates": [round(c["lon"], 8), round(c["lat"], 8)]},
                      "properties": props})
    fc = {"type": "FeatureCollection", "name": "planted_camps_third", "features": feats}
    with open(os.path.join(out_dir, "truth.geojson"), "w") as f:
        json.dump(fc, f, indent=1)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scene_dir")
    ap.add_argument("out_dir")
    ap.add_argument("seed", type=int)
    ap.add_argument("--camps", type=int, default=15)
    a = ap.parse_args(argv)
    gdal.PushErrorHandler("CPLQuietErrorHandler")   # the scene's TIFFs warn about ExtraSamples
    sc = Scene(a.scene_dir)
    rng = np.random.default_rng(a.seed)
    n = a.camps
    targets = np.exp(rng.uniform(math.log(1000.0), math.log(50000.0), n))
    kinds = [choose_kind(rng, t) for t in targets]
    order = sorted(range(n), key=lambda i: -targets[i])
    work = sc.raw.copy()
    placed, camps = [], {}
    for i in order:
        rec = None
        for attempt in range(400):
            rec = place(sc, rng, kinds[i], float(targets[i]), placed, i + 1)
            if rec is not None:
                break
        if rec is None:
            sys.stderr.write(f"camp {i + 1} ({kinds[i]}, {targets[i]:.0f} m2): no room, skipped\n")
            continue
        win, new, painted = rec["win"], rec["new"], rec["painted"]
        sub = work[(slice(None),) + win]
        sub[:, painted] = new[:, painted]
        placed.append(rec)
        camps[i + 1] = rec
    write_outputs(sc, a.out_dir, work, camps)
    vis = [camps[k]["props"]["visibility"] for k in camps]
    sys.stderr.write(f"{len(camps)} camps: " + ", ".join(
        f"{v} {vis.count(v)}" for v in ("faint", "moderate", "obvious")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
