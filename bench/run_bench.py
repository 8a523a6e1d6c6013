#!/usr/bin/python3
"""riskmap speed and memory benchmark (not a test: machines are noisy).

Measures, in one run and alternating the commands so that noise hits both alike:
  * `riskmap scan --detector index` against a plain parallel GDAL read of every block of the
    same file (bench/gdal_block_read), same thread count, warm page cache; the ratio of medians;
  * riskmap's peak RSS on the 10000 x 10000 raster, and on a 2 x 2 VRT mosaic of it (4x the
    pixels) against a 1 x 1 VRT of it (same code path): memory must stay flat;
  * optionally other detectors' throughput relative to `index` (--detectors kiln ...).

  * with --real, the same on real texture (bench/make_real_mosaic.py: the bundled Sundarbans
    scene mirrored to --real-size): plain read, index and each --detectors alternating, medians,
    ratios to the read, km2/s, peak RSS at the default --ram (timed), at --ram, and on a 2 x 2 VRT.

  * with --real, also the commands that follow a scan on its index output (the most objects):
    two shards at --ram, then merge, report and eval, each's peak RSS (they take no --ram: the
    figure to hold against the scan's budget).

  * with --dense-only, a rule that finds an object every 8 x 8 px (4 x 4 px squares: 1,562,500
    objects on 10000 x 10000 px): peak RSS at --ram 256 and at the default, held detections
    spilled to disk, time, and whether both layers are the same bytes.

Usage: bench/run_bench.py [--build build] [--work /tmp/riskmap-bench] [--runs 3] [--threads N]
                          [--detectors kiln clearing] [--real [--real-size 10000]] [--dense-only]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(cmd, may_fail=False):
    """Wall seconds and peak RSS (MB) of one child process (None when may_fail and it failed)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        if may_fail:
            return None, err.strip()
        sys.exit(f"command failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0


def mosaic_vrt(src, dst, size, n=2):
    """A VRT placing `src` n x n times in a grid (projected, 10 m pixels)."""
    from osgeo import gdal
    ds = gdal.Open(src)
    gt = ds.GetGeoTransform()
    bands = ds.RasterCount
    srs = ds.GetProjectionRef()
    bx, by = ds.GetRasterBand(1).GetBlockSize()
    dtype = gdal.GetDataTypeName(ds.GetRasterBand(1).DataType)
    lines = [f'<VRTDataset rasterXSize="{n * size}" rasterYSize="{n * size}">',
             f"  <SRS>{gdal.EscapeString(srs, gdal.CPLES_XML).decode() if isinstance(gdal.EscapeString(srs, gdal.CPLES_XML), bytes) else gdal.EscapeString(srs, gdal.CPLES_XML)}</SRS>",
             f"  <GeoTransform>{', '.join(repr(v) for v in gt)}</GeoTransform>"]
    for b in range(1, bands + 1):
        desc = ds.GetRasterBand(b).GetDescription()
        lines.append(f'  <VRTRasterBand dataType="{dtype}" band="{b}" blockXSize="{bx}" blockYSize="{by}">')
        lines.append(f"    <Description>{desc}</Description>")
        nodata = ds.GetRasterBand(b).GetNoDataValue()
        if nodata is not None:  # as gdalbuildvrt copies it: without it, 0 would be data
            lines.append(f"    <NoDataValue>{nodata!r}</NoDataValue>")
        for ox in range(0, n * size, size):
            for oy in range(0, n * size, size):
                lines.append("    <SimpleSource>")
                lines.append(f'      <SourceFilename relativeToVRT="0">{src}</SourceFilename>')
                lines.append(f"      <SourceBand>{b}</SourceBand>")
                lines.append(f'      <SrcRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>')
                lines.append(f'      <DstRect xOff="{ox}" yOff="{oy}" xSize="{size}" ySize="{size}"/>')
                lines.append("    </SimpleSource>")
        lines.append("  </VRTRasterBand>")
    lines.append("</VRTDataset>")
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")


def real_texture(args, riskmap, baseline, cache_mb):
    """Index and each detector against the plain read on real texture, alternating, medians."""
    raster = os.path.join(args.work, f"real{args.real_size}.tif")
    if not os.path.exists(raster):
        print(f"generating {raster} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make_real_mosaic.py"), raster, str(args.real_size)],
                       check=True)
    out = os.path.join(args.work, "real.geojson")

    def scan(src, det, ram=None):
        cmd = [riskmap, "scan", src, "-o", out, "--overwrite", "-q", "--threads", str(args.threads),
               "--detector", det]
        return cmd + (["--ram", str(ram)] if ram else [])

    detectors = ["index"] + [d for d in args.detectors if d != "index"]
    measure([baseline, raster, str(args.threads), cache_mb])  # warm the page cache
    times = {d: [] for d in ["read", "read_small_cache"] + detectors}
    rss = {d: [] for d in detectors}
    features = {}
    for _ in range(args.runs):
        times["read"].append(measure([baseline, raster, str(args.threads), cache_mb])[0])
        # The same read with a 16 MB GDAL cache: on some machines faulting in a large cache's
        # pages costs more than the decoding (1.45 s against 0.53 s on a 6000 px mosaic); the
        # ratios are to the faster of the two, the plain read at its best.
        times["read_small_cache"].append(measure([baseline, raster, str(args.threads), "16"])[0])
        for d in detectors:
            w, r = measure(scan(raster, d))
            times[d].append(w)
            rss[d].append(r)
            features[d] = json.load(open(out + ".manifest.json"))["output"]["features"]
    read = min(statistics.median(times["read"]), statistics.median(times["read_small_cache"]))
    vrt = os.path.join(args.work, "real2x2.vrt")
    mosaic_vrt(raster, vrt, args.real_size)
    side_km = args.real_size * 10 / 1000.0
    res = {"raster": f"{args.real_size}x{args.real_size} real texture (Sundarbans S2 mirrored), 10 m",
           "area_km2": side_km * side_km, "runs": args.runs, "ram_mb": "default", "read_s": read,
           f"read_s_cache_{cache_mb}_mb": statistics.median(times["read"]),
           "read_s_cache_16_mb": statistics.median(times["read_small_cache"])}
    # Each run's scan against the reads just before it: a machine whose speed drifts between
    # runs (the read's median moved 0.36 -> 0.48 s between two runs of one day) moves both.
    pair_reads = [min(a, b) for a, b in zip(times["read"], times["read_small_cache"])]
    for d in detectors:
        med = statistics.median(times[d])
        paired = [t / r for t, r in zip(times[d], pair_reads)]
        # At --ram: one run's time and peak, or riskmap's refusal (a budget too small is an
        # error before any pixel, naming the smallest that works).
        at_ram = measure(scan(raster, d, ram=args.ram), may_fail=True)
        res[d] = {"scan_s": med, "ratio_vs_read": med / read,
                  "ratio_vs_read_paired": {"median": statistics.median(paired), "min": min(paired), "max": max(paired)},
                  "km2_per_s": side_km * side_km / med,
                  "features": features[d], "peak_rss_mb": max(rss[d]),
                  f"scan_s_at_ram_{args.ram}": at_ram[0], f"peak_rss_mb_at_ram_{args.ram}": at_ram[1],
                  "mosaic2x2_peak_rss_mb": measure(scan(vrt, d))[1]}
    return res


