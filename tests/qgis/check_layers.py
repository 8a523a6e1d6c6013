#!/usr/bin/python3
"""Opens riskmap outputs in QGIS, headless, as a GIS user would, and checks that each layer is
valid, has the expected features, CRS and attribute types, and comes up with riskmap's style
(graduated by risk).

usage: check_layers.py GPKG GEOJSON EXPECTED_DETECTIONS DETECTOR_LAYER
Exit 0 when every check passes; prints what failed otherwise.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from qgis.core import QgsApplication, QgsVectorLayer, QgsWkbTypes  # noqa: E402
from qgis.PyQt.QtCore import QVariant  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main(gpkg, geojson, expected, detector):
    expected = int(expected)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        det = QgsVectorLayer(f"{gpkg}|layername={detector}", detector, "ogr")
        check(det.isValid(), f"{detector} layer of the GeoPackage is valid")
        check(det.featureCount() == expected, f"{detector}: {det.featureCount()} features, expected {expected}")
        check(QgsWkbTypes.geometryType(det.wkbType()) == QgsWkbTypes.PolygonGeometry, f"{detector}: polygons")
        fields = {f.name(): f.type() for f in det.fields()}
        for name, t in [("id", QVariant.String), ("score", QVariant.Double), ("risk", QVariant.Double),
                        ("risk_level", QVariant.String), ("area_m2", QVariant.Double)]:
            check(fields.get(name) == t, f"{detector}.{name} is {QVariant.typeToName(t)} (got {fields.get(name)})")
        check("risk_factors" in fields and "sources" in fields, f"{detector} has list fields risk_factors and sources")
        check(det.crs().isValid() and det.crs().authid() != "", f"{detector} CRS is {det.crs().authid()}")
        # The style stored in layer_styles is applied on open.
        r = det.renderer()
        check(r is not None and r.type() == "graduatedSymbol", f"{detector} opens with a graduated renderer ({r.type() if r else None})")
        if r is not None and r.type() == "graduatedSymbol":
            check(r.classAttribute() == "risk", f"{detector} renderer graduates by risk ({r.classAttribute()})")
            check(len(r.ranges()) == 3, f"{detector} renderer has 3 classes")
        check(det.labelsEnabled(), f"{detector} has labels")

        grid = QgsVectorLayer(f"{gpkg}|layername=grid", "grid", "ogr")
        check(grid.isValid() and grid.featureCount() > 0, f"grid layer valid with {grid.featureCount()} cells")
        check(grid.crs().authid() == "EPSG:6933", f"grid is in the equal-area EPSG:6933 ({grid.crs().authid()})")
        gfields = {f.name(): f.type() for f in grid.fields()}
        for name in ["count", "density_per_km2", "max_score", "mean_risk", "area_scanned_km2"]:
            check(name in gfields, f"grid has {name}")
        total = sum(f["count"] for f in grid.getFeatures())
        check(total == expected, f"grid counts add up to the detections ({total})")
        check(all(f["area_scanned_km2"] > 0 or f["count"] > 0 for f in grid.getFeatures()), "no unscanned cell is reported")
        gr = grid.renderer()
        check(gr is not None and gr.type() == "graduatedSymbol" and gr.classAttribute() == "mean_risk",
              "grid opens graduated by mean_risk")
        for name in ["footprints", "nodata_gaps"]:
            lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
            check(lyr.isValid(), f"{name} layer is valid ({lyr.featureCount()} features)")

        gj = QgsVectorLayer(geojson, "geojson", "ogr")
        check(gj.isValid(), "GeoJSON layer is valid")
        check(gj.featureCount() == expected, f"GeoJSON: {gj.featureCount()} features")
        check(gj.crs().authid() == "EPSG:4326", f"GeoJSON is EPSG:4326 ({gj.crs().authid()})")
        # QGIS picks up OUT.qml beside OUT.geojson as the default style.
        msg, ok = gj.loadDefaultStyle()
        check(ok and gj.renderer().type() == "graduatedSymbol", f"GeoJSON default style (.qml) loads graduated ({msg})")
    finally:
        # Layers must go before QGIS shuts down, or Qt crashes on the way out.
        det = grid = gj = lyr = None  # noqa: F841
        app.exitQgis()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    code = main(*sys.argv[1:5])
    sys.stdout.flush()
    # Skip Qt's static teardown, which can crash after a headless run; the checks are done.
    os._exit(code)
