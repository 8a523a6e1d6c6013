#!/usr/bin/env node
// Builds a realistic fake evidence-report folder, laid out exactly as `riskmap report` writes it:
//
//   DIR/index.html, DIR/app.js, DIR/style.css ...   every file of report/assets/, verbatim
//   DIR/vendor/leaflet/leaflet.js, leaflet.css        from third_party/leaflet/
//   DIR/data.js                                       window.RISKMAP_DATA = {...}
//   DIR/chips/*.png                                   one image chip per lead (some leads have none)
//
// Usage: node make_fixture.mjs OUT_DIR [--count N] [--seed S]
// The data are made up (deterministic for a given seed): brick kilns around towns of
// south-western Bangladesh, three Sentinel-2 scenes, a 0.1 degree grid and two nodata gaps.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

function usage(msg) {
  if (msg) console.error('make_fixture: ' + msg);
  console.error('usage: node make_fixture.mjs OUT_DIR [--count N] [--seed S]');
  process.exit(2);
}

const argv = process.argv.slice(2);
let outDir = null, count = 30, seed = 20260112;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--count') count = parseInt(argv[++i], 10);
  else if (a === '--seed') seed = parseInt(argv[++i], 10);
  else if (a.startsWith('-')) usage('unknown option ' + a);
  else if (!outDir) outDir = a;
  else usage('too many arguments');
}
if (!outDir) usage();
if (!Number.isInteger(count) || count < 0 || count > 5000) usage('--count must be 0..5000');
outDir = path.resolve(outDir);

// Refuse to write into a folder that is not empty and not an earlier report.
if (fs.existsSync(outDir)) {
  const entries = fs.readdirSync(outDir);
  const isReport = entries.includes('data.js') || entries.includes('index.html');
  if (entries.length && !isReport) usage(outDir + ' exists, is not empty and is not a report folder');
  fs.rmSync(path.join(outDir, 'chips'), { recursive: true, force: true });
}
fs.mkdirSync(path.join(outDir, 'chips'), { recursive: true });
fs.mkdirSync(path.join(outDir, 'vendor', 'leaflet'), { recursive: true });

// ---------------------------------------------------------------- assets
const assets = path.join(repo, 'report', 'assets');
for (const name of fs.readdirSync(assets)) {
  const src = path.join(assets, name);
  if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(outDir, name));
}
for (const name of ['leaflet.js', 'leaflet.css']) {
  fs.copyFileSync(path.join(repo, 'third_party', 'leaflet', name), path.join(outDir, 'vendor', 'leaflet', name));
}

// ------------------------------------------------------------------ random
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(seed);
const uni = (a, b) => a + (b - a) * rnd();
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
const gauss = () => { let u = 0, v = 0; while (!u) u = rnd(); while (!v) v = rnd(); return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); };
const hex12 = () => Array.from({ length: 12 }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
const round = (x, dp) => Number(x.toFixed(dp));

// --------------------------------------------------------------- geography
const M_PER_DEG_LAT = 111320;
const mPerDegLon = (lat) => 111320 * Math.cos(lat * Math.PI / 180);

const scenes = [
  { source: 'S2B_MSIL2A_20260112T043119_N0510_R133_T45QXF', bbox: [89.02, 23.02, 89.56, 23.98] },
  { source: 'S2B_MSIL2A_20260112T043119_N0510_R133_T45QYF', bbox: [89.50, 23.38, 90.00, 23.99] },
  { source: 'S2A_MSIL2A_20260117T043201_N0510_R133_T45QYE', bbox: [89.48, 23.02, 89.98, 23.42] }
];
const towns = [
  { name: 'Jashore', lon: 89.215, lat: 23.168, n: 8 },
  { name: 'Magura', lon: 89.425, lat: 23.487, n: 6 },
  { name: 'Kushtia', lon: 89.125, lat: 23.905, n: 4 },
  { name: 'Faridpur', lon: 89.838, lat: 23.607, n: 7 },
  { name: 'Narail', lon: 89.640, lat: 23.170, n: 3 },
  { name: 'Kamarkhali', lon: 89.532, lat: 23.545, n: 2 }
];
const inBox = (lon, lat, b) => lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];

