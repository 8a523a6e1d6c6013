"""Is the score still a probability at coarse pixels?  /usr/bin/python3 gsd_calibration.py

The Platt maps in model.json were fitted on detections in the 10 m dev chips. At ~19 m (the chips
2x block-averaged, `down2`) a kiln is 5 x 3 pixels and the same logit is weaker evidence. This
script fits the maps again on the down2 detections, leave-one-district-out exactly as
experiment.calibrate_lodo does for 10 m (a district's own labels never calibrate it), and reports:
- down2 LODO P/R at the operating points with the 10 m maps and with the coarse maps;
- reliability of both on down2;
- the pooled coarse maps (what the detector would ship for ~19 m grids);
- the kiln-free Sundarbans scene (18.5 m) with both maps. The scene is only evaluated, never fitted.
Writes gsd_calibration.json.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import experiment as E  # noqa: E402
import kiln as K  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = {'high_precision': 0.7, 'balanced': 0.4, 'high_recall': 0.2}


def maps_lodo(dets, st, holdout=None):
    """Colour and colour-free Platt maps from detections' (logit, status), one district held out."""
    def data(mode, key):
        sel = [x for x in dets if st.get(id(x)) in ('tp', 'fp') and x['mode'] == mode
               and (holdout is None or x['district'] != holdout)]
        return [x[key] for x in sel], [1 if st[id(x)] == 'tp' else 0 for x in sel]
    return {'colour': E.platt_fit({'c': data('colour', 'logit')})['c'],
            'free': E.platt_fit({'f': data('free', 'logit')})['f']}


def with_maps(dets, maps_by_district, key):
    for x in dets:
        A, B = maps_by_district[x['district']][x['mode']]
        x[key] = 1 / (1 + math.exp(-(A * x['logit'] + B)))


def table(dets, key):
    row = {}
    for name, t in OPS.items():
        r, _ = E.match(dets, value=key, thr=t)
        tp, fp, fn = r['all']
        P, R, F = C.prf(tp, fp, fn)
        row[name] = {'tp': tp, 'fp': fp, 'fn': fn, 'P': round(P, 3), 'R': round(R, 3)}
    return row


def sundarbans(final, maps):
    S = C.load_sundarbans()
    area = C.area_km2(S)
    out = {}
    for name, m in maps.items():
        final.d['platt'] = m
        dets, _ = K.detect(S, final, min_probability=0.2)
        out[name] = {'area_km2': round(area, 1),
                     'detections': [{'p': round(d['probability'], 3), 'mode': d['mode'],
                                     'lon': round(d['lon'], 5), 'lat': round(d['lat'], 5)} for d in dets]}
        for op, t in OPS.items():
            n = sum(d['probability'] >= t for d in dets)
            out[name][op] = {'n': n, 'per_km2': round(n / area, 4)}
    return out


def main():
    out, models, pooled10, dets = E.run_lodo_all(['orig', 'down2'])
    d2 = dets['down2']
    R = {'maps_10m': pooled10}
    R['down2_with_10m_maps'] = table(d2, 'prob')
    _, st_all = E.match(d2, value='prob', thr=None)
    R['reliability_down2_10m_maps'] = E.reliability(d2, st_all)
    per = {d: maps_lodo(d2, st_all, holdout=d) for d in C.DISTRICTS}
    with_maps(d2, per, 'prob_coarse')
    R['down2_with_coarse_maps_lodo'] = table(d2, 'prob_coarse')
    _, st_c = E.match(d2, value='prob_coarse', thr=None)
    coarse = [dict(x, prob=x['prob_coarse']) for x in d2]  # E.reliability reads 'prob'
    st_copy = {id(c): st_c.get(id(x)) for c, x in zip(coarse, d2)}
    R['reliability_down2_coarse_maps'] = E.reliability(coarse, st_copy)
    R['maps_coarse_per_fold'] = per
    R['maps_coarse_pooled'] = maps_lodo(d2, st_all)
    R['gsd_down2_m'] = sorted({round(x['gx'], 2) for x in d2})
    final = E.fit_model(E.candidates_for('orig'))
    R['sundarbans'] = sundarbans(final, {'10m': pooled10, 'coarse': R['maps_coarse_pooled']})
    json.dump(R, open(os.path.join(HERE, 'gsd_calibration.json'), 'w'), indent=1)
    print(json.dumps({k: v for k, v in R.items() if not k.startswith('reliability')}, indent=1))


if __name__ == '__main__':
    main()
