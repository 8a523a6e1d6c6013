"""riskmap diff: what changed between two scans of one place (new, gone, persists, unknown)."""
import os

from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingOutputFile,
                       QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterNumber,
                       QgsProcessingParameterVectorDestination, QgsProcessingParameterVectorLayer)

from .. import binary as rm
from .. import layers
from .base import RiskmapAlgorithm, is_set, number_text

COUNTS = (("NEW", "new"), ("GONE", "gone"), ("PERSISTS", "persists"), ("UNKNOWN", "unknown"))


class DiffAlgorithm(RiskmapAlgorithm):
    command = "diff"
    title = "Compare two scans (what changed)"
    summary = ("Matches the objects of an earlier and a later scan of one detector one to one within a radius. "
               "Each change is new, gone, persists or unknown: new only where the earlier scan saw the place "
               "clearly, gone only where the later one did, else unknown (cloud, no data, outside). Changes are "
               "ranked new, gone, unknown, persists, then by risk, and styled by change.")

    def define(self, binary):
        cli = rm.cli_options(binary, "diff")
        self.cli = cli
        for name, label in (("BEFORE", "Earlier scan (a layer written by riskmap scan or merge)"),
                            ("AFTER", "Later scan of the same detector")):
            self.add(QgsProcessingParameterVectorLayer(name, label, [QgsProcessing.TypeVectorPolygon]))
        radius = cli.get("--radius-m", {})
        self.add(QgsProcessingParameterNumber(
            "RADIUS_M", "Objects closer than this are one object (metres, geodesic)",
            QgsProcessingParameterNumber.Double, defaultValue=float(radius.get("default", 60)),
            minValue=radius.get("min", 0.01), maxValue=radius.get("max", 1e6)), decimals=1)
        score = cli.get("--min-score", {})
        self.add(QgsProcessingParameterNumber(
            "MIN_SCORE", "Leave out changes whose objects all score below", QgsProcessingParameterNumber.Double,
            defaultValue=float(score.get("default", 0)), minValue=0.0, maxValue=1.0), decimals=2,
            help_text="Matching still uses every object, so a score drifting across the threshold is no change.")
        self.add(QgsProcessingParameterVectorDestination(
            "OUTPUT", "Changes (GeoPackage, GeoJSON or FlatGeobuf)", QgsProcessing.TypeVectorPolygon))
        self.add(QgsProcessingParameterCrs("OUT_CRS", "Output CRS for .gpkg/.fgb", optional=True), advanced=True)
        self.add(QgsProcessingParameterBoolean("OVERWRITE", "Replace an existing output", defaultValue=True),
                 advanced=True)
        self.addOutput(QgsProcessingOutputFile("MANIFEST", "Manifest (both scans, dates, counts)"))
        for key, kind in COUNTS:
            self.addOutput(QgsProcessingOutputNumber(key, f"Changes: {kind}"))

    def arguments(self, parameters, context, feedback, work):
        scans = []
        for name, what in (("BEFORE", "earlier scan"), ("AFTER", "later scan")):
            layer = self.vector_file_layer(parameters, name, context)
            if layer is None:
                raise QgsProcessingException(f"give the {what}")
            scans.append(layers.riskmap_output_file(layer, what))
        out = self.output_path(parameters, context)
        work.cwd = os.path.dirname(out)
        work.out = out
        args = scans + ["-o", out, "-q"]
        radius = self.parameterAsDouble(parameters, "RADIUS_M", context)
        if radius != float(self.cli.get("--radius-m", {}).get("default", 60)):
            args += ["--radius-m", number_text(radius)]
        score = self.parameterAsDouble(parameters, "MIN_SCORE", context)
        if score > 0:
            args += ["--min-score", number_text(score)]
        if is_set(parameters, "OUT_CRS"):
            crs = self.parameterAsCrs(parameters, "OUT_CRS", context)
            if crs.isValid():
                args += ["--out-crs", crs.authid() or crs.toWkt()]
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            args.append("--overwrite")
        return args

    def results(self, parameters, context, feedback, work, run):
        out = work.out
        manifest, uris = layers.register_outputs(context, out, "OUTPUT", feedback,
                                                 os.path.splitext(os.path.basename(out))[0])
        counts = (manifest.get("diff") or {}).get("counts") or {}
        feedback.pushInfo(", ".join(f"{counts.get(kind, 0)} {kind}" for _, kind in COUNTS))
        for w in manifest.get("warnings") or []:
            feedback.reportError(f"riskmap diff: warning: {w}", False)
        results = {"OUTPUT": uris.get("detections", out), "MANIFEST": out + ".manifest.json"}
        for key, kind in COUNTS:
            results[key] = counts.get(kind)
        return results
