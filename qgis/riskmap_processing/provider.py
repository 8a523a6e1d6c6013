"""The Processing provider "riskmap": its algorithms, icon and settings."""
import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import binary as rm
from .algorithms import ALGORITHMS

ICON_PATH = os.path.join(os.path.dirname(__file__), "icon.svg")


def plugin_icon():
    return QIcon(ICON_PATH)


class RiskmapProvider(QgsProcessingProvider):

    def id(self):
        return "riskmap"

    def name(self):
        return "riskmap"

    def longName(self):
        path, _ = rm.find_binary()
        v = rm.version(path) if path else None
        return f"riskmap ({v or 'executable not found'})"

    def versionInfo(self):
        path, _ = rm.find_binary()
        return (rm.version(path) if path else None) or ""

    def icon(self):
        return plugin_icon()

    def svgIconPath(self):
        return ICON_PATH

    def load(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:  # a bare PyQGIS script without the Processing plugin: defaults only
            self.refreshAlgorithms()
            return True
        ProcessingConfig.settingIcons[self.name()] = self.icon()
        ProcessingConfig.addSetting(Setting(
            self.name(), rm.SETTING_BINARY, "riskmap executable (empty: found on PATH)", "",
            valuetype=Setting.FILE))
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
            ProcessingConfig.removeSetting(rm.SETTING_BINARY)
        except (ImportError, KeyError):
            pass

    def loadAlgorithms(self):
        # An algorithm appears when the binary has its subcommand (an older riskmap without, say,
        # `diff` does not show it). Without a binary all are shown, and say how to set it.
        path, _ = rm.find_binary()
        available = rm.subcommands(path) if path else None
        for cls in ALGORITHMS:
            if available is None or cls.command in available:
                self.addAlgorithm(cls())

    # riskmap writes files itself: no memory layers, and only its three formats.
    def supportsNonFileBasedOutput(self):
        return False

    def supportedOutputVectorLayerExtensions(self):
        return ["gpkg", "geojson", "fgb"]

    def defaultVectorFileExtension(self, hasGeometry=True):
        return "gpkg"
