"""The base of every riskmap algorithm.

An algorithm is one riskmap subcommand. A subclass sets `command` and `title`, declares its
parameters in `define(binary)` and turns parameter values into command-line arguments in
`arguments(...)`; `results(...)` (optional) reads what riskmap wrote. Running the binary, progress,
cancel, errors and temporary files are handled here.
"""
import os
import shutil
import tempfile

from qgis.PyQt.QtCore import QVariant

from qgis.core import (QgsProcessing, QgsProcessingAlgorithm, QgsProcessingException,
                       QgsProcessingOutputFile, QgsProcessingOutputNumber,
                       QgsProcessingOutputVectorLayer, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMatrix, QgsProcessingParameterNumber,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination,
                       QgsProcessingParameterVectorLayer, QgsProcessingUtils)

from .. import binary as rm
from .. import layers

OUTPUT_EXTENSIONS = (".gpkg", ".geojson", ".fgb")


class Work:
    """Per-run scratch: a temporary folder for exported layers (removed after the run) and the
    paths riskmap may leave behind when it fails or is canceled."""

    def __init__(self):
        self._tmp = None
        self.cleanup = []
        self.cwd = None

    @property
    def tmpdir(self):
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="riskmap-", dir=QgsProcessingUtils.tempFolder())
        return self._tmp

    def close(self):
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def is_set(parameters, name):
    value = parameters.get(name)
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return False
    return not (isinstance(value, str) and value.strip() == "")


