"""Experiment: a small fully convolutional kiln-centre heatmap on luminance only (issue 10, greyscale).

Leave-one-district-out on the dev chips. The network sees only local-contrast luminance, so a
greyscale chip and its colour original give the same input. Prints P/R per threshold per fold.
Usage: /usr/bin/python3 fcn.py [--steps N] [--seed S]
"""
import argparse
import math
import sys

import cv2
import numpy as np
import torch
import torch.nn as nn

import common

WIN = 45  # ~400 m box for local mean and SD at ~9 m


def planes(rgb):
    """Two colour-free planes: log-luminance minus its local mean, and that in local SDs."""
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    L = np.log(y.astype(np.float64) + 5.1)
    m = cv2.blur(L, (WIN, WIN), borderType=cv2.BORDER_REFLECT)
    m2 = cv2.blur(L * L, (WIN, WIN), borderType=cv2.BORDER_REFLECT)
    sd = np.sqrt(np.maximum(m2 - m * m, 0)) + 0.05
    d = L - m
    return np.stack([d * 3.0, d / sd]).astype(np.float32)


class Net(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        layers, cin = [], 2
        for dil in (1, 1, 2, 4, 8):
            layers += [nn.Conv2d(cin, ch, 3, padding=dil, dilation=dil), nn.ReLU()]
            cin = ch
        layers += [nn.Conv2d(ch, 1, 1)]
        self.f = nn.Sequential(*layers)

    def forward(self, x):
        return self.f(x)


def targets(img, sigma=1.5):
    h, w = img.rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    t = np.zeros((h, w), np.float32)
    m = np.ones((h, w), np.float32)
    for l in img.labels:
        d2 = (xx - l['col']) ** 2 + (yy - l['row']) ** 2
        if l['difficult']:
            m[d2 <= 7 ** 2] = 0
        else:
            t = np.maximum(t, np.exp(-d2 / (2 * sigma ** 2)))
    return t, m


def augment(rgb, rng):
    a = rgb.astype(np.float64)
    w = rng.dirichlet([4, 4, 4])  # any band mix: the net must not rely on luminance weights
    y = a @ w
    g = rng.uniform(0.6, 1.6)
    y = 255 * (np.clip(y, 0, 255) / 255) ** g * rng.uniform(0.6, 1.3)
    s = rng.choice([0, 0, 0.6, 1.0])
    if s:
        y = cv2.GaussianBlur(y, (0, 0), s, borderType=cv2.BORDER_REFLECT)
    y = y + rng.normal(0, rng.uniform(0, 4), y.shape)
    y = np.clip(np.round(y), 0, 255)
    return np.dstack([y, y, y])


def dihedral(x, k):
    x = np.rot90(x, k % 4, axes=(-2, -1))
    return x[..., ::-1] if k >= 4 else x


def batch(chips, rng, n=24, size=64):
    X, T, M = [], [], []
    for _ in range(n):
        c = chips[rng.integers(len(chips))]
        p = planes(augment(c.rgb, rng))
        t, m = targets(c)
        k = rng.integers(8)
        p, t, m = dihedral(p, k), dihedral(t, k), dihedral(m, k)
        h, w = t.shape
        if rng.random() < 0.5 and t.max() > 0.5:
            ys, xs = np.nonzero(t > 0.5)
            i = rng.integers(len(ys))
            y0 = int(np.clip(ys[i] - rng.integers(8, size - 8), 0, h - size))
            x0 = int(np.clip(xs[i] - rng.integers(8, size - 8), 0, w - size))
        else:
            y0, x0 = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        X.append(p[:, y0:y0 + size, x0:x0 + size])
        T.append(t[y0:y0 + size, x0:x0 + size])
        M.append(m[y0:y0 + size, x0:x0 + size])
    f = lambda a: torch.from_numpy(np.ascontiguousarray(np.stack(a)))
    return f(X), f(T)[:, None], f(M)[:, None]


def train(chips, steps, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for it in range(steps):
        X, T, M = batch(chips, rng)
        z = net(X)
        w = M * (1 + 30 * T)
        loss = (nn.functional.binary_cross_entropy_with_logits(z, T, reduction='none') * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net


def heat(net, img):
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy(planes(img.rgb))[None]))[0, 0].numpy()


def detect(net, img, thr=0.05, nms_px=13):
    h = heat(net, img)
    mx = cv2.dilate(h, np.ones((nms_px, nms_px), np.uint8))
    ys, xs = np.nonzero((h >= mx) & (h >= thr))
    out = []
    for y, x in sorted(zip(ys, xs), key=lambda p: -h[p]):
        lon, lat = img.lonlat(x + 0.5, y + 0.5)
        out.append(dict(lon=lon, lat=lat, score=float(h[y, x])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(2)
    chips = common.load_chips()
    variants = ['grey', 'orig', 'hue+60', 'blur1', 'down2']
    dets = {v: {} for v in variants}
    for held in common.DISTRICTS:
        net = train([c for c in chips if c.district != held], a.steps, a.seed)
        for c in chips:
            if c.district != held:
                continue
            for v in variants:
                dets[v][c.name] = detect(net, common.make_variant(c, v))
        print('fold', held, 'done', file=sys.stderr)
    for v in variants:
        for thr in (0.2, 0.3, 0.4, 0.5, 0.6):
            r = common.evaluate(dets[v], chips, thr)
            tp, fp, fn = r['all']
            p, rc, f = common.prf(tp, fp, fn)
            per = ' '.join('%s %d/%d/%d' % (d[:4], *r[d]) for d in common.DISTRICTS)
            print('%-7s thr %.1f  %2d/%2d/%2d  P %.3f R %.3f F1 %.3f  %s' % (v, thr, tp, fp, fn, p, rc, f, per))


if __name__ == '__main__':
    main()