def after_scan(args, riskmap, raster):
    """Peak RSS of merge, report and eval on the real mosaic's index output (two shards)."""
    d = os.path.join(args.work, "after")
    os.makedirs(d, exist_ok=True)
    shards = [os.path.join(d, f"shard{k}.gpkg") for k in (1, 2)]
    res = {}
    for k, s in enumerate(shards, 1):
        res[f"scan_shard{k}_peak_rss_mb_at_ram_{args.ram}"] = measure(
            [riskmap, "scan", raster, "-o", s, "--overwrite", "-q", "--threads", str(args.threads), "--ram",
             str(args.ram), "--shard", f"{k}/2"])[1]
    merged = os.path.join(d, "merged.gpkg")
    res["merge_peak_rss_mb"] = measure([riskmap, "merge", *shards, "-o", merged, "--overwrite", "-q"])[1]
    res["features"] = json.load(open(merged + ".manifest.json"))["output"]["features"]
    res["report_peak_rss_mb"] = measure([riskmap, "report", merged, "-o", os.path.join(d, "report"), "--overwrite",
                                         "-q"])[1]
    # eval against 2,000 of the features as truth (matching every pair of 80,000 x 80,000 is not
    # what a user's labels look like).
    from osgeo import ogr
    src = ogr.Open(merged)
    truth = os.path.join(d, "truth.geojson")
    drv = ogr.GetDriverByName("GeoJSON")
    if os.path.exists(truth):
        drv.DeleteDataSource(truth)
    dst = drv.CreateDataSource(truth)
    lyr = dst.CreateLayer("truth", src.GetLayer(0).GetSpatialRef(), ogr.wkbPoint)
    n = src.GetLayer(0).GetFeatureCount()
    for i, f in enumerate(src.GetLayer(0)):
        if i % max(1, n // 2000) == 0:
            g = ogr.Feature(lyr.GetLayerDefn())
            g.SetGeometry(f.GetGeometryRef().Centroid())
            lyr.CreateFeature(g)
    dst = None
    res["eval_peak_rss_mb"] = measure([riskmap, "eval", "--truth", truth, "--detections", merged, "--radius-m", "30",
                                       "--bootstrap", "100"])[1]
    return res


def dense_raster(path, size):
    """One Byte band named red: 4 x 4 px squares of 200 every 8 px on 0, 10 m, UTM 45N."""
    import numpy as np
    from osgeo import gdal, osr
    ds = gdal.GetDriverByName("GTiff").Create(path, size, size, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform((500000, 10, 0, 2500000, 0, -10))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32645)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    band.SetDescription("red")
    x = (np.arange(size) % 8) < 4
    for y0 in range(0, size, 1024):
        rows = (np.arange(y0, min(size, y0 + 1024)) % 8) < 4
        band.WriteArray(np.where(rows[:, None] & x[None, :], 200, 0).astype(np.uint8), 0, y0)
    ds = None


def dense(args, riskmap):
    """Many objects: does --ram hold, and at what cost?"""
    raster = os.path.join(args.work, f"dense{args.size}.tif")
    if not os.path.exists(raster):
        dense_raster(raster, args.size)
    res = {"raster": f"{args.size} x {args.size} px, a 4 x 4 px square every 8 px"}
    outs = []
    for ram in (args.ram, 1024):
        out = os.path.join(args.work, f"dense-{ram}.geojson")
        wall, rss = measure([riskmap, "scan", raster, "-o", out, "--overwrite", "-q", "--threads", str(args.threads),
                             "--ram", str(ram), "--set", "rule=red > 0.3", "--set", "min_area_m2=100"])
        m = json.load(open(out + ".manifest.json"))
        res[f"ram_{ram}"] = {"seconds": wall, "peak_rss_mb": rss, "features": m["output"]["features"],
                             "spilled_mb": m["tiling"].get("detections_spilled_mb"), "timings": m["timings"]}
        outs.append(out)
    res["same_bytes"] = subprocess.run(["cmp", "-s", *outs]).returncode == 0
    for o in outs:
        os.remove(o)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--work", default="/tmp/riskmap-bench")
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--ram", type=int, default=256, help="riskmap --ram, MB")
    ap.add_argument("--detectors", nargs="*", default=[], help="also time these detectors")
    ap.add_argument("--real", action="store_true",
                    help="also time the real-texture mosaic (bench/make_real_mosaic.py): plain read, index and "
                         "--detectors alternating at riskmap's default --ram, with peak RSS there, at --ram, and on a "
                         "2 x 2 VRT of it")
    ap.add_argument("--real-size", type=int, default=10000, help="side of the real-texture mosaic, px")
    ap.add_argument("--real-only", action="store_true",
                    help="only the real-texture part (implies --real): the synthetic part runs the --detectors "
                         "at --ram too, which takes clearing minutes per run")
    ap.add_argument("--cold", action="store_true",
                    help="also time both with the page cache dropped before each run (needs root)")
    ap.add_argument("--dense-only", action="store_true",
                    help="only the many-objects case: --size px with a square every 8 px, at --ram and at 1024")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    riskmap = os.path.join(args.build, "riskmap")
    if args.dense_only:
        return report(args, {"dense": dense(args, riskmap)})
    baseline = os.path.join(args.build, "bench", "gdal_block_read")
    if args.real_only:
        return report(args, with_real(args, riskmap, baseline, {}))
    raster = os.path.join(args.work, f"bench{args.size}.tif")
    if not os.path.exists(raster):
        print(f"generating {raster} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make_bench_raster.py"), raster, str(args.size)], check=True)
    vrt = os.path.join(args.work, "mosaic2x2.vrt")
    mosaic_vrt(raster, vrt, args.size)
    # The same file behind a 1 x 1 VRT: the reference for memory, through the same code path.
    vrt1 = os.path.join(args.work, "mosaic1x1.vrt")
    mosaic_vrt(raster, vrt1, args.size, 1)
    out = os.path.join(args.work, "out.geojson")
    cache_mb = block_cache_mb(args)

    def scan(src, detector="index", extra=()):
        return [riskmap, "scan", src, "-o", out, "--overwrite", "-q", "--threads", str(args.threads),
                "--ram", str(args.ram), "--detector", detector, *extra]

    # Warm the page cache so both sides read from memory.
    measure([baseline, raster, str(args.threads), cache_mb])
    base, rm, rm_rss = [], [], []
    for _ in range(args.runs):
        base.append(measure([baseline, raster, str(args.threads), cache_mb])[0])
        w, r = measure(scan(raster))
        rm.append(w)
        rm_rss.append(r)
    manifest = json.load(open(out + ".manifest.json"))
    res = {
        "raster": f"{args.size}x{args.size} 4-band UInt16 DEFLATE, 256-px tiles",
        "threads": args.threads, "ram_mb": args.ram, "runs": args.runs,
        "baseline_read_s": statistics.median(base), "scan_s": statistics.median(rm),
        "ratio": statistics.median(rm) / statistics.median(base),
        "scan_peak_rss_mb": max(rm_rss), "features": manifest["output"]["features"],
        "scan_phase_s": manifest["timings"]["scan_s"],
    }
    if args.cold:
        def drop():
            subprocess.run(["sync"], check=True)
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        cb, cs = [], []
        for _ in range(args.runs):
            drop()
            cb.append(measure([baseline, raster, str(args.threads), cache_mb])[0])
            drop()
            cs.append(measure(scan(raster))[0])
        res["cold_baseline_read_s"] = statistics.median(cb)
        res["cold_scan_s"] = statistics.median(cs)
        res["cold_ratio"] = statistics.median(cs) / statistics.median(cb)
    vrt1_w, vrt1_rss = measure(scan(vrt1))
    vrt_w, vrt_rss = measure(scan(vrt))
    res["vrt1x1_scan_s"] = vrt1_w
    res["vrt1x1_peak_rss_mb"] = vrt1_rss
    res["mosaic_scan_s"] = vrt_w
    res["mosaic_peak_rss_mb"] = vrt_rss
    res["mosaic_time_ratio_vs_1x1"] = vrt_w / vrt1_w
    res["mosaic_rss_ratio_vs_1x1"] = vrt_rss / vrt1_rss
    for det in args.detectors:
        runs = [measure(scan(raster, det), may_fail=True) for _ in range(args.runs)]
        if runs[0][0] is None:  # refused at this --ram: say so instead of a time
            res[f"{det}_refused"] = runs[0][1]
            continue
        times = [w for w, _ in runs]
        res[f"{det}_scan_s"] = statistics.median(times)
        res[f"{det}_throughput_vs_index"] = statistics.median(rm) / statistics.median(times)
    if args.real:
        res = with_real(args, riskmap, baseline, res)
    report(args, res)


def block_cache_mb(args):
    return str(args.ram * 3 // 8)  # the share of --ram riskmap gives its block cache


def with_real(args, riskmap, baseline, res):
    cache_mb = block_cache_mb(args)
    res["real"] = real_texture(args, riskmap, baseline, cache_mb)
    res["real"]["after_scan"] = after_scan(args, riskmap, os.path.join(args.work, f"real{args.real_size}.tif"))
    return res


def report(args, res):
    print(json.dumps(res, indent=2))
    with open(os.path.join(args.work, "bench.json"), "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
