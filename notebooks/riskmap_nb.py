"""Small helpers shared by the notebooks in this folder: where things are, running the real
riskmap binary, and saving captioned figures. Nothing here detects anything: every number the
notebooks show comes from riskmap's own outputs (layers, manifests, `eval --json`).

Environment variables (scripts/run-notebooks.sh sets them; all optional in `jupyter lab`):
  RISKMAP_REPO       the repository root (default: the parent of this folder)
  RISKMAP_BUILD_DIR  the build folder holding `riskmap` and `tests/plant_camps` (default: REPO/build)
  RISKMAP_BIN        the riskmap binary (default: RISKMAP_BUILD_DIR/riskmap)
  RISKMAP_NB_WORK    scratch folder for scan outputs (default: a folder under /tmp)
  RISKMAP_FIGURES    where the PNG figures go (default: REPO/notebooks/figures)
"""
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Paths:
    def __init__(self, notebook):
        self.notebook = notebook
        self.repo = os.path.abspath(os.environ.get("RISKMAP_REPO", os.path.join(HERE, "..")))
        self.build = os.path.abspath(os.environ.get("RISKMAP_BUILD_DIR", os.path.join(self.repo, "build")))
        self.riskmap = os.path.abspath(os.environ.get("RISKMAP_BIN", os.path.join(self.build, "riskmap")))
        work = os.environ.get("RISKMAP_NB_WORK")
        if not work:
            work = os.path.join(tempfile.gettempdir(), f"riskmap-notebooks-{os.getuid()}", notebook)
        self.work = os.path.abspath(work)
        self.figures = os.path.abspath(os.environ.get("RISKMAP_FIGURES",
                                                      os.path.join(self.repo, "notebooks", "figures")))
        self.data = os.path.join(self.repo, "data")
        if not os.access(self.riskmap, os.X_OK):
            raise FileNotFoundError(
                f"riskmap binary not found at {self.riskmap}: build it (./scripts/build.sh) or set RISKMAP_BIN")
        # What the notebooks write (detections with exact outlines, maps of them) is owner-only,
        # as riskmap's own outputs are: a review found loo_det.geojson 0644 in a 0755 folder.
        os.umask(0o077)
        for d in (os.path.dirname(self.work), self.work, self.figures):
            os.makedirs(d, mode=0o700, exist_ok=True)
        for d in (os.path.dirname(self.work), self.work):
            if os.stat(d).st_uid == os.getuid():
                os.chmod(d, 0o700)

    def rel(self, path):
        """A path relative to the repository, for display."""
        p = os.path.relpath(path, self.repo)
        return path if p.startswith("..") else p

    def __repr__(self):
        return "\n".join(f"{k:9s} {v}" for k, v in vars(self).items())


def run(cmd, cwd=None, check=True, show=True, quiet_ok=False):
    """Runs a command (list of words), echoing it shell-quoted first. Returns CompletedProcess
    with text stdout and stderr; raises with stderr on a non-zero exit when check is set."""
    cmd = [str(c) for c in cmd]
    if show:
        print("$", shlex.join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    proc.seconds = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {shlex.join(cmd)}\n{proc.stderr.strip()}")
    return proc


def clear_figures(paths):
    """Removes this notebook's earlier PNGs, so that notebooks/figures holds exactly what the
    last run drew (a figure that is no longer drawn does not linger)."""
    prefix = paths.notebook + "_"
    for name in os.listdir(paths.figures):
        if name.startswith(prefix) and name.endswith(".png"):
            os.remove(os.path.join(paths.figures, name))


def save_figure(fig, paths, name, caption):
    """Saves fig as figures/<notebook>_<name>.png (caption kept in the PNG's Description),
    shows it, and prints its caption under it as Markdown."""
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display
    fname = f"{paths.notebook}_{name}.png"
    out = os.path.join(paths.figures, fname)
    fig.savefig(out, dpi=110, bbox_inches="tight",
                metadata={"Software": None, "Title": fname, "Description": caption})
    display(fig)
    plt.close(fig)
    display(Markdown(f"**Figure `{fname}`.** {caption}"))
    return out


def show_png(path, paths, name, caption):
    """Copies a PNG that riskmap drew into figures/ under this notebook's prefix, and shows it
    with its caption."""
    import shutil
    from IPython.display import Image, Markdown, display
    fname = f"{paths.notebook}_{name}.png"
    out = os.path.join(paths.figures, fname)
    shutil.copyfile(path, out)
    os.chmod(out, 0o600)  # owner-only, as everything the notebooks write
    display(Image(filename=out))
    display(Markdown(f"**Figure `{fname}`.** {caption}"))
    return out


def md(text):
    from IPython.display import Markdown, display
    display(Markdown(text))


def check_environment():
    """Fails early, naming the Debian packages, when the notebook runs on an interpreter that
    lacks them (the pyenv `python3` on PATH, for example)."""
    missing = []
    for mod, pkg in [("numpy", "python3-numpy"), ("matplotlib", "python3-matplotlib"),
                     ("geopandas", "python3-geopandas"), ("rasterio", "python3-rasterio"),
                     ("osgeo.gdal", "python3-gdal"), ("pandas", "python3-pandas")]:
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        raise ImportError(f"this kernel ({sys.executable}) lacks {', '.join(missing)}: run the notebook "
                          "with Debian's /usr/bin/python3 (see notebooks/README.md)")
    # The bundled EO Browser exports declare their dataMask sample loosely; GDAL warns on every
    # open. The warning is harmless (riskmap and these notebooks read sample 2 as the mask), so it
    # is dropped here; every other GDAL message still reaches stderr.
    from osgeo import gdal

    def gdal_messages(cls, number, msg):
        if "ExtraSamples" not in msg:
            sys.stderr.write(f"GDAL: {msg}\n")
    gdal.PushErrorHandler(gdal_messages)
    import matplotlib
    matplotlib.rcParams.update({"figure.dpi": 90, "savefig.dpi": 110, "font.size": 9,
                                "svg.hashsalt": "riskmap", "path.simplify": True})
