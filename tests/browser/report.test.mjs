#!/usr/bin/env node
// Browser test of the offline evidence report written by `riskmap report`.
//
// usage: node report.test.mjs REPORT_DIR EXPECTED_ROWS [SCREENSHOT.png]
//
// Drives Debian's Chromium (/usr/bin/chromium) headless through playwright-core. Opens
// file://REPORT_DIR/index.html with every non-file:// request blocked and recorded, and checks
// that the report works with no network at all. Exit 0 when every check passes, 1 otherwise.
//
// Environment (optional):
//   RISKMAP_VIEWPORT=1920x1080     window size (default 1366x768)
//   RISKMAP_CHROMIUM=/path          browser binary (default /usr/bin/chromium)
//   RISKMAP_PROVENANCE_SHOT=x.png   also save a screenshot with the provenance panel open

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

const t0 = Date.now();
// Output is written synchronously: process.exit() could cut off buffered output on a pipe.
function out(s) { fs.writeSync(1, s + '\n'); }
function err(s) { fs.writeSync(2, s + '\n'); }
const [dirArg, rowsArg, shotArg] = process.argv.slice(2);
function usage(msg) {
  if (msg) err('report.test: ' + msg);
  err('usage: node report.test.mjs REPORT_DIR EXPECTED_ROWS [SCREENSHOT.png]');
  process.exit(1);
}
if (!dirArg || rowsArg === undefined) usage();
if (!/^\d+$/.test(rowsArg)) usage('EXPECTED_ROWS must be a whole number, got ' + JSON.stringify(rowsArg));
const expectedRows = parseInt(rowsArg, 10);
const reportDir = path.resolve(dirArg);
const indexFile = path.join(reportDir, 'index.html');
if (!fs.existsSync(indexFile)) usage('no index.html in ' + reportDir);
const shotPath = shotArg ? path.resolve(shotArg) : null;
const executablePath = process.env.RISKMAP_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) usage(`no Chromium at ${executablePath} (install Debian's chromium package)`);
const vp = /^(\d+)x(\d+)$/.exec(process.env.RISKMAP_VIEWPORT || '1366x768');
if (!vp) usage('RISKMAP_VIEWPORT must look like 1366x768');
const viewport = { width: +vp[1], height: +vp[2] };

