"""Reproduces every figure in REPORT.md:  /usr/bin/python3 experiment.py  [--fresh] [--quick]

Leave-one-district-out (LODO): for each district d, the model (two-stage logistic and its Platt
calibration) is fitted on candidates of the other two districts' original chips only; the
held-out district is then scored in every variant. Variants are made in code from the chips.
"""
import argparse
import hashlib
import json
import math
import os
import pickle
import sys
import time

import cv2
import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import kiln as K  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, 'cache')
SEED = 7

# ------------------------------------------------------------------ candidates

_chips = None


def chips():
    global _chips
    if _chips is None:
        _chips = C.load_chips()
    return _chips


def _key(variant, params):
    h = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return f'{variant}-{h}'


def candidates_for(variant, params=None, fresh=False):
    """Candidates with features for every chip of a variant; labelled by the 60 m rule."""
    params = dict(K.DEFAULTS, **(params or {}))
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, _key(variant, params) + '.pkl')
    if os.path.exists(path) and not fresh:
        return pickle.load(open(path, 'rb'))
    out = []
    base_variant, with_colour = (variant[:-len('-nocolour')], False) if variant.endswith('-nocolour') else (variant, True)
    for c in chips():
        im = C.make_variant(c, base_variant)
        g, cs = K.extract(im, params, with_colour=with_colour)
        for f in cs:
            f['lon'], f['lat'] = im.lonlat(f['col'], f['row'])
            dc = min([C._dist_m(f['lon'], f['lat'], l['lon'], l['lat']) for l in c.labels if not l['difficult']] or [1e9])
            dd = min([C._dist_m(f['lon'], f['lat'], l['lon'], l['lat']) for l in c.labels if l['difficult']] or [1e9])
            f['lab'] = 1 if dc <= 60 else (-1 if dd <= 60 else 0)
            f['chip'], f['district'], f['variant'] = c.name, c.district, variant
            f['gx'], f['gy'], f['gw'] = g.gx, g.gy, g.w
            out.append(f)
    pickle.dump(out, open(path, 'wb'))
    return out


# ------------------------------------------------------------------ logistic with an offset

def fit_logistic(X, y, offset=None, l2=1.0, balanced=True):
    """min sum_i w_i logloss(y_i, o_i + b0 + b.x_i) + l2/2 |b|^2  (x standardised by the caller).
    Balanced: w = N / (2 N_class), as sklearn's class_weight='balanced'."""
    n, k = X.shape
    o = np.zeros(n) if offset is None else offset
    if balanced:
        npos = y.sum()
        w = np.where(y == 1, n / (2 * npos), n / (2 * (n - npos)))
    else:
        w = np.ones(n)

    def fun(t):
        s = o + t[0] + X @ t[1:]
        ls = np.logaddexp(0, -s) * y + np.logaddexp(0, s) * (1 - y)
        pr = 1 / (1 + np.exp(-s))
        gr = w * (pr - y)
        val = (w * ls).sum() + 0.5 * l2 * (t[1:] ** 2).sum()
        grad = np.concatenate([[gr.sum()], X.T @ gr + l2 * t[1:]])
        return val, grad

    r = minimize(fun, np.zeros(k + 1), jac=True, method='L-BFGS-B')
    return r.x[0], r.x[1:]


def _mat(cands, feats):
    return np.array([[c[f] for f in feats] for c in cands], float)


