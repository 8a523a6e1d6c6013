"""Layers in and out: turning project layers into paths riskmap can read, and loading riskmap's
outputs (listed in OUT.manifest.json) into the project with their QGIS styles, in one group."""
import json
import os
import re

from qgis.core import (QgsMapLayer, QgsProcessingContext, QgsProcessingException,
                       QgsProcessingLayerPostProcessorInterface, QgsProcessingUtils, QgsProject,
                       QgsProviderRegistry, QgsVectorFileWriter, QgsVectorLayer)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_remote_or_virtual(text):
    return text.startswith("/vsi") or bool(_URL.match(text))


def absolute_input(text):
    """Makes a local path (or glob) absolute, so that the manifest and `riskmap report` find it
    again whatever folder riskmap ran in. URLs and /vsi paths are left alone."""
    text = text.strip()
    if not text or is_remote_or_virtual(text) or os.path.isabs(text):
        return text
    return os.path.abspath(os.path.expanduser(text))


def split_lines(value):
    """Entries of a free-text list: one per line, or separated by ';'. '#' starts a comment."""
    if not value:
        return []
    out = []
    for line in re.split(r"[;\n]", str(value)):
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if line:
            out.append(line)
    return out


def raster_source(layer):
    """The string GDAL opens for a raster layer of the project."""
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"raster layer '{layer.name()}' comes from the '{layer.providerType()}' provider, which riskmap "
            "cannot read: use a file GDAL opens (GeoTIFF, VRT, ...)")
    return layer.source()


def ogr_file(layer_or_source):
    """The file part of an OGR layer source ('a.gpkg|layername=kiln' -> 'a.gpkg')."""
    source = layer_or_source.source() if isinstance(layer_or_source, QgsMapLayer) else str(layer_or_source)
    parts = QgsProviderRegistry.instance().decodeUri("ogr", source)
    return parts.get("path") or source.split("|", 1)[0]


def riskmap_output_file(layer, what):
    """The file of a layer written by riskmap (scan output or shard), checked to have its manifest."""
    if layer.providerType() != "ogr":
        raise QgsProcessingException(f"{what} '{layer.name()}' is not a file layer written by riskmap")
    path = ogr_file(layer)
    if not os.path.exists(path + ".manifest.json"):
        raise QgsProcessingException(
            f"{what} '{path}' has no {os.path.basename(path)}.manifest.json beside it: "
            "choose a layer written by riskmap scan or merge")
    return path


