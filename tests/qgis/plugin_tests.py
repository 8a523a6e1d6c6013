#!/usr/bin/python3
"""PyQGIS tests of the riskmap Processing plugin, headless, as a GIS user's scripts and dialogs
drive it. Each check compares with riskmap run directly.

usage: plugin_tests.py PLUGINS_DIR RISKMAP DATA_DIR WORK_DIR
  PLUGINS_DIR  a folder holding riskmap_processing/ (the unpacked plugin zip)
  RISKMAP      the riskmap binary
  DATA_DIR     data/kilns-s2-bd-dev
  WORK_DIR     an empty scratch folder
Exit 0 when every check passes; prints what failed otherwise.
"""
import glob
import json
import os
import subprocess
import sys
import time
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GDAL_PAM_ENABLED", "NO")  # no .aux.xml beside the bundled chips

from qgis.core import (QgsApplication, QgsFeature, QgsField, QgsGeometry, QgsPointXY,  # noqa: E402
                       QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback, QgsProject,
                       QgsRasterLayer, QgsSettings, QgsVectorLayer)
from qgis.PyQt.QtCore import QVariant  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def cli(riskmap, *args, cwd=None):
    return subprocess.run([riskmap] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def features_by_id(uri):
    layer = QgsVectorLayer(uri, "cmp", "ogr")
    out = {}
    for f in layer.getFeatures():
        attrs = {k: f[k] for k in f.fields().names() if k != "fid"}
        out[f["id"]] = (attrs, f.geometry().asWkt(7))
    return layer.isValid(), out


def outputs_of(path_prefix):
    """Every file a scan to PATH_PREFIX.ext may have written (layer, siblings, manifest, journal)."""
    base = os.path.splitext(path_prefix)[0]
    return sorted(set(glob.glob(base + ".*") + glob.glob(path_prefix + "*")))


class Recorder(QgsProcessingFeedback):
    """Keeps what the algorithm reported; optionally cancels at the first progress update."""

    def __init__(self, cancel_at_progress=False):
        super().__init__()
        self.infos, self.commands, self.errors, self.progress = [], [], [], []
        self.cancel_at_progress = cancel_at_progress
        self.progressChanged.connect(self._on_progress)

    def _on_progress(self, value):
        self.progress.append(value)
        if self.cancel_at_progress and 0 < value < 100 and not self.isCanceled():
            self.cancel()

    def pushInfo(self, info):
        self.infos.append(info)
        super().pushInfo(info)

    def pushCommandInfo(self, info):
        self.commands.append(info)
        super().pushCommandInfo(info)

    def reportError(self, error, fatalError=False):
        self.errors.append(error)
        super().reportError(error, fatalError)


def make_mosaic_vrt(chip, n, out):
    """A VRT of n x n copies of one kiln chip (128 px each): a big input whose scan takes seconds."""
    bands = []
    for b, interp in ((1, "Red"), (2, "Green"), (3, "Blue")):
        sources = "".join(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{chip}</SourceFilename><SourceBand>{b}</SourceBand>'
            f'<SrcRect xOff="0" yOff="0" xSize="128" ySize="128"/>'
            f'<DstRect xOff="{j * 128}" yOff="{i * 128}" xSize="128" ySize="128"/></SimpleSource>\n'
            for i in range(n) for j in range(n))
        bands.append(f'<VRTRasterBand dataType="Byte" band="{b}"><ColorInterp>{interp}</ColorInterp>\n'
                     f'{sources}</VRTRasterBand>')
    with open(out, "w") as f:
        f.write(f'<VRTDataset rasterXSize="{128 * n}" rasterYSize="{128 * n}"><SRS>EPSG:4326</SRS>'
                f'<GeoTransform>89.0, 0.0000898, 0, 23.5, 0, -0.0000898</GeoTransform>\n' + "\n".join(bands) +
                "</VRTDataset>\n")


def main(plugins_dir, riskmap, data_dir, work):
    riskmap = os.path.abspath(riskmap)
    chips_dir = os.path.join(data_dir, "chips")
    chips = sorted(glob.glob(os.path.join(chips_dir, "*.tif")))
    labels = os.path.join(data_dir, "labels.geojson")
    os.makedirs(work, exist_ok=True)

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    sys.path.insert(0, plugins_dir)
    import processing
    from processing.core.Processing import Processing
    from processing.core.ProcessingConfig import ProcessingConfig
    from processing.gui.Postprocessing import handleAlgorithmResults
    Processing.initialize()
    import riskmap_processing
    from riskmap_processing import binary as rm
    plugin = riskmap_processing.classFactory(None)
    plugin.initProcessing()
    registry = QgsApplication.processingRegistry()
    project = QgsProject.instance()

    def set_binary(path):
        # As the settings dialog stores it (its validator would refuse a wrong path, which is tested).
        QgsSettings().setValue("Processing/Configuration/" + rm.SETTING_BINARY, path)
        ProcessingConfig.readSettings()
        registry.providerById("riskmap").refreshAlgorithms()

    try:
        print(f"QGIS {__import__('qgis.core').core.Qgis.QGIS_VERSION}, plugin from {riskmap_processing.__file__}")
        # --- provider, algorithms, and a dialog generated from the binary ---------------------------
        set_binary(riskmap)
        provider = registry.providerById("riskmap")
        check(provider is not None, "provider 'riskmap' is registered")
        ids = sorted(a.id() for a in provider.algorithms())
        check(ids == ["riskmap:diff", "riskmap:eval", "riskmap:merge", "riskmap:report", "riskmap:scan"], f"algorithms {ids}")
        check("0." in provider.longName() or "riskmap" in provider.longName(), f"provider long name {provider.longName()}")
        scan = registry.createAlgorithmById("riskmap:scan")
        dets = json.loads(cli(riskmap, "detectors", "--json").stdout)["detectors"]
        check(scan.parameterDefinition("DETECTOR").options() == [d["name"] for d in dets],
              "scan's detector list is the binary's")
        mismatches = []
        for d in dets:
            for o in d["options"]:
                p = scan.parameterDefinition(f"{d['name']}_{o['name']}")
                if p is None:
                    mismatches.append(f"{d['name']}_{o['name']} missing")
                    continue
                if o["type"] == "number":
                    if p.defaultValue() != o["default"] or ("min" in o and p.minimum() != o["min"]) or \
                            ("max" in o and p.maximum() != o["max"]):
                        mismatches.append(f"{p.name()}: default/min/max {p.defaultValue()}/{p.minimum()}/{p.maximum()}")
                elif p.defaultValue() != o["default"]:
                    mismatches.append(f"{p.name()}: default {p.defaultValue()!r}")
        n_opts = sum(len(d["options"]) for d in dets)
        check(not mismatches, f"all {n_opts} detector options are parameters with the binary's defaults and ranges "
                              f"{mismatches[:3]}")

        # --- scan through processing.run, loading the results the way the dialog does ----------------
        cli_dir = os.path.join(work, "cli")
        os.makedirs(cli_dir)
        r = cli(riskmap, "scan", chips_dir, "--detector", "kiln", "--grid", "1000", "-q",
                "-o", os.path.join(cli_dir, "kilns.geojson"))
        check(r.returncode == 0, f"CLI scan of the chips ({r.stderr.strip()})")

        raster_layers = []
        for c in chips:
            lyr = QgsRasterLayer(c, os.path.basename(c))
            raster_layers.append(lyr)
        project.addMapLayers(raster_layers)
        out = os.path.join(work, "a", "kilns.geojson")
        fb = Recorder()
        ctx = QgsProcessingContext()
        ctx.setProject(project)
        from qgis.core import QgsProcessingOutputLayerDefinition
        t0 = time.time()
        res = processing.run("riskmap:scan", {
            "INPUT": [lyr.id() for lyr in raster_layers], "DETECTOR": "kiln", "GRID": 1000,
            "OUTPUT": QgsProcessingOutputLayerDefinition(out, project)},
            feedback=fb, context=ctx, onFinish=lambda alg, c, f: handleAlgorithmResults(alg, c, f))
        print(f"     processing.run scan took {time.time() - t0:.1f} s")
        check(read(out) == read(os.path.join(cli_dir, "kilns.geojson")), "GeoJSON is byte-identical to the CLI's")
        for sib in ("grid", "footprints", "nodata_gaps"):
            check(read(os.path.join(work, "a", f"kilns.{sib}.geojson")) ==
                  read(os.path.join(cli_dir, f"kilns.{sib}.geojson")), f"{sib} layer is byte-identical to the CLI's")
        check(res.get("DETECTIONS") == 45 and res.get("OUTPUT") == out, f"results {res.get('DETECTIONS')} {res.get('OUTPUT')}")
        check(any(c.startswith(riskmap) and "--json-progress" in c for c in fb.commands),
              "the riskmap command line is logged")
        check(fb.progress and max(fb.progress) == 100, f"progress reached 100 ({fb.progress[-3:]})")
        check(any("tile(s)" in i for i in fb.infos), "riskmap's progress events reach the log")
        group = project.layerTreeRoot().findGroup("riskmap: kilns")
        check(group is not None, "results go into the group 'riskmap: kilns'")
        if group is not None:
            names = [n.layer().name() for n in group.findLayers()]
            gaps = QgsVectorLayer(os.path.join(work, "a", "kilns.nodata_gaps.geojson"), "gaps", "ogr").featureCount()
            want = ["kilns", "kilns grid"] + (["kilns nodata gaps"] if gaps else []) + ["kilns footprints"]
            check(names == want, f"group holds detections, grid, gaps ({gaps}), footprints in that order {names}")
            by_name = {n.layer().name(): n.layer() for n in group.findLayers()}
            det = by_name.get("kilns")
            check(det is not None and det.isValid() and det.featureCount() == 45, "detections layer: 45 features")
            if det is not None:
                rend = det.renderer()
                check(rend.type() == "graduatedSymbol" and rend.classAttribute() == "risk" and len(rend.ranges()) == 3,
                      f"detections are styled graduated by risk ({rend.type()})")
                check(det.labelsEnabled(), "detections are labelled")
            grid = by_name.get("kilns grid")
            if check(grid is not None and grid.isValid(), "grid layer loaded"):
                check(grid.renderer().type() == "graduatedSymbol" and grid.renderer().classAttribute() == "mean_risk",
                      "grid is styled graduated by mean_risk")
            for name in ("kilns footprints", "kilns nodata gaps")[:2 if gaps else 1]:
                lyr = by_name.get(name)
                check(lyr is not None and lyr.isValid() and lyr.renderer().type() != "graduatedSymbol" and
                      lyr.renderer().symbol() is not None, f"{name} loaded with riskmap's style")

        # --- runAndLoadResults into a GeoPackage, context from a project layer, named bands ---------
        kiln_pt = None
        with open(os.path.join(cli_dir, "kilns.geojson")) as f:
            first = json.load(f)["features"][0]
        ring = first["geometry"]["coordinates"][0]
        kiln_pt = (sum(p[0] for p in ring[:-1]) / (len(ring) - 1), sum(p[1] for p in ring[:-1]) / (len(ring) - 1))
        schools = QgsVectorLayer("Point?crs=EPSG:4326", "schools", "memory")
        schools.dataProvider().addAttributes([QgsField("name", QVariant.String)])
        schools.updateFields()
        feat = QgsFeature(schools.fields())
        feat.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(kiln_pt[0] + 0.003, kiln_pt[1])))
        feat["name"] = "Test school"
        schools.dataProvider().addFeatures([feat])
        project.addMapLayer(schools)
        schools_file = os.path.join(work, "schools.geojson")
        with open(schools_file, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Test school"},
                       "geometry": {"type": "Point", "coordinates": [kiln_pt[0] + 0.003, kiln_pt[1]]}}]}, f)
        r = cli(riskmap, "scan", chips_dir, "--detector", "kiln", "--set", "min_score=0.5", "-q",
                "--context", f"schools={schools_file}:within=1000:0.3", "-o", os.path.join(cli_dir, "ctx.gpkg"))
        check(r.returncode == 0, f"CLI scan with context ({r.stderr.strip()})")
        gpkg = os.path.join(work, "b", "ctx.gpkg")
        fb = Recorder()
        res = processing.runAndLoadResults("riskmap:scan", {
            "INPUT_PATHS": chips_dir, "DETECTOR": "kiln", "kiln_min_score": 0.5, "CONTEXT_LAYER": schools.id(),
            "CONTEXT_RULE": "within=1000", "CONTEXT_WEIGHT": 0.3, "OUTPUT": gpkg}, feedback=fb)
        check(any("--set min_score=0.5" in c and "--context schools=" in c for c in fb.commands),
              "changed option and context layer reach the command line")
        check(res.get("OUTPUT") == f"{gpkg}|layername=kiln", f"OUTPUT names the GeoPackage layer ({res.get('OUTPUT')})")
        ok1, mine = features_by_id(f"{gpkg}|layername=kiln")
        ok2, theirs = features_by_id(os.path.join(cli_dir, "ctx.gpkg") + "|layername=kiln")
        check(ok1 and ok2 and mine == theirs and len(mine) > 0, f"GeoPackage features equal the CLI's ({len(mine)})")
        check(any(a["risk_factors"] for a, _ in mine.values()), "the project context layer raised some risk")
        loaded = project.mapLayersByName("ctx")
        check(len(loaded) == 1 and loaded[0].renderer().type() == "graduatedSymbol",
              "runAndLoadResults loads the GeoPackage layer styled from layer_styles")

        bands_out = os.path.join(work, "c", "bands.geojson")
        c0 = chips[0]
        r = cli(riskmap, "scan", "--band", f"red={c0}", "--band", f"green={c0}:2", "--band", f"blue={c0}:3",
                "--detector", "kiln", "-q", "-o", os.path.join(cli_dir, "bands.geojson"))
        check(r.returncode == 0, f"CLI scan with named bands ({r.stderr.strip()})")
        processing.run("riskmap:scan", {"BANDS": ["red", raster_layers[0].name(), "", "green", c0, "2",
                                                  "blue", c0, "3"], "DETECTOR": "kiln", "OUTPUT": bands_out})
        check(read(bands_out) == read(os.path.join(cli_dir, "bands.geojson")),
              "named bands (project layer and files) give the CLI's layer")

        # --- errors: riskmap's one-line message becomes the Processing error ------------------------
        def error_of(params, alg="riskmap:scan"):
            fb = Recorder()
            try:
                processing.run(alg, params, feedback=fb)
            except QgsProcessingException as e:
                return str(e), fb
            return None, fb

        bad_out = os.path.join(work, "d", "bad.geojson")
        os.makedirs(os.path.dirname(bad_out))
        r = cli(riskmap, "scan", chips[0], "--detector", "kiln", "--set", "bogus=5", "-o", bad_out)
        msg, fb = error_of({"INPUT": [chips[0]], "DETECTOR": "kiln", "EXTRA_SET": "bogus=5", "OUTPUT": bad_out})
        check(r.returncode == 2 and msg == r.stderr.strip(), f"unknown option: riskmap's message is the error ({msg!r})")
        check(any("exit code 2" in e for e in fb.errors), "the log says usage error, exit code 2")
        check(not outputs_of(bad_out), "a failed scan leaves no output")
        r = cli(riskmap, "scan", chips[0], "--detector", "index", "--set", "rule=ndvi <<< 2", "-o", bad_out)
        msg, _ = error_of({"INPUT": [chips[0]], "DETECTOR": "index", "index_rule": "ndvi <<< 2", "OUTPUT": bad_out})
        check(msg is not None and msg == r.stderr.strip(), f"malformed rule: riskmap's message ({msg!r})")
        missing = os.path.join(work, "no-such.tif")
        r = cli(riskmap, "scan", missing, "-o", bad_out)
        msg, _ = error_of({"INPUT_PATHS": missing, "OUTPUT": bad_out})
        check(r.returncode == 1 and msg == r.stderr.strip(), f"unreadable raster (exit 1): riskmap's message ({msg!r})")
        check("Traceback" not in (msg or ""), "no stack trace in the error")

        # --- the binary path: setting, PATH, and a wrong setting ------------------------------------
        set_binary(os.path.join(work, "nowhere", "riskmap"))
        alg = registry.createAlgorithmById("riskmap:scan")
        ok, why = alg.canExecute()
        check(not ok and "Processing settings" in why, f"a wrong binary setting is reported ({why})")
        msg, _ = error_of({"INPUT": [chips[0]], "OUTPUT": os.path.join(work, "d", "x.geojson")})
        check(msg is not None and "does not exist" in msg, f"and running says so ({msg})")
        set_binary("")
        old_path = os.environ.get("PATH", "")
        os.environ["PATH"] = os.path.dirname(riskmap) + os.pathsep + old_path
        found, _ = rm.find_binary()
        check(found == riskmap, f"with no setting, riskmap is found on PATH ({found})")
        os.environ["PATH"] = old_path
        set_binary(riskmap)

        # --- cancel mid-scan: SIGINT, and no output -------------------------------------------------
        big = os.path.join(work, "big.vrt")
        make_mosaic_vrt(chips[0], 32, big)  # 4096 x 4096 px
        cancel_out = os.path.join(work, "e", "big.geojson")
        fb = Recorder(cancel_at_progress=True)
        t0 = time.time()
        msg = None
        try:
            processing.run("riskmap:scan", {"INPUT": [big], "DETECTOR": "kiln", "GRID": 1000, "TILE_SIZE": 256,
                                            "THREADS": 1, "OUTPUT": cancel_out}, feedback=fb)
        except QgsProcessingException as e:
            msg = str(e)
        took = time.time() - t0
        print(f"     canceled scan returned after {took:.1f} s (progress {fb.progress[:3]})")
        check(msg is not None and msg.startswith("Canceled"), f"cancel ends the algorithm with 'Canceled' ({msg})")
        check(fb.progress and 0 < max(fb.progress) < 100, "it was canceled mid-scan")
        left = [p for p in os.listdir(os.path.dirname(cancel_out))] if os.path.isdir(os.path.dirname(cancel_out)) else []
        check(left == [], f"a canceled scan leaves no output, journal included ({left})")
        check(any("SIGINT" in i for i in fb.infos), "cancel asked riskmap to stop with SIGINT")

        # --- merge, eval, report --------------------------------------------------------------------
        shard_dir = os.path.join(work, "shards")
        os.makedirs(shard_dir)
        for k in (1, 2):
            cli(riskmap, "scan", chips_dir, "--detector", "kiln", "--shard", f"{k}/2", "-q",
                "-o", os.path.join(shard_dir, f"s{k}.geojson"))
        shards = [os.path.join(shard_dir, f"s{k}.geojson") for k in (1, 2)]
        r = cli(riskmap, "merge", *shards, "--grid", "1000", "-q", "-o", os.path.join(cli_dir, "merged.geojson"))
        check(r.returncode == 0, f"CLI merge ({r.stderr.strip()})")
        merged = os.path.join(work, "f", "merged.geojson")
        res = processing.run("riskmap:merge", {"SHARDS": shards, "GRID": 1000, "OUTPUT": merged})
        check(read(merged) == read(os.path.join(cli_dir, "merged.geojson")) and
              read(merged) == read(os.path.join(cli_dir, "kilns.geojson")),
              "merge of shards is byte-identical to the CLI's merge and to one scan")
        check(res.get("GRID") == os.path.join(work, "f", "merged.grid.geojson"), "merge returns its grid")

        r = cli(riskmap, "eval", "--truth", labels, "--detections", os.path.join(cli_dir, "kilns.geojson"),
                "--truth-source-field", "chip", "--json")
        want = json.loads(r.stdout)["overall"]
        scores = os.path.join(work, "g", "scores.json")
        os.makedirs(os.path.dirname(scores))
        res = processing.run("riskmap:eval", {"TRUTH": labels, "DETECTIONS": out, "TRUTH_SOURCE_FIELD": "chip",
                                              "OUTPUT": scores})
        check(all(res.get(k.upper()) == want[k] for k in ("tp", "fp", "fn", "precision", "recall", "f1")),
              f"eval: TP {res.get('TP')} FP {res.get('FP')} FN {res.get('FN')} F1 {res.get('F1')} as the CLI's")
        check(os.path.exists(scores) and json.loads(read(scores))["overall"] == want, "eval writes the scores JSON")

        rep = os.path.join(work, "h", "report")
        res = processing.run("riskmap:report", {"INPUT": out, "OUTPUT": rep, "MAX_CHIPS": 5})
        check(os.path.isfile(os.path.join(rep, "index.html")) and res.get("LEADS") == 45,
              f"report: index.html with {res.get('LEADS')} leads")
        check(len(os.listdir(os.path.join(rep, "chips"))) == 5, "report: 5 chips as asked")

        # diff: every chip, then one chip only; the changes load styled by change.
        changes = os.path.join(work, "i", "changes.gpkg")
        r = cli(riskmap, "diff", out, bands_out, "-q", "--json", "-o", os.path.join(cli_dir, "changes.gpkg"))
        check(r.returncode == 0, f"CLI diff ({r.stderr.strip()})")
        res = processing.runAndLoadResults("riskmap:diff", {"BEFORE": out, "AFTER": bands_out, "OUTPUT": changes})
        ok1, mine = features_by_id(f"{changes}|layername=changes")
        ok2, theirs = features_by_id(os.path.join(cli_dir, "changes.gpkg") + "|layername=changes")
        check(ok1 and ok2 and mine == theirs and len(mine) > 0, f"diff: the CLI's {len(mine)} changes")
        check(res.get("PERSISTS", 0) >= 1 and res.get("UNKNOWN", 0) >= 1 and
              sum(res.get(k) or 0 for k in ("NEW", "GONE", "PERSISTS", "UNKNOWN")) == len(mine),
              f"diff: counts {[res.get(k) for k in ('NEW', 'GONE', 'PERSISTS', 'UNKNOWN')]}")
        loaded = project.mapLayersByName("changes")
        check(len(loaded) == 1 and loaded[0].renderer().type() == "categorizedSymbol" and
              loaded[0].renderer().classAttribute() == "change", "diff: the changes load coloured by change")
    except Exception:
        traceback.print_exc()
        failures.append("exception")
    finally:
        project.clear()
        plugin.unload()
        app.exitQgis()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all plugin checks passed")
    return 0


if __name__ == "__main__":
    code = main(*sys.argv[1:5])
    sys.stdout.flush()
    os._exit(code)
