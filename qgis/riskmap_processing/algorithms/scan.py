"""riskmap scan: rasters in, a styled risk layer (and grid, footprints, nodata gaps) out.

The detector list and every detector option come from `riskmap detectors --json`, so the dialog
matches the binary it runs: option `min_score` of detector `kiln` is parameter `kiln_min_score`,
with the binary's default, unit, range and description. Only options changed from the binary's
default are passed (`--set KEY=VALUE`), so the command line stays the one a person would type.
"""
import os
import re

from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterMatrix,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterString)

from .. import binary as rm
from .. import layers
from .base import (RiskmapAlgorithm, add_output_parameters, add_risk_parameters, is_set,
                   layer_results, matrix_rows, number_text, risk_arguments)

FALLBACK_DETECTORS = ["index", "kiln", "clearing"]
FALLBACK_SENSORS = ["sentinel2", "landsat8", "landsat9", "landsat7", "planetscope", "rgb"]
AUTO = "auto"


def option_parameter_name(detector, option):
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{detector}_{option}")


def _decimals(*values):
    """Spin box decimals that show each value exactly (3 to 8)."""
    best = 3
    for v in values:
        if isinstance(v, float) and not v.is_integer():
            text = repr(abs(v))
            if "e-" in text:
                mant, exp = text.split("e-")
                best = max(best, int(exp) + max(0, len(mant.split(".")[1]) if "." in mant else 0))
            elif "." in text:
                best = max(best, len(text.split(".")[1]))
    return min(best, 8)