// Two nodata gaps: a cloud in the first scene and a swath edge in the second.
function blob(cx, cy, rx, ry, n, jitter) {
  const ring = [];
  for (let i = 0; i < n; i++) {
    const t = (i / n) * 2 * Math.PI, r = 1 + jitter * Math.sin(3 * t + 1) + jitter * 0.6 * Math.cos(5 * t);
    ring.push([round(cx + rx * r * Math.cos(t), 6), round(cy + ry * r * Math.sin(t), 6)]);
  }
  ring.push(ring[0]);
  return ring;
}
const gaps = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { source: scenes[0].source, reason: 'cloud mask (SCL 8/9)', area_km2: 41.6 },
      geometry: { type: 'Polygon', coordinates: [blob(89.30, 23.72, 0.045, 0.035, 28, 0.18)] } },
    { type: 'Feature', properties: { source: scenes[1].source, reason: 'no data (swath edge)', area_km2: 58.2 },
      geometry: { type: 'Polygon', coordinates: [[[89.93, 23.99], [90.0, 23.99], [90.0, 23.70], [89.965, 23.70], [89.93, 23.99]]] } }
  ]
};
const inGap = (lon, lat) => {
  const c = gaps.features[0].geometry.coordinates[0];
  let inside = false;
  for (let i = 0, j = c.length - 1; i < c.length; j = i++) {
    if ((c[i][1] > lat) !== (c[j][1] > lat) && lon < ((c[j][0] - c[i][0]) * (lat - c[i][1])) / (c[j][1] - c[i][1]) + c[i][0]) inside = !inside;
  }
  return inside || (lon > 89.93 && lat > 23.70);
};

// --------------------------------------------------------------- detections
// Context layers and factor wording as riskmap's ContextScorer writes them
// ("inside NAME (label)", "within D of NAME (label, d)", "nearest NAME: d (label)", "outside NAME").
const CONTEXT = [
  { name: 'worker housing', path: 'context/worker-housing.gpkg', rule: 'within 250 m', weight: 0.45 },
  { name: 'walled compounds', path: 'context/compounds.gpkg', rule: 'inside', weight: 0.35 },
  { name: 'river ghats', path: 'context/ghats.gpkg', rule: 'within 1 km', weight: 0.2 },
  { name: 'villages', path: 'context/villages.gpkg', rule: 'nearest 2 km', weight: -0.25 }
];
const RISK_LEVELS = [0.45, 0.7];
const metresText = (m) => (m >= 1000 ? (m / 1000).toFixed(1) + ' km' : Math.round(m) + ' m');
const VILLAGES = ['Kalinagar', 'Char Bhabanipur', 'Noapara', 'Baghutia', 'Shialdanga', 'Rajarhat', 'Dhopadi'];
const GHATS = ['Bhairab ghat', 'Madhumati ferry', 'Gorai landing', 'Kumar ghat'];

