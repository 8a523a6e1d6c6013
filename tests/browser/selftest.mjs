#!/usr/bin/env node
// Self-test of the browser test: it passes on a good fixture and fails on broken copies of it.
//
// usage: node selftest.mjs
//
// 1. good fixture (30 leads)                        -> report.test.mjs must pass
// 2. the page asks for a remote image (CSP removed)  -> must fail: network request attempted
// 3. the map is hidden by the stylesheet             -> must fail: map screenshot blank
// 4. app.js throws                                   -> must fail: page error
// The "remote" URL is on the loopback discard port, so even a leak would not leave the machine.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmap-report-selftest-'));
const N = 30;
const out = (s) => fs.writeSync(1, s + '\n');

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', timeout: 180000 });
  return { code: r.status, text: (r.stdout || '') + (r.stderr || '') };
}
function copyDir(src, dst) { fs.cpSync(src, dst, { recursive: true }); return dst; }
function edit(file, fn) { fs.writeFileSync(file, fn(fs.readFileSync(file, 'utf8'))); }

let passed = 0, failed = 0;
function expect(name, ok, detail) {
  if (ok) { passed++; out(`  ok    ${name}`); }
  else { failed++; out(`  FAIL  ${name}\n${detail.split('\n').map((l) => '        ' + l).join('\n')}`); }
}

try {
  const good = path.join(tmp, 'good');
  const mk = run(['make_fixture.mjs', good, '--count', String(N)]);
  if (mk.code !== 0) throw new Error('make_fixture failed:\n' + mk.text);

  let r = run(['report.test.mjs', good, String(N)]);
  expect('good fixture passes', r.code === 0, r.text);

  const leak = copyDir(good, path.join(tmp, 'leak'));
  edit(path.join(leak, 'index.html'), (s) => s
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/s, '')
    .replace('</body>', '<img src="http://127.0.0.1:9/riskmap-selftest.png" alt="" width="1" height="1">\n</body>'));
  r = run(['report.test.mjs', leak, String(N)]);
  expect('a network request makes it fail', r.code === 1 && /would have left the machine/.test(r.text), r.text);

  const blank = copyDir(good, path.join(tmp, 'blank'));
  edit(path.join(blank, 'style.css'), (s) => s + '\n#map .leaflet-pane { visibility: hidden; }\n');
  r = run(['report.test.mjs', blank, String(N)]);
  expect('a blank map makes it fail', r.code === 1 && /map looks blank|no pixels of the colour/.test(r.text), r.text);

  const broken = copyDir(good, path.join(tmp, 'broken'));
  edit(path.join(broken, 'app.js'), (s) => s.replace("function start() {", "function start() {\n    null.boom();"));
  r = run(['report.test.mjs', broken, String(N)]);
  expect('a script error makes it fail', r.code === 1 && /page error/.test(r.text), r.text);
} catch (e) {
  failed++;
  out('  FAIL  ' + (e && e.message ? e.message : e));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
out(`selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
