"""riskmap eval: detections against truth points or polygons: TP, FP, FN, precision, recall, F1."""
import json
import os

from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingParameterEnum, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterString,
                       QgsProcessingParameterVectorLayer)

from .. import binary as rm
from .. import layers
from .base import RiskmapAlgorithm, is_set, number_text

METRICS = ["tp", "fp", "fn", "precision", "recall", "f1"]


class EvalAlgorithm(RiskmapAlgorithm):
    command = "eval"
    title = "Measure detections against truth"
    summary = ("Matches detections one to one with truth points or polygons (any CRS) and reports TP, FP, FN, "
               "precision, recall and F1, overall and per source. Only truth inside the scanned footprint counts "
               "(from the scan's manifest, or an area of interest, or the scanned rasters).")

    def define(self, binary):
        cli = rm.cli_options(binary, "eval")
        self.cli = cli
        self.add(QgsProcessingParameterVectorLayer("TRUTH", "Truth (points or polygons)",
                                                   [QgsProcessing.TypeVectorAnyGeometry]))
        self.add(QgsProcessingParameterVectorLayer("DETECTIONS", "Detections (a layer written by riskmap scan)",
                                                   [QgsProcessing.TypeVectorPolygon]))
        r = cli.get("--radius-m", {})
        self.add(QgsProcessingParameterNumber("RADIUS_M", "Match distance (metres)",
                                              QgsProcessingParameterNumber.Double,
                                              defaultValue=float(r.get("default", 60)), minValue=0.0), decimals=1)
        methods = cli.get("--method", {}).get("choices") or ["optimal", "greedy"]
        self.add(QgsProcessingParameterEnum("METHOD", "Matching", methods, False,
                                            cli.get("--method", {}).get("default", methods[0]), False, True),
                 advanced=True)
        self.add(QgsProcessingParameterField("TRUTH_SOURCE_FIELD", "Truth field naming the source (e.g. chip)",
                                             parentLayerParameterName="TRUTH", optional=True))
        self.add(QgsProcessingParameterString("DIFFICULT_FIELD", "Truth field marking don't-care objects",
                                              defaultValue=cli.get("--difficult-field", {}).get("default",
                                                                                                "difficult")),
                 advanced=True)
        self.add(QgsProcessingParameterNumber("MIN_SCORE", "Ignore detections scoring below",
                                              QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0,
                                              maxValue=1.0), decimals=2)
        self.add(QgsProcessingParameterVectorLayer("AOI", "Area scanned (default: the scan's footprints)",
                                                   [QgsProcessing.TypeVectorPolygon], optional=True), advanced=True)
        self.add(QgsProcessingParameterMultipleLayers("INPUTS", "Scanned rasters, for footprints",
                                                      QgsProcessing.TypeRaster, optional=True), advanced=True)
        self.add(QgsProcessingParameterFileDestination("OUTPUT", "Scores (JSON)", "JSON (*.json)", optional=True,
                                                       createByDefault=False))
        for m in METRICS:
            self.addOutput(QgsProcessingOutputNumber(m.upper(), m.upper() if len(m) == 2 else m.capitalize()))

    def arguments(self, parameters, context, feedback, work):
        truth = self.vector_file_layer(parameters, "TRUTH", context)
        det = self.vector_file_layer(parameters, "DETECTIONS", context)
        args = ["--truth", layers.vector_path(truth, work.tmpdir, "truth", feedback, context),
                "--detections", layers.ogr_file(det) if det.providerType() == "ogr"
                else layers.vector_path(det, work.tmpdir, "detections", feedback, context),
                "--json"]
        radius = self.parameterAsDouble(parameters, "RADIUS_M", context)
        if radius != float(self.cli.get("--radius-m", {}).get("default", 60)):
            args += ["--radius-m", number_text(radius)]
        method = self.parameterAsEnumString(parameters, "METHOD", context)
        if method and method != self.cli.get("--method", {}).get("default", "optimal"):
            args += ["--method", method]
        if is_set(parameters, "TRUTH_SOURCE_FIELD"):
            fields = self.parameterAsFields(parameters, "TRUTH_SOURCE_FIELD", context)
            if fields:
                args += ["--truth-source-field", fields[0]]
        difficult = self.parameterAsString(parameters, "DIFFICULT_FIELD", context)
        if difficult and difficult != self.cli.get("--difficult-field", {}).get("default", "difficult"):
            args += ["--difficult-field", difficult]
        min_score = self.parameterAsDouble(parameters, "MIN_SCORE", context)
        if min_score:
            args += ["--min-score", number_text(min_score)]
        if is_set(parameters, "AOI"):
            aoi = self.vector_file_layer(parameters, "AOI", context)
            args += ["--aoi", layers.vector_path(aoi, work.tmpdir, "aoi", feedback, context)]
        rasters = self.parameterAsLayerList(parameters, "INPUTS", context) or []
        if rasters:
            args += ["--inputs"] + [layers.raster_source(r) for r in rasters]
        return args

    def results(self, parameters, context, feedback, work, run):
        try:
            scores = json.loads(run.stdout)
        except ValueError:
            raise QgsProcessingException("riskmap eval did not print JSON")
        overall = scores.get("overall") or {}
        rows = [("overall", overall)] + [(s.get("source", "?"), s) for s in scores.get("sources") or []]

        def fmt(v):
            return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
        feedback.pushInfo(f"{'source':34} {'TP':>5} {'FP':>5} {'FN':>5} {'P':>7} {'R':>7} {'F1':>7}")
        for name, s in rows:
            feedback.pushInfo(f"{name[:34]:34} {fmt(s.get('tp')):>5} {fmt(s.get('fp')):>5} {fmt(s.get('fn')):>5} "
                              f"{fmt(s.get('precision')):>7} {fmt(s.get('recall')):>7} {fmt(s.get('f1')):>7}")
        results = {m.upper(): overall.get(m) for m in METRICS}
        if is_set(parameters, "OUTPUT"):
            out = os.path.abspath(self.parameterAsFileOutput(parameters, "OUTPUT", context))
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(scores, f, indent=2)
            results["OUTPUT"] = out
        return results
