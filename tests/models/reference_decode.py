#!/usr/bin/python3
"""Reference decoders for riskmap's ONNX detector: plain numpy, no torch, no OpenCV.

This file is the specification the C++ decoder is tested against.  Every rule is written
out here and in README.md; when the two disagree, fix one of them.

Coordinates: boxes are in *input-tensor pixel* coordinates, x to the right, y down, origin
at the top-left corner of the top-left pixel (pixel (row r, col c) covers [c, c+1) x [r, r+1),
its centre is (c + 0.5, r + 0.5)).  This is the frame Ultralytics exports decode into.

Heads (tensor layouts exactly as the ONNX output, batch 1):

* yolov5      [1, N, 5 + C]  rows (cx, cy, w, h, obj, p_1..p_C), everything already
              sigmoid-ed/decoded in the graph.  score_c = obj * p_c.  A row is a candidate
              when obj > score_thr and max_c(obj * p_c) > score_thr; class = argmax_c p_c.
* yolov8      [1, 4 + C, N]  columns (cx, cy, w, h, p_1..p_C).  score = max_c p_c,
              class = argmax_c p_c, candidate when score > score_thr.
* yolov8-obb  [1, 4 + C + 1, N]  columns (cx, cy, w, h, p_1..p_C, theta).  theta in radians,
              Ultralytics range [-pi/4, 3pi/4).  Same score rule as yolov8.
* segment     [1, C, H, W]  probabilities (softmax already applied) or logits.

argmax ties go to the lowest class index.  Boxes with w <= 0 or h <= 0 are dropped.

NMS: greedy, class-aware (a box only suppresses boxes of its own class).  Candidates are
sorted by score descending with a *stable* sort, so equal scores keep tensor order (lower row
/ column index first).  A kept box suppresses every later box of its class whose IoU with it
is strictly greater than iou_thr (IoU == iou_thr survives, as torchvision.ops.nms).  After NMS
at most max_det boxes are kept (the highest scores).  Axis-aligned IoU uses continuous areas
(no +1).  Rotated IoU is the exact polygon IoU of the two rectangles (what GEOS computes), not
Ultralytics' probiou (see probiou() below and README.md).

OBB convention: (cx, cy, w, h, theta).  The w side points along (cos theta, sin theta) in
image coordinates; with y down, positive theta turns the w side from +x towards +y, i.e.
clockwise as seen on screen.  Regularised ("long-edge") form: w >= h and theta in [0, pi):
if w < h, swap w and h and add pi/2; then theta mod pi.  Corner order (Ultralytics
xywhr2xyxyxyxy), with v1 = (w/2 cos t, w/2 sin t), v2 = (-h/2 sin t, h/2 cos t):
    p1 = c + v1 + v2,  p2 = c + v1 - v2,  p3 = c - v1 - v2,  p4 = c - v1 + v2
For theta = 0 this is (right, bottom), (right, top), (left, top), (left, bottom).
"""

import argparse
import json
import math
import sys

import numpy as np

# ------------------------------------------------------------------------------------------
# geometry
# ------------------------------------------------------------------------------------------


def xywh_to_xyxy(b):
    b = np.asarray(b, dtype=np.float64)
    return np.stack([b[..., 0] - b[..., 2] / 2, b[..., 1] - b[..., 3] / 2,
                     b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2], -1)


