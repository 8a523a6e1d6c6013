#!/usr/bin/python3
"""Camp recall of the `clearing` detector on planted copies of the real Sundarbans scene.

  /usr/bin/python3 research/camps/recall.py --gen {first,indep,third,both} --seeds 1-22
      [--out DIR] [--binary build/riskmap] [--set key=value ...] [--jobs 1] [--cross-check]
      [--bands blue green red nir]
      [--scene data/sundarbans-s2-l2a-2020-01-27] [--camps 15] [--plant-binary build/tests/plant_camps]

For each generator and seed: plant 15 camps into a temporary copy of the scene
(first: build/tests/plant_camps, the C++ CampPlanter; indep: tests/tools/plant_camps_indep.py;
third: tests/tools/plant_camps_third.py, written later by someone who did not read the detector),
scan it with `riskmap scan --detector clearing --explain` exactly as tests/cli/test_clearing_cli.cpp
does (same bands, --scale 1.5259e-5, plus any --set), and count as that test does:

- A detection is placed at its polygon's centroid; a camp at its truth point. They match within
  100 m (geodesic), one to one, greedily closest first (ties: higher score). Camps are >= 400 m
  apart, so this gives the counts of `riskmap eval --radius-m 100` (--cross-check runs it too).
- Two evaluations, as the test's: camps of >= 2000 m2 ("0.2 ha") and of 1000-2000 m2 ("0.1-0.2 ha")
  are certain in turn and every other camp is don't-care (a detection on it is neither a hit nor
  a false alarm). The truth files' own `difficult` flags are not used.
- Unmatched detections are the false positives of the >= 0.2 ha evaluation (the test's `fp`):
  detections within 100 m of no camp, or a second fragment of a camp already matched. Those whose
  centroid lies inside the scene's reserve.geojson are reported as reserve false alarms.
- A camp is missed when no detection lies within 100 m of it. Its gate is the one of the
  `--explain` feature that overlaps its outline, a rejected candidate patch before a mask's trace
  (veg_ndvi_min, bare_ndbi_min), then the largest overlap (the test's rule); failing that, the
  nearest feature within 100 m of the truth point; else "no candidate".

Prints per seed and pooled recall, reserve false alarms and a table of misses; writes it all to
OUT/recall.json. Run it under `nice -n 19`; temporary directories are removed. The default scene is
the repository's copy (the one the tests use): both generators need its reserve.geojson, which
/work/shared/data's copy of the same bands lacks.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from osgeo import gdal, ogr, osr

for _module in (gdal, ogr, osr):
    _module.UseExceptions()

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.path.join(REPO, "data", "sundarbans-s2-l2a-2020-01-27")  # has reserve.geojson
BANDS = [("blue", "B02"), ("green", "B03"), ("red", "B04"), ("nir", "B08"), ("swir1", "B11"), ("swir2", "B12")]
RADIUS_M = 100.0
SIZE_BANDS = {"ge_0.2ha": (2000.0, math.inf), "0.1-0.2ha": (1000.0, 2000.0)}
MASK_GATES = {"veg_ndvi_min", "bare_ndbi_min", "bare_red_green_min"}  # a trace taken by a mask, not a rejected patch
EXTRA_PROPS = ["kind", "shape", "donor", "veg_fraction", "visibility"]
WGS84 = osr.SpatialReference()
WGS84.ImportFromEPSG(4326)
WGS84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += range(int(lo), int(hi or lo) + 1)
    return seeds


def size_band(area):
    return next((k for k, (lo, hi) in SIZE_BANDS.items() if lo <= area < hi), "lt_0.1ha")


# ----------------------------------------------------------------------------- plant and scan

def plant(gen, args, seed, out_dir):
    """Plants camps for one seed; returns the camps read back from truth.geojson."""
    os.makedirs(out_dir)
    if gen == "first":
        run([args.plant_binary, args.scene, out_dir, str(seed), str(args.camps)])
    else:
        script = {"indep": os.path.join(REPO, "tests", "tools", "plant_camps_indep.py"),
                  "third": os.path.join(REPO, "tests", "tools", "plant_camps_third.py")}[gen]
        run(["/usr/bin/python3", script, args.scene, out_dir, str(seed), "--camps", str(args.camps)])
    camps = []
    for f in json.load(open(os.path.join(out_dir, "truth.geojson")))["features"]:
        p = f["properties"]
        area = p["area_m2"] if "area_m2" in p else p["area_land_m2"]  # indep, first
        lon, lat = f["geometry"]["coordinates"]
        c = {"id": p["id"], "lon": lon, "lat": lat, "area_m2": area, "size_band": size_band(area),
             "outline_wkt": p["outline_wkt"]}
        c.update({k: p[k] for k in EXTRA_PROPS if k in p})
        camps.append(c)
    return camps


def scan(args, planted, work):
    """The test's scan command line, with --explain and the --set options."""
    det, why = os.path.join(work, "det.geojson"), os.path.join(work, "why.geojson")
    cmd = [args.binary, "scan", "--detector", "clearing", "-o", det, "-q", "--overwrite", "--scale", "1.5259e-5"]
    for name, band in BANDS:
        if args.bands and name not in args.bands:
            continue
        cmd += ["--band", "%s=%s/Sentinel-2_L2A_%s_Raw.tiff" % (name, planted, band)]
    cmd += ["--explain", why]
    for s in args.set:
        cmd += ["--set", s]
    run(cmd)
    return det, why


