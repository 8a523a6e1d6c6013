#!/usr/bin/python3
"""Scale-out figures (a benchmark, not a test).

Builds a 40000 x 40000 VRT mosaic (4 x 4 copies of the 10000 x 10000 benchmark raster, so
1.6 gigapixels at 10 m = 160 000 km2), then on this machine:
  * scans it as 1, 2 and 4 shards running at the same time (threads split between them),
    then merges the shards, and checks the merge equals the single-process output;
  * reports wall time, throughput (km2/s), each process's peak RSS, and the merge time.

Usage: bench/run_scale_bench.py [--build build] [--work /tmp/riskmap-bench] [--detector index]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_parallel(cmds):
    """Starts all commands at once; returns wall seconds and each process's peak RSS (MB)."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in cmds]
    rss = {}
    pending = {p.pid: p for p in procs}
    while pending:
        pid, status, usage = os.wait4(-1, 0)
        if pid in pending:
            p = pending.pop(pid)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"failed: {' '.join(p.args)}\n{p.stderr.read().decode()}")
            rss[pid] = usage.ru_maxrss / 1024.0
    return time.perf_counter() - t0, [rss[p.pid] for p in procs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--work", default="/tmp/riskmap-bench")
    ap.add_argument("--detector", default="index")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--ram", type=int, default=256)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    riskmap = os.path.join(args.build, "riskmap")
    tile = os.path.join(args.work, "bench10000.tif")
    if not os.path.exists(tile):
        subprocess.run([sys.executable, os.path.join(HERE, "make_bench_raster.py"), tile, "10000"], check=True)
    sys.path.insert(0, HERE)
    from run_bench import mosaic_vrt  # noqa: E402

    # A 4 x 4 mosaic: two levels of 2 x 2.
    vrt2 = os.path.join(args.work, "mosaic2x2.vrt")
    mosaic_vrt(tile, vrt2, 10000)
    vrt4 = os.path.join(args.work, "mosaic4x4.vrt")
    mosaic_vrt(vrt2, vrt4, 20000)
    area_km2 = 40000 * 40000 * 100 / 1e6

    res = {"mosaic": "40000 x 40000 px VRT (4 x 4 copies of a 10000^2 4-band UInt16 DEFLATE GeoTIFF), 10 m",
           "area_km2": area_km2, "detector": args.detector, "cores": os.cpu_count(), "runs": {}}
    single = None
    for n in (1, 2, 4):
        threads = max(1, args.threads // n)
        outs, cmds = [], []
        for k in range(1, n + 1):
            out = os.path.join(args.work, f"scale-{n}-{k}.geojson")
            outs.append(out)
            c = [riskmap, "scan", vrt4, "-o", out, "--overwrite", "-q", "--detector", args.detector,
                 "--threads", str(threads), "--ram", str(args.ram)]
            if n > 1:
                c += ["--shard", f"{k}/{n}"]
            cmds.append(c)
        wall, rss = run_parallel(cmds)
        entry = {"processes": n, "threads_each": threads, "wall_s": round(wall, 2),
                 "km2_per_s": round(area_km2 / wall, 1), "peak_rss_mb_each": [round(r, 1) for r in rss]}
        if n == 1:
            single = outs[0]
        else:
            merged = os.path.join(args.work, f"scale-{n}-merged.geojson")
            mwall, mrss = run_parallel([[riskmap, "merge", *outs, "-o", merged, "--overwrite", "-q"]])
            entry["merge_s"] = round(mwall, 2)
            entry["merge_peak_rss_mb"] = round(mrss[0], 1)
            entry["merge_equals_single"] = open(merged, "rb").read() == open(single, "rb").read()
        res["runs"][str(n)] = entry
        print(json.dumps(entry), flush=True)
    features = json.load(open(single + ".manifest.json"))["output"]["features"]
    res["features"] = features
    print(json.dumps(res, indent=2))
    with open(os.path.join(args.work, "scale.json"), "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