const towncounts = towns.map((t) => t.n);
const totalWanted = towncounts.reduce((a, b) => a + b, 0);
const detections = [];
const used = new Set();
let made = 0;
for (let k = 0; made < count && k < count * 50; k++) {
  const town = towns[k % towns.length];
  const spread = Math.min(3, 1 + Math.floor(k / totalWanted) * 0.25);
  const lon = town.lon + gauss() * 0.035 * spread;
  const lat = town.lat + gauss() * 0.03 * spread;
  const inScenes = scenes.filter((s) => inBox(lon, lat, s.bbox));
  if (!inScenes.length || inGap(lon, lat)) continue;
  let id;
  do { id = 'kiln-' + hex12(); } while (used.has(id));
  used.add(id);

  const kilnType = pick(['FCBTK', 'FCBTK', 'zigzag', 'zigzag', 'unknown']);
  const length = kilnType === 'zigzag' ? uni(95, 140) : uni(110, 175);
  const width = kilnType === 'zigzag' ? uni(55, 80) : uni(70, 105);
  const orient = uni(0, 180);
  const score = round(Math.min(0.97, Math.max(0.21, 0.42 + gauss() * 0.17)), 4);
  const housing = rnd() < 0.5 ? Math.round(uni(40, 240)) : null;
  const enclosure = rnd() < 0.35;
  const distOpen = Math.round(uni(30, 900));
  const clusterN = Math.max(1, Math.round(uni(1, town.n)));

  const factors = [];
  const applied = [];        // [weight, strength]
  if (housing !== null) {
    applied.push([0.45, 1]);
    factors.push(`within 250 m of worker housing (shelter rows ${1 + Math.floor(rnd() * 40)}, ${metresText(housing)})`);
  }
  if (enclosure) {
    applied.push([0.35, 1]);
    factors.push(`inside walled compounds (compound ${String.fromCharCode(65 + Math.floor(rnd() * 26))}${Math.floor(rnd() * 90 + 10)})`);
  }
  if (rnd() < 0.25) {
    const d = uni(200, 990);
    applied.push([0.2, 1]);
    factors.push(`within 1 km of river ghats (${pick(GHATS)}, ${metresText(d)})`);
  }
  if (rnd() < 0.8) {
    const d = distOpen * 2.2;
    const sgt = Math.max(0, 1 - d / 2000);
    if (sgt > 0) applied.push([-0.25, sgt]);
    factors.push(`nearest villages: ${metresText(d)} (${pick(VILLAGES)})`);
  }
  if (made === 5) factors.push('within 250 m of worker housing ("Char <Bhabanipur>" & co, 40 m)');
  // risk = 1 - (1 - score) * prod(1 - w*s, w > 0) * prod(1 + w*s, w < 0)
  let gap = 1 - score;
  for (const [w, st] of applied) if (w > 0) gap *= 1 - w * st;
  let risk = 1 - gap;
  for (const [w, st] of applied) if (w < 0) risk *= 1 + w * st;
  risk = round(Math.min(1, Math.max(0, risk)), 4);
  const level = risk >= RISK_LEVELS[1] ? 'high' : risk >= RISK_LEVELS[0] ? 'medium' : 'low';

  // Rotated rectangle (kiln footprint) in lon/lat.
  const rect = (cx, cy, L, W, deg) => {
    const a = (deg * Math.PI) / 180, mx = mPerDegLon(cy);
    const pts = [[-L / 2, -W / 2], [L / 2, -W / 2], [L / 2, W / 2], [-L / 2, W / 2]].map(([x, y]) => {
      const xr = x * Math.cos(a) - y * Math.sin(a), yr = x * Math.sin(a) + y * Math.cos(a);
      return [round(cx + xr / mx, 7), round(cy + yr / M_PER_DEG_LAT, 7)];
    });
    pts.push(pts[0]);
    return pts;
  };
  let geometry;
  const kilnRing = rect(lon, lat, length, width, orient);
  if (made === 3) {
    // A kiln with a detached drying yard: a MultiPolygon.
    const yardLon = lon + 140 / mPerDegLon(lat), yardLat = lat + 30 / M_PER_DEG_LAT;
    geometry = { type: 'MultiPolygon', coordinates: [[kilnRing], [rect(yardLon, yardLat, 90, 60, orient + 10)]] };
  } else {
    geometry = { type: 'Polygon', coordinates: [kilnRing] };
  }
  const area = round(length * width * uni(0.82, 0.93) * (geometry.type === 'MultiPolygon' ? 1.45 : 1), 1);
  const sources = inScenes.map((s) => s.source);
  const source = sources[0];
  const hasChip = !(made % 11 === 7);           // a few leads have no chip ("off their raster")
  const chipName = `chips/${id}.png`;
  // As riskmap's ChipRenderer: a window three times the object (at least 400 m) of 10 m pixels,
  // enlarged with whole pixels to about 384 px.
  const gsd = 10;
  const side = Math.max(16, Math.ceil(Math.max(3 * Math.max(length, width) / gsd, 400 / gsd)));

  const props = {
    id, detector: 'kiln', class: 'kiln', score, area_m2: area, source, sources,
    risk, risk_level: level, risk_factors: factors,
    kiln_type: kilnType, type_confidence: kilnType === 'unknown' ? 0 : round(uni(0.5, 0.95), 3),
    length_m: round(length, 2), width_m: round(width, 2), orientation_deg: round(orient, 2),
    redness: round(uni(0.2, 0.42), 4), brightness: round(uni(0.5, 1.05), 4), yard_fraction: round(uni(0.2, 0.6), 4),
    touches_edge: false, enclosure, distance_to_open_land_m: distOpen,
    worker_housing_m: housing, cluster_size: clusterN, nearest_town: town.name,
    chip: hasChip ? chipName : null,
    chip_info: hasChip ? { centre: [round(lon, 6), round(lat, 6)], scale_m: gsd, width_m: side * gsd, bands: 'red, green, blue (true colour)' } : null
  };
  detections.push({ type: 'Feature', properties: props, geometry });
  if (hasChip) writeChip(path.join(outDir, chipName), side, gsd, geometry, lon, lat, { length, width, orient, kilnType, housing, enclosure, seed: made });
  made++;
}
if (made < count) { console.error(`make_fixture: could only place ${made} of ${count} leads`); process.exit(1); }