def read_detections(path):
    ds, dets = ogr.Open(path), []  # the layer lives only as long as its dataset
    for f in ds.GetLayer():
        c = f.GetGeometryRef().Centroid()
        dets.append({"lon": c.GetX(), "lat": c.GetY(), "score": f.GetField("score"), "area_m2": f.GetField("area_m2")})
    return dets


# ----------------------------------------------------------------------------- matching

def local_metres(lon, lat):
    """Lon/lat to an azimuthal equidistant plane centred at (lon, lat) on WGS 84: the distance
    from the origin is the geodesic distance."""
    aeqd = osr.SpatialReference()
    aeqd.ImportFromProj4("+proj=aeqd +lat_0=%.12f +lon_0=%.12f +datum=WGS84 +units=m +no_defs" % (lat, lon))
    aeqd.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(WGS84, aeqd)


def distances(dets, camps):
    """Geodesic metres, [detection][camp]."""
    out = [[0.0] * len(camps) for _ in dets]
    for t, c in enumerate(camps):
        ct = local_metres(c["lon"], c["lat"])
        for d, q in enumerate(dets):
            x, y, _ = ct.TransformPoint(q["lon"], q["lat"])
            out[d][t] = math.hypot(x, y)
    return out


def greedy(dist, dets, di, ti):
    """One-to-one pairs within the radius, closest first (eval's greedy order of ties)."""
    edges = sorted((dist[d][t], -dets[d]["score"], d, t) for d in di for t in ti if dist[d][t] <= RADIUS_M)
    used_d, used_t, pairs = set(), set(), {}
    for _, _, d, t in edges:
        if d not in used_d and t not in used_t:
            used_d.add(d)
            used_t.add(t)
            pairs[d] = t
    return pairs


def evaluate(dist, dets, camps, lo, hi):
    """PointMatcher::match: certain camps first, leftover detections then to don't-care camps."""
    certain = [t for t, c in enumerate(camps) if lo <= c["area_m2"] < hi]
    other = [t for t in range(len(camps)) if t not in certain]
    hits = greedy(dist, dets, range(len(dets)), certain)
    rest = [d for d in range(len(dets)) if d not in hits]
    ignored = greedy(dist, dets, rest, other)
    return {"tp": len(hits), "total": len(certain), "fp": len(rest) - len(ignored),
            "unmatched": [d for d in rest if d not in ignored]}