def iou_xyxy(a, b):
    """IoU of two axis-aligned boxes (x1, y1, x2, y2), continuous areas."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def regularize_rbox(cx, cy, w, h, t):
    """Long-edge form: w >= h, theta in [0, pi).  Same rectangle."""
    if w < h:
        w, h, t = h, w, t + math.pi / 2
    t = math.fmod(t, math.pi)
    if t < 0:
        t += math.pi
    if t >= math.pi:  # fmod rounding guard
        t -= math.pi
    return cx, cy, w, h, t


def rbox_corners(cx, cy, w, h, t):
    """The four corners p1..p4 (see module docstring), as a (4, 2) array."""
    c, s = math.cos(t), math.sin(t)
    v1 = np.array([w / 2 * c, w / 2 * s])
    v2 = np.array([-h / 2 * s, h / 2 * c])
    ctr = np.array([cx, cy])
    return np.stack([ctr + v1 + v2, ctr + v1 - v2, ctr - v1 - v2, ctr - v1 + v2])


def polygon_area(p):
    """Signed shoelace area in the coordinates as given (image coords: y down)."""
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _clip(subject, a, b):
    """Sutherland-Hodgman: keep the part of polygon `subject` on the left of edge a->b
    (left for a positively oriented clip polygon)."""
    out = []
    n = len(subject)
    if n == 0:
        return out

    def side(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

    for i in range(n):
        cur, nxt = subject[i], subject[(i + 1) % n]
        sc, sn = side(cur), side(nxt)
        if sc >= 0:
            out.append(cur)
        if (sc >= 0) != (sn >= 0):
            tt = sc / (sc - sn)
            out.append((cur[0] + tt * (nxt[0] - cur[0]), cur[1] + tt * (nxt[1] - cur[1])))
    return out


def convex_intersection_area(p, q):
    p = [tuple(v) for v in p]
    q = [tuple(v) for v in q]
    if polygon_area(np.array(p)) < 0:
        p = p[::-1]
    if polygon_area(np.array(q)) < 0:
        q = q[::-1]
    poly = p
    for i in range(len(q)):
        poly = _clip(poly, q[i], q[(i + 1) % len(q)])
        if not poly:
            return 0.0
    return abs(polygon_area(np.array(poly))) if len(poly) >= 3 else 0.0


def iou_rbox(a, b):
    """Exact IoU of two rotated rectangles (cx, cy, w, h, theta)."""
    pa, pb = rbox_corners(*a), rbox_corners(*b)
    inter = convex_intersection_area(pa, pb)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def probiou(a, b, eps=1e-7):
    """Ultralytics' probiou (Gaussian Hellinger-distance IoU) between two rboxes, for reference:
    Ultralytics' own rotated NMS uses this, riskmap uses the exact polygon IoU."""
    def cov(r):
        aa, bb = r[2] ** 2 / 12, r[3] ** 2 / 12
        c, s = math.cos(r[4]), math.sin(r[4])
        return aa * c * c + bb * s * s, aa * s * s + bb * c * c, (aa - bb) * c * s
    x1, y1 = a[0], a[1]
    x2, y2 = b[0], b[1]
    a1, b1, c1 = cov(a)
    a2, b2, c2 = cov(b)
    den = (a1 + a2) * (b1 + b2) - (c1 + c2) ** 2 + eps
    t1 = ((a1 + a2) * (y1 - y2) ** 2 + (b1 + b2) * (x1 - x2) ** 2) / den * 0.25
    t2 = ((c1 + c2) * (x2 - x1) * (y1 - y2)) / den * 0.5
    t3 = math.log(((a1 + a2) * (b1 + b2) - (c1 + c2) ** 2)
                  / (4 * math.sqrt(max(a1 * b1 - c1 ** 2, 0) * max(a2 * b2 - c2 ** 2, 0)) + eps) + eps) * 0.5
    bd = min(max(t1 + t2 + t3, eps), 100.0)
    hd = math.sqrt(1.0 - math.exp(-bd) + eps)
    return 1 - hd


# ------------------------------------------------------------------------------------------
# NMS
# ------------------------------------------------------------------------------------------


