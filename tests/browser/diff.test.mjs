#!/usr/bin/env node
// Browser test of `riskmap report` on the output of `riskmap diff`: the detail panel of a change
// shows the place before and after side by side, each chip loaded, labelled with its date.
//
// usage: node diff.test.mjs REPORT_DIR [SCREENSHOT.png]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [dirArg, shotArg] = process.argv.slice(2);
if (!dirArg) { console.error('usage: node diff.test.mjs REPORT_DIR [SCREENSHOT.png]'); process.exit(1); }
const indexFile = path.join(path.resolve(dirArg), 'index.html');
const executablePath = process.env.RISKMAP_CHROMIUM || '/usr/bin/chromium';
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmap-diff-browser-'));
const errors = [];
let failures = 0;
function check(ok, msg) { console.log((ok ? '  ok    ' : '  FAIL  ') + msg); if (!ok) failures++; }

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath, headless: true, viewport: { width: 1366, height: 768 },
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
});
try {
  await context.route('**/*', (route) => route.request().url().startsWith('file:') ? route.continue() : route.abort());
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e && e.message ? e.message : e)));
  await page.goto(pathToFileURL(indexFile).href, { waitUntil: 'load' });
  await page.waitForFunction(() => document.documentElement.getAttribute('data-ready'), null, { timeout: 15000 });
  check(await page.evaluate(() => document.documentElement.getAttribute('data-ready')) === 'true', 'the report starts');
  const feats = await page.evaluate(() => window.RISKMAP_DATA.detections.features.map((f) => f.properties));
  const both = feats.find((p) => p.chip && p.chip_before);
  const beforeOnly = feats.find((p) => !p.chip && p.chip_before);
  check(!!both, 'a change has chips of both dates');
  if (both) {
    // A change carries source_before / source_after, not source: the Source column names them.
    const cell = page.locator('#leads-table tbody tr', { hasText: both.id }).first().locator('td.source');
    const title = (await cell.getAttribute('title')) || '';
    const want = both.source_after || both.source_before;
    check(!!want && title.includes(want), `the Source column names the change's scene (${title || 'empty'})`);
  }
  async function open(p) {
    await page.locator('#leads-table tbody tr', { hasText: p.id }).first().click();
    await page.waitForFunction((id) => {
      const h = document.querySelector('#detail-body [data-field="id"]');
      return h && h.textContent === id;
    }, p.id, { timeout: 5000 });
  }
  if (both) {
    await open(both);
    await page.waitForFunction(() => ['chip-img', 'chip-img-before'].every((id) => {
      const i = document.getElementById(id);
      return i && i.complete;
    }), null, { timeout: 5000 });
    const st = await page.evaluate(() => {
      const box = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width }; };
      const img = (id) => document.getElementById(id);
      return {
        pair: !!document.getElementById('chip-pair'),
        before: box('chip-img-before'), after: box('chip-img'),
        loaded: img('chip-img').naturalWidth > 0 && img('chip-img-before').naturalWidth > 0,
        srcBefore: img('chip-img-before').getAttribute('src'), srcAfter: img('chip-img').getAttribute('src'),
        whenBefore: document.getElementById('chip-when-before').textContent,
        whenAfter: document.getElementById('chip-when-after').textContent
      };
    });
    check(st.pair, 'the detail panel holds a before/after pair');
    check(st.loaded, 'both chips load');
    check(st.srcBefore === both.chip_before && st.srcAfter === both.chip, 'the chips are the change\'s own');
    check(st.before.x + st.before.w <= st.after.x + 1 && Math.abs(st.before.y - st.after.y) < 2 && st.before.w >= 80,
      `side by side, before left (before ${JSON.stringify(st.before)}, after ${JSON.stringify(st.after)})`);
    check(st.whenBefore.includes('Before') && st.whenBefore.includes(both.date_before || '?'), 'before is labelled with its date: ' + st.whenBefore);
    check(st.whenAfter.includes('After') && st.whenAfter.includes(both.date_after || '?'), 'after is labelled with its date: ' + st.whenAfter);
    if (shotArg) await page.screenshot({ path: path.resolve(shotArg) });
  }
  if (beforeOnly) {
    await open(beforeOnly);
    await page.locator('#chip-missing').waitFor({ state: 'visible', timeout: 5000 });
    check(await page.locator('#chip-img-before').count() === 1, 'a change seen only before shows its before chip and a placeholder after');
  }
  check(errors.length === 0, 'no page errors' + (errors.length ? ': ' + errors.join('; ') : ''));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(failures ? `diff.test: ${failures} check(s) failed` : 'diff.test: all checks passed');
process.exit(failures ? 1 : 0);