def fit_model(train, free=K.FREE_FEATURES, colour=K.COLOUR_FEATURES, l2=1.0):
    """Stage 1: logistic on colour-free features. Stage 2: logistic on colour features with the
    stage-1 logit as offset (colour candidates only). Platt is added by the caller."""
    tr = [c for c in train if c['lab'] >= 0]
    # stage 1 sees only what a greyscale image yields: brightness-source candidates
    trf = [c for c in tr if c['source'] != 'chroma']
    y = np.array([c['lab'] for c in trf], float)
    X = _mat(trf, free)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    b0, b = fit_logistic((X - mu) / sd, y, l2=l2)
    d = {'free': {'features': list(free), 'coef': b.tolist(), 'intercept': float(b0),
                  'mean': mu.tolist(), 'sd': sd.tolist()}}
    if colour:
        trc = [c for c in tr if c['has_colour']]
        yc = np.array([c['lab'] for c in trc], float)
        off = b0 + ((_mat(trc, free) - mu) / sd) @ b
        Xc = _mat(trc, colour)
        muc, sdc = Xc.mean(0), Xc.std(0) + 1e-9
        c0, cb = fit_logistic((Xc - muc) / sdc, yc, offset=off, l2=l2)
        d['colour'] = {'features': list(colour), 'coef': cb.tolist(), 'intercept': float(c0),
                       'mean': muc.tolist(), 'sd': sdc.tolist()}
    d['platt'] = {'free': [1.0, 0.0], 'colour': [1.0, 0.0]}
    return K.Model(d)


def score(model, cands):
    for c in cands:
        lf, l, mode = model.logits(c)
        c['logit_free'], c['logit'], c['mode'] = lf, l, mode


# ------------------------------------------------------------------ detection-level evaluation

def detections(cands, key='logit', keep=None, params=None, body_first=True):
    """Gates, then NMS per chip ordered by `key`, before any score threshold (a threshold applied
    afterwards gives the same detections as thresholding first, since NMS keeps the stronger one).
    `keep(c)` may drop candidates first (e.g. a verifier)."""
    p = dict(K.DEFAULTS, **(params or {}))
    by = {}
    for c in cands:
        if 'rejected_by' in c or (keep is not None and not keep(c)):
            continue
        by.setdefault(c['chip'], []).append(c)
    out = []
    for name, cs in by.items():
        if body_first:
            kb, _ = K.body_choice(cs, p, cs[0]['gx'], cs[0]['gy'], cs[0]['gw'])
            cs = [cs[i] for i in sorted(kb)]
        kept, _ = K.nms(cs, p, lambda c: c[key], cs[0]['gx'], cs[0]['gy'], cs[0]['gw'])
        out += [cs[i] for i in kept]
    return out


def match(dets, chip_list=None, value='prob', thr=None):
    """Counts (tp, fp, fn) per district and overall for detections with dets[value] >= thr."""
    chip_list = chip_list or chips()
    res = {}
    status = {}
    by = {}
    for d in dets:
        if thr is None or d[value] >= thr:
            by.setdefault(d['chip'], []).append(d)
    for c in chip_list:
        ds = by.get(c.name, [])
        tp, fp, fn, dst, tst = C.match_chip([{'lon': d['lon'], 'lat': d['lat'], 'score': d[value]} for d in ds], c.labels)
        for d, s in zip(ds, dst):
            status[id(d)] = s
        for k in (c.district, 'all'):
            t = res.setdefault(k, [0, 0, 0])
            t[0] += tp
            t[1] += fp
            t[2] += fn
    return res, status


def platt_fit(dets_by_mode):
    """Platt scaling on detection-level statuses (tp=1, fp=0; ignored left out), unweighted."""
    out = {}
    for mode, (logits, ys) in dets_by_mode.items():
        if len(ys) < 5 or min(sum(ys), len(ys) - sum(ys)) < 2:
            out[mode] = [1.0, 0.0]
            continue
        X = np.array(logits)[:, None]
        # Platt (1999) target smoothing: y+ = (N+ + 1)/(N+ + 2), y- = 1/(N- + 2)
        ys = np.array(ys, float)
        npos, nneg = ys.sum(), len(ys) - ys.sum()
        t = np.where(ys == 1, (npos + 1) / (npos + 2), 1 / (nneg + 2))
        a0, a = fit_logistic(X, t, l2=1e-3, balanced=False)
        out[mode] = [float(a[0]), float(a0)]
    return out