// ------------------------------------------------------------------- chips
// A made-up true-colour scene at the source's 10 m pixels, enlarged with whole pixels, with the
// detection outlined and a scale bar, like riskmap's chips (which also burn in a text caption).
function writeChip(file, side, gsd, geometry, clon, clat, k) {
  const r = mulberry32(seed * 31 + k.seed * 7919 + 1);
  const src = new Float32Array(side * side * 3);
  const parcels = new Map();
  const parcel = (px, py) => {
    const key = px + ',' + py;
    if (!parcels.has(key)) parcels.set(key, r());
    return parcels.get(key);
  };
  const a = (k.orient * Math.PI) / 180, L = k.length / gsd, W = k.width / gsd, c = side / 2;
  const roadY = side * (0.2 + 0.6 * r()), roadSlope = r() * 0.8 - 0.4;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const n = r() * 0.35;
      const pv = parcel(Math.floor((x + 3) / 7), Math.floor((y + 1) / 5));
      let col;
      if (pv < 0.5) col = [62 + 40 * n, 96 + 45 * n, 52 + 20 * n];          // crops
      else if (pv < 0.82) col = [132 + 45 * n, 120 + 30 * n, 92 + 20 * n];  // fallow
      else col = [44 + 20 * n, 60 + 22 * n, 66 + 25 * n];                  // flooded
      if (Math.abs(y - (roadY + (x - c) * roadSlope)) < 0.6) col = [170, 156, 128];
      const dx = x + 0.5 - c, dy = y + 0.5 - c;
      const u = dx * Math.cos(a) + dy * Math.sin(a), v = -dx * Math.sin(a) + dy * Math.cos(a);
      if (Math.abs(u - L * 0.8) < L * 0.35 && Math.abs(v) < W * 0.6) col = [190 + 25 * n, 176 + 20 * n, 150 + 10 * n];  // yard
      const e = (u / (L / 2)) ** 2 + (v / (W / 2)) ** 2;
      if (e < 1) col = e > 0.3 || k.kilnType === 'zigzag' ? [156 + 40 * n, 72 + 20 * n, 58 + 15 * n] : [112 + 30 * n, 92 + 20 * n, 80 + 15 * n];
      if (dx * dx + dy * dy < 0.6) col = [30, 28, 28];                                                              // chimney
      if (k.housing !== null) {
        const hu = u + L * 0.6, hv = v + W * 0.6 + k.housing / gsd * 0.35;
        if (Math.abs(hu) < 3 && hv > 0 && hv < 4 && Math.round(hv) % 2 === 0) col = [150 + 30 * n, 155 + 30 * n, 162 + 30 * n];
      }
      if (k.enclosure) {
        const eu = Math.abs(u + L * 0.1), ev = Math.abs(v), wu = L * 1.3, wv = W * 1.25;
        if ((Math.abs(eu - wu) < 0.5 && ev < wv) || (Math.abs(ev - wv) < 0.5 && eu < wu)) col = [210, 205, 196];
      }
      src.set(col, (y * side + x) * 3);
    }
  }
  const scale = Math.max(1, Math.floor(384 / side));
  const size = side * scale;
  const band = 90;           // white caption band below the image, as riskmap's chips have
  const png = new PNG({ width: size, height: size + band });
  png.data.fill(255);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const si = (Math.floor(y / scale) * side + Math.floor(x / scale)) * 3, di = (y * size + x) * 4;
      png.data[di] = Math.min(255, src[si]); png.data[di + 1] = Math.min(255, src[si + 1]);
      png.data[di + 2] = Math.min(255, src[si + 2]); png.data[di + 3] = 255;
    }
  }
  // Stand-ins for the caption's five lines of text (this fixture has no font).
  for (let line = 0; line < 5; line++) {
    const len = Math.round(size * (0.35 + 0.4 * r()));
    for (let y = size + 10 + line * 16; y < size + 17 + line * 16; y++) {
      for (let x = 6; x < 6 + len; x++) {
        if ((x >> 2) % 5 === 4) continue;
        const di = (y * size + x) * 4;
        png.data[di] = png.data[di + 1] = png.data[di + 2] = 70;
      }
    }
  }
  const put = (x, y, rgb) => {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const i = (y * size + x) * 4;
    png.data[i] = rgb[0]; png.data[i + 1] = rgb[1]; png.data[i + 2] = rgb[2];
  };
  const disc = (x, y, rad, rgb) => { for (let j = -rad; j <= rad; j++) for (let i = -rad; i <= rad; i++) if (i * i + j * j <= rad * rad) put(x + i, y + j, rgb); };
  const toPx = ([lon, lat]) => [((lon - clon) * mPerDegLon(clat) / gsd + side / 2) * scale, (-(lat - clat) * M_PER_DEG_LAT / gsd + side / 2) * scale];
  const rings = geometry.type === 'Polygon' ? [geometry.coordinates[0]] : geometry.coordinates.map((p) => p[0]);
  for (const [rad, rgb] of [[2, [20, 20, 20]], [1, [255, 230, 0]]]) {
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const [x0, y0] = toPx(ring[i]), [x1, y1] = toPx(ring[i + 1]);
        const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0));
        for (let t = 0; t <= steps; t++) disc(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps, rad, rgb);
      }
    }
  }
  // Scale bar: a round length near a quarter of the width, on a white box, bottom left.
  const widthM = side * gsd;
  let bar = 10;
  for (let base = 1; base <= 1e6; base *= 10) for (const m of [1, 2, 5]) if (base * m <= widthM / 4) bar = base * m;
  const barPx = Math.round(bar / gsd * scale), bx = 12, by = size - 16;
  for (let y = by - 10; y <= by + 6; y++) for (let x = bx - 6; x <= bx + barPx + 6; x++) put(x, y, [255, 255, 255]);
  for (let y = by - 4; y <= by; y++) for (let x = bx; x <= bx + barPx; x++) put(x, y, [0, 0, 0]);
  fs.writeFileSync(file, PNG.sync.write(png));
}

