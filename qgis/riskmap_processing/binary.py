"""Finding and running the riskmap binary.

Everything that talks to the riskmap executable lives here: where it is (the Processing setting,
else PATH), what it offers (`riskmap detectors --json` and `riskmap COMMAND --help`, cached per
binary), and running a subcommand with its progress streamed into a Processing feedback, cancel
mapped to SIGINT, and errors mapped to QgsProcessingException carrying riskmap's own message.

This module imports nothing from the Processing framework's Python side except the settings, so
it works the same in the QGIS desktop, in qgis_process and in standalone PyQGIS scripts.
"""
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time

from qgis.core import QgsProcessingException

SETTING_BINARY = "RISKMAP_BINARY"
SETTING_GROUP = "riskmap"

# How long riskmap gets to stop after SIGINT before it is killed (it normally stops within one
# tile). Killing it may leave its temporary files, so this is generous.
CANCEL_GRACE_S = 60.0


def configured_binary():
    """The binary path from the Processing setting ('' when unset or Processing is not loaded)."""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
        value = ProcessingConfig.getSetting(SETTING_BINARY)
    except Exception:  # Processing framework not initialised (plain PyQGIS script)
        value = None
    return (value or "").strip()


def find_binary():
    """Returns (path, None) for the riskmap binary to run, or (None, why-not)."""
    configured = configured_binary()
    if configured:
        path = os.path.expanduser(configured)
        if os.path.isdir(path):
            path = os.path.join(path, "riskmap.exe" if os.name == "nt" else "riskmap")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path), None
        return None, (f"the riskmap executable set in Processing settings ({configured}) does not exist "
                      "or is not executable: fix it under Settings > Options > Processing > Providers > riskmap")
    found = shutil.which("riskmap")
    if found:
        return os.path.abspath(found), None
    return None, ("riskmap was not found on PATH: install it, or set its path under "
                  "Settings > Options > Processing > Providers > riskmap")


def require_binary():
    path, why = find_binary()
    if path is None:
        raise QgsProcessingException(why)
    return path


# --- what the binary offers (cached per binary file) ---------------------------------------------

_cache = {}


def _stamp(binary):
    st = os.stat(binary)
    return (binary, st.st_mtime_ns, st.st_size)


def _cached(binary, key, compute):
    try:
        stamp = _stamp(binary) + (key,)
    except OSError:
        return None
    if stamp not in _cache:
        _cache[stamp] = compute()
    return _cache[stamp]