def platt_data(dets, status, mode_override=None):
    d = {'free': ([], []), 'colour': ([], [])}
    for x in dets:
        s = status.get(id(x))
        if s in ('tp', 'fp'):
            m = mode_override or x['mode']
            d[m][0].append(x['logit'] if m == 'colour' else x['logit_free'])
            d[m][1].append(1 if s == 'tp' else 0)
    return d


def prob(model, x):
    A, B = model.d['platt'][x['mode']]
    return 1 / (1 + math.exp(-(A * x['logit'] + B)))


# ------------------------------------------------------------------ LODO

def lodo(variants, params=None, free=K.FREE_FEATURES, colour=K.COLOUR_FEATURES, l2=1.0, verifier=None):
    """Returns {variant: [detections with 'prob' for all districts]} and the per-fold models.

    Calibration (calibrate_lodo): for held-out district d the Platt maps are fitted on the
    out-of-fold detections of the two other districts; d's labels are never used for d."""
    base = candidates_for('orig', params)
    out = {v: [] for v in variants}
    models = {}
    for d in C.DISTRICTS:
        train = [c for c in base if c['district'] != d]
        m = fit_model(train, free, colour, l2)
        models[d] = m
        for v in variants:
            cs = [c for c in candidates_for(v, params) if c['district'] == d]
            score(m, cs)
            if verifier is not None:
                verifier(d, train, cs)
            out[v] += cs
    return out, models


def calibrate_lodo(cands_orig, models, params=None):
    """Platt maps per held-out district d, fitted on the out-of-fold detections of the other two
    districts (orig chips; d's labels are never used for d):
    - colour mode: NMS over all candidates by the full logit;
    - colour-free mode: what a greyscale image yields, simulated on the same chips: NMS over the
      brightness-source candidates by the colour-free logit.
    Returns the pooled maps (all three districts' out-of-fold detections) for the final model."""
    dets_c = detections(cands_orig, key='logit', params=params)
    _, st_c = match(dets_c, value='logit', thr=None)
    dets_f = detections(cands_orig, key='logit_free', params=params, keep=lambda c: c['source'] != 'chroma')
    _, st_f = match(dets_f, value='logit_free', thr=None)

    def data(dets, st, key, dist=None):
        sel = [x for x in dets if st.get(id(x)) in ('tp', 'fp') and (dist is None or x['district'] != dist)]
        return [x[key] for x in sel], [1 if st[id(x)] == 'tp' else 0 for x in sel]

    for d in C.DISTRICTS:
        models[d].d['platt'] = {'colour': platt_fit({'c': data(dets_c, st_c, 'logit', d)})['c'],
                                'free': platt_fit({'f': data(dets_f, st_f, 'logit_free', d)})['f']}
    return {'colour': platt_fit({'c': data(dets_c, st_c, 'logit')})['c'],
            'free': platt_fit({'f': data(dets_f, st_f, 'logit_free')})['f']}


def assign_prob(cands, models, key='prob'):
    for c in cands:
        m = models[c['district']]
        A, B = m.d['platt'][c['mode']]
        c[key] = 1 / (1 + math.exp(-(A * c['logit'] + B)))


def fmt(t):
    tp, fp, fn = t
    p, r, f = C.prf(tp, fp, fn)
    return f'{tp:3d} {fp:3d} {fn:3d}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}'


# ------------------------------------------------------------------ verifier (OpenCV RTrees)

RT_FREE = K.FREE_FEATURES + ['c_len', 'c_elong', 'c_core', 'c_zin', 'c_tex', 'c_edge', 'c_open', 'y_in', 'y_out',
                             'b_dist', 'bb_area', 'bb_len', 'bb_wid', 'valid_frac', 'sdL']
RT_COLOUR = RT_FREE + K.COLOUR_FEATURES + ['cc', 'cb_len', 'cb_wid']