def matrix_rows(value, width, label):
    """The rows of a matrix parameter value (a flat list, or a comma-separated string from
    qgis_process) as lists of stripped strings; empty rows are dropped (the dialog sends [''] for
    an empty table)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    cells = ["" if v is None or (isinstance(v, QVariant) and v.isNull()) else str(v).strip() for v in value]
    if not any(cells):
        return []
    if len(cells) % width:
        raise QgsProcessingException(f"{label}: each row needs {width} values (got {value!r})")
    rows = [cells[i:i + width] for i in range(0, len(cells), width)]
    return [r for r in rows if any(r)]


def number_text(value):
    """A number as riskmap reads it: 500, 0.25 (shortest exact form, no trailing .0)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class RiskmapAlgorithm(QgsProcessingAlgorithm):
    command = ""          # riskmap subcommand
    title = ""            # dialog title
    summary = ""          # first paragraph of the help
    json_progress = False  # the subcommand takes --json-progress

    def __init__(self):
        super().__init__()
        self.binary = None

    # --- identity ---------------------------------------------------------------------------------
    def name(self):
        return self.command

    def displayName(self):
        return self.title

    def group(self):
        return ""

    def groupId(self):
        return ""

    def tags(self):
        return ["riskmap", "forced labour", "satellite", "remote sensing", self.command]

    def createInstance(self):
        return type(self)()

    def icon(self):
        from ..provider import plugin_icon
        return plugin_icon()

    def shortHelpString(self):
        parts = [self.summary] if self.summary else []
        binary = self.binary
        text = rm.command_help(binary, self.command) if binary else None
        if text:
            first = text.strip().splitlines()[0]
            parts.append(f"<i>riskmap {self.command}</i>: {first}.")
        elif binary is None:
            parts.append("<b>riskmap was not found.</b> Set its path under Settings > Options > Processing > "
                         "Providers > riskmap, or put it on PATH.")
        parts.append("Outputs may point at places where vulnerable people are: riskmap creates them owner-only. "
                     "Handle them as sensitive data.")
        return "<p>" + "</p><p>".join(parts) + "</p>"

    def canExecute(self):
        path, why = rm.find_binary()
        return (path is not None, why or "")

    # --- parameters -------------------------------------------------------------------------------
    def initAlgorithm(self, config=None):
        self.binary, _ = rm.find_binary()
        self.define(self.binary)

    def define(self, binary):
        raise NotImplementedError

    def add(self, param, advanced=False, help_text=None, decimals=None):
        if decimals is not None:
            param.setMetadata({"widget_wrapper": {"decimals": decimals}})
        if advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        if help_text and hasattr(param, "setHelp"):
            param.setHelp(help_text)
        self.addParameter(param)
        return param

    def arguments(self, parameters, context, feedback, work):
        raise NotImplementedError

    def results(self, parameters, context, feedback, work, run):
        return {}

    # --- running ----------------------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):
        binary = rm.require_binary()
        work = Work()
        try:
            args = self.arguments(parameters, context, feedback, work)
            run = rm.run(binary, [self.command] + args, feedback, json_progress=self.json_progress,
                         cwd=work.cwd, cleanup=work.cleanup)
            return self.results(parameters, context, feedback, work, run)
        finally:
            work.close()

    # --- helpers shared by subclasses -------------------------------------------------------------
    def output_path(self, parameters, context, name="OUTPUT"):
        path = self.parameterAsOutputLayer(parameters, name, context)
        if not path:
            raise QgsProcessingException("no output file given")
        if not path.lower().endswith(OUTPUT_EXTENSIONS):
            raise QgsProcessingException(f"riskmap writes .gpkg, .geojson or .fgb, not '{os.path.basename(path)}'")
        path = os.path.abspath(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def vector_file_layer(self, parameters, name, context):
        layer = self.parameterAsVectorLayer(parameters, name, context)
        if layer is None and is_set(parameters, name):
            raise QgsProcessingException(f"cannot open the layer given for {name}")
        return layer


# --- risk options shared by scan and merge (context layers, risk levels, grid, publishing) --------

def add_output_parameters(alg, cli):
    alg.add(QgsProcessingParameterVectorDestination(
        "OUTPUT", "Detections (GeoPackage, GeoJSON or FlatGeobuf)", QgsProcessing.TypeVectorPolygon),
        help_text="riskmap writes the detections here, with siblings for the grid, footprints and nodata gaps, "
                  "a manifest and QGIS styles. .geojson is RFC 7946 lon/lat; .gpkg and .fgb keep the input CRS.")
    alg.addOutput(QgsProcessingOutputVectorLayer("GRID", "Risk grid", QgsProcessing.TypeVectorPolygon))
    alg.addOutput(QgsProcessingOutputVectorLayer("FOOTPRINTS", "Scene footprints", QgsProcessing.TypeVectorPolygon))
    alg.addOutput(QgsProcessingOutputVectorLayer("NODATA_GAPS", "Nodata gaps", QgsProcessing.TypeVectorPolygon))
    alg.addOutput(QgsProcessingOutputFile("MANIFEST", "Manifest (provenance, recipe)"))
    alg.addOutput(QgsProcessingOutputNumber("DETECTIONS", "Number of detections"))


def add_risk_parameters(alg, cli):
    alg.add(QgsProcessingParameterVectorLayer(
        "CONTEXT_LAYER", "Risk context layer", [QgsProcessing.TypeVectorAnyGeometry], optional=True),
        help_text="A vector layer that raises or lowers risk near or inside its features (schools, reserves, "
                  "roads...). More layers go in 'More context layers'.")
    alg.add(QgsProcessingParameterString(
        "CONTEXT_RULE", "Context rule: inside, outside, within=METRES or nearest[=METRES]",
        defaultValue="within=1000", optional=True))
    alg.add(QgsProcessingParameterNumber(
        "CONTEXT_WEIGHT", "Context weight (-1 to 1; negative lowers risk)", QgsProcessingParameterNumber.Double,
        defaultValue=0.3, minValue=-1.0, maxValue=1.0, optional=True), decimals=2)
    alg.add(QgsProcessingParameterMatrix(
        "CONTEXT", "More context layers", numberRows=0, hasFixedNumberRows=False,
        headers=["Name", "Layer (project layer name or file)", "Rule (inside, outside, within=M, nearest[=M])",
                 "Weight (-1..1)"], optional=True), advanced=True,
        help_text="Each row becomes --context NAME=PATH:RULE:WEIGHT.")
    grid = cli.get("--grid", {})
    alg.add(QgsProcessingParameterNumber(
        "GRID", "Risk grid cell size (metres, equal-area; empty = no grid)", QgsProcessingParameterNumber.Double,
        defaultValue=None, optional=True, minValue=grid.get("min", 10.0), maxValue=grid.get("max", 1e7)), decimals=0)
    shapes = cli.get("--grid-shape", {}).get("choices") or ["square", "hex"]
    default_shape = cli.get("--grid-shape", {}).get("default", shapes[0])
    alg.add(QgsProcessingParameterEnum("GRID_SHAPE", "Grid cell shape", shapes, False,
                                       default_shape if default_shape in shapes else shapes[0], False, True))
    alg.add(QgsProcessingParameterNumber(
        "RISK_MEDIUM", "Medium risk from", QgsProcessingParameterNumber.Double, defaultValue=0.4,
        minValue=0.0, maxValue=1.0), advanced=True, help_text="--risk-levels MEDIUM,HIGH", decimals=2)
    alg.add(QgsProcessingParameterNumber(
        "RISK_HIGH", "High risk from", QgsProcessingParameterNumber.Double, defaultValue=0.7,
        minValue=0.0, maxValue=1.0), advanced=True, help_text="--risk-levels MEDIUM,HIGH", decimals=2)
    alg.add(QgsProcessingParameterFileDestination(
        "PUBLISH", "Layer safe to share (coarse cells with counts only)", "GeoJSON (*.geojson)", optional=True,
        createByDefault=False), advanced=True,
        help_text="--publish: equal-area cells with at least the minimum count of detections, no coordinates, "
                  "images or paths.")
    mc = cli.get("--publish-min-count", {})
    alg.add(QgsProcessingParameterNumber(
        "PUBLISH_MIN_COUNT", "Shared layer: fewest detections a cell needs", QgsProcessingParameterNumber.Integer,
        defaultValue=int(float(mc.get("default", 5))), minValue=int(mc.get("min", 1)), maxValue=int(mc.get("max", 1000000))),
        advanced=True)
    cm = cli.get("--publish-cell-m", {})
    alg.add(QgsProcessingParameterNumber(
        "PUBLISH_CELL_M", "Shared layer: cell size (metres)", QgsProcessingParameterNumber.Double,
        defaultValue=float(cm.get("default", 5000)), minValue=cm.get("min", 1000.0), maxValue=cm.get("max", 1e7)),
        advanced=True, decimals=0)
    alg.addOutput(QgsProcessingOutputFile("PUBLISHED", "Layer safe to share"))


def risk_arguments(alg, parameters, context, feedback, work, cli):
    args = []
    contexts = []
    if is_set(parameters, "CONTEXT_LAYER"):
        layer = alg.parameterAsVectorLayer(parameters, "CONTEXT_LAYER", context)
        if layer is None:
            raise QgsProcessingException("cannot open the risk context layer")
        rule = alg.parameterAsString(parameters, "CONTEXT_RULE", context).strip() or "within=1000"
        weight = alg.parameterAsDouble(parameters, "CONTEXT_WEIGHT", context)
        contexts.append((layer.name(), layer, rule, weight))
    for i, (name, ref, rule, weight) in enumerate(matrix_rows(parameters.get("CONTEXT"), 4, "More context layers")):
        if not ref or not rule or not weight:
            raise QgsProcessingException(f"More context layers, row {i + 1}: give a layer, a rule and a weight")
        layer = layers.project_layer(ref, context)
        try:
            weight = float(weight)
        except ValueError:
            raise QgsProcessingException(f"More context layers, row {i + 1}: weight '{weight}' is not a number")
        contexts.append((name or (layer.name() if layer else os.path.splitext(os.path.basename(ref))[0]),
                         layer if layer is not None else layers.absolute_input(ref), rule, weight))
    used = set()
    for name, source, rule, weight in contexts:
        key = "".join(c if (c.isalnum() or c in "_-") else "_" for c in name).strip("_") or "context"
        base, n = key, 2
        while key in used:
            key, n = f"{base}_{n}", n + 1
        used.add(key)
        path = source if isinstance(source, str) else layers.vector_path(source, work.tmpdir, key, feedback, context)
        args += ["--context", f"{key}={path}:{rule}:{number_text(weight)}"]

    medium = alg.parameterAsDouble(parameters, "RISK_MEDIUM", context)
    high = alg.parameterAsDouble(parameters, "RISK_HIGH", context)
    if (medium, high) != (0.4, 0.7):
        args += ["--risk-levels", f"{number_text(medium)},{number_text(high)}"]
    if is_set(parameters, "GRID"):
        args += ["--grid", number_text(alg.parameterAsDouble(parameters, "GRID", context))]
        shape = alg.parameterAsEnumString(parameters, "GRID_SHAPE", context)
        if shape and shape != (cli.get("--grid-shape", {}).get("default") or "square"):
            args += ["--grid-shape", shape]
    if is_set(parameters, "PUBLISH"):
        publish = alg.parameterAsFileOutput(parameters, "PUBLISH", context)
        if publish:
            args += ["--publish", os.path.abspath(publish)]
            mc = alg.parameterAsInt(parameters, "PUBLISH_MIN_COUNT", context)
            if str(mc) != str(cli.get("--publish-min-count", {}).get("default", "5")):
                args += ["--publish-min-count", str(mc)]
            cm = alg.parameterAsDouble(parameters, "PUBLISH_CELL_M", context)
            if cm != float(cli.get("--publish-cell-m", {}).get("default", 5000)):
                args += ["--publish-cell-m", number_text(cm)]
    return args


def layer_results(alg, parameters, context, feedback, out_path, default_name):
    manifest, uris = layers.register_outputs(context, out_path, "OUTPUT", feedback, default_name)
    results = {
        "OUTPUT": uris.get("detections", out_path),
        "GRID": uris.get("grid"),
        "FOOTPRINTS": uris.get("footprints"),
        "NODATA_GAPS": uris.get("nodata_gaps"),
        "MANIFEST": out_path + ".manifest.json",
        "DETECTIONS": (manifest.get("output") or {}).get("features"),
    }
    if is_set(parameters, "PUBLISH"):
        results["PUBLISHED"] = os.path.abspath(alg.parameterAsFileOutput(parameters, "PUBLISH", context))
    return results