def _capture(binary, args, timeout=20):
    try:
        done = subprocess.run([binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, encoding="utf-8", errors="replace",
                              **_popen_platform_kwargs())
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout


def detectors(binary):
    """The parsed output of `riskmap detectors --json` (a list of detector dicts), or None."""
    def compute():
        text = _capture(binary, ["detectors", "--json"])
        if text is None:
            return None
        try:
            return json.loads(text)["detectors"]
        except (ValueError, KeyError, TypeError):
            return None
    return _cached(binary, "detectors", compute)


def version(binary):
    """'riskmap 0.1.0' or None."""
    def compute():
        text = _capture(binary, ["--version"])
        return text.strip().splitlines()[0] if text and text.strip() else None
    return _cached(binary, "version", compute)


def subcommands(binary):
    """The subcommands listed by `riskmap --help` (None when it cannot be run or parsed)."""
    def compute():
        text = _capture(binary, ["--help"])
        if not text or "Subcommands:" not in text:
            return None
        names = []
        for line in text.split("Subcommands:", 1)[1].splitlines():
            m = re.match(r"^\s+([a-z][a-z0-9-]*)\s{2,}", line)
            if m:
                names.append(m.group(1))
            elif line.strip() and not line.startswith(" "):
                break
        return names or None
    return _cached(binary, "subcommands", compute)


def command_help(binary, command):
    """The text of `riskmap COMMAND --help`, or None."""
    return _cached(binary, "help:" + command, lambda: _capture(binary, [command, "--help"]))


# CLI11 help lines look like
#   --resampling TEXT:{nearest,bilinear,cubic}=nearest
#   --tile-size INT:INT in [16 - 1048576]=1024
#   --sensor PROFILE            sensor profile naming the bands (sentinel2, landsat8, ...); ...
_OPTION_LINE = re.compile(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)\b(.*)$")


def cli_options(binary, command):
    """Options of `riskmap COMMAND` parsed from its --help: {'--name': {'choices': [...],
    'default': 'text', 'min': float, 'max': float, 'description': 'text'}}. Used to keep the dialogs'
    choices and defaults in step with the binary; callers fall back to their own when a key is
    missing (the help format is meant for people, so this is best effort)."""
    text = command_help(binary, command) if binary else None
    options = {}
    if not text:
        return options
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        info = {}
        head, _, desc = rest.strip().partition("  ")
        desc = desc.strip()
        if not desc and i + 1 < len(lines) and not _OPTION_LINE.match(lines[i + 1]):
            desc = lines[i + 1].strip()
        info["description"] = desc
        c = re.search(r"\{([^}]*)\}", head)
        if c:
            info["choices"] = [x.strip() for x in c.group(1).split(",") if x.strip()]
        d = re.search(r"=(\S+)\s*$", head)
        if d:
            info["default"] = d.group(1)
        r = re.search(r"in \[([-+0-9.e]+) - ([-+0-9.e]+)\]", head)
        if r:
            try:
                info["min"], info["max"] = float(r.group(1)), float(r.group(2))
            except ValueError:
                pass
        if not c:
            # choices listed in the description, e.g. "sensor profile naming the bands (a, b, c)"
            p = re.search(r"\(([a-z0-9_]+(?:, [a-z0-9_]+)+)\)", desc)
            if p:
                info["listed"] = [x.strip() for x in p.group(1).split(",")]
        options[name] = info
    return options


# --- running a subcommand ------------------------------------------------------------------------

def _popen_platform_kwargs():
    if os.name == "nt":
        # A new process group, so that CTRL_BREAK_EVENT reaches riskmap and not QGIS.
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {}


def _interrupt(proc):
    try:
        if os.name == "nt":
            proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            proc.send_signal(signal.SIGINT)
    except OSError:
        pass


class RunResult:
    def __init__(self, returncode, stdout_lines, messages):
        self.returncode = returncode
        self.stdout_lines = stdout_lines
        self.messages = messages

    @property
    def stdout(self):
        return "\n".join(self.stdout_lines)


class _Progress:
    """Turns riskmap's --json-progress NDJSON events into Processing feedback."""

    def __init__(self, feedback):
        self.feedback = feedback
        self.last_logged_pct = -100.0
        self.last_logged_t = 0.0

    def event(self, ev):
        fb = self.feedback
        kind = ev.get("event")
        tiles_done, tiles_total = ev.get("tiles_done", 0), ev.get("tiles_total", 0)
        area_done, area_total = ev.get("area_done_km2") or 0.0, ev.get("area_total_km2") or 0.0
        detections = ev.get("detections", 0)
        if area_total > 0:
            pct = 100.0 * area_done / area_total
        elif tiles_total:
            pct = 100.0 * tiles_done / tiles_total
        else:
            pct = 0.0
        if kind == "start":
            fb.pushInfo(f"riskmap: {tiles_total} tile(s), {area_total:.1f} km2 to scan")
            fb.setProgress(0)
            return
        if kind == "finish":
            fb.setProgress(100)
            fb.pushInfo(f"riskmap: {tiles_done}/{tiles_total} tile(s), {area_done:.1f} km2, {detections} raw "
                        f"detection(s) in {ev.get('elapsed_s') or 0:.1f} s")
            return
        if kind in ("writing", "written"):
            fb.pushInfo(f"riskmap: {kind} {ev.get('features', 0)} feature(s)")
            return
        if kind != "progress":
            fb.pushDebugInfo(json.dumps(ev))
            return
        fb.setProgress(pct)
        eta = ev.get("eta_s")
        eta_text = f", about {eta:.0f} s left" if isinstance(eta, (int, float)) else ""
        text = f"{tiles_done}/{tiles_total} tiles, {detections} detection(s){eta_text}"
        if hasattr(fb, "setProgressText"):
            fb.setProgressText(text)
        now = time.monotonic()
        # The log gets a line per 10 % or per 30 s, not one per tile.
        if pct - self.last_logged_pct >= 10.0 or now - self.last_logged_t >= 30.0:
            self.last_logged_pct, self.last_logged_t = pct, now
            fb.pushInfo(f"{pct:5.1f} %  {text}")


def _reader(stream, tag, q):
    try:
        for line in iter(stream.readline, ""):
            q.put((tag, line.rstrip("\r\n")))
    finally:
        q.put((tag, None))


def _warn(feedback, text):
    if hasattr(feedback, "pushWarning"):
        feedback.pushWarning(text)
    else:
        feedback.reportError(text, False)


def run(binary, args, feedback, json_progress=False, cwd=None, cleanup=()):
    """Runs `binary args...`, streaming its output into feedback.

    - stdout lines go to the log; with json_progress, stderr NDJSON events drive the progress bar;
      other stderr lines are riskmap's messages (warnings, and on failure the error).
    - When feedback is canceled, riskmap gets SIGINT (it then writes nothing), the paths in
      `cleanup` that riskmap left (its resume journal) are removed, and QgsProcessingException
      says the run was canceled.
    - A non-zero exit raises QgsProcessingException with riskmap's one-line message.
    Returns a RunResult on success.
    """
    command = [binary] + list(args)
    if json_progress:
        command.append("--json-progress")
    feedback.pushCommandInfo(" ".join(shlex.quote(a) for a in command))
    preexisting = {p for p in cleanup if os.path.lexists(p)}
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=cwd, encoding="utf-8", errors="replace",
                                bufsize=1, **_popen_platform_kwargs())
    except OSError as e:
        raise QgsProcessingException(f"cannot start riskmap ({binary}): {e.strerror or e}")

    q = queue.Queue()
    readers = [threading.Thread(target=_reader, args=(proc.stdout, "out", q), daemon=True),
               threading.Thread(target=_reader, args=(proc.stderr, "err", q), daemon=True)]
    for t in readers:
        t.start()
    progress = _Progress(feedback) if json_progress else None
    stdout_lines, messages = [], []
    open_streams = 2
    interrupted_at = None
    killed = False
    try:
        while open_streams or proc.poll() is None:
            if feedback.isCanceled() and interrupted_at is None:
                interrupted_at = time.monotonic()
                feedback.pushInfo("Canceling: asking riskmap to stop (SIGINT)...")
                _interrupt(proc)
            if interrupted_at is not None and not killed and time.monotonic() - interrupted_at > CANCEL_GRACE_S:
                _warn(feedback, f"riskmap did not stop within {CANCEL_GRACE_S:.0f} s of SIGINT: killing it")
                proc.kill()
                killed = True
            try:
                tag, line = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
                continue
            if tag == "out":
                stdout_lines.append(line)
                if line.strip():
                    feedback.pushInfo(line)
                continue
            if progress is not None and line.startswith("{"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    ev = None
                if isinstance(ev, dict) and ev.get("event") in ("error", "warning", "note"):
                    # Under --json-progress riskmap's messages are events too: shown as it prints them.
                    kind = "warning: " if ev["event"] == "warning" else ""
                    line = f"riskmap: {kind}{ev.get('message', '')}"
                elif isinstance(ev, dict) and "event" in ev:
                    progress.event(ev)
                    continue
            if line.strip():
                # A message is shown when the next one comes, so that the last one, which is the error
                # when riskmap fails, is shown once, as the error.
                if messages and interrupted_at is None:
                    feedback.pushInfo(messages[-1])
                messages.append(line.strip())
    finally:
        if proc.poll() is None:  # an exception (e.g. from feedback) while riskmap runs
            _interrupt(proc)
            try:
                proc.wait(timeout=CANCEL_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    rc = proc.wait()

    if interrupted_at is not None and rc == 0:
        _warn(feedback, "riskmap had finished before it could be stopped: its output is complete")
    elif interrupted_at is not None or (rc != 0 and feedback.isCanceled()):
        _remove_new(cleanup, preexisting, feedback)
        raise QgsProcessingException("Canceled: riskmap stopped and wrote no output")
    if rc == 0 and messages and interrupted_at is None:
        feedback.pushInfo(messages[-1])
    if rc != 0:
        _remove_new(cleanup, preexisting, feedback)
        if rc < 0:
            raise QgsProcessingException(f"riskmap was killed by signal {-rc}")
        message = messages[-1] if messages else f"riskmap exited with code {rc} and no message"
        kind = {1: "runtime or data error", 2: "usage error"}.get(rc, f"exit code {rc}")
        feedback.reportError(f"riskmap failed ({kind}, exit code {rc})", False)
        raise QgsProcessingException(message)
    return RunResult(rc, stdout_lines, messages)


def _remove_new(paths, preexisting, feedback):
    """Removes what riskmap left behind after a failed or canceled run (its resume journal),
    when it was not there before the run."""
    for p in paths:
        if p in preexisting or not os.path.lexists(p):
            continue
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.remove(p)
            feedback.pushInfo(f"removed {p}")
        except OSError as e:
            _warn(feedback, f"could not remove {p}: {e}")
