#!/usr/bin/python3
"""Opens the Processing dialog of riskmap:scan in a real (X11) QGIS GUI session, as the toolbox
does, fills it in for the bundled kiln chips, and saves a screenshot. Run it under Xvfb.
With RUN_OUTPUT it then presses Run (the algorithm runs in a background task, as in QGIS) and
checks that the styled layers reach the project, then starts a big scan and presses Cancel, and
checks that riskmap stops and leaves no output.

usage: dialog_tests.py PLUGINS_DIR RISKMAP DATA_DIR OUT.png [RUN_OUTPUT.gpkg]
       dialog_tests.py --check PNG...   (only check that each PNG is a non-blank dialog)
Exit 0 when every check passes.
"""
import glob
import os
import sys
import time


os.environ.setdefault("GDAL_PAM_ENABLED", "NO")  # no .aux.xml beside the bundled chips


def blank_reasons(image):
    """Why a QImage does not look like a dialog (empty list when it does)."""
    reasons = []
    if image.isNull():
        return ["cannot read the image"]
    w, h = image.width(), image.height()
    if w < 400 or h < 300:
        reasons.append(f"too small ({w}x{h})")
    colours, dark, light = set(), 0, 0
    step = 3
    n = 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            c = image.pixel(x, y) & 0xFFFFFF
            colours.add(c)
            lum = ((c >> 16) & 255) * 0.3 + ((c >> 8) & 255) * 0.59 + (c & 255) * 0.11
            dark += lum < 100
            light += lum > 200
            n += 1
    if len(colours) < 16:
        reasons.append(f"only {len(colours)} distinct colours")
    if dark < 0.002 * n:
        reasons.append("almost no dark pixels (no text)")
    if light < 0.2 * n:
        reasons.append("almost no light pixels (no dialog background)")
    return reasons


def check_files(paths):
    from qgis.PyQt.QtGui import QImage
    bad = 0
    for p in paths:
        reasons = blank_reasons(QImage(p))
        print(("ok   " if not reasons else "FAIL ") + f"{p} is a non-blank screenshot {reasons or ''}")
        bad += bool(reasons)
    return 1 if bad else 0


