"""riskmap for QGIS: a Processing provider that runs the riskmap command-line tool."""


def classFactory(iface):
    from .plugin import RiskmapPlugin
    return RiskmapPlugin(iface)
