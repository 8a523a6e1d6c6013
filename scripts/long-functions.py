#!/usr/bin/python3
"""Lists functions longer than a limit (default 80 lines) in riskmap's own C++ sources.

A function may be longer when the line just above it says why: `// long: <reason>`. Exit code 1
when any other function is too long. Run by ctest (FunctionLength) so the rule holds.
Heuristic: a function starts at a line at indentation 0 or 4 (class member bodies) that ends in
'{' and is not a namespace, class, struct, enum or initialiser; it ends at the matching brace.
"""
import os
import re
import sys

LIMIT = int(os.environ.get("RISKMAP_FUNCTION_LIMIT", "80"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ["change", "cli", "core", "detection", "eval", "features", "geo", "output", "provenance", "raster", "report",
           "risk", "scan", "tiling", "bench"]
NOT_FUNCTION = re.compile(r"^\s*(namespace|class|struct|enum|union|extern)\b|=\s*\{$|^\s*(static\s+)?const\s+\w+.*=\s*\{")


STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|//.*$')


def functions(path):
    raw = open(path, encoding="utf-8").read().split("\n")
    lines = [STRINGS.sub('""', l) for l in raw]
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip(" "))
        if indent in (0, 4) and line.rstrip().endswith("{") and not NOT_FUNCTION.search(line) and "(" in "".join(lines[max(0, i - 3):i + 1]):
            depth, j = 0, i
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                if depth <= 0:
                    break
                j += 1
            reason = raw[i - 1].strip() if i > 0 else ""
            yield i + 1, j - i + 1, line.strip(), reason.startswith("// long:")
            i = j
        i += 1


def main():
    bad = 0
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in sorted(files):
                if not f.endswith(".cpp"):
                    continue
                path = os.path.join(dirpath, f)
                for start, length, head, excused in functions(path):
                    if length > LIMIT and not excused:
                        bad += 1
                        print(f"{os.path.relpath(path, ROOT)}:{start}: {length} lines: {head[:90]}")
    print(f"{bad} function(s) over {LIMIT} lines without a '// long:' reason")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
