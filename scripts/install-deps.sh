#!/usr/bin/env bash
# Installs riskmap's build and test dependencies from Debian (12 "bookworm" or later).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake ninja-build pkg-config \
  libgdal-dev zlib1g-dev gdal-bin libproj-dev libgeos-dev libopencv-dev libtbb-dev libcli11-dev libgtest-dev \
  nlohmann-json3-dev clang-14 libfuzzer-14-dev libclang-rt-14-dev \
  python3 python3-gdal python3-numpy \
  jupyter-nbconvert python3-nbconvert python3-nbclient python3-nbformat python3-jupyter-client \
  python3-ipykernel python3-matplotlib python3-pandas python3-geopandas python3-shapely python3-rasterio \
  nginx-light curl slurm-wlm munge \
  chromium python3-qgis qgis xvfb xauth
