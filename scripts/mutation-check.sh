#!/usr/bin/env bash
# mutation-check.sh [ID...]: applies each one-line mutation of tests/mutations/mutations.json to
# the source (one at a time), rebuilds incrementally in build-mutation/, runs the tests, and
# prints the mutation score with the survivors (mutations no test caught). Not part of the
# README's test command: it takes minutes per mutation. The source is restored after each one.
# Uses /work/bin/rbuild and rtest when present (a build lock for shared machines).
# MUTATION_TESTS=REGEX runs only the ctest tests matching it (a quick check of new mutations
# against the tests written for them; the score then says nothing about the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "$@" <<'PY'
import json, os, shutil, subprocess, sys, time
wanted = set(sys.argv[1:])
mutations = [m for m in json.load(open("tests/mutations/mutations.json")) if not wanted or m["id"] in wanted]
build = "build-mutation"
def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
if not os.path.exists(f"{build}/build.ninja"):
    # ccache when present: a rerun of the check rebuilds from the cache.
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    run(["cmake", "-S", ".", "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"] + launcher, check=True)
lock = open("/work/build.lock", "w") if os.path.isdir("/work") else None
def locked(cmd):
    if lock:
        import fcntl
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return run(cmd)
    finally:
        if lock:
            fcntl.flock(lock, fcntl.LOCK_UN)
baseline = locked(["cmake", "--build", build, "-j2"])
if baseline.returncode:
    sys.exit("the unmutated build fails:\n" + baseline.stdout[-3000:])
killed, survivors = [], []
for m in mutations:
    path = m["file"]
    original = open(path).read()
    if original.count(m["from"]) != 1:
        print(f"{m['id']}: SKIPPED, the line to mutate is not found exactly once in {path} (update the list)")
        survivors.append(m["id"] + " (stale)")
        continue
    t0 = time.time()
    try:
        open(path, "w").write(original.replace(m["from"], m["to"]))
        b = locked(["cmake", "--build", build, "-j2"])
        if b.returncode:
            # -Werror rejecting the mutant says nothing about the tests: the mutation must be
            # rewritten so that it compiles.
            print(f"{m['id']}: DOES NOT COMPILE ({time.time() - t0:.0f} s): rewrite it so that it builds")
            survivors.append(m["id"] + " (does not compile)")
            continue
        # The first failing test kills a mutation: stop there. Notebooks and the QGIS plugin run
        # the same binary through slower paths, so they are left to the full suite.
        # MUTATION_TESTS=REGEX narrows the tests (to check new mutations against their tests).
        only = ["-R", os.environ["MUTATION_TESTS"]] if os.environ.get("MUTATION_TESTS") else []
        t = locked(["ctest", "--test-dir", build, "-j2", "--timeout", "300", "--stop-on-failure",
                    "-E", "QgisPluginProcessing", "-LE", "notebook"] + only)
        tail = t.stdout.split("The following tests FAILED:")[-1] if "The following tests FAILED:" in t.stdout else ""
        failed = [l.split(" - ", 1)[1].strip() for l in tail.splitlines() if " - " in l]
        if t.returncode:
            print(f"{m['id']}: killed by {len(failed)} test(s) ({time.time() - t0:.0f} s): {', '.join(failed[:4])}")
            killed.append(m["id"])
        else:
            print(f"{m['id']}: SURVIVED ({time.time() - t0:.0f} s): {m['breaks']}")
            survivors.append(m["id"])
    finally:
        open(path, "w").write(original)
locked(["cmake", "--build", build, "-j2"])
print(f"mutation score: {len(killed)}/{len(mutations)} killed" + (f"; survivors: {', '.join(survivors)}" if survivors else ""))
sys.exit(1 if survivors else 0)
PY
