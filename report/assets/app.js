/* riskmap evidence report.
 *
 * Plain browser JavaScript, no build step, no frameworks. Runs from file:// with no network:
 * the data comes from data.js (window.RISKMAP_DATA), the map library from vendor/leaflet/.
 * Every string that comes from the data is put into the page as text, never as HTML.
 *
 * Folder written by `riskmap report SCAN -o DIR`:
 *   DIR/index.html, DIR/app.js, DIR/style.css         report/assets/, verbatim
 *   DIR/vendor/leaflet/leaflet.js, leaflet.css         third_party/leaflet/, verbatim
 *   DIR/data.js                                        window.RISKMAP_DATA = {...};
 *   DIR/chips/*.png                                    image chips named by the detections
 *
 * window.RISKMAP_DATA (every key optional; missing ones are shown as absent, never fatal):
 *   title, generated_by, generated_utc                 strings
 *   notes        [strings] from `riskmap report` (missing layers, chips left out ...)
 *   manifest     the scan's provenance manifest object; shown whole in "Scan provenance", with
 *                risk {formula, risk_levels [medium, high], context [...]}, grid, layers,
 *                request, working_dir and publish given their own sections when present
 *   detections   FeatureCollection, EPSG:4326, Polygon/MultiPolygon; properties:
 *                id (unique), detector, class, score 0-1, area_m2, source, sources[],
 *                risk 0-1, risk_level "high"|"medium"|"low", risk_factors[] (strings),
 *                detector attributes (any), chip ("chips/x.png" relative to DIR, or null),
 *                chip_info {centre: [lon, lat], scale_m: the source raster's pixel size in
 *                           metres, width_m: ground width of the chip, bands: text such as
 *                           "red, green, blue (true colour)"} or null
 *   grid         FeatureCollection of cells: count, density_per_km2, max_score, mean_risk,
 *                area_scanned_km2; or null
 *   footprints   FeatureCollection of scene outlines {source}; or null
 *   gaps         FeatureCollection of nodata areas; or null
 *
 * The page sets <html data-ready="true"> once drawn ("error" when it could not start).
 */