def cross_check(args, work, camps, det, lo, hi):
    """The test's own count: `riskmap eval` on truth where only [lo, hi) m2 is certain."""
    feats = [{"type": "Feature", "properties": {"id": c["id"], "difficult": not lo <= c["area_m2"] < hi},
              "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]}} for c in camps]
    truth = os.path.join(work, "band.geojson")
    with open(truth, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    o = json.loads(run([args.binary, "eval", "--truth", truth, "--detections", det, "--radius-m", "100", "--json"]))
    return {k: o["overall"][k] for k in ("tp", "fn", "fp")}


# ----------------------------------------------------------------------------- explaining misses

def near_camp(layer, camp, outline):
    """Restricts `layer` to a box around the outline and the truth point, padded by 100 m."""
    x0, x1, y0, y1 = outline.GetEnvelope()
    py = 1.1 * RADIUS_M / 111000.0
    px = py / math.cos(math.radians(camp["lat"]))
    layer.SetSpatialFilterRect(min(x0, camp["lon"]) - px, min(y0, camp["lat"]) - py,
                               max(x1, camp["lon"]) + px, max(y1, camp["lat"]) + py)
    return layer


def rank(g, gate, outline, to_metres):
    """Overlapping the outline first, a patch before a mask, then the larger overlap; then the
    nearer within 100 m. None when further."""
    if g.Intersects(outline):
        return (1, gate not in MASK_GATES, g.Intersection(outline).GetArea(), 0.0), "outline"
    m = g.Clone()
    m.Transform(to_metres)
    near = m.Distance(ogr.CreateGeometryFromWkt("POINT (0 0)"))
    return ((0, False, 0.0, -near), "%.0f m" % near) if near <= RADIUS_M else (None, None)


def explain_gate(camp, layer):
    """Gate, value and limit of the best-ranked explain feature at the camp (the first in file
    order on ties, as the test), else "no candidate"."""
    outline = ogr.CreateGeometryFromWkt(camp["outline_wkt"]).Buffer(0)
    to_metres = local_metres(camp["lon"], camp["lat"])
    best, best_key = {"gate": "no candidate", "value": None, "limit": None, "via": None, "measures": {}}, None
    for f in near_camp(layer, camp, outline):
        key, via = rank(f.GetGeometryRef(), f.GetField("rejected_by"), outline, to_metres)
        if key is not None and (best_key is None or key > best_key):
            best_key, best = key, {"gate": f.GetField("rejected_by"), "value": f.GetField("value"),
                                   "limit": f.GetField("limit"), "via": via,
                                   "measures": json.loads(f.GetField("measures") or "{}")}
    layer.SetSpatialFilter(None)
    return best


# ----------------------------------------------------------------------------- one seed

def unmatched_detections(dets, dist, idx, scene):
    """Unmatched detections, each with whether it lies in the reserve and its nearest camp."""
    ds = ogr.Open(os.path.join(scene, "reserve.geojson"))  # keep the dataset and feature alive
    feature = ds.GetLayer().GetNextFeature()
    reserve, out = feature.GetGeometryRef(), []
    for d in idx:
        point = ogr.CreateGeometryFromWkt("POINT (%.12f %.12f)" % (dets[d]["lon"], dets[d]["lat"]))
        near = round(min(dist[d]), 1) if dist[d] else None
        out.append(dict(dets[d], in_reserve=reserve.Contains(point), nearest_camp_m=near))
    return out


def missed_camps(gen, seed, camps, dist, why):
    """Camps with no detection within 100 m, each with the gate that turned it down."""
    explained, out = ogr.Open(why), []
    for t, c in enumerate(camps):
        if all(row[t] > RADIUS_M for row in dist):
            miss = {k: v for k, v in c.items() if k != "outline_wkt"}
            out.append(dict(miss, generator=gen, seed=seed, **explain_gate(c, explained.GetLayer())))
    return out


def run_seed(args, gen, seed):
    with tempfile.TemporaryDirectory(prefix="recall-%s-%d-" % (gen, seed)) as work:
        planted = os.path.join(work, "planted")
        camps = plant(gen, args, seed, planted)
        det, why = scan(args, planted, work)
        dets = read_detections(det)
        dist = distances(dets, camps)
        rec = {"generator": gen, "seed": seed, "camps": len(camps), "detections": len(dets)}
        for name, (lo, hi) in SIZE_BANDS.items():
            rec[name] = evaluate(dist, dets, camps, lo, hi)
            if args.cross_check:
                rec[name]["eval"] = cross_check(args, work, camps, det, lo, hi)
        rec["0.1-0.2ha"].pop("unmatched")
        rec["unmatched"] = unmatched_detections(dets, dist, rec["ge_0.2ha"].pop("unmatched"), args.scene)
        rec["reserve_false_alarms"] = sum(u["in_reserve"] for u in rec["unmatched"])
        rec["misses"] = missed_camps(gen, seed, camps, dist, why)
        return rec


# ----------------------------------------------------------------------------- report

def frac(t):
    return "%d/%d = %s" % (t["tp"], t["total"], "%.3f" % (t["tp"] / t["total"]) if t["total"] else "n/a")


def pooled(records):
    out = {name: {k: sum(r[name][k] for r in records) for k in ("tp", "total", "fp")} for name in SIZE_BANDS}
    out["unmatched"] = sum(len(r["unmatched"]) for r in records)
    out["reserve_false_alarms"] = sum(r["reserve_false_alarms"] for r in records)
    return out


def line(label, r, unmatched):
    return "%-18s >= 0.2 ha %-16s 0.1-0.2 ha %-16s unmatched %d (%d in reserve)" % (
        label, frac(r["ge_0.2ha"]), frac(r["0.1-0.2ha"]), unmatched, r["reserve_false_alarms"])


def check_line(r):
    """With --cross-check: whether `riskmap eval` gave the same tp, fn and fp in both bands."""
    if "eval" not in r["ge_0.2ha"]:
        return ""
    bad = [n for n in SIZE_BANDS if r[n]["eval"] != {"tp": r[n]["tp"], "fn": r[n]["total"] - r[n]["tp"], "fp": r[n]["fp"]}]
    return "   eval: MISMATCH in " + ", ".join(bad) if bad else "   eval: same"


def report(records, groups):
    for r in records:
        print(line("%s %d" % (r["generator"], r["seed"]), r, len(r["unmatched"])) + check_line(r))
    for name, p in groups.items():
        print(line("pooled " + name, p, p["unmatched"]))
    misses = [m for r in records for m in r["misses"]]
    print("\nmisses (%d):" % len(misses))
    cols = ["generator", "seed", "id", "area_m2", "size_band"] + EXTRA_PROPS + ["gate", "value", "limit", "via"]
    rows = [cols] + [["%.4g" % v if isinstance(v, float) else str(v) for v in (m.get(k, "-") for k in cols)] for m in misses]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gen", choices=["first", "indep", "third", "both"], required=True)
    ap.add_argument("--seeds", required=True, help="e.g. 1-22, 200-215 or 1,3,5-7")
    ap.add_argument("--out", default=".", help="directory of recall.json (default: here)")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "riskmap"))
    ap.add_argument("--plant-binary", help="first generator (default: plant_camps beside --binary)")
    ap.add_argument("--scene", default=SCENE, help="band files and reserve.geojson")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="detector option (repeatable)")
    ap.add_argument("--bands", nargs="+", choices=[n for n, _ in BANDS],
                    help="scan with only these bands (default: all six), e.g. blue green red nir")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--camps", type=int, default=15)
    ap.add_argument("--cross-check", action="store_true", help="also count with `riskmap eval` and compare")
    return ap.parse_args(argv)