def vector_path(layer, tmpdir, label, feedback, context=None):
    """A path to a single-layer vector file holding the layer's features, for riskmap's OGR reader.
    A plain file is used as it is; anything else (a layer inside a multi-layer GeoPackage, a filtered
    layer, a memory, PostGIS or WFS layer) is written to a temporary GeoPackage first."""
    if layer.providerType() == "ogr":
        parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
        path = parts.get("path") or ""
        subset = parts.get("subset") or layer.subsetString()
        layer_name = parts.get("layerName") or ""
        single = True
        if layer_name or parts.get("layerId") not in (None, "", -1):
            probe = QgsVectorLayer(path, "probe", "ogr")
            single = probe.isValid() and len(probe.dataProvider().subLayers()) <= 1
        if path and os.path.isfile(path) and not subset and single:
            return path
    os.makedirs(tmpdir, exist_ok=True)
    out = os.path.join(tmpdir, re.sub(r"[^A-Za-z0-9_.-]+", "_", label) + ".gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = re.sub(r"[^A-Za-z0-9_]+", "_", label) or "layer"
    transform_context = (context.transformContext() if context is not None
                         else QgsProject.instance().transformContext())
    if hasattr(QgsVectorFileWriter, "writeAsVectorFormatV3"):
        err = QgsVectorFileWriter.writeAsVectorFormatV3(layer, out, transform_context, options)
    else:
        err = QgsVectorFileWriter.writeAsVectorFormatV2(layer, out, transform_context, options)
    code, message = err[0], (err[1] if len(err) > 1 else "")
    if code != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(f"could not export layer '{layer.name()}' for riskmap: {message}")
    feedback.pushInfo(f"layer '{layer.name()}' exported to {out} for riskmap")
    return out


def project_layer(ref, context):
    """A project layer by id or name (or None)."""
    if not ref:
        return None
    project = context.project()
    if project is not None:
        layer = project.mapLayer(ref)
        if layer is not None:
            return layer
        matches = project.mapLayersByName(ref)
        if matches:
            return matches[0]
    return None


# --- outputs -------------------------------------------------------------------------------------

# Order of the layers in the group: detections on top, then the grid, the gaps, the footprints.
LAYER_RANK = {"detections": 0, "grid": 1, "nodata_gaps": 2, "footprints": 3}
LAYER_LABEL = {"detections": "", "grid": "grid", "nodata_gaps": "nodata gaps", "footprints": "footprints"}


def manifest_layers(out_path):
    """[(role, uri, path)] for the layers riskmap wrote, from OUT.manifest.json ("layers": role ->
    {path, layer}); relative paths are relative to the manifest's "working_dir"."""
    manifest_path = out_path + ".manifest.json"
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise QgsProcessingException(f"riskmap finished but its manifest {manifest_path} cannot be read: {e}")
    base = manifest.get("working_dir") or os.path.dirname(out_path)
    layers = []
    for role, info in (manifest.get("layers") or {}).items():
        if not isinstance(info, dict) or not info.get("path"):
            continue
        path = os.path.normpath(os.path.join(base, info["path"]))
        if not os.path.exists(path):
            continue
        uri = path
        if path.lower().endswith(".gpkg") and info.get("layer"):
            uri = f"{path}|layername={info['layer']}"
        layers.append((role, uri, path))
    layers.sort(key=lambda x: LAYER_RANK.get(x[0], 9))
    return manifest, layers


_keep_alive = []  # post-processors must outlive the algorithm (the Python side is otherwise collected)


class _LoadSession:
    """One run's layers: they go into one group, in LAYER_RANK order."""

    def __init__(self, group_name, project):
        self.group_name = group_name
        self.project = project
        self.group = None
        self.rank = {}


class _StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, session, role):
        super().__init__()
        self.session, self.role = session, role

    def postProcessLayer(self, layer, context, feedback):
        # riskmap's style: OUT.qml beside a GeoJSON/FlatGeobuf, the layer_styles row in a GeoPackage.
        message, ok = layer.loadDefaultStyle()
        if not ok:
            feedback.pushInfo(f"no riskmap style for {layer.name()}: {message}")
        layer.triggerRepaint()
        s = self.session
        project = s.project or QgsProject.instance()
        root = project.layerTreeRoot()
        node = root.findLayer(layer.id())
        if node is None:
            return
        parent = node.parent()
        if s.group is None:
            index = parent.children().index(node) if node in parent.children() else 0
            s.group = parent.insertGroup(index, s.group_name)
        s.rank[layer.id()] = LAYER_RANK.get(self.role, 9)
        my_rank = s.rank[layer.id()]
        pos = sum(1 for child in s.group.children()
                  if s.rank.get(getattr(child, "layerId", lambda: None)(), 9) <= my_rank)
        clone = node.clone()
        s.group.insertChildNode(pos, clone)
        parent.removeChildNode(node)
        if self.role in ("footprints", "nodata_gaps"):
            clone.setExpanded(False)


def register_outputs(context, out_path, output_param, feedback, default_name):
    """Puts riskmap's layers on the load-on-completion list in place of the single output layer
    that Processing registered (when the user asked to open it). Returns {role: uri}."""
    manifest, layers = manifest_layers(out_path)
    registered = context.layersToLoadOnCompletion()
    details = None
    for key in list(registered.keys()):
        if os.path.normpath(key.split("|", 1)[0]) == os.path.normpath(out_path):
            details = registered.pop(key)
    uris = {role: uri for role, uri, _ in layers}
    if details is None:
        return manifest, uris
    context.setLayersToLoadOnCompletion(registered)
    # Layers are named after the output file (kilns, kilns grid, ...); a temporary output (OUTPUT.gpkg)
    # is named after the detector instead.
    base = default_name
    if base.upper() == "OUTPUT" or not base:
        base = f"riskmap {((manifest.get('recipe') or {}).get('detector') or 'scan')}"
    session = _LoadSession(f"riskmap: {base}", details.project)
    for role, uri, path in layers:
        label = LAYER_LABEL.get(role, role.replace("_", " "))
        if role != "detections" and not path.lower().endswith(".gpkg"):
            # An empty GeoJSON sibling (no nodata gaps) has no geometry type: QGIS would load it as a
            # table. It is left out of the project (the file is still there).
            probe = QgsVectorLayer(uri, "probe", "ogr")
            if probe.isValid() and probe.featureCount() == 0:
                feedback.pushInfo(f"{label}: none (empty layer not loaded)")
                continue
        name = f"{base} {label}".strip() if label else base
        d = QgsProcessingContext.LayerDetails(name, details.project, output_param if role == "detections" else "")
        d.forceName = True
        d.layerTypeHint = QgsProcessingUtils.LayerHint.Vector
        post = _StylePostProcessor(session, role)
        _keep_alive.append(post)
        d.setPostProcessor(post)
        context.addLayerToLoadOnCompletion(uri, d)
    del _keep_alive[:-200]
    return manifest, uris
