#!/usr/bin/env bash
# Newcomer command 1: install, build, and scan the bundled real sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
out=demo-output
mkdir -p "$out" && chmod 700 "$out"
S2=data/sundarbans-s2-l2a-2020-01-27/Sentinel-2_L2A_

echo "== riskmap info: the Sentinel-2 L2A band files as one scene"
./build/riskmap info --band blue=${S2}B02_Raw.tiff --band green=${S2}B03_Raw.tiff \
  --band red=${S2}B04_Raw.tiff --band nir=${S2}B08_Raw.tiff --band swir1=${S2}B11_Raw.tiff

echo "== riskmap scan: bare or built ground (index detector) at the Sundarbans mangrove edge"
./build/riskmap scan --scale 1.5259e-5 --band green=${S2}B03_Raw.tiff --band red=${S2}B04_Raw.tiff \
  --band nir=${S2}B08_Raw.tiff --band swir1=${S2}B11_Raw.tiff \
  --set rule="ndvi < 0.25 and mndwi < 0 and ndbi > -0.1" --set close_radius_m=20 \
  --set min_area_m2=5000 -o "$out/sundarbans-bare.geojson" --overwrite

echo "== riskmap scan: brick kilns in 30 real Sentinel-2 chips from Bangladesh, then measure them"
./build/riskmap scan data/kilns-s2-bd-dev/chips/*.tif --detector kiln --grid 2000 -o "$out/kilns.gpkg" --overwrite
./build/riskmap eval --truth data/kilns-s2-bd-dev/labels.geojson --detections "$out/kilns.gpkg" \
  --truth-source-field chip | tail -n 1

echo "== riskmap report: an offline evidence report for reviewers (open $out/kilns-report/index.html)"
./build/riskmap report "$out/kilns.gpkg" -o "$out/kilns-report" --overwrite

echo "== riskmap scan: remote clearings in the Sundarbans mangroves (values are reflectance x 65535)"
./build/riskmap scan --scale 1.5259e-5 --band blue=${S2}B02_Raw.tiff --band green=${S2}B03_Raw.tiff \
  --band red=${S2}B04_Raw.tiff --band nir=${S2}B08_Raw.tiff --band swir1=${S2}B11_Raw.tiff \
  --detector clearing -o "$out/sundarbans-clearings.geojson" --overwrite

echo "Outputs (owner-only, open them in QGIS) are in $out/."