// -------------------------------------------------------------- footprints
const footprints = {
  type: 'FeatureCollection',
  features: scenes.map((s) => {
    const [w, so, e, n] = s.bbox;
    return { type: 'Feature', properties: { source: s.source },
      geometry: { type: 'Polygon', coordinates: [[[w, n], [w, so], [e, so], [e, n], [w, n]]] } };
  })
};

// -------------------------------------------------------------------- grid
const CELL = 0.1;
const grid = { type: 'FeatureCollection', features: [] };
const centre = (f) => f.properties.chip_info ? f.properties.chip_info.centre : f.geometry.coordinates.flat(3).slice(0, 2);
for (let gx = Math.floor(89.0 / CELL); gx * CELL < 90.0 - 1e-9; gx++) {
  for (let gy = Math.floor(23.0 / CELL); gy * CELL < 24.0 - 1e-9; gy++) {
    const w = round(gx * CELL, 4), s = round(gy * CELL, 4), e = round(w + CELL, 4), n = round(s + CELL, 4);
    // Scanned fraction of the cell: overlap with the union of scene boxes, sampled.
    let inside = 0, samples = 0;
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) {
      const lon = w + (i + 0.5) * CELL / 10, lat = s + (j + 0.5) * CELL / 10;
      samples++;
      if (scenes.some((sc) => inBox(lon, lat, sc.bbox)) && !inGap(lon, lat)) inside++;
    }
    if (!inside) continue;
    const cellKm2 = (CELL * mPerDegLon((s + n) / 2) / 1000) * (CELL * M_PER_DEG_LAT / 1000);
    const scanned = round(cellKm2 * inside / samples, 2);
    const inCell = detections.filter((f) => { const [lon, lat] = centre(f); return lon >= w && lon < e && lat >= s && lat < n; });
    const cnt = inCell.length;
    grid.features.push({
      type: 'Feature',
      properties: {
        count: cnt,
        density_per_km2: round(scanned > 0 ? cnt / scanned : 0, 4),
        max_score: cnt ? Math.max(...inCell.map((f) => f.properties.score)) : null,
        mean_risk: cnt ? round(inCell.reduce((a, f) => a + f.properties.risk, 0) / cnt, 3) : null,
        area_scanned_km2: scanned
      },
      geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] }
    });
  }
}