def rtrees_fit(train, feats, seed=SEED, ntrees=100, depth=8, min_samples=5):
    """Balanced (positives replicated to match negatives) random forest, deterministic for a seed."""
    tr = [c for c in train if c['lab'] >= 0]
    X = _mat(tr, feats).astype(np.float32)
    y = np.array([c['lab'] for c in tr], np.int32)
    pos, neg = np.nonzero(y == 1)[0], np.nonzero(y == 0)[0]
    rep = np.concatenate([neg] + [pos] * max(1, int(round(len(neg) / max(len(pos), 1)))))
    cv2.setRNGSeed(seed)
    m = cv2.ml.RTrees_create()
    m.setMaxDepth(depth)
    m.setMinSampleCount(min_samples)
    m.setActiveVarCount(max(1, int(round(math.sqrt(len(feats))))))
    m.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER, ntrees, 0))
    m.train(cv2.ml.TrainData_create(X[rep], cv2.ml.ROW_SAMPLE, y[rep]))
    return m


def rtrees_votes(m, cands, feats):
    if not cands:
        return
    X = _mat(cands, feats).astype(np.float32)
    v = m.getVotes(X, 0)
    labels = list(v[0])
    k1 = labels.index(1) if 1 in labels else None
    vv = v[1:].astype(float)
    frac = vv[:, k1] / np.maximum(vv.sum(1), 1) if k1 is not None else np.zeros(len(cands))
    for c, f in zip(cands, frac):
        c['rt'] = float(f)


def rtrees_lodo(out):
    """Grouped CV by district: per fold a colour-free forest (brightness candidates) and a colour
    forest (colour candidates); each candidate gets the vote share of its mode's forest."""
    base = candidates_for('orig')
    folds = {}
    for d in C.DISTRICTS:
        train = [c for c in base if c['district'] != d]
        mf = rtrees_fit([c for c in train if c['source'] != 'chroma'], RT_FREE)
        mc = rtrees_fit([c for c in train if c['has_colour']], RT_COLOUR)
        folds[d] = (mf, mc)
        for v, cs in out.items():
            sub = [c for c in cs if c['district'] == d]
            rtrees_votes(mf, [c for c in sub if not c['has_colour']], RT_FREE)
            rtrees_votes(mc, [c for c in sub if c['has_colour']], RT_COLOUR)
    return folds


# ------------------------------------------------------------------ the report

DEFAULT_THR = K.DEFAULTS['min_probability']
OPS = {'high_precision': 0.7, 'balanced': 0.4, 'high_recall': 0.2}


def table_row(name, res):
    return {'set': name, **{k: dict(zip(('tp', 'fp', 'fn', 'P', 'R', 'F1'), (*res[k], *[round(x, 3) for x in C.prf(*res[k])])))
                            for k in ['all'] + C.DISTRICTS}}


def run_lodo_all(variants, params=None, with_rt=False):
    out, models = lodo(variants, params)
    pooled = calibrate_lodo(out['orig'], models, params)
    dets = {}
    for v in variants:
        assign_prob(out[v], models)
        dets[v] = detections(out[v], params=params)
    return out, models, pooled, dets


def reliability(dets, status, bins=(0, 0.2, 0.4, 0.6, 0.8, 1.0001)):
    rows = []
    for a, b in zip(bins[:-1], bins[1:]):
        sel = [d for d in dets if a <= d['prob'] < b and status.get(id(d)) in ('tp', 'fp')]
        if sel:
            rows.append({'bin': f'{a:.1f}-{min(b, 1):.1f}', 'n': len(sel), 'mean_p': round(float(np.mean([d['prob'] for d in sel])), 3),
                         'precision': round(sum(status[id(d)] == 'tp' for d in sel) / len(sel), 3)})
    ys = [1 if status.get(id(d)) == 'tp' else 0 for d in dets if status.get(id(d)) in ('tp', 'fp')]
    ps = [d['prob'] for d in dets if status.get(id(d)) in ('tp', 'fp')]
    return rows, round(float(np.mean((np.array(ps) - np.array(ys)) ** 2)), 4)