def find_plant_binary(binary):
    build = os.path.dirname(binary)
    found = sorted(glob.glob(os.path.join(build, "plant_camps")) + glob.glob(os.path.join(build, "*", "plant_camps")))
    return found[0] if found else None


def write_json(args, argv, records, groups):
    version = run([args.binary, "--version"]).strip()
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True, text=True)
    out = {"command": ["recall.py"] + argv, "riskmap": version, "commit": commit.stdout.strip(), "binary": args.binary,
           "binary_mtime": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.path.getmtime(args.binary))),
           "scene": args.scene, "set": args.set, "radius_m": RADIUS_M, "camps_per_seed": args.camps,
           "pooled": groups, "seeds": records, "misses": [m for r in records for m in r["misses"]]}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "recall.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("\nwrote " + path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.binary = os.path.abspath(args.binary)
    args.plant_binary = args.plant_binary or find_plant_binary(args.binary)
    gens = ["first", "indep"] if args.gen == "both" else [args.gen]
    if not os.access(args.binary, os.X_OK) or ("first" in gens and not args.plant_binary):
        raise SystemExit("riskmap or plant_camps not built (see --binary, --plant-binary)")
    tasks = [(g, s) for g in gens for s in parse_seeds(args.seeds)]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        records = list(pool.map(lambda t: run_seed(args, *t), tasks))
    groups = {g: pooled([r for r in records if r["generator"] == g]) for g in gens}
    if len(gens) > 1:
        groups["all"] = pooled(records)
    report(records, groups)
    write_json(args, argv, records, groups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