// ---------------------------------------------------------------- manifest
const bandNames = ['blue', 'green', 'red', 'nir', 'swir1'];
const bandCodes = ['B02', 'B03', 'B04', 'B08', 'B11'];
const inputs = scenes.map((s) => {
  const [w, so, e, n] = s.bbox;
  const midLat = (so + n) / 2;
  const widthPx = Math.round((e - w) * mPerDegLon(midLat) / 10), heightPx = Math.round((n - so) * M_PER_DEG_LAT / 10);
  const areaKm2 = (e - w) * mPerDegLon(midLat) / 1000 * (n - so) * M_PER_DEG_LAT / 1000;
  return {
    source: s.source,
    origin: `/data/s2/${s.source}.SAFE/${s.source}_10m.vrt`,
    driver: 'VRT', width: widthPx, height: heightPx, band_count: 5, sensor_profile: 'sentinel2',
    bands: bandNames.map((b, i) => ({ index: i + 1, name: b, description: bandCodes[i], color_interp: 'Gray', type: 'UInt16',
      nodata: 0, mask: 'nodata', validity_band: null, block: [512, 512], scale: 0.0001, offset: 0.0, display_rendering: false,
      file: `/data/s2/${s.source}.SAFE/GRANULE/IMG_DATA/R10m/${bandCodes[i]}.jp2`, file_band: 1, resampled: b === 'swir1' })),
    crs: { name: 'WGS 84 / UTM zone 45N', epsg: 32645, geographic: false },
    geotransform: [w, 8.98e-05, 0, n, 0, -8.98e-05],
    gsd_m: { x: 10.0, y: 10.0, min: 10.0 },
    footprint: footprints.features.find((f) => f.properties.source === s.source).geometry,
    area_km2: areaKm2,
    bands_read: ['red', 'green', 'blue', 'nir', 'swir1'],
    tile_width: 1024, tile_height: 1024, halo_px: 46,
    tiles: Math.ceil(widthPx / 1024) * Math.ceil(heightPx / 1024),
    detections: detections.filter((f) => f.properties.source === s.source).length
  };
});
const totalArea = inputs.reduce((a, i) => a + i.area_km2, 0);
const perInput = Object.fromEntries(inputs.map((i) => [i.source, i.detections]));
const tiles = inputs.reduce((a, i) => a + i.tiles, 0);
const scanS = 412.37;
const manifest = {
  riskmap_version: '0.1.0',
  command_line: ['riskmap', 'scan', ...inputs.map((i) => i.origin), '--detector', 'kiln', '--set', 'min_score=0.2', '--context', 'context/worker-housing.gpkg', '--grid', '10000',
    '--set', 'yard_radius_m=150', '--set', 'rule=ndvi < 0.4 and ndbi > -0.2', '--threads', '8', '--ram', '4096',
    '-o', 'scans/sw-bangladesh-2026-01/kilns.geojson'],
  started_utc: '2026-01-20T08:14:03Z',
  finished_utc: '2026-01-20T08:21:02Z',
  working_dir: '/srv/investigations/sw-bangladesh',
  output: { path: 'scans/sw-bangladesh-2026-01/kilns.geojson', format: 'GeoJSON', crs: 'EPSG:4326', features: detections.length,
    file_mode: '0600', coordinate_precision: 7, overlap_merge: true },
  layers: {
    detections: { path: 'scans/sw-bangladesh-2026-01/kilns.geojson', layer: 'kiln' },
    grid: { path: 'scans/sw-bangladesh-2026-01/kilns.grid.geojson', layer: 'grid' },
    footprints: { path: 'scans/sw-bangladesh-2026-01/kilns.footprints.geojson', layer: 'footprints' },
    nodata_gaps: { path: 'scans/sw-bangladesh-2026-01/kilns.nodata_gaps.geojson', layer: 'nodata_gaps' }
  },
  recipe: { detector: 'kiln', options: {
    internal_gsd_m: 10.0, max_gsd_m: 20.0, background_window_m: 400.0, smooth_sigma_m: 20.0, nms_radius_m: 50.0,
    min_redness: 0.2, min_brightness: 0.3, region_fraction: 0.5, region_min: 0.1, region_radius_m: 120.0,
    min_length_m: 40.0, max_length_m: 250.0, max_width_m: 120.0, yard_radius_m: 150.0, yard_brightness: 0.25,
    yard_redness_max: 0.15, type_max_gsd_m: 5.0, max_ndvi: 0.4, min_ndbi: -0.2, min_score: 0.2, dark_offset: 0.02,
    rule: 'ndvi < 0.4 and ndbi > -0.2' } },
  request: {
    inputs: { paths: inputs.map((i) => i.origin), bands: [], stac_assets: {} },
    input_options: { sensor: 'auto', scale: null, offset: null, resampling: 'bilinear' },
    recipe: { detector: 'kiln', options: { min_score: 0.2, yard_radius_m: 150 } },
    tile_size: 1024
  },
  detector: { name: 'kiln', halo_m: 460.0 },
  risk: {
    context: CONTEXT,
    risk_levels: RISK_LEVELS,
    formula: 'risk = 1 - (1 - score) * prod(1 - w*s, w > 0) * prod(1 + w*s, w < 0)'
  },
  grid: { cell_m: 10000, shape: 'square', crs: 'EPSG:6933', cells: grid.features.length, coverage_cell_px: 64 },
  inputs,
  warnings: [
    `${scenes[0].source}: 1.9% of the scene is masked as cloud (SCL 8/9); nothing is detected there`,
    `${scenes[1].source}: band swir1 (20 m) resampled to 10 m`
  ],
  tiling: { tile_size: 1024, threads: 8, ram_mb: 4096, tiles_in_flight: 16, block_cache_mb: 1536.0, gdal_cache_mb: 512.0,
    block_cache_hits: 18211, block_cache_misses: 2410 },
  counts: { tiles, detections: detections.length, per_input: perInput },
  timings: { open_s: 1.83, scan_s: scanS, assemble_s: 0.41, write_s: 0.09, area_km2: totalArea, km2_per_s: totalArea / scanS,
    peak_rss_mb: 3121.4 }
};

const offRaster = detections.filter((f) => !f.properties.chip).length;
const data = {
  title: 'Brick kilns, south-western Bangladesh — Sentinel-2, January 2026',
  notes: offRaster ? [`${offRaster} leads lie off their raster and have no chip`] : [],
  generated_by: 'riskmap 0.1.0',
  generated_utc: '2026-01-20T09:02:41Z',
  manifest,
  detections: { type: 'FeatureCollection', name: 'kiln', features: detections },
  grid,
  footprints,
  gaps
};
fs.writeFileSync(path.join(outDir, 'data.js'),
  '// riskmap evidence report data (fixture made by tests/browser/make_fixture.mjs)\n' +
  'window.RISKMAP_DATA = ' + JSON.stringify(data) + ';\n');

const chips = detections.filter((f) => f.properties.chip).length;
console.log(`make_fixture: ${outDir}: ${detections.length} leads, ${chips} chips, ${grid.features.length} grid cells, ${scenes.length} scenes`);