def failures(dets, cands, thr):
    r, st = match(dets, value='prob', thr=thr)
    out = []
    for d in dets:
        if d['prob'] >= thr and st.get(id(d)) == 'fp':
            out.append({'kind': 'FP', 'chip': d['chip'], 'row': round(d['row'], 1), 'col': round(d['col'], 1),
                        'p': round(d['prob'], 3), 'source': d['source'],
                        **{k: round(d[k], 2) for k in K.FREE_FEATURES + K.COLOUR_FEATURES}})
    for c in chips():
        ds = [d for d in dets if d['chip'] == c.name and d['prob'] >= thr]
        _, _, _, _, tst = C.match_chip([{'lon': d['lon'], 'lat': d['lat'], 'score': d['prob']} for d in ds], c.labels)
        for l, s in zip(c.labels, tst):
            if s != 'fn':
                continue
            near = sorted([(C._dist_m(x['lon'], x['lat'], l['lon'], l['lat']), x) for x in cands if x['chip'] == c.name],
                          key=lambda t: t[0])
            row = {'kind': 'FN', 'chip': c.name, 'uid': l['uid'], 'edge': l['edge'], 'label_col': l['col'], 'label_row': l['row']}
            if near:
                dm, x = near[0]
                why = x.get('rejected_by')
                if why is None:
                    if x['prob'] < thr:
                        why = ('probability', round(x['prob'], 3), thr)
                    elif any(x is d for d in dets):
                        why = ('matched elsewhere', None, None)
                    else:
                        why = ('nms', None, None)
                row.update({'nearest_candidate_m': round(dm, 1), 'candidate_p': round(x['prob'], 3), 'why': list(why),
                            **{k: round(x[k], 2) for k in ['b_peak', 'ccz', 'cc_yard', 'cb_mis', 'bb_mis', 'ln_area']}})
            out.append(row)
    return out


def sundarbans(model, thresholds=(0.2, 0.4, 0.7)):
    S = C.load_sundarbans()
    A = C.area_km2(S)
    Sg = C.grey_sundarbans(S)
    cases = [('RGB+NIR+SWIR1', S), ('greyscale RGB + NIR + SWIR1', Sg),
             ('RGB only', C.Image('s', S.rgb, S.gt, valid=S.valid)),
             ('greyscale RGB only', C.Image('s', Sg.rgb, S.gt, valid=S.valid))]
    rows = []
    for name, img in cases:
        g, cands = K.extract(img)
        for c in cands:
            c['probability'], c['logit'], c['mode'] = model.probability(c)
        row = {'case': name, 'area_km2': round(A, 1), 'candidates': len(cands), 'candidates_per_km2': round(len(cands) / A, 1)}
        for t in thresholds:
            dets, _ = K.detect(img, model, min_probability=t)
            row[f'p>={t}'] = {'n': len(dets), 'per_km2': round(len(dets) / A, 3),
                              'detections': [{'p': round(d['probability'], 2), 'lon': round(d['lon'], 5), 'lat': round(d['lat'], 5),
                                              'ndvi': round(d.get('ndvi', float('nan')), 2), 'mode': d['mode']} for d in dets]}
        rows.append(row)
    return rows


