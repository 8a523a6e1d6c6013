#!/usr/bin/env bash
# Zips the QGIS plugin (qgis/riskmap_processing) into an installable plugin zip and prints its path.
# Install it in QGIS with Plugins > Manage and Install Plugins > Install from ZIP.
# usage: scripts/build-qgis-plugin.sh [OUTDIR]      (default OUTDIR: build/)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
outdir=${1:-$src/build}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
/usr/bin/env python3 - "$src/qgis/riskmap_processing" "$outdir" <<'PY'
import configparser, os, sys, zipfile
plugin, outdir = sys.argv[1], sys.argv[2]
meta = configparser.ConfigParser()
meta.read(os.path.join(plugin, "metadata.txt"), encoding="utf-8")
version = meta["general"]["version"]
for required in ("name", "qgisMinimumVersion", "description", "version", "author"):
    if not meta["general"].get(required):
        sys.exit(f"metadata.txt lacks {required}")
for required in ("__init__.py", "metadata.txt", "LICENSE", meta["general"]["icon"]):
    if not os.path.isfile(os.path.join(plugin, required)):
        sys.exit(f"the plugin lacks {required}")
out = os.path.join(outdir, f"riskmap_processing-{version}.zip")
tmp = out + ".part"
files = []
for root, dirs, names in os.walk(plugin):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
    files += [os.path.join(root, n) for n in names
              if not n.endswith((".pyc", ".pyo", "~")) and not n.startswith(".")]
# Reproducible: sorted entries, fixed timestamps and modes.
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for path in sorted(files):
        arc = os.path.join("riskmap_processing", os.path.relpath(path, plugin))
        info = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
print(out)
PY