def nms(boxes, scores, classes, iou_thr, iou_fn, max_det=300):
    """Greedy class-aware NMS.  Returns kept indices in output order (score descending)."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for oi, i in enumerate(order):
        if suppressed[oi]:
            continue
        keep.append(int(i))
        for oj in range(oi + 1, len(order)):
            j = order[oj]
            if suppressed[oj] or classes[j] != classes[i]:
                continue
            if iou_fn(boxes[i], boxes[j]) > iou_thr:
                suppressed[oj] = True
    return keep[:max_det]


# ------------------------------------------------------------------------------------------
# heads
# ------------------------------------------------------------------------------------------


def _squeeze_batch(out, ndim):
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == ndim + 1:
        if out.shape[0] != 1:
            raise ValueError("batch must be 1")
        out = out[0]
    if out.ndim != ndim:
        raise ValueError(f"expected {ndim + 1}-D output, got shape {out.shape}")
    return out


def decode_yolov5(out, score_thr, iou_thr, max_det=300):
    rows = _squeeze_batch(out, 2)  # (N, 5 + C)
    nc = rows.shape[1] - 5
    if nc < 1:
        raise ValueError("yolov5 output needs 5 + C columns")
    obj = rows[:, 4]
    cls_p = rows[:, 5:]
    cls = np.argmax(cls_p, axis=1)
    score = obj * cls_p[np.arange(len(rows)), cls]
    cand = np.nonzero((obj > score_thr) & (score > score_thr)
                      & (rows[:, 2] > 0) & (rows[:, 3] > 0))[0]
    boxes = xywh_to_xyxy(rows[cand, :4])
    keep = nms(boxes, score[cand], cls[cand], iou_thr, iou_xyxy, max_det)
    return [_det(rows[cand[k], :4], boxes[k], int(cls[cand[k]]), float(score[cand[k]]), int(cand[k]))
            for k in keep]


def decode_yolov8(out, score_thr, iou_thr, max_det=300):
    cols = _squeeze_batch(out, 2)  # (4 + C, N)
    rows = cols.T
    nc = rows.shape[1] - 4
    if nc < 1:
        raise ValueError("yolov8 output needs 4 + C rows")
    cls_p = rows[:, 4:]
    cls = np.argmax(cls_p, axis=1)
    score = cls_p[np.arange(len(rows)), cls]
    cand = np.nonzero((score > score_thr) & (rows[:, 2] > 0) & (rows[:, 3] > 0))[0]
    boxes = xywh_to_xyxy(rows[cand, :4])
    keep = nms(boxes, score[cand], cls[cand], iou_thr, iou_xyxy, max_det)
    return [_det(rows[cand[k], :4], boxes[k], int(cls[cand[k]]), float(score[cand[k]]), int(cand[k]))
            for k in keep]


def decode_yolov8_obb(out, score_thr, iou_thr, max_det=300):
    cols = _squeeze_batch(out, 2)  # (4 + C + 1, N)
    rows = cols.T
    nc = rows.shape[1] - 5
    if nc < 1:
        raise ValueError("yolov8-obb output needs 4 + C + 1 rows")
    cls_p = rows[:, 4:4 + nc]
    cls = np.argmax(cls_p, axis=1)
    score = cls_p[np.arange(len(rows)), cls]
    cand = np.nonzero((score > score_thr) & (rows[:, 2] > 0) & (rows[:, 3] > 0))[0]
    rb = [tuple(float(v) for v in rows[i, [0, 1, 2, 3, 4 + nc]]) for i in cand]
    keep = nms(rb, score[cand], cls[cand], iou_thr, iou_rbox, max_det)
    dets = []
    for k in keep:
        raw = rb[k]
        reg = regularize_rbox(*raw)
        dets.append({
            "class": int(cls[cand[k]]),
            "score": float(score[cand[k]]),
            "index": int(cand[k]),
            "raw_xywhr": [float(v) for v in raw],
            "xywhr": [float(v) for v in reg],
            "corners": rbox_corners(*reg).tolist(),
        })
    return dets


def _det(xywh, xyxy, cls, score, index):
    return {"class": cls, "score": score, "index": index,
            "xywh": [float(v) for v in xywh], "xyxy": [float(v) for v in xyxy]}


def softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def label_components(mask):
    """8-connected components of a boolean mask: list of dicts (pixels, bbox [x0, y0, x1, y1)),
    in raster order of each component's first pixel."""
    h, w = mask.shape
    lab = np.zeros((h, w), dtype=np.int32)
    comps = []
    for r in range(h):
        for c in range(w):
            if not mask[r, c] or lab[r, c]:
                continue
            n = len(comps) + 1
            stack = [(r, c)]
            lab[r, c] = n
            px = []
            while stack:
                y, x = stack.pop()
                px.append((y, x))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        yy, xx = y + dy, x + dx
                        if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not lab[yy, xx]:
                            lab[yy, xx] = n
                            stack.append((yy, xx))
            ys = [p[0] for p in px]
            xs = [p[1] for p in px]
            comps.append({"pixels": len(px), "bbox": [min(xs), min(ys), max(xs) + 1, max(ys) + 1],
                          "centroid": [float(np.mean(xs)) + 0.5, float(np.mean(ys)) + 0.5]})
    return comps


def decode_segment(out, output="probabilities", score_thr=0.5, background_class=0):
    """Per-pixel class map.  class = argmax over C of the probabilities (softmax of the logits
    when output == "logits"); a pixel whose winning probability is <= score_thr falls back
    to background_class.  Returns (class_map uint8 (H, W), stats dict)."""
    x = _squeeze_batch(out, 3)  # (C, H, W)
    p = softmax(x, 0) if output == "logits" else x
    cls = np.argmax(p, axis=0)
    pmax = np.max(p, axis=0)
    if background_class is not None:
        cls = np.where(pmax > score_thr, cls, background_class)
    nc = p.shape[0]
    stats = {"height": int(cls.shape[0]), "width": int(cls.shape[1]), "classes": []}
    for c in range(nc):
        m = cls == c
        entry = {"class": c, "pixels": int(m.sum()),
                 "mean_probability": float(p[c][m].mean()) if m.any() else 0.0}
        if c != background_class:
            entry["components"] = label_components(m)
        stats["classes"].append(entry)
    return cls.astype(np.uint8), stats


def decode(head, out, score_thr, iou_thr, max_det=300, **kw):
    if head == "yolov5":
        return decode_yolov5(out, score_thr, iou_thr, max_det)
    if head == "yolov8":
        return decode_yolov8(out, score_thr, iou_thr, max_det)
    if head == "yolov8-obb":
        return decode_yolov8_obb(out, score_thr, iou_thr, max_det)
    if head == "segment":
        return decode_segment(out, score_thr=score_thr, **kw)[1]
    raise ValueError(f"unknown head {head}")


def main():
    ap = argparse.ArgumentParser(description="Decode a raw float32 output tensor with a model card.")
    ap.add_argument("card", help="NAME.card.json")
    ap.add_argument("tensor", help="raw little-endian float32 file (e.g. NAME.output.f32)")
    a = ap.parse_args()
    with open(a.card) as f:
        card = json.load(f)
    shape = card["output"]["shape"]
    out = np.fromfile(a.tensor, dtype="<f4").reshape(shape)
    th = card["thresholds"]
    if card["head"] == "segment":
        res = decode_segment(out, card["segment"]["output"], th["score"], card["segment"]["background_class"])[1]
    else:
        res = decode(card["head"], out, th["score"], th["nms_iou"], th["max_detections"])
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