SWEEPS = [
    ('min_peak_sd', [0.6, 1.0, 1.2]),
    ('min_chroma', [0.08, 0.16, None]),
    ('region_sd', [0.5, 0.9]),
    ('kiln_sigma_m', [15.0, 25.0]),
    ('background_window_m', [300.0, 600.0]),
    ('window_m', [200.0, 300.0]),
    ('cand_nms_m', [30.0, 50.0]),
    ('body_len_m', [100.0, 160.0]),
    ('body_wid_m', [60.0, 100.0]),
    ('sd_floor', [0.02, 0.1]),
]
NMS_SWEEPS = [('det_nms_m', [90.0, 150.0, 200.0]), ('complex_nms_m', [0.0, 100.0, 200.0])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fresh', action='store_true', help='recompute cached candidates')
    ap.add_argument('--quick', action='store_true', help='skip the sensitivity sweeps')
    a = ap.parse_args()
    if a.fresh and os.path.isdir(CACHE):
        for f in os.listdir(CACHE):
            os.remove(os.path.join(CACHE, f))
    t0 = time.time()
    R = {'defaults': K.DEFAULTS, 'features': {'free': K.FREE_FEATURES, 'colour': K.COLOUR_FEATURES}}
    variants = C.VARIANTS + ['orig-nocolour']
    out, models, pooled, dets = run_lodo_all(variants)
    print(f'LODO done {time.time() - t0:.0f}s', flush=True)

    # 1. every variant at the default operating point, per district and pooled
    R['lodo_default'] = []
    for v in variants:
        r, _ = match(dets[v], value='prob', thr=DEFAULT_THR)
        R['lodo_default'].append(table_row(v, r))
        print(f'{v:9s} {fmt(r["all"])}  ' + '  '.join(f'{d[:3]} {r[d][0]}/{r[d][1]}/{r[d][2]}' for d in C.DISTRICTS), flush=True)
    # 2. operating points
    R['operating_points'] = {}
    for name, t in OPS.items():
        R['operating_points'][name] = {'min_probability': t}
        for v in ['orig', 'grey', 'hue+60', 'hue-60']:
            r, _ = match(dets[v], value='prob', thr=t)
            R['operating_points'][name][v] = table_row(v, r)
    # PR sweep (orig, grey, hue+60)
    R['pr_curve'] = {}
    for v in ['orig', 'grey', 'hue+60']:
        pts = []
        for t in [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]:
            r, _ = match(dets[v], value='prob', thr=t)
            pts.append([t, *r['all'], *[round(x, 3) for x in C.prf(*r['all'])]])
        R['pr_curve'][v] = pts
    # 3. calibration
    _, st = match(dets['orig'], value='prob', thr=None)
    R['reliability_orig'], R['brier_orig'] = reliability(dets['orig'], st)
    _, stg = match(dets['grey'], value='prob', thr=None)
    R['reliability_grey'], R['brier_grey'] = reliability(dets['grey'], stg)
    R['platt_pooled'] = pooled
    R['platt_per_fold'] = {d: models[d].d['platt'] for d in C.DISTRICTS}
    # 4. the final model: all three districts, pooled out-of-fold Platt
    final = fit_model(candidates_for('orig'))
    final.d['platt'] = pooled
    json.dump(final.d, open(os.path.join(HERE, 'model.json'), 'w'), indent=1)
    R['final_model'] = final.d
    R['fold_models'] = {d: {k: models[d].d[k] for k in ('free', 'colour')} for d in C.DISTRICTS}
    # 5. failure cases at the default point
    R['failures'] = {v: failures(dets[v], out[v], DEFAULT_THR) for v in ['orig', 'grey', 'hue+60', 'yiq+60', 'up10', 'down2']}
    # 6. Sundarbans
    R['sundarbans'] = sundarbans(final)
    for row in R['sundarbans']:
        print('Sundarbans', row['case'], {k: v['per_km2'] for k, v in row.items() if k.startswith('p>=')}, flush=True)
    # 7. verifier
    folds = rtrees_lodo(out)
    R['verifier'] = []
    for v in ['orig', 'grey', 'hue+60', 'yiq+60', 'up3', 'down2']:
        row = {'set': v}
        r, _ = match(dets[v], value='prob', thr=DEFAULT_THR)
        row['lr'] = [*r['all'], *[round(x, 3) for x in C.prf(*r['all'])]]
        drt = detections(out[v], key='rt')
        for t in (0.5, 0.7):
            r, _ = match(drt, value='rt', thr=t)
            row[f'rt>={t}'] = [*r['all'], *[round(x, 3) for x in C.prf(*r['all'])]]
        dboth = detections(out[v], keep=lambda c: c['rt'] >= 0.5)
        r, _ = match(dboth, value='prob', thr=DEFAULT_THR)
        row['lr+rt veto'] = [*r['all'], *[round(x, 3) for x in C.prf(*r['all'])]]
        R['verifier'].append(row)
        print('verifier', row, flush=True)
    # 8. candidates per km2 (cost)
    km2 = sum(c.valid.sum() * c.gsd_x * c.gsd_y for c in chips()) / 1e6
    R['candidates_per_km2'] = {v: round(len(out[v]) / km2, 1) for v in variants}
    R['candidate_sources'] = {v: {s: sum(c['source'] == s for c in out[v]) for s in ('bright', 'chroma', 'both')} for v in ['orig', 'grey']}
    # 9. candidate-stage recall (a candidate body within 60 m of each certain kiln, before scoring)
    R['candidate_recall'] = {}
    for v in variants:
        hit = tot = 0
        for c in chips():
            for l in c.labels:
                if l['difficult']:
                    continue
                tot += 1
                hit += any(x['chip'] == c.name and C._dist_m(x['lon'], x['lat'], l['lon'], l['lat']) <= 60 for x in out[v])
        R['candidate_recall'][v] = f'{hit}/{tot}'
    # 10. NMS parameter sweeps (no re-extraction)
    R['sweeps'] = []
    for name, vals in NMS_SWEEPS:
        for val in vals:
            row = {'param': name, 'value': val}
            for v in ['orig', 'grey', 'hue+60']:
                dd = detections(out[v], params={name: val})
                r, _ = match(dd, value='prob', thr=DEFAULT_THR)
                row[v] = [*r['all'], *[round(x, 3) for x in C.prf(*r['all'])]]
            R['sweeps'].append(row)
            print('sweep', row, flush=True)
    # 11. parameter sweeps with re-extraction and re-fitting (LODO)
    if not a.quick:
        for name, vals in SWEEPS:
            for val in vals:
                o2, m2, p2, d2 = run_lodo_all(['orig', 'grey', 'hue+60'], params={name: val})
                row = {'param': name, 'value': val}
                for v in ['orig', 'grey', 'hue+60']:
                    r, _ = match(d2[v], value='prob', thr=DEFAULT_THR)
                    row[v] = [*r['all'], *[round(x, 3) for x in C.prf(*r['all'])]]
                R['sweeps'].append(row)
                print('sweep', row, flush=True)
    # 12. explain example
    c = [c for c in chips() if c.name == 'tangail_demo_tile_07'][0]
    dd, rej = K.detect(c, final)
    R['explain_example'] = {'chip': c.name, 'detections': [{'row': round(d['row'], 1), 'col': round(d['col'], 1), 'p': round(d['probability'], 3)} for d in dd],
                            'rejected': [{'row': round(x['row'], 1), 'col': round(x['col'], 1), 'rejected_by': x['rejected_by'][0],
                                          'value': None if x['rejected_by'][1] is None else round(float(x['rejected_by'][1]), 3),
                                          'limit': x['rejected_by'][2]} for x in rej]}
    # 13. the existing C++ detector on the same variants (for comparison; binary not rebuilt)
    if os.path.exists(os.environ.get('RISKMAP_BASELINE', '/work/snap/riskmap')):
        import baseline
        R['baseline_cpp'] = {v: {k: list(t) for k, t in r.items()} for v, r in baseline.run(C.VARIANTS).items()}
    R['runtime_s'] = round(time.time() - t0, 1)
    json.dump(R, open(os.path.join(HERE, 'results.json'), 'w'), indent=1, default=str)
    print(f'done in {R["runtime_s"]} s; results.json, model.json written')


if __name__ == '__main__':
    main()
