"""riskmap merge: join the outputs of a sharded scan (`riskmap scan --shard K/N`) into one layer,
identical to a single-process scan, optionally re-scoring risk with context layers and a grid."""
import os

from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber)

from .. import binary as rm
from .. import layers
from .base import (RiskmapAlgorithm, add_output_parameters, add_risk_parameters, is_set,
                   layer_results, number_text, risk_arguments)


class MergeAlgorithm(RiskmapAlgorithm):
    command = "merge"
    title = "Merge sharded scans"
    summary = ("Joins the outputs of a scan split with --shard K/N (each with its .journal beside it) into one "
               "layer, identical to a scan in one process. Context layers, risk levels and the grid can be set "
               "again here.")

    def define(self, binary):
        cli = rm.cli_options(binary, "merge")
        self.cli = cli
        self.add(QgsProcessingParameterMultipleLayers(
            "SHARDS", "Shard outputs (riskmap scan --shard K/N)", QgsProcessing.TypeVectorAnyGeometry))
        add_risk_parameters(self, cli)
        add_output_parameters(self, cli)
        self.add(QgsProcessingParameterCrs("OUT_CRS", "Output CRS for .gpkg/.fgb", optional=True), advanced=True)
        self.add(QgsProcessingParameterNumber("OVERLAP_MERGE", "Overlap share that makes one object (default: "
                                              "the shards')", QgsProcessingParameterNumber.Double, optional=True,
                                              minValue=0.0, maxValue=1.0), advanced=True, decimals=2)
        self.add(QgsProcessingParameterNumber("PRECISION", "GeoJSON coordinate decimals (default: the shards')",
                                              QgsProcessingParameterNumber.Integer, optional=True, minValue=1,
                                              maxValue=15), advanced=True)
        self.add(QgsProcessingParameterBoolean("OVERWRITE", "Replace an existing output", defaultValue=True),
                 advanced=True)

    def arguments(self, parameters, context, feedback, work):
        args = []
        for layer in self.parameterAsLayerList(parameters, "SHARDS", context) or []:
            path = layers.riskmap_output_file(layer, "shard")
            if not os.path.exists(path + ".journal"):
                raise QgsProcessingException(f"shard '{path}' has no {os.path.basename(path)}.journal beside it: "
                                             "scan it with --shard K/N")
            if path not in args:
                args.append(path)
        if not args:
            raise QgsProcessingException("give the outputs of every shard")
        out = self.output_path(parameters, context)
        work.cwd = os.path.dirname(out)
        work.out = out
        args += ["-o", out]
        if is_set(parameters, "OUT_CRS"):
            crs = self.parameterAsCrs(parameters, "OUT_CRS", context)
            if crs.isValid():
                args += ["--out-crs", crs.authid() or crs.toWkt()]
        if is_set(parameters, "OVERLAP_MERGE"):
            args += ["--overlap-merge", number_text(self.parameterAsDouble(parameters, "OVERLAP_MERGE", context))]
        if is_set(parameters, "PRECISION"):
            args += ["--precision", str(self.parameterAsInt(parameters, "PRECISION", context))]
        args += risk_arguments(self, parameters, context, feedback, work, self.cli)
        if self.parameterAsBoolean(parameters, "OVERWRITE", context):
            args.append("--overwrite")
        return args

    def results(self, parameters, context, feedback, work, run):
        out = work.out
        return layer_results(self, parameters, context, feedback, out, os.path.splitext(os.path.basename(out))[0])
