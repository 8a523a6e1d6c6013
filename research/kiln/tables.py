"""Prints the markdown tables of REPORT.md from results.json:  /usr/bin/python3 tables.py"""
import json
import os

R = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results.json')))
D = ['jessore', 'manikganj', 'tangail']


def c(r):
    return f"{r['tp']}/{r['fp']}/{r['fn']}"


def pr(r):
    return f"{r['P']:.3f} / {r['R']:.3f}"


print('### LODO at the default operating point (p >= %s)\n' % R['defaults']['min_probability'])
print('| set | TP/FP/FN | P / R | jessore | manikganj | tangail | C++ today TP/FP/FN (P / R) |')
print('|---|---|---|---|---|---|---|')
for row in R['lodo_default']:
    b = R.get('baseline_cpp', {}).get(row['set'], {}).get('all')
    bs = ''
    if b:
        tp, fp, fn = b
        p = tp / (tp + fp) if tp + fp else 1.0
        rr = tp / (tp + fn)
        bs = f'{tp}/{fp}/{fn} ({p:.2f} / {rr:.2f})'
    print(f"| {row['set']} | {c(row['all'])} | {pr(row['all'])} | " + ' | '.join(f"{c(row[d])} ({pr(row[d])})" for d in D) + f' | {bs} |')
print('\n### Operating points\n')
print('| point | min p | orig | grey | hue+60 | hue-60 |')
print('|---|---|---|---|---|---|')
for name, o in R['operating_points'].items():
    print(f"| {name} | {o['min_probability']} | " + ' | '.join(f"{c(o[v]['all'])} {pr(o[v]['all'])}" for v in ['orig', 'grey', 'hue+60', 'hue-60']) + ' |')
print('\n### PR sweep (LODO)\n')
print('| min p | orig TP/FP/FN P R | grey | hue+60 |')
print('|---|---|---|---|')
for i in range(len(R['pr_curve']['orig'])):
    cells = []
    for v in ['orig', 'grey', 'hue+60']:
        t, tp, fp, fn, p, r, f = R['pr_curve'][v][i]
        cells.append(f'{tp}/{fp}/{fn} {p:.3f} {r:.3f}')
    print(f"| {R['pr_curve']['orig'][i][0]} | " + ' | '.join(cells) + ' |')
print('\n### Reliability (LODO, orig detections)\n')
print('| bin | n | mean p | precision |')
print('|---|---|---|---|')
for r in R['reliability_orig']:
    print(f"| {r['bin']} | {r['n']} | {r['mean_p']} | {r['precision']} |")
print('Brier orig', R['brier_orig'], 'grey', R['brier_grey'])
print('\n### Sundarbans\n')
for row in R['sundarbans']:
    print(row['case'], row['candidates_per_km2'], {k: (v['n'], v['per_km2'], [(d['p'], d['ndvi']) for d in v['detections']][:4]) for k, v in row.items() if k.startswith('p>=')})
print('\n### Verifier\n')
for row in R['verifier']:
    print(row)
print('\n### Sweeps\n')
print('| parameter | value | orig | grey | hue+60 |')
print('|---|---|---|---|---|')
for row in R['sweeps']:
    print(f"| {row['param']} | {row['value']} | " + ' | '.join(f"{row[v][0]}/{row[v][1]}/{row[v][2]} {row[v][3]:.2f}/{row[v][4]:.2f}" for v in ['orig', 'grey', 'hue+60']) + ' |')
print('\ncandidate recall', R['candidate_recall'])
print('candidates/km2', R['candidates_per_km2'])
print('sources', R['candidate_sources'])