def main(plugins_dir, riskmap, data_dir, out_png, run_out=None):
    from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsSettings
    from qgis.PyQt.QtCore import QCoreApplication, QEventLoop, QSize, QTimer
    app = QgsApplication([], True)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    sys.path.insert(0, plugins_dir)
    from processing.core.Processing import Processing
    from processing.core.ProcessingConfig import ProcessingConfig
    Processing.initialize()
    import riskmap_processing
    from riskmap_processing import binary as rm
    plugin = riskmap_processing.classFactory(None)
    plugin.initProcessing()
    QgsSettings().setValue("Processing/Configuration/" + rm.SETTING_BINARY, os.path.abspath(riskmap))
    ProcessingConfig.readSettings()
    registry = QgsApplication.processingRegistry()
    registry.providerById("riskmap").refreshAlgorithms()

    project = QgsProject.instance()
    chips = sorted(glob.glob(os.path.join(data_dir, "chips", "*.tif")))
    layers = [QgsRasterLayer(c, os.path.splitext(os.path.basename(c))[0]) for c in chips[:6]]
    project.addMapLayers(layers)

    # A message box would wait for a click that never comes: record it and answer "No" instead.
    from qgis.PyQt.QtWidgets import QMessageBox
    boxes = []

    def no_box(*args, **kwargs):
        boxes.append(" / ".join(str(a) for a in args[1:3]))
        print(f"message box: {boxes[-1]}")
        return QMessageBox.No
    for kind in ("warning", "question", "critical", "information"):
        setattr(QMessageBox, kind, staticmethod(no_box))
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    alg = registry.createAlgorithmById("riskmap:scan")
    dlg = AlgorithmDialog(alg)
    dlg.setParameters({"INPUT": [lyr.id() for lyr in layers], "DETECTOR": "kiln", "GRID": 1000,
                       "OUTPUT": "/home/analyst/riskmap/jessore-kilns.gpkg"})
    dlg.resize(QSize(1000, 800))
    dlg.show()
    dlg.raise_()
    # Let the window map and paint (Xvfb has no window manager; a few event-loop turns suffice).
    loop = QEventLoop()
    QTimer.singleShot(1500, loop.quit)
    loop.exec_()
    QCoreApplication.processEvents()
    image = dlg.grab().toImage()
    ok = image.save(out_png, "PNG")
    reasons = blank_reasons(image) if ok else ["could not save"]
    print(("ok   " if not reasons else "FAIL ") +
          f"scan dialog screenshot {out_png} ({image.width()}x{image.height()}) is not blank {reasons or ''}")

    # Run it from the dialog, as a user clicking Run: in a background task, with the results loaded
    # into the project by Processing's post-processing, in the main thread.
    from qgis.PyQt.QtWidgets import QTextEdit

    def dialog_log():
        log = dlg.findChild(QTextEdit, "txtLog")
        return log.toPlainText() if log is not None else "(no log)"

    def wait(until, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline and not boxes:
            QCoreApplication.processEvents(QEventLoop.AllEvents, 100)
            if until():
                return True
            time.sleep(0.05)
        return False

    run_ok = True
    if run_out:
        dlg.setParameters({"INPUT": [lyr.id() for lyr in layers], "DETECTOR": "kiln", "GRID": 1000, "OUTPUT": run_out})
        dlg.runAlgorithm()
        group_name = "riskmap: " + os.path.splitext(os.path.basename(run_out))[0]

        def loaded():
            g = project.layerTreeRoot().findGroup(group_name)
            return g is not None and len(g.findLayers()) >= 3 and QgsApplication.taskManager().countActiveTasks() == 0
        wait(loaded)
        group = project.layerTreeRoot().findGroup(group_name)
        names = [n.layer().name() for n in group.findLayers()] if group is not None else []
        det = group.findLayers()[0].layer() if names else None
        run_ok = det is not None and det.featureCount() > 0 and det.renderer().type() == "graduatedSymbol" \
            and not boxes
        print(("ok   " if run_ok else "FAIL ") + f"Run in the dialog (background task) loads styled layers {names}")
        if not run_ok:
            print(dialog_log())

        # Cancel from the dialog while a big scan runs in its background task.
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        from plugin_tests import make_mosaic_vrt
        cancel_dir = os.path.join(os.path.dirname(run_out), "canceled")
        os.makedirs(cancel_dir)
        big = os.path.join(os.path.dirname(run_out), "big.vrt")
        make_mosaic_vrt(chips[0], 32, big)
        dlg.setParameters({"INPUT": [big], "DETECTOR": "kiln", "GRID": 1000, "TILE_SIZE": 256, "THREADS": 1,
                           "OUTPUT": os.path.join(cancel_dir, "big.gpkg")})
        dlg.runAlgorithm()
        progress = []
        dlg.feedback.progressChanged.connect(lambda v: progress.append(v))
        started = wait(lambda: any(0 < v < 100 for v in progress))
        dlg.cancelButton().click()
        wait(lambda: QgsApplication.taskManager().countActiveTasks() == 0)
        left = os.listdir(cancel_dir)
        log = dialog_log()
        cancel_ok = started and not left and "Canceled: riskmap stopped and wrote no output" in log and not boxes
        print(("ok   " if cancel_ok else "FAIL ") + f"Cancel in the dialog mid-scan stops riskmap and leaves no "
              f"output (progress {progress[:2]}, left {left})")
        if not cancel_ok:
            print(log)
        run_ok = run_ok and cancel_ok

    dlg.close()
    dlg = None
    project.clear()
    plugin.unload()
    app.exitQgis()
    return 0 if not reasons and run_ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        from qgis.core import QgsApplication
        _app = QgsApplication([], False)
        code = check_files(sys.argv[2:])
    else:
        code = main(*sys.argv[1:6])
    sys.stdout.flush()
    os._exit(code)