class ScanAlgorithm(RiskmapAlgorithm):
    command = "scan"
    title = "Scan rasters for risk indicators"
    summary = ("Scans rasters with a riskmap detector (brick kilns, remote camps, a spectral-index rule) and writes "
               "one feature per object, scored for risk, with a risk grid, scene footprints and nodata gaps. The "
               "layers open styled (graduated by risk). Detector options are under Advanced parameters, named "
               "detector_option (kiln_min_score): only those of the chosen detector apply.")
    json_progress = True

    def define(self, binary):
        self.detector_info = (rm.detectors(binary) if binary else None) or []
        cli = rm.cli_options(binary, "scan")
        self.cli = cli

        self.add(QgsProcessingParameterMultipleLayers(
            "INPUT", "Input rasters", QgsProcessing.TypeRaster, optional=True),
            help_text="Rasters from the project or files; each is a scene, and all scenes go into one layer.")
        self.add(QgsProcessingParameterString(
            "INPUT_PATHS", "More inputs: folders, globs, STAC items or URLs (one per line)", multiLine=True,
            optional=True), advanced=True,
            help_text="Anything riskmap takes as INPUT: a folder of rasters, a glob, a STAC Item or ItemCollection, "
                      "/vsicurl/ or /vsis3/ URLs.")
        self.add(QgsProcessingParameterFile(
            "INPUT_LIST", "File listing inputs, one per line (--input-list)", optional=True), advanced=True)

        names = [d["name"] for d in self.detector_info] or FALLBACK_DETECTORS
        default = "index" if "index" in names else names[0]
        self.add(QgsProcessingParameterEnum("DETECTOR", "Detector", names, False, default, False, True),
                 help_text="The detectors of this riskmap binary (riskmap detectors); see the help panel.")

        self.add(QgsProcessingParameterMatrix(
            "BANDS", "Named bands from separate files (--band)", numberRows=0, hasFixedNumberRows=False,
            headers=["Band name (red, nir, ...)", "Raster (project layer name or file)", "Band index (default 1)"],
            optional=True),
            help_text="Builds a scene from one file per band, e.g. red = B04.tif, nir = B08.tif. The name 'mask' "
                      "marks a validity band.")
        sensor = cli.get("--sensor", {})
        sensors = [AUTO] + (sensor.get("choices") or sensor.get("listed") or FALLBACK_SENSORS)
        self.add(QgsProcessingParameterEnum("SENSOR", "Sensor profile naming the bands", sensors, False, AUTO, False,
                                            True),
                 help_text="auto: detected from band descriptions or colour interpretation.")

        add_risk_parameters(self, cli)
        add_output_parameters(self, cli)

        # The detectors' own options, from `riskmap detectors --json`.
        self.option_params = {}
        for det in self.detector_info:
            for opt in det.get("options", []):
                param = self._option_parameter(det["name"], opt)
                if param is not None:
                    self.option_params[param.name()] = (det["name"], opt)
                    self.add(param, advanced=True, help_text=opt.get("description"))
        self.add(QgsProcessingParameterString(
            "EXTRA_SET", "More detector options: KEY=VALUE, one per line or separated by ';' (--set)",
            multiLine=True, optional=True), advanced=True)

        self.add(QgsProcessingParameterFile(
            "CONFIG", "Recipe JSON (--config; the detector and options above override it)", optional=True,
            extension="json"), advanced=True)
        self.add(QgsProcessingParameterEnum(
            "RESAMPLING", "Resampling of coarser band files", cli.get("--resampling", {}).get("choices") or
            ["nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode"], False,
            cli.get("--resampling", {}).get("default", "nearest"), False, True), advanced=True)
        self.add(QgsProcessingParameterNumber("SCALE", "Reflectance scale (overrides the profile)",
                                              QgsProcessingParameterNumber.Double, optional=True), advanced=True)
        self.add(QgsProcessingParameterNumber("OFFSET", "Reflectance offset (overrides the profile)",
                                              QgsProcessingParameterNumber.Double, optional=True), advanced=True)
        self.add(QgsProcessingParameterCrs("OUT_CRS", "Output CRS for .gpkg/.fgb (default: the first input's)",
                                           optional=True), advanced=True)
        for key, flag, label, lo, hi in (("TILE_SIZE", "--tile-size", "Tile size (pixels)", 16, 1048576),
                                         ("THREADS", "--threads", "Worker threads (0 = all cores)", 0, 4096),
                                         ("RAM", "--ram", "Memory budget (MB)", 64, 16777216)):
            info = cli.get(flag, {})
            self.add(QgsProcessingParameterNumber(key, label + f" [riskmap default {info.get('default', '-')}]",
                                                  QgsProcessingParameterNumber.Integer, optional=True,
                                                  minValue=int(info.get("min", lo)), maxValue=int(info.get("max", hi))),
                     advanced=True)
        self.add(QgsProcessingParameterNumber("OVERLAP_MERGE", "Overlap share that makes one object across scenes",
                                              QgsProcessingParameterNumber.Double, optional=True, minValue=0.0,
                                              maxValue=1.0), advanced=True, decimals=2)
        self.add(QgsProcessingParameterNumber("PRECISION", "GeoJSON coordinate decimals",
                                              QgsProcessingParameterNumber.Integer, optional=True, minValue=1,
                                              maxValue=15), advanced=True)
        self.add(QgsProcessingParameterBoolean("OVERWRITE", "Replace an existing output", defaultValue=True),
                 advanced=True)

    def shortHelpString(self):
        text = super().shortHelpString()
        infos = getattr(self, "detector_info", None) or []
        if infos:
            text += "<p><b>Detectors</b></p><ul>" + "".join(
                f"<li><b>{d['name']}</b>: {d.get('description', '')}</li>" for d in infos) + "</ul>"
        return text

    def _option_parameter(self, detector, opt):
        name = option_parameter_name(detector, opt["name"])
        unit = f" [{opt['unit']}]" if opt.get("unit") else ""
        label = f"{detector}: {opt['name']}{unit}"
        kind, default = opt.get("type"), opt.get("default")
        if opt.get("choices"):
            choices = [str(c) for c in opt["choices"]]
            return QgsProcessingParameterEnum(name, label, choices, False,
                                              str(default) if str(default) in choices else choices[0], False, True)
        if kind in ("number", "double", "float", "int", "integer"):
            integer = kind in ("int", "integer")
            kw = {}
            if opt.get("min") is not None:
                kw["minValue"] = opt["min"]
            if opt.get("max") is not None:
                kw["maxValue"] = opt["max"]
            p = QgsProcessingParameterNumber(
                name, label, QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double,
                defaultValue=default, optional=False, **kw)
            if not integer:
                p.setMetadata({"widget_wrapper": {"decimals": _decimals(default, opt.get("min"))}})
            return p
        if kind in ("bool", "boolean"):
            return QgsProcessingParameterBoolean(name, label, defaultValue=bool(default))
        return QgsProcessingParameterString(name, label, defaultValue="" if default is None else str(default),
                                            optional=True)

    def checkParameterValues(self, parameters, context):
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        try:
            bands = matrix_rows(parameters.get("BANDS"), 3, "Named bands")
        except QgsProcessingException as e:
            return False, str(e)
        inputs = parameters.get("INPUT")
        if not (inputs not in (None, "", []) or bands or is_set(parameters, "INPUT_PATHS")
                or is_set(parameters, "INPUT_LIST")):
            return False, "Give at least one input raster (or more inputs, an input list, or named band files)"
        return True, ""

    def arguments(self, parameters, context, feedback, work):
        args = []
        for layer in self.parameterAsLayerList(parameters, "INPUT", context) or []:
            args.append(layers.raster_source(layer))
        for entry in layers.split_lines(self.parameterAsString(parameters, "INPUT_PATHS", context)):
            args.append(layers.absolute_input(entry))
        if is_set(parameters, "INPUT_LIST"):
            args += ["--input-list", os.path.abspath(self.parameterAsFile(parameters, "INPUT_LIST", context))]
        args += self._band_arguments(parameters, context)

        out = self.output_path(parameters, context)
        work.cwd = os.path.dirname(out)
        work.cleanup.append(out + ".journal")
        args += ["-o", out]

        if is_set(parameters, "CONFIG"):
            args += ["--config", os.path.abspath(self.parameterAsFile(parameters, "CONFIG", context))]
        detector = self.parameterAsEnumString(parameters, "DETECTOR", context)
        args += ["--detector", detector]
        ignored = []
        for pname, (det, opt) in self.option_params.items():
            if pname not in parameters or parameters[pname] is None:
                continue
            value = self._option_value(parameters, pname, opt, context)
            if value is None or self._same(value, opt.get("default")):
                continue
            if det != detector:
                ignored.append(pname)
                continue
            args += ["--set", f"{opt['name']}={self._option_text(value)}"]
        if ignored:
            feedback.pushInfo(f"Options of other detectors are ignored: {', '.join(ignored)}")
        for entry in layers.split_lines(self.parameterAsString(parameters, "EXTRA_SET", context)):
            args += ["--set", entry]

        sensor = self.parameterAsEnumString(parameters, "SENSOR", context)
        if sensor and sensor != "auto":
            args += ["--sensor", sensor]
        resampling = self.parameterAsEnumString(parameters, "RESAMPLING", context)
        if resampling and resampling != self.cli.get("--resampling", {}).get("default", "nearest"):
            args += ["--resampling", resampling]
        for key, flag in (("SCALE", "--scale"), ("OFFSET", "--offset"), ("OVERLAP_MERGE", "--overlap-merge")):
            if is_set(parameters, key):
                args += [flag, number_text(self.parameterAsDouble(parameters, key, context))]
        for key, flag in (("TILE_SIZE", "--tile-size"), ("THREADS", "--threads"), ("RAM", "--ram"),
                          ("PRECISION", "--precision")):
            if is_set(parameters, key):
                args += [flag, str(self.parameterAsInt(parameters, key, context))]
        if is_set(parameters, "OUT_CRS"):
            crs = self.parameterAsCrs(parameters, "OUT_CRS", context)
            if crs.isValid():
                args += ["--out-crs", crs.authid() or crs.toWkt()]
        args += risk_arguments(self, parameters, context, feedback, work, self.cli)
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            args.append("--overwrite")
        work.out = out
        return args

    def _band_arguments(self, parameters, context):
        args = []
        for i, (name, ref, index) in enumerate(matrix_rows(parameters.get("BANDS"), 3, "Named bands")):
            if not name or not ref:
                raise QgsProcessingException(f"Named bands, row {i + 1}: give a band name and a raster")
            layer = layers.project_layer(ref, context)
            path = layers.raster_source(layer) if layer is not None else layers.absolute_input(ref)
            args += ["--band", f"{name}={path}" + (f":{index}" if index and index != "1" else "")]
        return args

    def _option_value(self, parameters, pname, opt, context):
        if opt.get("choices"):
            return self.parameterAsEnumString(parameters, pname, context)
        kind = opt.get("type")
        if kind in ("int", "integer"):
            return self.parameterAsInt(parameters, pname, context)
        if kind in ("number", "double", "float"):
            return self.parameterAsDouble(parameters, pname, context)
        if kind in ("bool", "boolean"):
            return self.parameterAsBoolean(parameters, pname, context)
        return self.parameterAsString(parameters, pname, context)

    @staticmethod
    def _same(value, default):
        if isinstance(value, bool) or isinstance(default, bool):
            return bool(value) == bool(default)
        if isinstance(value, (int, float)) and isinstance(default, (int, float)):
            return abs(float(value) - float(default)) <= 1e-12 * max(1.0, abs(float(default)))
        return str(value) == ("" if default is None else str(default))

    @staticmethod
    def _option_text(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return number_text(value)
        return str(value)

    def results(self, parameters, context, feedback, work, run):
        out = work.out
        return layer_results(self, parameters, context, feedback, out, os.path.splitext(os.path.basename(out))[0])
