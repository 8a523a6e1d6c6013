#!/usr/bin/env bash
# Configures and builds riskmap into build/ (the binary is build/riskmap).
# Extra arguments go to CMake, e.g. -DRISKMAP_SANITIZE=address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$jobs"