// ------------------------------------------------------------------ checks
const results = [];
let started = false;     // false until the report has started: the checks that need it are then not run
async function check(name, fn, opts = {}) {
  const t = Date.now();
  if (!started && !opts.always) {
    results.push({ name, ok: false, msg: 'not run: the report did not start' });
    out(`  FAIL  ${name}: not run, the report did not start`);
    return;
  }
  try {
    const note = await fn();
    results.push({ name, ok: true });
    out(`  ok    ${name}${note ? ' (' + note + ')' : ''}  [${Date.now() - t} ms]`);
  } catch (e) {
    results.push({ name, ok: false, msg: e && e.message ? e.message : String(e) });
    out(`  FAIL  ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// Hard limit so CI never hangs on a wedged browser.
const HARD_LIMIT_MS = 120000;
let context = null;
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmap-chromium-'));
const killer = setTimeout(async () => {
  err(`report.test: FAIL: gave up after ${HARD_LIMIT_MS / 1000} s`);
  try { if (context) await context.close(); } catch { /* ignore */ }
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}, HARD_LIMIT_MS);

const network = [];      // every request that is not a local file
const errors = [];       // page errors, console errors, failed local loads

function isLocal(url) { return url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank'; }

// Pixels of a PNG: distinct colours (5 bits a channel), share that differ from a background.
function pngStats(buf, bg) {
  const png = PNG.sync.read(buf);
  const seen = new Set();
  let differ = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n * 4; i += 4) {
    const r = png.data[i], g = png.data[i + 1], b = png.data[i + 2];
    seen.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    if (bg && Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 24) differ++;
  }
  return { png, distinct: seen.size, differFrac: differ / n };
}
function countNear(png, rgb, tol) {
  let k = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs(png.data[i] - rgb[0]) + Math.abs(png.data[i + 1] - rgb[1]) + Math.abs(png.data[i + 2] - rgb[2]) <= tol) k++;
  }
  return k;
}
function parseColor(s) {
  let m = /^#([0-9a-f]{6})$/i.exec(String(s).trim());
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].substr(i, 2), 16));
  m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(String(s));
  if (m) return [+m[1], +m[2], +m[3]];
  return null;
}

out(`report.test: ${reportDir}, expecting ${expectedRows} rows, viewport ${viewport.width}x${viewport.height}`);

let exitCode = 1;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport,
    deviceScaleFactor: 1,
    serviceWorkers: 'block',
    acceptDownloads: false,
    locale: 'en-GB',
    timezoneId: 'UTC'
  });
  context.setDefaultTimeout(10000);

  // Block and record anything that would leave the machine.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    network.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => { if (!isLocal(req.url()) && !network.includes(req.url())) network.push(req.url()); });

  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => errors.push('page error: ' + (e && e.message ? e.message : e)));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push('console error: ' + msg.text()); });
  page.on('requestfailed', (req) => {
    if (isLocal(req.url())) errors.push('failed to load ' + req.url() + ': ' + (req.failure() ? req.failure().errorText : '?'));
  });
  page.on('websocket', (ws) => network.push(ws.url()));

  const url = pathToFileURL(indexFile).href;

  await check('page loads from file:// and the report starts', async () => {
    await page.goto(url, { waitUntil: 'load' });
    // The report marks <html data-ready="true"> (or "error") once drawn; stop early on a page error.
    let ready = null;
    for (const until = Date.now() + 15000; Date.now() < until;) {
      ready = await page.evaluate(() => document.documentElement.getAttribute('data-ready'));
      if (ready || errors.length) break;
      await page.waitForTimeout(100);
    }
    if (ready !== 'true') {
      const msg = await page.evaluate(() => (document.querySelector('.fatal') || {}).textContent || '');
      throw new Error('report did not start: ' + (msg || errors[0] || 'timed out'));
    }
    const hasData = await page.evaluate(() => !!window.RISKMAP_DATA && !!window.L);
    assert(hasData, 'window.RISKMAP_DATA or Leaflet missing');
    const notice = await page.locator('.notice').innerText();
    assert(/do not share/i.test(notice), 'sensitivity notice missing');
    started = true;
  }, { always: true });

  const info = await page.evaluate(() => {
    const d = window.RISKMAP_DATA || {};
    const feats = (d.detections && d.detections.features) || [];
    return {
      features: feats.length,
      withGeom: feats.filter((f) => f && f.geometry).length,
      polys: feats.filter((f) => f && f.geometry && /Polygon$/.test(f.geometry.type)).length,
      version: d.manifest && d.manifest.riskmap_version,
      layers: ['footprints', 'grid', 'gaps'].filter((k) => d[k] && Array.isArray(d[k].features) && d[k].features.length).length,
      levels: [...new Set(feats.map((f) => f && f.properties && f.properties.risk_level))].filter(Boolean)
    };
  }).catch(() => ({ features: 0, withGeom: 0, polys: 0, version: undefined, layers: 0, levels: [] }));

  await check(`table has exactly ${expectedRows} body rows`, async () => {
    const n = await page.locator('#leads-table tbody tr').count();
    assert(n === expectedRows, `table has ${n} body rows, expected ${expectedRows}`);
    assert(info.features === expectedRows, `data.js has ${info.features} detections, expected ${expectedRows}`);
    const thead = await page.locator('#leads-table thead th').count();
    assert(thead >= 8, 'table header is missing columns');
    if (n) {
      const focusable = await page.locator('#leads-table tbody tr[tabindex]').count();
      assert(focusable === n, 'rows are not focusable');
    }
    return `${await page.locator('#leads-table thead th').count()} columns`;
  });

  await check('map renders: Leaflet SVG paths for the detections', async () => {
    await page.locator('#map.leaflet-container').waitFor({ state: 'visible' });
    const counts = await page.evaluate(() => {
      const dots = [...document.querySelectorAll('#map svg path.rm-det-dot')];
      const polys = [...document.querySelectorAll('#map svg path.rm-det-poly')];
      const drawn = (p) => { const d = p.getAttribute('d') || ''; return d.length > 6 && d !== 'M0 0'; };
      return { dots: dots.length, polys: polys.length, dotsDrawn: dots.filter(drawn).length, polysDrawn: polys.filter(drawn).length };
    });
    assert(counts.dots === info.withGeom, `${counts.dots} centre markers for ${info.withGeom} detections with geometry`);
    assert(counts.polys === info.polys, `${counts.polys} polygon paths for ${info.polys} polygon detections`);
    assert(counts.dotsDrawn === counts.dots, `${counts.dots - counts.dotsDrawn} centre markers have no drawn path`);
    assert(counts.polysDrawn === counts.polys, `${counts.polys - counts.polysDrawn} polygons have no drawn path`);
    return `${counts.polys} polygons, ${counts.dots} markers`;
  });

  await check('map screenshot is not blank and shows the risk colours', async () => {
    const map = page.locator('#map');
    if (!info.withGeom && !info.layers) return 'skipped: the report has no geometry to draw';
    const box = await map.boundingBox();
    assert(box && box.width > 200 && box.height > 150, 'map element is too small: ' + JSON.stringify(box));
    const bg = parseColor(await page.evaluate(() => getComputedStyle(document.getElementById('map')).backgroundColor));
    // Only what is drawn from the data counts: the controls, legend and graticule labels are hidden
    // for the capture (the legend holds the risk colours too).
    const overlays = '#map .leaflet-control-container, #map .grat-labels, #map .map-empty';
    await page.evaluate((sel) => document.querySelectorAll(sel).forEach((e) => { e.style.visibility = 'hidden'; }), overlays);
    const shot = await map.screenshot();
    await page.evaluate((sel) => document.querySelectorAll(sel).forEach((e) => { e.style.visibility = ''; }), overlays);
    const { png, distinct, differFrac } = pngStats(shot, bg);
    assert(distinct >= 12, `map looks blank: only ${distinct} distinct colours`);
    assert(differFrac >= 0.01, `map looks blank: ${(differFrac * 100).toFixed(2)}% of pixels differ from the background`);
    const missing = [];
    for (const level of info.levels) {
      const fill = await page.evaluate((l) => {
        const p = document.querySelector('#map path.rm-det-dot.rm-level-' + l);
        return p ? p.getAttribute('fill') : null;
      }, level);
      const rgb = parseColor(fill);
      if (rgb && countNear(png, rgb, 30) < 4) missing.push(level);
    }
    assert(!missing.length, 'no pixels of the colour of level(s) ' + missing.join(', ') + ' on the map');
    return `${distinct} colours, ${(differFrac * 100).toFixed(1)}% non-background`;
  });

  await check('clicking a lead on the map selects it', async () => {
    if (!info.withGeom) return 'nothing on the map';
    const target = await page.evaluate(() => {
      for (const p of document.querySelectorAll('#map path.rm-det-dot[data-id]')) {
        const r = p.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (document.elementFromPoint(x, y) === p) return { id: p.getAttribute('data-id'), x, y };
      }
      return null;
    });
    assert(target, 'no lead marker can be clicked (all covered)');
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction((id) => {
      const h = document.querySelector('#detail-body [data-field="id"]');
      return h && h.textContent === id;
    }, target.id, { timeout: 5000 }).catch(() => { throw new Error(`clicking the marker of ${target.id} did not show it`); });
    const current = await page.getAttribute(`#leads-table tbody tr[data-id="${target.id}"]`, 'aria-current');
    assert(current === 'true', 'the clicked lead is not marked in the table');
    return target.id;
  });

  // Rows as {id, risk, area} in table order.
  const rowsNow = () => page.evaluate(() => {
    const props = {};
    ((window.RISKMAP_DATA.detections || {}).features || []).forEach((f) => { props[String(f.properties.id)] = f.properties; });
    return [...document.querySelectorAll('#leads-table tbody tr')].map((tr) => {
      const p = props[tr.getAttribute('data-id')] || {};
      return { id: tr.getAttribute('data-id'), risk: p.risk, area: p.area_m2, chip: p.chip || null };
    });
  });
  const sortState = (key) => page.getAttribute(`#leads-table thead th[data-key="${key}"]`, 'aria-sort');
  const monotone = (vals, dir) => vals.every((v, i) => i === 0 || (dir === 'desc' ? vals[i - 1] >= v : vals[i - 1] <= v));

  await check('sorting by the risk header works (default risk descending)', async () => {
    if (!expectedRows) return 'no rows to sort';
    let rows = await rowsNow();
    const maxRisk = Math.max(...rows.map((r) => r.risk));
    const minRisk = Math.min(...rows.map((r) => r.risk));
    assert(await sortState('risk') === 'descending', 'table is not sorted by risk descending on load');
    assert(rows[0].risk === maxRisk, `first row has risk ${rows[0].risk}, max is ${maxRisk}`);
    assert(monotone(rows.map((r) => r.risk), 'desc'), 'risk column is not in descending order on load');

    await page.click('#leads-table thead th[data-key="area"] button');
    rows = await rowsNow();
    const areaDir = (await sortState('area')) === 'ascending' ? 'asc' : 'desc';
    assert(monotone(rows.map((r) => r.area), areaDir), 'sorting by area did not order the rows by area');

    await page.click('#leads-table thead th[data-key="risk"] button');
    rows = await rowsNow();
    assert(await sortState('risk') === 'descending', 'clicking Risk did not sort descending');
    assert(rows[0].risk === maxRisk && monotone(rows.map((r) => r.risk), 'desc'), 'clicking Risk did not put the highest risk first');

    await page.click('#leads-table thead th[data-key="risk"] button');
    rows = await rowsNow();
    assert(await sortState('risk') === 'ascending', 'second click on Risk did not sort ascending');
    assert(rows[0].risk === minRisk && monotone(rows.map((r) => r.risk), 'asc'), 'ascending risk sort is wrong');

    await page.click('#leads-table thead th[data-key="risk"] button');
    rows = await rowsNow();
    assert(rows[0].risk === maxRisk, 'third click on Risk did not return to the highest risk first');
    return `max risk ${maxRisk}`;
  });

  async function expectChip(row) {
    await page.waitForFunction((id) => {
      const h = document.querySelector('#detail-body [data-field="id"]');
      return h && h.textContent === id;
    }, row.id, { timeout: 5000 }).catch(() => { throw new Error(`detail panel does not show ${row.id}`); });
    if (row.chip) {
      const img = page.locator('#chip-img');
      await img.waitFor({ state: 'visible', timeout: 5000 });
      await page.waitForFunction(() => { const i = document.getElementById('chip-img'); return i && i.complete; }, null, { timeout: 5000 });
      const st = await img.evaluate((i) => ({ nw: i.naturalWidth, w: i.getBoundingClientRect().width, alt: i.alt, src: i.getAttribute('src') }));
      assert(st.nw > 0, `chip ${st.src} did not load (naturalWidth 0)`);
      assert(st.w >= 100, `chip is shown only ${st.w}px wide`);
      assert(st.alt && st.alt.includes(row.id), 'chip has no useful alt text');
      assert(st.src === row.chip, `chip src ${st.src} is not ${row.chip}`);
    } else {
      await page.locator('#chip-missing').waitFor({ state: 'visible', timeout: 5000 });
    }
  }

  await check('clicking the first row shows its chip and id in the detail panel', async () => {
    if (!expectedRows) return 'no rows';
    const rows = await rowsNow();
    await page.click('#leads-table tbody tr:first-child');
    await expectChip(rows[0]);
    assert(await page.getAttribute('#leads-table tbody tr:first-child', 'aria-current') === 'true', 'selected row is not marked');
    assert(await page.locator('#map svg path.rm-selected').count() >= 1, 'selection is not highlighted on the map');
    const coords = await page.locator('#detail-coords').innerText().catch(() => '');
    assert(/^-?\d+\.\d{5}, -?\d+\.\d{5}$/.test(coords), `coordinates not shown to 5 decimals: "${coords}"`);
    let note = rows[0].id + (rows[0].chip ? '' : ' (no chip: placeholder shown)');
    if (!rows[0].chip) {
      const withChip = rows.findIndex((r) => r.chip);
      if (withChip >= 0) {
        await page.click(`#leads-table tbody tr:nth-child(${withChip + 1})`);
        await expectChip(rows[withChip]);
        note += `; chip of row ${withChip + 1} shown`;
      }
    }
    return note;
  });

  await check('keyboard: Enter selects a focused row, arrow keys move', async () => {
    if (expectedRows < 3) return 'fewer than 3 rows';
    const rows = await rowsNow();
    await page.focus('#leads-table tbody tr:nth-child(2)');
    await page.keyboard.press('Enter');
    await expectChip(rows[1]);
    await page.keyboard.press('ArrowDown');
    await expectChip(rows[2]);
    const focusedId = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-id'));
    assert(focusedId === rows[2].id, 'focus did not follow the arrow key');
  });

  await check('filters: text box and level buttons', async () => {
    if (!expectedRows) return 'no rows';
    const rows = await rowsNow();
    await page.fill('#filter-text', rows[0].id);
    await page.press('#filter-text', 'Enter');
    let n = await page.locator('#leads-table tbody tr').count();
    assert(n === 1, `filtering by an id left ${n} rows`);
    const dots = await page.locator('#map svg path.rm-det-dot').count();
    assert(dots <= 1, `map still shows ${dots} markers with one row shown`);
    await page.fill('#filter-text', '');
    await page.press('#filter-text', 'Enter');
    n = await page.locator('#leads-table tbody tr').count();
    assert(n === expectedRows, 'clearing the filter did not bring back every row');
    const level = info.levels.find((l) => ['high', 'medium', 'low'].includes(l));
    if (level) {
      await page.click(`#level-filter button[data-level="${level}"]`);
      const lv = await page.$$eval('#leads-table tbody tr', (trs) => trs.map((t) => t.getAttribute('data-level')));
      assert(lv.length > 0 && lv.every((l) => l === level), `level filter "${level}" shows other levels`);
      await page.click('#level-filter button[data-level="all"]');
      n = await page.locator('#leads-table tbody tr').count();
      assert(n === expectedRows, 'level filter "all" did not bring back every row');
    }
  });

  await check('provenance panel opens and shows the riskmap version', async () => {
    await page.click('#provenance-summary');
    await page.locator('#provenance-panel').waitFor({ state: 'visible', timeout: 3000 });
    assert(await page.getAttribute('#provenance', 'open') !== null, 'provenance <details> did not open');
    const text = await page.locator('#provenance-panel').innerText();
    if (info.version) {
      const shown = await page.locator('[data-field="riskmap-version"]').innerText();
      assert(shown === String(info.version), `version shown is "${shown}", manifest has "${info.version}"`);
      assert(text.includes(String(info.version)), 'version missing from the panel text');
    } else {
      assert(text.length > 0, 'provenance panel is empty');
    }
    if (process.env.RISKMAP_PROVENANCE_SHOT) await page.screenshot({ path: path.resolve(process.env.RISKMAP_PROVENANCE_SHOT) });
    await page.keyboard.press('Escape');
    await page.locator('#provenance-panel').waitFor({ state: 'hidden', timeout: 3000 });
    return 'riskmap ' + info.version;
  });

  if (shotPath) {
    await check('screenshot written', async () => {
      if (expectedRows) {
        await page.click('#leads-table tbody tr:first-child');
        await page.waitForTimeout(450);            // let the map finish its zoom animation
      }
      await page.mouse.move(0, 0);
      await page.screenshot({ path: shotPath });
      return shotPath;
    });
  }

  await check('no page errors or console errors', async () => {
    assert(!errors.length, errors.length + ' error(s):\n    ' + errors.join('\n    '));
  }, { always: true });
  await check('no network request was attempted', async () => {
    assert(!network.length, network.length + ' request(s) would have left the machine:\n    ' + network.join('\n    '));
  }, { always: true });
  exitCode = results.every((r) => r.ok) ? 0 : 1;
} catch (e) {
  err('report.test: FAIL: ' + (e && e.stack ? e.stack : e));
  exitCode = 1;
} finally {
  try { if (context) await context.close(); } catch { /* ignore */ }
  fs.rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(killer);
}

const failed = results.filter((r) => !r.ok);
for (const f of failed) fs.writeSync(2, `report.test: FAIL: ${f.name}: ${f.msg}\n`);
// Written synchronously: process.exit() may otherwise cut off buffered output on a pipe.
fs.writeSync(1, `report.test: finished in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
fs.writeSync(1, `browser: ${results.length - failed.length} passed, ${failed.length} failed\n`);
process.exit(exitCode);
