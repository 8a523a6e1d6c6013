#!/usr/bin/python3
"""Runs bench/run_bench.py once and writes docs/benchmarks.json, the throughput file that
notebooks/planning.ipynb reads (it never types a speed in).

Usage (from the repository root, with build/riskmap and build/bench/gdal_block_read built):

    /usr/bin/python3 notebooks/tools/make_benchmarks_json.py [--runs 3] [--detectors kiln clearing]
        [--ram 1024] [--build build] [--work /tmp/riskmap-nb-bench] [--out docs/benchmarks.json]

It runs `bench/run_bench.py --runs 3 --ram 1024 --detectors kiln clearing`: riskmap's default
memory budget, which is what a planned run uses (the bench's own default, --ram 256, is too small
for the clearing detector's 3.1 km halo). About 10 minutes on a 2-core machine.

It is a benchmark, not a test: run it on a quiet machine. The file records the load average
before and after, so a reader can tell.

docs/benchmarks.json, schema "riskmap-benchmarks/1":

  schema            "riskmap-benchmarks/1"
  command           the bench command line that produced "bench" (run from the repository root)
  measured_utc      when the bench finished (UTC, ISO 8601)
  riskmap_version   `riskmap --version` of the binary measured
  git_commit        `git rev-parse HEAD` of the checkout, "+dirty" appended when it had changes
  machine           cpus (os.cpu_count), cpu_model, mem_gib, loadavg_before and loadavg_after
                    (1, 5 and 15 minute load averages, from os.getloadavg)
  raster            the benchmark raster the times refer to: width, height, bands, dtype,
                    gsd_m (pixel size in metres, projected CRS), crs, area_km2
                    (width x height x gsd^2), file_bytes
  bench             bench.json exactly as bench/run_bench.py wrote it to its --work folder:
                    scan_s (median wall time of `riskmap scan --detector index`),
                    <detector>_scan_s (median wall time of that detector on the same raster),
                    threads, ram_mb, runs, ratio, scan_peak_rss_mb, ... (see bench/run_bench.py)

Throughput in km2/s is raster.area_km2 / bench.<detector>_scan_s (bench.scan_s for index);
the notebook derives it, so the file holds only measured values.
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def mem_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def git_commit():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default="/tmp/riskmap-nb-bench")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--ram", type=int, default=1024,
                    help="riskmap --ram for every scan (1024, riskmap's default; clearing needs > 569)")
    ap.add_argument("--detectors", nargs="*", default=["kiln", "clearing"])
    ap.add_argument("--out", default=os.path.join("docs", "benchmarks.json"))
    a = ap.parse_args()
    os.chdir(REPO)

    cmd = ["/usr/bin/python3", "bench/run_bench.py", "--build", a.build, "--work", a.work,
           "--runs", str(a.runs), "--size", str(a.size), "--ram", str(a.ram)]
    if a.detectors:
        cmd += ["--detectors", *a.detectors]
    load_before = os.getloadavg()
    print("running:", shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    load_after = os.getloadavg()
    with open(os.path.join(a.work, "bench.json")) as f:
        bench = json.load(f)

    from osgeo import gdal, osr
    gdal.UseExceptions()
    raster_path = os.path.join(a.work, f"bench{a.size}.tif")
    ds = gdal.Open(raster_path)
    gt = ds.GetGeoTransform()
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    if not srs.IsProjected() or abs(abs(gt[1]) - abs(gt[5])) > 1e-9:
        sys.exit("the benchmark raster is expected in a projected CRS with square pixels")
    gsd = abs(gt[1]) * srs.GetLinearUnits()
    raster = {
        "width": ds.RasterXSize, "height": ds.RasterYSize, "bands": ds.RasterCount,
        "dtype": gdal.GetDataTypeName(ds.GetRasterBand(1).DataType),
        "gsd_m": gsd, "crs": f"{srs.GetAuthorityName(None)}:{srs.GetAuthorityCode(None)}",
        "area_km2": ds.RasterXSize * ds.RasterYSize * gsd * gsd / 1e6,
        "file_bytes": os.path.getsize(raster_path),
    }
    version = subprocess.run([os.path.join(a.build, "riskmap"), "--version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    doc = {
        "schema": "riskmap-benchmarks/1",
        "command": shlex.join(cmd),
        "measured_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "riskmap_version": version,
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "mem_gib": mem_gib(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after]},
        "raster": raster,
        "bench": bench,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