(function () {
  'use strict';

  var LEVELS = ['high', 'medium', 'low'];
  var LEVEL_RANK = { high: 3, medium: 2, low: 1, none: 0 };
  var LEVEL_LABEL = { high: 'High', medium: 'Medium', low: 'Low', none: 'Unrated' };
  var COLORS = { high: '#c7372f', medium: '#d98e04', low: '#6f8197', none: '#8a94a1' };
  var DOT_RADIUS = { high: 6.5, medium: 5.5, low: 4.5, none: 4.5 };
  // Sequential ramp for the grid's mean risk (kept apart from the lead colours).
  var RAMP = ['#f1eef8', '#d2c8e6', '#a995cf', '#7c61b2', '#52338a'];
  var SELECT_MAX_ZOOM = 15.5;

  // Properties shown in their own place in the detail panel, not in the attribute table.
  var DETAIL_SKIP = { risk_factors: true };

  var state = {
    data: {},
    leads: [],
    byId: Object.create(null),
    view: [],            // leads shown in the table, in table order
    sortKey: 'risk',
    sortDir: 'desc',
    text: '',
    level: 'all',
    selected: null,
    map: null,
    layers: {},
    haloLayer: null,
    outlineLayer: null
  };

  /* ------------------------------------------------------------ helpers */

  function $(id) { return document.getElementById(id); }

  // el('div', {class: 'x', title: 't'}, 'text', childNode, [more children])
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'style') node.style.cssText = v;
        else if (k === 'text') node.textContent = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function isNum(x) { return typeof x === 'number' && isFinite(x); }
  function num(x) { return isNum(x) ? x : (typeof x === 'string' && x.trim() !== '' && isFinite(+x) ? +x : NaN); }

  function fixed(x, dp) { return isNum(x) ? x.toFixed(dp) : '—'; }
  function grouped(x, dp) {
    if (!isNum(x)) return '—';
    return x.toLocaleString('en-GB', { minimumFractionDigits: dp || 0, maximumFractionDigits: dp || 0 });
  }
  // A readable number: integers as they are, others with sensible precision.
  function smartNum(x) {
    if (!isNum(x)) return String(x);
    if (Number.isInteger(x)) return Math.abs(x) >= 10000 ? grouped(x, 0) : String(x);
    var a = Math.abs(x);
    if (a >= 1000) return grouped(x, 0);
    if (a >= 100) return x.toFixed(1);
    if (a >= 1) return x.toFixed(2);
    if (a >= 0.01) return x.toFixed(3);
    if (a === 0) return '0';
    return x.toPrecision(3);
  }
  // Recorded values as recorded, unless they carry long binary fractions (0.30000000000000004).
  function exactish(x) {
    if (!isNum(x)) return String(x);
    if (Number.isInteger(x)) return Math.abs(x) >= 10000 ? grouped(x, 0) : String(x);
    var t = String(x);
    return t.length <= 8 ? t : smartNum(x);
  }
  function fmtArea(m2) {
    if (!isNum(m2)) return '—';
    if (m2 >= 1000) return grouped(m2 / 10000, 2) + ' ha';
    return grouped(m2, 0) + ' m²';
  }
  function fmtLen(m) {
    if (!isNum(m)) return '—';
    if (m >= 1000) return (m / 1000).toFixed(m >= 10000 ? 0 : 1) + ' km';
    return Math.round(m) + ' m';
  }
  function fmtLat(lat, dp) { return Math.abs(lat).toFixed(dp) + '°' + (lat >= 0 ? 'N' : 'S'); }
  function fmtLon(lon, dp) { return Math.abs(lon).toFixed(dp) + '°' + (lon >= 0 ? 'E' : 'W'); }
  function fmtUtc(s) {
    if (!s || typeof s !== 'string') return '—';
    var m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?/.exec(s);
    return m ? m[1] + ' ' + m[2] + ' UTC' : s;
  }
  function fmtDuration(sec) {
    if (!isNum(sec)) return '—';
    if (sec < 1) return (sec * 1000).toFixed(0) + ' ms';
    if (sec < 90) return sec.toFixed(1) + ' s';
    var m = Math.floor(sec / 60), s = Math.round(sec - m * 60);
    if (m < 90) return m + ' min ' + s + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  // Unit from a key's suffix, as riskmap names its fields (length_m, area_m2, scan_s ...).
  function unitFor(key) {
    var k = String(key).toLowerCase();
    if (/km2_per_s$/.test(k)) return ' km²/s';
    if (/_km2$/.test(k) || k === 'area_km2') return ' km²';
    if (/_m2$/.test(k)) return ' m²';
    if (/_per_km2$/.test(k)) return ' /km²';
    if (/_m$/.test(k)) return ' m';
    if (/_s$/.test(k)) return ' s';
    if (/_mb$/.test(k)) return ' MB';
    if (/_deg$/.test(k)) return '°';
    if (/_px$/.test(k)) return ' px';
    if (/_pct$/.test(k) || /_percent$/.test(k)) return ' %';
    return '';
  }
  function fmtValue(key, v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'number') return exactish(v) + unitFor(key);
    if (typeof v === 'string') return v === '' ? '""' : v;
    if (Array.isArray(v)) {
      if (v.every(function (x) { return typeof x !== 'object' || x === null; })) {
        return v.map(function (x) { return typeof x === 'number' ? exactish(x) : String(x); }).join(', ');
      }
    }
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }
  function rawTitle(v) {
    if (typeof v === 'string') return null;
    try { return JSON.stringify(v); } catch (e) { return null; }
  }

  // Long scene names differ at the end (tile, date): when the cell is too narrow the middle is
  // elided, never the end.
  function midEllipsis(t, tail) {
    t = String(t);
    if (t.length <= tail + 4) return el('span', { class: 'mid' }, el('span', { class: 'mid-t' }, t));
    return el('span', { class: 'mid' }, el('span', { class: 'mid-h' }, t.slice(0, t.length - tail)),
      el('span', { class: 'mid-t' }, t.slice(t.length - tail)));
  }
  // Breaks allowed after underscores, for long attribute names in narrow columns.
  function breakable(t) {
    var parts = String(t).split('_');
    var out = [];
    parts.forEach(function (p, i) { if (i) { out.push('_'); out.push(el('wbr')); } out.push(p); });
    return out;
  }

  function shellQuote(arg) {
    arg = String(arg);
    if (arg !== '' && /^[A-Za-z0-9_@%+=:,.\/-]+$/.test(arg)) return arg;
    return "'" + arg.replace(/'/g, "'\\''") + "'";
  }

  function copyText(text) {
    function legacy() {
      var ta = el('textarea', { 'aria-hidden': 'true', readonly: true });
      ta.value = text;
      ta.style.position = 'fixed';
      ta.style.top = '-1000px';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      return ok;
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return legacy(); });
    }
    return Promise.resolve(legacy());
  }
  function copyButton(label, getText, what) {
    var status = el('span', { class: 'copied', role: 'status', 'aria-live': 'polite' });
    var btn = el('button', {
      type: 'button', class: 'btn btn-small', title: 'Copy ' + what + ' to the clipboard',
      onclick: function () {
        copyText(getText()).then(function (ok) {
          status.textContent = ok ? 'Copied' : 'Select and copy by hand';
          setTimeout(function () { status.textContent = ''; }, 2200);
        });
      }
    }, label);
    return [status, btn];
  }

  function rampColor(t) {
    if (!isNum(t)) return null;
    t = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    var i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i;
    var a = hex(RAMP[i]), b = hex(RAMP[i + 1]);
    return 'rgb(' + [0, 1, 2].map(function (j) { return Math.round(a[j] + (b[j] - a[j]) * f); }).join(',') + ')';
  }
  function hex(h) { return [1, 3, 5].map(function (i) { return parseInt(h.substr(i, 2), 16); }); }

  function fatal(msg) {
    var layout = $('layout');
    if (layout) layout.hidden = true;
    document.body.appendChild(el('p', { class: 'fatal', role: 'alert' }, msg));
    $('report-meta').textContent = 'The report could not be opened.';
    document.documentElement.setAttribute('data-ready', 'error');
  }

  /* ------------------------------------------------------- data, leads */

  // [medium, high] thresholds from manifest.risk.risk_levels, or null.
  function riskLevels(risk) {
    var lv = risk && Array.isArray(risk.risk_levels) ? risk.risk_levels : null;
    if (!lv || lv.length < 2 || !isNum(lv[0]) || !isNum(lv[1])) return null;
    return { medium: lv[0], high: lv[1] };
  }

  function levelOf(p) {
    var l = typeof p.risk_level === 'string' ? p.risk_level.toLowerCase() : '';
    if (LEVEL_RANK[l] && l !== 'none') return l;
    return 'none';
  }

  function ringArea(ring) {
    var a = 0;
    for (var i = 0, n = ring.length; i < n; i++) {
      var p = ring[i], q = ring[(i + 1) % n];
      a += p[0] * q[1] - q[0] * p[1];
    }
    return a / 2;
  }
  function ringCentroid(ring) {
    var a = 0, cx = 0, cy = 0;
    for (var i = 0, n = ring.length; i < n; i++) {
      var p = ring[i], q = ring[(i + 1) % n];
      var c = p[0] * q[1] - q[0] * p[1];
      a += c; cx += (p[0] + q[0]) * c; cy += (p[1] + q[1]) * c;
    }
    if (Math.abs(a) < 1e-18) {
      var sx = 0, sy = 0;
      ring.forEach(function (pt) { sx += pt[0]; sy += pt[1]; });
      return [sx / ring.length, sy / ring.length];
    }
    return [cx / (3 * a), cy / (3 * a)];
  }
  // Outer rings of a Polygon or MultiPolygon.
  function outerRings(g) {
    if (!g || !g.coordinates) return [];
    if (g.type === 'Polygon') return g.coordinates.length ? [g.coordinates[0]] : [];
    if (g.type === 'MultiPolygon') return g.coordinates.map(function (poly) { return poly[0]; }).filter(Boolean);
    return [];
  }
  function geomInfo(g) {
    var rings = outerRings(g);
    if (g && g.type === 'Point' && Array.isArray(g.coordinates)) {
      return { centroid: g.coordinates.slice(0, 2), bbox: [g.coordinates[0], g.coordinates[1], g.coordinates[0], g.coordinates[1]], vertices: 1 };
    }
    if (!rings.length) return null;
    var best = null, bestA = -1, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, vertices = 0;
    rings.forEach(function (r) {
      if (!r || r.length < 3) return;
      var a = Math.abs(ringArea(r));
      if (a > bestA) { bestA = a; best = r; }
      r.forEach(function (pt) {
        vertices++;
        if (pt[0] < minX) minX = pt[0];
        if (pt[0] > maxX) maxX = pt[0];
        if (pt[1] < minY) minY = pt[1];
        if (pt[1] > maxY) maxY = pt[1];
      });
    });
    if (!best) return null;
    return { centroid: ringCentroid(best), bbox: [minX, minY, maxX, maxY], vertices: vertices };
  }

  function buildLeads(fc) {
    var feats = fc && Array.isArray(fc.features) ? fc.features : [];
    var leads = feats.map(function (f, i) {
      var p = (f && f.properties) || {};
      var g = f && f.geometry;
      var info = geomInfo(g);
      // A diff's change names the scene on each side (source_before, source_after).
      var given = [p.source, p.source_after, p.source_before].filter(function (s) {
        return s !== undefined && s !== null && s !== '';
      }).map(String);
      var sources = Array.isArray(p.sources) && p.sources.length ? p.sources.map(String)
        : given.filter(function (s, k) { return given.indexOf(s) === k; });
      var factors = Array.isArray(p.risk_factors) ? p.risk_factors.map(String) : [];
      var chipInfo = p.chip_info && typeof p.chip_info === 'object' ? p.chip_info : null;
      var centre = chipInfo && Array.isArray(chipInfo.centre) && isNum(chipInfo.centre[0]) && isNum(chipInfo.centre[1])
        ? chipInfo.centre : (info ? info.centroid : null);
      var id = p.id !== undefined && p.id !== null ? String(p.id) : 'feature-' + (i + 1);
      var lead = {
        index: i,
        feature: f,
        props: p,
        id: id,
        cls: p['class'] !== undefined && p['class'] !== null ? String(p['class']) : '',
        detector: p.detector !== undefined && p.detector !== null ? String(p.detector) : '',
        risk: num(p.risk),
        score: num(p.score),
        area: num(p.area_m2),
        level: levelOf(p),
        sources: sources,
        source: given.length ? given[0] : (sources[0] || ''),
        factors: factors,
        chip: typeof p.chip === 'string' && p.chip !== '' ? p.chip : null,
        chipInfo: chipInfo,
        centre: centre,          // [lon, lat]: the chip's centre, else the geometry's centroid
        info: info,              // centroid (marker position), bbox
        rank: 0,
        row: null,
        poly: null,
        dot: null
      };
      var text = [id, lead.cls, lead.detector, lead.level, sources.join(' '), factors.join(' ')];
      for (var k in p) {
        if (typeof p[k] === 'string' && k !== 'chip') text.push(k + ' ' + p[k]);
      }
      lead.search = text.join(' \u0001 ').toLowerCase();
      return lead;
    });
    // Rank: risk descending, then score descending, then id: the order an investigator works in.
    leads.slice().sort(function (a, b) {
      return cmpNum(b.risk, a.risk) || cmpNum(b.score, a.score) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    }).forEach(function (l, i) { l.rank = i + 1; });
    return leads;
  }

  // Numbers compare ascending; NaN always sorts last whatever the direction is handled by caller.
  function cmpNum(a, b) {
    var na = isNaN(a), nb = isNaN(b);
    if (na && nb) return 0;
    if (na) return 1;
    if (nb) return -1;
    return a - b;
  }

  /* -------------------------------------------------------------- header */

  function renderHeader(data, manifest) {
    var title = typeof data.title === 'string' && data.title ? data.title : 'riskmap evidence report';
    $('report-title').textContent = title;
    document.title = 'SENSITIVE · ' + title;

    var counts = { high: 0, medium: 0, low: 0, none: 0 };
    state.leads.forEach(function (l) { counts[l.level]++; });
    var detector = (manifest.detector && manifest.detector.name) || (manifest.recipe && manifest.recipe.detector) ||
      (state.leads[0] && state.leads[0].detector) || '';
    var when = manifest.finished_utc || manifest.started_utc || data.generated_utc;
    var timings = manifest.timings || {};
    var area = isNum(timings.area_km2) ? timings.area_km2 : null;
    var nInputs = Array.isArray(manifest.inputs) ? manifest.inputs.length : 0;

    var meta = $('report-meta');
    clear(meta);
    var parts = [];
    if (detector) parts.push(['Detector ', el('strong', null, detector)]);
    var n = state.leads.length;
    var levelBits = LEVELS.filter(function (l) { return counts[l]; }).map(function (l) { return counts[l] + ' ' + l; });
    parts.push([el('strong', null, grouped(n, 0) + (n === 1 ? ' lead' : ' leads')),
      levelBits.length ? ' (' + levelBits.join(', ') + ')' : '']);
    if (area !== null || nInputs) {
      parts.push([area !== null ? smartNum(area) + ' km² scanned' : 'Scanned',
        nInputs ? ' in ' + nInputs + (nInputs === 1 ? ' scene' : ' scenes') : '']);
    }
    if (when) parts.push(['Scan ', fmtUtc(when)]);
    parts.forEach(function (p, i) {
      if (i) meta.appendChild(el('span', { class: 'sep', 'aria-hidden': 'true' }, '|'));
      append(meta, p);
    });

    var warnings = Array.isArray(manifest.warnings) ? manifest.warnings : [];
    var badge = $('warning-badge');
    if (warnings.length) {
      badge.hidden = false;
      badge.textContent = warnings.length + (warnings.length === 1 ? ' warning' : ' warnings');
    }
    ['all'].concat(LEVELS).forEach(function (l) {
      var c = document.querySelector('[data-count="' + l + '"]');
      if (c) c.textContent = String(l === 'all' ? n : counts[l]);
    });
  }

  /* ---------------------------------------------------------- provenance */

  function kvList(obj, opts) {
    opts = opts || {};
    var dl = el('dl', { class: 'kv' });
    var keys = opts.keys || Object.keys(obj || {});
    keys.forEach(function (k) {
      if (!obj || !(k in obj)) return;
      if (opts.skip && opts.skip[k]) return;
      var v = obj[k];
      var label = opts.labels && opts.labels[k] ? opts.labels[k] : k;
      dl.appendChild(el('dt', { class: opts.labels && opts.labels[k] ? null : 'mono' }, label));
      dl.appendChild(el('dd', { class: typeof v === 'string' && opts.monoValues ? 'mono' : null, title: rawTitle(v) },
        opts.format ? opts.format(k, v) : fmtValue(k, v)));
    });
    return dl;
  }
  function section(title, body, id) {
    return el('section', { class: 'prov-section', id: id || null }, el('h3', null, title), body);
  }

  function renderProvenance(data, manifest) {
    var body = $('provenance-body');
    clear(body);
    if (!manifest || typeof manifest !== 'object' || !Object.keys(manifest).length) {
      body.appendChild(el('p', { class: 'none' }, 'This report has no scan manifest.'));
      return;
    }
    var handled = {};
    function take(k) { handled[k] = true; return manifest[k]; }

    // Notes from `riskmap report` itself (missing layers, chips left out ...).
    var notes = Array.isArray(data.notes) ? data.notes : [];
    if (notes.length) {
      body.appendChild(section('Notes on this report (' + notes.length + ')',
        el('ul', { class: 'notes' }, notes.map(function (n) { return el('li', null, typeof n === 'string' ? n : JSON.stringify(n)); })),
        'prov-notes'));
    }

    // Run and output.
    var started = take('started_utc'), finished = take('finished_utc');
    var dur = null;
    if (started && finished) {
      var d = (Date.parse(finished) - Date.parse(started)) / 1000;
      if (isNum(d) && d >= 0) dur = d;
    }
    var run = {
      'riskmap version': take('riskmap_version'),
      'started': fmtUtc(started),
      'finished': fmtUtc(finished),
      'wall time': dur === null ? '—' : (dur < 1 ? 'under 1 s' : fmtDuration(dur))
    };
    var wd = take('working_dir');
    if (typeof wd === 'string' && wd) run['working folder'] = wd;
    var runDl = el('dl', { class: 'kv' });
    Object.keys(run).forEach(function (k) {
      runDl.appendChild(el('dt', null, k));
      runDl.appendChild(el('dd', { class: k === 'riskmap version' || k === 'working folder' ? 'mono' : null, 'data-field': k === 'riskmap version' ? 'riskmap-version' : null },
        run[k] === undefined || run[k] === null ? '—' : String(run[k])));
    });
    var output = take('output');
    var grid1 = el('div', { class: 'prov-grid' },
      section('Run', runDl),
      output && typeof output === 'object' ? section('Output layer', kvList(output, { monoValues: true })) : null);
    body.appendChild(grid1);

    // Warnings: first when there are any, they change how the leads should be read.
    var warnings = take('warnings');
    var wl = Array.isArray(warnings) ? warnings : [];
    var warningsSection = section('Warnings (' + wl.length + ')', wl.length
      ? el('ul', { class: 'warnings' }, wl.map(function (w) { return el('li', null, typeof w === 'string' ? w : JSON.stringify(w)); }))
      : el('p', { class: 'none' }, 'The scan recorded no warnings.'), 'prov-warnings');
    if (wl.length) body.appendChild(warningsSection);

    // Command line.
    var cmd = take('command_line');
    if (Array.isArray(cmd) && cmd.length) {
      var text = cmd.map(shellQuote).join(' ');
      body.appendChild(section('Command line', [
        el('pre', { class: 'cmdline' }, el('code', null, text)),
        el('div', { class: 'cmd-actions' }, copyButton('Copy command', function () { return text; }, 'the command line'))
      ]));
    }

    // Risk scoring comes next (it explains the leads' order); filled in below.
    var riskSlot = el('div');
    body.appendChild(riskSlot);

    // Counts (per input counts go in the inputs table).
    var counts = take('counts') || {};
    var perInput = counts.per_input && typeof counts.per_input === 'object' ? counts.per_input : {};
    var countsShown = {};
    Object.keys(counts).forEach(function (k) { if (k !== 'per_input') countsShown[k] = counts[k]; });
    var nScenesWithLeads = Object.keys(perInput).filter(function (k) { return perInput[k] > 0; }).length;
    if (Object.keys(perInput).length) countsShown['scenes with leads'] = nScenesWithLeads + ' of ' + Object.keys(perInput).length;
    var countsSection = section('Counts', kvList(countsShown));

    // Detector and recipe.
    var det = take('detector') || {};
    var recipe = take('recipe') || {};
    var detInfo = {};
    Object.keys(det).forEach(function (k) { detInfo[k] = det[k]; });
    if (recipe.detector && recipe.detector !== det.name) detInfo['recipe detector'] = recipe.detector;
    Object.keys(recipe).forEach(function (k) {
      if (k !== 'detector' && k !== 'options') detInfo['recipe.' + k] = recipe[k];
    });
    var opts = recipe.options && typeof recipe.options === 'object' ? recipe.options : {};
    // Options exactly as recorded (they are what --set and recipes take), unit from the name.
    var optList = el('dl', { class: 'kv-cols' }, Object.keys(opts).map(function (k) {
      var v = opts[k];
      var txt = typeof v === 'number' ? String(v) + unitFor(k) : fmtValue(k, v);
      return el('div', null, el('dt', null, k), el('dd', { class: typeof v === 'string' ? 'str' : null }, txt));
    }));
    body.appendChild(el('div', { class: 'prov-grid' },
      section('Detector', kvList(detInfo, { monoValues: true })),
      countsSection));
    body.appendChild(section('Detector options (' + Object.keys(opts).length + ')',
      Object.keys(opts).length ? optList : el('p', { class: 'none' }, 'No options recorded.')));

    // Inputs.
    var inputs = take('inputs');
    if (Array.isArray(inputs)) {
      var rows = inputs.map(function (inp) {
        inp = inp || {};
        var crs = inp.crs || {};
        var crsText = [crs.name, isNum(crs.epsg) ? 'EPSG:' + crs.epsg : null].filter(Boolean).join(' · ') ||
          (typeof inp.crs === 'string' ? inp.crs : '—');
        var gsd = inp.gsd_m || {};
        var gsdText = isNum(gsd.min) ? gsd.min.toFixed(gsd.min < 10 ? 2 : 1) : '—';
        var gsdTitle = isNum(gsd.x) && isNum(gsd.y) ? 'x ' + gsd.x.toFixed(3) + ' m, y ' + gsd.y.toFixed(3) + ' m' : null;
        var name = inp.source !== undefined ? String(inp.source) : '—';
        var leads = inp.source in perInput ? perInput[inp.source] : inp.detections;
        return el('tr', null,
          el('td', { class: 'name' }, el('div', null, name),
            inp.origin && inp.origin !== name ? el('div', { class: 'muted mono', style: null }, String(inp.origin)) : null),
          el('td', { class: 'num' }, isNum(inp.width) && isNum(inp.height) ? grouped(inp.width, 0) + ' × ' + grouped(inp.height, 0) : '—'),
          el('td', { class: 'num' }, isNum(inp.band_count) ? String(inp.band_count) : '—'),
          el('td', null, crsText),
          el('td', { class: 'num', title: gsdTitle }, gsdText),
          el('td', { class: 'num' }, isNum(inp.area_km2) ? smartNum(inp.area_km2) : '—'),
          el('td', { class: 'num' }, isNum(leads) ? String(leads) : '—'),
          el('td', null, inp.driver ? String(inp.driver) : '—'));
      });
      var inputsTable = el('table', { class: 'simple-table' },
        el('thead', null, el('tr', null,
          el('th', { scope: 'col' }, 'Scene'), el('th', { scope: 'col', class: 'num' }, 'Size (px)'),
          el('th', { scope: 'col', class: 'num' }, 'Bands'), el('th', { scope: 'col' }, 'CRS'),
          el('th', { scope: 'col', class: 'num' }, 'GSD (m)'), el('th', { scope: 'col', class: 'num' }, 'Area (km²)'),
          el('th', { scope: 'col', class: 'num' }, 'Leads'), el('th', { scope: 'col' }, 'Driver'))),
        el('tbody', null, rows));
      body.appendChild(section('Inputs (' + inputs.length + ')', el('div', { class: inputs.length > 8 ? 'table-scroll' : null }, inputsTable)));
    }

    // Tiling and timings.
    var tiling = take('tiling');
    var timings = take('timings');
    body.appendChild(el('div', { class: 'prov-grid' },
      tiling && typeof tiling === 'object' ? section('Tiling', kvList(tiling)) : null,
      timings && typeof timings === 'object' ? section('Timings', kvList(timings)) : null));

    if (!wl.length) body.appendChild(warningsSection);

    // Risk scoring: formula, level thresholds, context layers.
    var risk = take('risk');
    if (risk && typeof risk === 'object') {
      var riskParts = [];
      var riskKv = {};
      var lv = riskLevels(risk);
      if (lv) riskKv['levels'] = 'high ≥ ' + lv.high + ', medium ≥ ' + lv.medium + ', low below';
      Object.keys(risk).forEach(function (k) {
        if (k !== 'context' && k !== 'risk_levels' && k !== 'formula') riskKv[k] = risk[k];
      });
      if (typeof risk.formula === 'string') riskParts.push(el('pre', { class: 'cmdline formula' }, el('code', null, risk.formula)));
      if (Object.keys(riskKv).length) riskParts.push(kvList(riskKv, { labels: { levels: 'levels' } }));
      var ctx = Array.isArray(risk.context) ? risk.context : [];
      if (ctx.length) {
        riskParts.push(el('table', { class: 'simple-table ctx-table' },
          el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Context layer'), el('th', { scope: 'col' }, 'Rule'),
            el('th', { scope: 'col', class: 'num' }, 'Weight'), el('th', { scope: 'col' }, 'File'))),
          el('tbody', null, ctx.map(function (c) {
            c = c || {};
            return el('tr', null, el('td', null, c.name !== undefined ? String(c.name) : '—'),
              el('td', { class: 'mono' }, c.rule !== undefined ? String(c.rule) : '—'),
              el('td', { class: 'num' }, isNum(c.weight) ? String(c.weight) : '—'),
              el('td', { class: 'mono name' }, c.path !== undefined ? String(c.path) : '—'));
          }))));
      } else {
        riskParts.push(el('p', { class: 'none' }, 'No context layers: risk is the detector score alone.'));
      }
      riskSlot.appendChild(section('Risk scoring', riskParts));
    }

    // Layers written by the scan, the risk grid and the published grid.
    var layers = take('layers');
    var gridM = take('grid');
    var publish = take('publish');
    var layerDl = null;
    if (layers && typeof layers === 'object') {
      layerDl = el('dl', { class: 'kv' });
      Object.keys(layers).forEach(function (role) {
        var l = layers[role] || {};
        layerDl.appendChild(el('dt', { class: 'mono' }, role));
        layerDl.appendChild(el('dd', { class: 'mono' }, typeof l === 'object'
          ? String(l.path || '—') + (l.layer ? ' (layer ' + l.layer + ')' : '') : String(l)));
      });
    }
    if (layerDl || (gridM && typeof gridM === 'object') || (publish && typeof publish === 'object')) {
      body.appendChild(el('div', { class: 'prov-grid' },
        layerDl ? section('Layers written', layerDl) : null,
        gridM && typeof gridM === 'object' ? section('Risk grid', kvList(gridM, { monoValues: true })) : null,
        publish && typeof publish === 'object' ? section('Published grid', kvList(publish, { monoValues: true })) : null));
    }

    // The request as recorded (what `riskmap report` reopens for chips): raw, folded away.
    var request = take('request');
    if (request !== undefined) {
      var raw = '';
      try { raw = JSON.stringify(request, null, 2); } catch (e) { raw = String(request); }
      body.appendChild(section('Scan request (as recorded)',
        el('details', { class: 'raw' }, el('summary', null, 'Show the recorded request (JSON)'),
          el('pre', { class: 'cmdline' }, el('code', null, raw)))));
    }

    // Anything else the manifest holds, shown as it is.
    var rest = {};
    Object.keys(manifest).forEach(function (k) { if (!handled[k]) rest[k] = manifest[k]; });
    if (Object.keys(rest).length) body.appendChild(section('Other manifest fields', kvList(rest, { monoValues: true })));

    // The report itself.
    var about = {};
    if (data.generated_by) about['generated by'] = String(data.generated_by);
    if (data.generated_utc) about['generated'] = fmtUtc(data.generated_utc);
    about['map library'] = 'Leaflet ' + (window.L && L.version ? L.version : '') + ' (BSD-2-Clause), bundled; no base map';
    var aboutDl = el('dl', { class: 'kv' });
    Object.keys(about).forEach(function (k) { aboutDl.appendChild(el('dt', null, k)); aboutDl.appendChild(el('dd', null, about[k])); });
    body.appendChild(section('This report', aboutDl));
  }

  function initProvenanceToggle() {
    var details = $('provenance');
    $('provenance-close').addEventListener('click', function () {
      details.open = false;
      $('provenance-summary').focus();
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && details.open && !$('lightbox').open) {
        details.open = false;
        $('provenance-summary').focus();
      }
    });
    document.addEventListener('mousedown', function (e) {
      if (details.open && !details.contains(e.target)) details.open = false;
    });
  }

  /* ------------------------------------------------------------------ map */

  function initMap(data) {
    var map = L.map('map', {
      attributionControl: false,
      zoomControl: true,
      maxZoom: 20,
      minZoom: 1,
      zoomSnap: 0.25,
      zoomDelta: 1,
      wheelPxPerZoomLevel: 90,
      worldCopyJump: false,
      boxZoom: true
    });
    state.map = map;

    [['rm-footprints', 310], ['rm-gaps', 320], ['rm-grid', 330], ['rm-graticule', 340], ['rm-detections', 410],
      ['rm-dots', 420], ['rm-selected', 430]].forEach(function (p) {
      var pane = map.createPane(p[0]);
      pane.style.zIndex = String(p[1]);
      if (p[0] === 'rm-graticule' || p[0] === 'rm-selected' || p[0] === 'rm-footprints' || p[0] === 'rm-gaps') {
        pane.style.pointerEvents = 'none';
      }
    });

    var bounds = L.latLngBounds([]);
    function extend(layer) {
      try {
        var b = layer.getBounds();
        if (b && b.isValid()) bounds.extend(b);
      } catch (e) { /* no bounds */ }
    }

    var fc = function (x) { return x && typeof x === 'object' && Array.isArray(x.features) && x.features.length ? x : null; };

    if (fc(data.footprints)) {
      state.layers.footprints = L.geoJSON(data.footprints, {
        pane: 'rm-footprints', interactive: false,
        style: { color: '#7d8896', weight: 1.2, dashArray: '5 4', fillColor: '#fbfbfa', fillOpacity: 0.92, className: 'rm-footprint' }
      }).addTo(map);
      extend(state.layers.footprints);
    }
    if (fc(data.gaps)) {
      state.layers.gaps = L.geoJSON(data.gaps, {
        pane: 'rm-gaps', interactive: false,
        style: { color: '#8e99a6', weight: 0.8, fillColor: 'url(#rm-hatch)', fillOpacity: 0.9, className: 'rm-gap' }
      }).addTo(map);
    }
    if (fc(data.grid)) {
      state.layers.grid = L.geoJSON(data.grid, {
        pane: 'rm-grid',
        style: gridStyle,
        onEachFeature: function (f, layer) {
          var p = f.properties || {};
          if (!(num(p.count) > 0)) return;
          layer.bindTooltip(function () {
            return el('div', null,
              el('div', null, el('strong', null, grouped(num(p.count), 0) + (num(p.count) === 1 ? ' lead' : ' leads')), ' in this cell'),
              el('div', { class: 'tip-sub' },
                'mean risk ' + fixed(num(p.mean_risk), 2) + ' · max score ' + fixed(num(p.max_score), 2)),
              el('div', { class: 'tip-sub' },
                smartNum(num(p.density_per_km2)) + ' per km² · ' + smartNum(num(p.area_scanned_km2)) + ' km² scanned'));
          }, { className: 'rm-tip', sticky: true, direction: 'top', offset: [0, -8] });
        }
      }).addTo(map);
    }

    // Detections: the polygon plus a dot at its centre, so small objects stay visible when zoomed out.
    var group = L.layerGroup().addTo(map);
    state.layers.detections = group;
    var order = state.leads.slice().sort(function (a, b) {
      return LEVEL_RANK[a.level] - LEVEL_RANK[b.level] || cmpNum(a.risk, b.risk);
    });
    order.forEach(function (lead) {
      var f = lead.feature;
      if (!f || !f.geometry || !lead.info) return;
      var color = COLORS[lead.level];
      var tip = function () {
        return el('div', null,
          el('div', null, el('strong', null, '#' + lead.rank + ' '), el('span', { class: 'tip-id' }, lead.id)),
          el('div', { class: 'tip-sub' }, 'risk ' + fixed(lead.risk, 2) + ' · ' + LEVEL_LABEL[lead.level].toLowerCase() +
            (lead.cls ? ' · ' + lead.cls : '')));
      };
      var onClick = function (e) {
        L.DomEvent.stopPropagation(e);
        select(lead, { zoom: false, focusRow: false });
      };
      if (f.geometry.type !== 'Point') {
        lead.poly = L.geoJSON(f, {
          pane: 'rm-detections',
          style: { color: color, weight: 1.6, opacity: 0.95, fillColor: color, fillOpacity: 0.22, className: 'rm-det rm-det-poly rm-level-' + lead.level }
        });
        lead.poly.bindTooltip(tip, { className: 'rm-tip', sticky: true, direction: 'top', offset: [0, -8] });
        lead.poly.on('click', onClick);
        lead.poly.eachLayer(function (part) { part.on('add', function () { tagPath(part, lead); }); });
      }
      var c = lead.info.centroid;
      lead.dot = L.circleMarker([c[1], c[0]], {
        pane: 'rm-dots', radius: DOT_RADIUS[lead.level], color: '#ffffff', weight: 1.5, opacity: 1,
        fillColor: color, fillOpacity: 1, className: 'rm-det rm-det-dot rm-level-' + lead.level
      });
      lead.dot.bindTooltip(tip, { className: 'rm-tip', direction: 'top', offset: [0, -8] });
      lead.dot.on('click', onClick);
      lead.dot.on('add', function () { tagPath(lead.dot, lead); });
      var b = L.latLngBounds([lead.info.bbox[1], lead.info.bbox[0]], [lead.info.bbox[3], lead.info.bbox[2]]);
      lead.bounds = b;
      bounds.extend(b);
    });

    addControls(map, data);

    state.fullBounds = bounds.isValid() ? bounds : null;
    fitAll(false);
    if (!state.fullBounds) {
      $('map').appendChild(el('div', { class: 'map-empty' }, 'Nothing to draw: the report has no geometry.'));
    }

    if (state.layers.grid) {
      map.on('zoomend', function () { state.layers.grid.setStyle(gridStyle); });
      state.layers.grid.setStyle(gridStyle);
    }

    // Graticule: the only geographic reference on a map without base tiles.
    state.layers.graticule = L.layerGroup().addTo(map);
    state.gratLabels = el('div', { class: 'grat-labels', 'aria-hidden': 'true' });
    map.getContainer().appendChild(state.gratLabels);
    map.on('moveend', drawGraticule);
    map.on('move', drawGraticuleLabels);
    map.on('zoomstart', function () { state.gratLabels.style.visibility = 'hidden'; });
    map.on('resize', drawGraticule);
    drawGraticule();
  }

  // Grid cells fade as the map zooms in, where they would only tint the view.
  function gridStyle(f) {
    var p = f.properties || {};
    var c = rampColor(num(p.mean_risk));
    var has = !!c && num(p.count) > 0;
    var z = state.map ? state.map.getZoom() : 8;
    var k = Math.max(0, Math.min(1, (z - 10) / 4));       // 0 at zoom <= 10, 1 at zoom >= 14
    return {
      color: '#ffffff', weight: 0.6, opacity: has ? 0.7 * (1 - 0.6 * k) : 0,
      fillColor: c || '#ffffff', fillOpacity: has ? 0.55 - 0.5 * k : 0, className: 'rm-grid-cell'
    };
  }

  // The lead's id on its SVG path, for tests and for anyone inspecting the map.
  function tagPath(layer, lead) {
    var node = layer.getElement && layer.getElement();
    if (node) node.setAttribute('data-id', lead.id);
  }

  function fitAll(animate) {
    var map = state.map;
    if (state.fullBounds) {
      var b = state.fullBounds;
      if (b.getNorthEast().equals(b.getSouthWest())) map.setView(b.getCenter(), 14, { animate: animate });
      else map.fitBounds(b, { padding: [28, 28], maxZoom: 17, animate: animate });
    } else {
      map.setView([20, 0], 2, { animate: animate });
    }
  }

  function addControls(map, data) {
    L.control.scale({ imperial: false, metric: true, position: 'bottomright', maxWidth: 140 }).addTo(map);

    var Readout = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        var div = L.DomUtil.create('div', 'coord-readout');
        div.setAttribute('aria-hidden', 'true');
        map.on('mousemove', function (e) {
          div.textContent = fmtLat(e.latlng.lat, 5) + '  ' + fmtLon(e.latlng.lng, 5);
        });
        map.getContainer().addEventListener('mouseleave', function () { div.textContent = ''; });
        return div;
      }
    });
    new Readout().addTo(map);

    var FitAll = L.Control.extend({
      options: { position: 'topleft' },
      onAdd: function () {
        var bar = L.DomUtil.create('div', 'leaflet-bar');
        var a = L.DomUtil.create('a', 'rm-fit', bar);
        a.href = '#';
        a.title = 'Zoom to all leads';
        a.setAttribute('role', 'button');
        a.setAttribute('aria-label', 'Zoom to all leads');
        a.innerHTML = '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">' +
          '<path d="M1 5V1h4M9 1h4v4M13 9v4H9M5 13H1V9" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>';
        L.DomEvent.on(a, 'click', function (e) { L.DomEvent.preventDefault(e); L.DomEvent.stopPropagation(e); fitAll(true); });
        L.DomEvent.disableClickPropagation(bar);
        return bar;
      }
    });
    new FitAll().addTo(map);

    var Legend = L.Control.extend({
      options: { position: 'topright' },
      onAdd: function () {
        var counts = { high: 0, medium: 0, low: 0, none: 0 };
        state.leads.forEach(function (l) { counts[l.level]++; });
        var panel = el('div', { class: 'map-panel', role: 'group', 'aria-label': 'Map legend and layers' });
        var toggleBtn = el('button', { type: 'button', class: 'map-panel-toggle', 'aria-expanded': 'true', title: 'Hide the legend' }, 'Hide');
        toggleBtn.addEventListener('click', function () {
          var collapsed = panel.classList.toggle('collapsed');
          toggleBtn.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
          toggleBtn.textContent = collapsed ? 'Legend' : 'Hide';
          toggleBtn.title = collapsed ? 'Show the legend and layers' : 'Hide the legend';
          drawGraticuleLabels();
        });
        panel.appendChild(toggleBtn);

        var g1 = el('div', { class: 'group' }, el('h3', null, 'Risk level'));
        var lv = riskLevels(data.manifest && data.manifest.risk);
        var range = lv ? { high: '≥ ' + lv.high, medium: '≥ ' + lv.medium, low: '< ' + lv.medium, none: '' } : {};
        LEVELS.concat(counts.none ? ['none'] : []).forEach(function (l) {
          g1.appendChild(el('div', { class: 'row' }, el('span', { class: 'sw sw-' + l, style: l === 'none' ? 'background:' + COLORS.none : null }),
            LEVEL_LABEL[l], range[l] ? el('span', { class: 'range' }, range[l]) : null, el('span', { class: 'n' }, String(counts[l]))));
        });
        panel.appendChild(g1);

        var g2 = el('div', { class: 'group' }, el('h3', null, 'Layers'));
        function toggle(key, label, extra) {
          var layer = state.layers[key];
          if (!layer) return;
          var cb = el('input', { type: 'checkbox', checked: true, 'data-layer': key });
          cb.addEventListener('change', function () {
            if (cb.checked) map.addLayer(layer); else map.removeLayer(layer);
          });
          g2.appendChild(el('label', null, cb, label, extra || null));
        }
        toggle('detections', 'Leads');
        toggle('grid', 'Risk grid (mean risk)');
        if (state.layers.grid) {
          g2.appendChild(el('div', { class: 'row ramp', style: 'padding-left:20px' },
            el('span', { class: 'ramp-lbl' }, '0'),
            el('span', { class: 'ramp-bar', style: 'background:linear-gradient(90deg,' + RAMP.join(',') + ');opacity:0.8' }),
            el('span', { class: 'ramp-lbl' }, '1')));
        }
        toggle('footprints', [el('span', { class: 'sw sw-box sw-footprint' }), 'Scanned scenes']);
        toggle('gaps', [el('span', { class: 'sw sw-box sw-gap' }), 'No data']);
        if (g2.childNodes.length > 1) panel.appendChild(g2);
        L.DomEvent.disableClickPropagation(panel);
        L.DomEvent.disableScrollPropagation(panel);
        return panel;
      }
    });
    new Legend().addTo(map);
  }

  var GRAT_STEPS = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005];
  function drawGraticule() {
    var map = state.map, group = state.layers.graticule;
    group.clearLayers();
    state.grat = null;
    var size = map.getSize();
    if (!size.x || !size.y) return;
    var view = map.getBounds();
    var target = (view.getEast() - view.getWest()) / Math.max(2, size.x / 140);
    var step = GRAT_STEPS[GRAT_STEPS.length - 1];
    for (var i = 0; i < GRAT_STEPS.length; i++) {
      if (GRAT_STEPS[i] <= target) { step = GRAT_STEPS[i]; break; }
    }
    var dp = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
    // Lines reach well past the view so that panning does not show their ends before moveend.
    var b = view.pad(1);
    var south = Math.max(-85, b.getSouth()), north = Math.min(85, b.getNorth());
    var west = b.getWest(), east = b.getEast();
    var x0 = Math.ceil(west / step), x1 = Math.floor(east / step);
    var y0 = Math.ceil(south / step), y1 = Math.floor(north / step);
    if (x1 - x0 > 80 || y1 - y0 > 80) return;
    var style = { pane: 'rm-graticule', color: '#9aa5b1', weight: 0.6, opacity: 0.6, interactive: false, dashArray: '2 3' };
    var lons = [], lats = [];
    for (var xi = x0; xi <= x1; xi++) {
      lons.push(xi * step);
      L.polyline([[south, xi * step], [north, xi * step]], style).addTo(group);
    }
    for (var yi = y0; yi <= y1; yi++) {
      lats.push(yi * step);
      L.polyline([[yi * step, west], [yi * step, east]], style).addTo(group);
    }
    state.grat = { lons: lons, lats: lats, dp: dp };
    drawGraticuleLabels();
  }

  // Labels along the bottom and left edges, kept clear of the map's controls.
  function drawGraticuleLabels() {
    var map = state.map, box = state.gratLabels;
    if (!box) return;
    clear(box);
    box.style.visibility = '';
    if (!state.grat) return;
    var size = map.getSize();
    var origin = map.getContainer().getBoundingClientRect();
    var blocked = Array.prototype.map.call(map.getContainer().querySelectorAll('.leaflet-control'), function (c) {
      var r = c.getBoundingClientRect();
      return { l: r.left - origin.left - 4, t: r.top - origin.top - 4, r: r.right - origin.left + 4, b: r.bottom - origin.top + 4 };
    });
    function free(l, t, w, h) {
      if (l < 2 || t < 2 || l + w > size.x - 2 || t + h > size.y - 2) return false;
      return !blocked.some(function (k) { return l < k.r && l + w > k.l && t < k.b && t + h > k.t; });
    }
    var centre = map.getCenter();
    state.grat.lons.forEach(function (lon) {
      var x = map.latLngToContainerPoint([centre.lat, lon]).x;
      var text = fmtLon(lon, state.grat.dp), w = text.length * 6.2 + 4;
      var l = x + 3, t = size.y - 16;
      if (free(l, t, w, 13)) box.appendChild(el('span', { style: 'left:' + l.toFixed(0) + 'px;top:' + t + 'px' }, text));
    });
    state.grat.lats.forEach(function (lat) {
      var y = map.latLngToContainerPoint([lat, centre.lng]).y;
      var text = fmtLat(lat, state.grat.dp), w = text.length * 6.2 + 4;
      var l = 5, t = y - 14;
      if (t < size.y - 34 && free(l, t, w, 13)) box.appendChild(el('span', { style: 'left:' + l + 'px;top:' + t.toFixed(0) + 'px' }, text));
    });
  }

  function renderSelection(lead) {
    var map = state.map;
    if (!map) return;
    if (state.haloLayer) { map.removeLayer(state.haloLayer); state.haloLayer = null; }
    if (state.outlineLayer) { map.removeLayer(state.outlineLayer); state.outlineLayer = null; }
    if (!lead || !lead.info) return;
    var c = lead.info.centroid;
    state.haloLayer = L.circleMarker([c[1], c[0]], {
      pane: 'rm-selected', radius: 13, color: '#17202b', weight: 2.2, opacity: 0.95, fill: false,
      interactive: false, className: 'rm-selected rm-selected-halo'
    }).addTo(map);
    if (lead.feature.geometry && lead.feature.geometry.type !== 'Point') {
      state.outlineLayer = L.geoJSON(lead.feature, {
        pane: 'rm-selected', interactive: false,
        style: { color: '#17202b', weight: 2.6, opacity: 1, fill: false, className: 'rm-selected rm-selected-outline' }
      }).addTo(map);
    }
  }

  /* ---------------------------------------------------------------- table */

  var SORTS = {
    rank: { dir: 'asc', cmp: function (a, b) { return a.rank - b.rank; } },
    id: { dir: 'asc', cmp: function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; } },
    'class': { dir: 'asc', cmp: function (a, b) { return a.cls.localeCompare(b.cls); } },
    risk: { dir: 'desc', num: function (l) { return l.risk; } },
    level: { dir: 'desc', num: function (l) { return LEVEL_RANK[l.level] || NaN; } },
    score: { dir: 'desc', num: function (l) { return l.score; } },
    area: { dir: 'desc', num: function (l) { return l.area; } },
    source: { dir: 'asc', cmp: function (a, b) { return a.sources.join(' ').localeCompare(b.sources.join(' ')); } },
    factors: { dir: 'desc', num: function (l) { return l.factors.length; } }
  };

  function sortLeads(list) {
    var s = SORTS[state.sortKey] || SORTS.risk;
    var sign = state.sortDir === 'asc' ? 1 : -1;
    return list.slice().sort(function (a, b) {
      var c;
      if (s.num) {
        var x = s.num(a), y = s.num(b);
        var nx = isNaN(x), ny = isNaN(y);
        if (nx || ny) c = nx && ny ? 0 : (nx ? 1 : -1);      // missing values last, either way
        else c = sign * (x - y);
      } else {
        c = sign * s.cmp(a, b);
      }
      return c || a.rank - b.rank;
    });
  }

  function buildRow(lead) {
    var riskPct = isNum(lead.risk) ? Math.max(0, Math.min(1, lead.risk)) * 100 : 0;
    var src = lead.sources.length ? lead.sources[0] : '';
    var factorsText = lead.factors.join('; ');
    var tr = el('tr', {
      tabindex: '-1',
      'data-id': lead.id,
      'data-risk': isNum(lead.risk) ? String(lead.risk) : '',
      'data-level': lead.level
    },
      el('td', { class: 'rank' }, String(lead.rank)),
      el('td', { class: 'id', title: lead.id }, lead.id),
      el('td', { class: 'class', title: lead.cls }, lead.cls || '—'),
      el('td', { class: 'risk' }, el('div', { class: 'riskcell' },
        el('span', { class: 'val' }, fixed(lead.risk, 2)),
        el('span', { class: 'riskbar', 'aria-hidden': 'true' }, el('span', { class: lead.level, style: 'width:' + riskPct.toFixed(1) + '%' })))),
      el('td', { class: 'level' }, el('span', { class: 'pill pill-' + lead.level }, LEVEL_LABEL[lead.level])),
      el('td', { class: 'num score' }, fixed(lead.score, 2)),
      el('td', { class: 'num area', title: isNum(lead.area) ? grouped(lead.area, 0) + ' m²' : null }, fmtArea(lead.area)),
      el('td', { class: 'source', title: lead.sources.join('\n') || null },
        el('div', { class: 'source-cell' }, src ? midEllipsis(src, 10) : '—',
          lead.sources.length > 1 ? el('span', { class: 'more', 'aria-label': 'and ' + (lead.sources.length - 1) + ' more' }, '+' + (lead.sources.length - 1)) : null)),
      el('td', { class: 'factors' + (lead.factors.length ? '' : ' muted'), title: lead.factors.join('\n') || null },
        lead.factors.length ? [el('span', { class: 'fcount', 'aria-label': lead.factors.length + ' factors:' }, String(lead.factors.length)), factorsText] : 'none recorded'));
    tr.addEventListener('click', function () { select(lead, { zoom: true, focusRow: true }); });
    return tr;
  }

  function initTable() {
    var tbody = $('leads-body');
    state.leads.forEach(function (l) { l.row = buildRow(l); });

    document.querySelectorAll('#leads-table thead th[data-key]').forEach(function (th) {
      th.querySelector('button').addEventListener('click', function () {
        var key = th.getAttribute('data-key');
        if (state.sortKey === key) state.sortDir = state.sortDir === 'asc' ? 'desc' : 'asc';
        else { state.sortKey = key; state.sortDir = (SORTS[key] || SORTS.risk).dir; }
        refresh();
      });
    });

    tbody.addEventListener('keydown', function (e) {
      var row = e.target.closest && e.target.closest('tr');
      if (!row) return;
      var i = state.view.findIndex(function (l) { return l.row === row; });
      if (i < 0) return;
      var to = null;
      switch (e.key) {
        case 'Enter':
        case ' ':
          e.preventDefault();
          select(state.view[i], { zoom: true, focusRow: true });
          return;
        case 'ArrowDown': to = i + 1; break;
        case 'ArrowUp': to = i - 1; break;
        case 'PageDown': to = i + 10; break;
        case 'PageUp': to = i - 10; break;
        case 'Home': to = 0; break;
        case 'End': to = state.view.length - 1; break;
        default: return;
      }
      e.preventDefault();
      to = Math.max(0, Math.min(state.view.length - 1, to));
      if (to !== i) select(state.view[to], { zoom: true, focusRow: true });
    });

    var input = $('filter-text');
    var timer = null;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.text = input.value.trim().toLowerCase(); refresh(); }, 120);
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { clearTimeout(timer); state.text = input.value.trim().toLowerCase(); refresh(); }
      if (e.key === 'ArrowDown' && state.view.length) { e.preventDefault(); focusRow(state.view[0]); }
    });
    document.querySelectorAll('#level-filter button').forEach(function (b) {
      b.addEventListener('click', function () {
        state.level = b.getAttribute('data-level');
        document.querySelectorAll('#level-filter button').forEach(function (o) {
          o.setAttribute('aria-pressed', o === b ? 'true' : 'false');
        });
        refresh();
      });
    });
  }

  function matches(lead) {
    if (state.level !== 'all' && lead.level !== state.level) return false;
    if (!state.text) return true;
    var terms = state.text.split(/\s+/);
    for (var i = 0; i < terms.length; i++) if (lead.search.indexOf(terms[i]) < 0) return false;
    return true;
  }

  function refresh() {
    var visible = state.leads.filter(matches);
    state.view = sortLeads(visible);

    var tbody = $('leads-body');
    var frag = document.createDocumentFragment();
    state.view.forEach(function (l) { frag.appendChild(l.row); });
    clear(tbody);
    tbody.appendChild(frag);

    // Roving tab stop: the selected row if shown, else the first.
    state.leads.forEach(function (l) { l.row.tabIndex = -1; });
    var stop = state.selected && state.view.indexOf(state.selected) >= 0 ? state.selected : state.view[0];
    if (stop) stop.row.tabIndex = 0;

    document.querySelectorAll('#leads-table thead th[data-key]').forEach(function (th) {
      if (th.getAttribute('data-key') === state.sortKey) th.setAttribute('aria-sort', state.sortDir === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });

    var n = state.leads.length;
    $('showing').textContent = visible.length === n ? (n === 1 ? '1 lead' : grouped(n, 0) + ' leads')
      : 'Showing ' + grouped(visible.length, 0) + ' of ' + grouped(n, 0);

    var empty = $('empty');
    clear(empty);
    if (!n) {
      empty.hidden = false;
      empty.textContent = 'The scan found no leads in the scanned area.';
    } else if (!visible.length) {
      empty.hidden = false;
      append(empty, ['No leads match the filter. ', el('button', {
        type: 'button', class: 'btn btn-small', onclick: function () {
          $('filter-text').value = '';
          state.text = '';
          var all = document.querySelector('#level-filter button[data-level="all"]');
          if (all) all.click(); else refresh();
        }
      }, 'Clear filter')]);
    } else {
      empty.hidden = true;
    }

    // The map shows what the table shows.
    var group = state.layers.detections;
    if (group) {
      var show = new Set(visible);
      state.leads.forEach(function (l) {
        [l.poly, l.dot].forEach(function (layer) {
          if (!layer) return;
          var has = group.hasLayer(layer);
          if (show.has(l) && !has) group.addLayer(layer);
          else if (!show.has(l) && has) group.removeLayer(layer);
        });
      });
      // Keep the higher levels drawn on top.
      visible.slice().sort(function (a, b) { return LEVEL_RANK[a.level] - LEVEL_RANK[b.level] || cmpNum(a.risk, b.risk); })
        .forEach(function (l) { if (l.dot && group.hasLayer(l.dot) && state.map.hasLayer(l.dot)) l.dot.bringToFront(); });
    }
    updateNav();
  }

  function focusRow(lead) {
    if (!lead || !lead.row || !lead.row.isConnected) return;
    state.leads.forEach(function (l) { if (l.row.tabIndex === 0 && l !== lead) l.row.tabIndex = -1; });
    lead.row.tabIndex = 0;
    lead.row.focus({ preventScroll: true });
    scrollRowIntoView(lead.row);
  }
  function scrollRowIntoView(row) {
    var wrap = $('table-wrap');
    var head = document.querySelector('#leads-table thead');
    var top = row.offsetTop - (head ? head.offsetHeight : 0);
    var bottom = row.offsetTop + row.offsetHeight;
    if (top < wrap.scrollTop) wrap.scrollTop = top;
    else if (bottom > wrap.scrollTop + wrap.clientHeight) wrap.scrollTop = bottom - wrap.clientHeight;
  }

  /* ------------------------------------------------------------- selection */

  function select(lead, opts) {
    opts = opts || {};
    if (!lead) return;
    if (state.selected && state.selected.row) state.selected.row.removeAttribute('aria-current');
    state.selected = lead;
    if (lead.row) {
      lead.row.setAttribute('aria-current', 'true');
      if (opts.focusRow) focusRow(lead);
      else if (lead.row.isConnected) {
        state.leads.forEach(function (l) { l.row.tabIndex = -1; });
        lead.row.tabIndex = 0;
        scrollRowIntoView(lead.row);
      }
    }
    renderSelection(lead);
    if (opts.zoom && lead.bounds && state.map) {
      var b = lead.bounds;
      if (b.getNorthEast().equals(b.getSouthWest())) state.map.setView(b.getCenter(), SELECT_MAX_ZOOM);
      else state.map.fitBounds(b, { padding: [70, 70], maxZoom: SELECT_MAX_ZOOM });
    }
    renderDetail(lead);
    updateNav();
  }

  function updateNav() {
    var prev = $('detail-prev'), next = $('detail-next');
    if (!prev || !next) return;
    var i = state.selected ? state.view.indexOf(state.selected) : -1;
    prev.disabled = i <= 0;
    next.disabled = i < 0 || i >= state.view.length - 1;
    var pos = $('detail-pos');
    if (pos) {
      pos.textContent = i >= 0 ? (i + 1) + ' of ' + state.view.length + ' shown' : 'filtered out';
    }
  }

  function step(delta) {
    var i = state.selected ? state.view.indexOf(state.selected) : -1;
    var j = i + delta;
    if (i >= 0 && j >= 0 && j < state.view.length) select(state.view[j], { zoom: true, focusRow: false });
  }

  function renderDetail(lead) {
    $('detail-empty').hidden = true;
    var body = $('detail-body');
    body.hidden = false;
    clear(body);
    var p = lead.props;

    body.appendChild(el('div', { class: 'detail-top' },
      el('span', { class: 'detail-kicker' }, 'Lead #' + lead.rank + ' by risk', el('span', { class: 'muted', id: 'detail-pos', style: 'text-transform:none;letter-spacing:0;margin-left:6px' })),
      el('div', { class: 'detail-nav' },
        el('button', { type: 'button', class: 'btn btn-small', id: 'detail-prev', title: 'Previous lead in the table', onclick: function () { step(-1); } }, '‹ Prev'),
        el('button', { type: 'button', class: 'btn btn-small', id: 'detail-next', title: 'Next lead in the table', onclick: function () { step(1); } }, 'Next ›'))));

    body.appendChild(el('div', { class: 'detail-title' },
      el('h2', { id: 'detail-heading', 'data-field': 'id' }, lead.id),
      el('span', { class: 'pill pill-' + lead.level }, LEVEL_LABEL[lead.level] + ' risk')));

    body.appendChild(el('div', { class: 'detail-risk' },
      el('div', null, el('div', { class: 'k' }, 'Risk'), el('div', { class: 'v' }, fixed(lead.risk, 2))),
      el('div', null, el('div', { class: 'k' }, 'Score'), el('div', { class: 'v' }, fixed(lead.score, 2))),
      el('div', null, el('div', { class: 'k' }, 'Area'), el('div', { class: 'v' }, fmtArea(lead.area)))));

    // Image chip.
    var ci = lead.chipInfo || {};
    var centre = lead.centre;
    var centreText = centre ? fmtLat(centre[1], 5) + ', ' + fmtLon(centre[0], 5) : 'unknown';
    var scaleM = num(ci.scale_m), widthM = num(ci.width_m);
    var frame = el('div', { class: 'chip-frame' });
    var alt = 'Satellite image chip of lead ' + lead.id + (lead.cls ? ' (' + lead.cls + ')' : '') +
      ', ' + LEVEL_LABEL[lead.level].toLowerCase() + ' risk, centred on ' + centreText +
      (isNum(widthM) ? ', ' + fmtLen(widthM) + ' across' : '');
    if (lead.chip) {
      var img = el('img', { src: lead.chip, alt: alt, id: 'chip-img', decoding: 'async', title: 'Click to enlarge' });
      img.addEventListener('load', function () {
        frame.classList.add('loaded');
        if (img.naturalWidth && img.naturalWidth <= img.getBoundingClientRect().width) img.classList.add('pixelated');
      });
      img.addEventListener('error', function () {
        clear(frame);
        frame.classList.add('empty');
        frame.appendChild(el('div', { class: 'chip-missing', role: 'img', 'aria-label': 'Image chip missing' },
          el('div', null, 'The image chip could not be loaded.', el('span', { class: 'mono' }, lead.chip))));
      });
      img.addEventListener('click', function () { openLightbox(lead, img.src, alt, captionText() + (bandsText ? ' · bands: ' + bandsText : '')); });
      frame.appendChild(img);
    } else {
      frame.classList.add('empty');
      var hasNotes = Array.isArray(state.data.notes) && state.data.notes.length;
      frame.appendChild(el('div', { class: 'chip-missing', role: 'img', 'aria-label': 'No image chip for this lead', id: 'chip-missing' },
        el('div', null, 'No image chip for this lead.',
          hasNotes ? el('span', { class: 'sub' }, 'Scan provenance lists why chips may be missing.') : null)));
    }
    function captionText() {
      var bits = ['Centre ' + centreText];
      if (isNum(scaleM)) bits.push(smartNum(scaleM) + ' m pixels');
      if (isNum(widthM)) bits.push(fmtLen(widthM) + ' across');
      bits.push('risk ' + fixed(lead.risk, 2) + ' (' + LEVEL_LABEL[lead.level].toLowerCase() + ')');
      return bits.join(' · ');
    }
    var bandsText = typeof ci.bands === 'string' ? ci.bands : Array.isArray(ci.bands) ? ci.bands.join(', ') : '';
    var diff = state.data.diff && typeof state.data.diff === 'object' ? state.data.diff : null;
    var afterFigure = el('figure', { class: 'chip' }, diff ? el('div', { class: 'chip-when', id: 'chip-when-after' }, whenText('after')) : null, frame,
      el('figcaption', { id: 'chip-caption' }, captionText(),
        bandsText ? el('div', { class: 'sub' }, 'Bands: ' + bandsText) : null));
    // The output of `riskmap diff`: the place on both dates, side by side (before left).
    body.appendChild(diff ? el('div', { class: 'chip-pair', id: 'chip-pair' }, beforeFigure(), afterFigure) : afterFigure);
    function whenText(side) {
      var d = lead.props['date_' + side] || (diff[side] && diff[side].date) || 'date unknown';
      return (side === 'before' ? 'Before' : 'After') + ' \u00b7 ' + d;
    }
    function beforeFigure() {
      var src = typeof lead.props.chip_before === 'string' && lead.props.chip_before !== '' ? lead.props.chip_before : null;
      var bframe = el('div', { class: 'chip-frame' + (src ? '' : ' empty') });
      var balt = 'Satellite image chip of the place of ' + lead.id + ' before, ' + whenText('before').toLowerCase();
      if (src) {
        var bimg = el('img', { src: src, alt: balt, id: 'chip-img-before', decoding: 'async', title: 'Click to enlarge' });
        bimg.addEventListener('load', function () { bframe.classList.add('loaded'); });
        bimg.addEventListener('click', function () { openLightbox(lead, bimg.src, balt, whenText('before')); });
        bframe.appendChild(bimg);
      } else {
        bframe.appendChild(el('div', { class: 'chip-missing', role: 'img', 'aria-label': 'No image chip before', id: 'chip-missing-before' },
          el('div', null, 'No image of the place before.')));
      }
      return el('figure', { class: 'chip chip-before' }, el('div', { class: 'chip-when', id: 'chip-when-before' }, whenText('before')), bframe);
    }

    // Coordinates.
    if (centre) {
      var latlon = centre[1].toFixed(5) + ', ' + centre[0].toFixed(5);
      body.appendChild(el('div', { class: 'coords' },
        el('div', null, el('div', { class: 'lbl' }, 'Lat, lon (WGS 84)' + (lead.chipInfo && lead.chipInfo.centre ? ', chip centre' : ', centroid')),
          el('span', { class: 'mono', id: 'detail-coords' }, latlon)),
        copyButton('Copy coordinates', function () { return latlon; }, 'the coordinates')));
    }

    // Risk factors.
    body.appendChild(el('section', { class: 'detail-section' }, el('h3', null, 'Risk factors'),
      lead.factors.length
        ? el('ul', { class: 'factors level-' + lead.level }, lead.factors.map(function (f) { return el('li', null, f); }))
        : el('p', { class: 'none' }, 'No risk factors recorded.')));

    // Every attribute.
    var rows = [];
    Object.keys(p).forEach(function (k) {
      if (DETAIL_SKIP[k]) return;
      var v = p[k];
      if (k === 'chip_info' && v && typeof v === 'object') {
        Object.keys(v).forEach(function (kk) {
          var vv = v[kk];
          var txt = kk === 'centre' && Array.isArray(vv) && vv.length >= 2 && isNum(vv[0]) && isNum(vv[1])
            ? vv[0].toFixed(5) + ', ' + vv[1].toFixed(5) + ' (lon, lat)' : fmtValue(kk, vv);
          rows.push(el('tr', null, el('th', { scope: 'row' }, breakable('chip_info.' + kk)), el('td', { title: rawTitle(vv) }, txt)));
        });
        return;
      }
      rows.push(el('tr', null, el('th', { scope: 'row' }, breakable(k)), el('td', { title: rawTitle(v) }, fmtValue(k, v))));
    });
    var g = lead.feature && lead.feature.geometry;
    rows.push(el('tr', null, el('th', { scope: 'row' }, 'geometry'),
      el('td', null, g ? g.type + (lead.info ? ', ' + lead.info.vertices + ' vertices' : '') : 'none')));
    body.appendChild(el('section', { class: 'detail-section' }, el('h3', null, 'All attributes'),
      el('table', { class: 'attrs' }, el('tbody', null, rows))));

    $('detail').scrollTop = 0;
  }

  function openLightbox(lead, src, alt, caption) {
    var dlg = $('lightbox');
    if (!dlg || typeof dlg.showModal !== 'function') return;
    var img = $('lightbox-img');
    img.src = src;
    img.alt = alt;
    $('lightbox-caption').textContent = lead.id + ' · ' + caption;
    dlg.showModal();
  }

  /* ----------------------------------------------------------------- start */

  function start() {
    var data = window.RISKMAP_DATA;
    if (!data || typeof data !== 'object') {
      fatal('The report data (data.js, next to index.html) is missing or could not be read.');
      return;
    }
    if (!window.L || !L.map) {
      fatal('The map library (vendor/leaflet/leaflet.js) is missing.');
      return;
    }
    var manifest = data.manifest && typeof data.manifest === 'object' ? data.manifest : {};
    state.data = data;
    state.leads = buildLeads(data.detections);
    state.leads.forEach(function (l) { state.byId[l.id] = l; });

    renderHeader(data, manifest);
    renderProvenance(data, manifest);
    initProvenanceToggle();
    initMap(data);
    initTable();
    refresh();

    document.addEventListener('keydown', function (e) {
      if (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
      if (e.key === '/' && !e.ctrlKey && !e.metaKey) { e.preventDefault(); $('filter-text').focus(); }
    });

    window.riskmapReport = { select: function (id) { var l = state.byId[id]; if (l) select(l, { zoom: true }); } };
    document.documentElement.setAttribute('data-ready', 'true');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
