"""riskmap report: an offline evidence report (map, ranked leads with image chips, provenance)."""
import os

from qgis.core import (QgsProcessing, QgsProcessingOutputHtml, QgsProcessingOutputNumber,
                       QgsProcessingParameterBoolean, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterString,
                       QgsProcessingParameterVectorLayer)

from .. import binary as rm
from .. import layers
from .base import RiskmapAlgorithm, is_set, number_text


class ReportAlgorithm(RiskmapAlgorithm):
    command = "report"
    title = "Write an evidence report"
    summary = ("Writes a folder that opens offline in a browser: a map of the leads, a table sortable by risk, an "
               "image chip per lead cut from the source rasters, and the scan's provenance. It holds exact "
               "locations: do not publish it.")

    def define(self, binary):
        cli = rm.cli_options(binary, "report")
        self.cli = cli
        self.add(QgsProcessingParameterVectorLayer(
            "INPUT", "Scan output (a layer written by riskmap scan or merge)", [QgsProcessing.TypeVectorPolygon]))
        self.add(QgsProcessingParameterFolderDestination("OUTPUT", "Report folder"))
        mc = cli.get("--max-chips", {})
        self.add(QgsProcessingParameterNumber("MAX_CHIPS", "Image chips for this many highest-risk leads",
                                              QgsProcessingParameterNumber.Integer,
                                              defaultValue=int(float(mc.get("default", 200))), minValue=0))
        cm = cli.get("--chip-min-m", {})
        self.add(QgsProcessingParameterNumber("CHIP_MIN_M", "Least ground a chip shows (metres)",
                                              QgsProcessingParameterNumber.Double,
                                              defaultValue=float(cm.get("default", 600)), minValue=1.0),
                 advanced=True, decimals=0)
        self.add(QgsProcessingParameterString("TITLE", "Report title (default: detector and file name)",
                                              optional=True))
        self.add(QgsProcessingParameterBoolean("OVERWRITE", "Replace an earlier report in the folder",
                                               defaultValue=True), advanced=True)
        self.addOutput(QgsProcessingOutputHtml("INDEX", "Evidence report"))
        self.addOutput(QgsProcessingOutputNumber("LEADS", "Leads"))

    def arguments(self, parameters, context, feedback, work):
        layer = self.vector_file_layer(parameters, "INPUT", context)
        scan = layers.riskmap_output_file(layer, "scan output")
        out = os.path.abspath(self.parameterAsString(parameters, "OUTPUT", context))
        # Processing may have created the (empty) folder; riskmap wants a new folder or an earlier report.
        if os.path.isdir(out) and not os.listdir(out):
            os.rmdir(out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        work.out = out
        work.cwd = os.path.dirname(out)
        args = [scan, "-o", out]
        mc = self.parameterAsInt(parameters, "MAX_CHIPS", context)
        if str(mc) != str(self.cli.get("--max-chips", {}).get("default", "200")):
            args += ["--max-chips", str(mc)]
        cm = self.parameterAsDouble(parameters, "CHIP_MIN_M", context)
        if cm != float(self.cli.get("--chip-min-m", {}).get("default", 600)):
            args += ["--chip-min-m", number_text(cm)]
        if is_set(parameters, "TITLE"):
            args += ["--title", self.parameterAsString(parameters, "TITLE", context)]
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            args.append("--overwrite")
        return args

    def results(self, parameters, context, feedback, work, run):
        leads = None
        for line in run.stdout_lines:
            # "DIR/index.html: 45 leads, 45 image chips"
            if "leads" in line and ":" in line:
                try:
                    leads = int(line.rsplit(":", 1)[1].split()[0])
                except (ValueError, IndexError):
                    pass
        index = os.path.join(work.out, "index.html")
        feedback.pushInfo(f"Open {index} in a browser (it works offline).")
        return {"OUTPUT": work.out, "INDEX": index, "LEADS": leads}
