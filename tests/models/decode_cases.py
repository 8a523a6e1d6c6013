#!/usr/bin/python3
"""Hand-checked decode cases on synthetic output tensors -> decode_cases.json.

Every expected value below is written out by hand (the arithmetic is in each case's "why"),
then checked against reference_decode.py, so the JSON is a specification that both the numpy
reference and riskmap's C++ decoder must meet.

    /usr/bin/python3 tests/models/decode_cases.py [OUT.json]

JSON layout: {"conventions": {...}, "cases": [case...]}; a case has
    name, kind ("decode" or "rotated_iou"), head, tensor_shape, tensor (nested lists in the
    exact ONNX layout, batch first), score_threshold, nms_iou_threshold, max_detections,
    expected (list of detections in output order), why (the hand computation).
A detection: class, score, index (row for yolov5, column for yolov8 / obb), and
    xyxy (axis-aligned) or raw_xywhr + xywhr (regularised) + corners (obb).
"""

import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import reference_decode as rd  # noqa: E402

PI = math.pi
S3 = math.sqrt(3.0)

CONVENTIONS = {
    "pixel_frame": "x right, y down, origin at the top-left corner of pixel (0, 0); pixel "
                   "(row r, col c) covers [c, c+1) x [r, r+1)",
    "score": "yolov5: obj * p_class, candidate when obj > thr and obj * p_best > thr; yolov8 / "
             "obb: p_best > thr; strict '>'; class = argmax (ties -> lowest index)",
    "degenerate": "boxes with w <= 0 or h <= 0 are dropped",
    "nms": "greedy, class-aware, stable sort by score descending (ties keep tensor order), a "
           "kept box suppresses later boxes of its class with IoU strictly > thr, then at most "
           "max_detections",
    "iou": "axis-aligned: continuous areas, no +1; rotated: exact polygon IoU (not probiou)",
    "obb_angle": "theta in radians; the w side points along (cos t, sin t) in pixel coords; "
                 "y is down, so positive theta is clockwise on screen; the head emits t in "
                 "[-pi/4, 3pi/4)",
    "obb_regularised": "long-edge form: if w < h swap w, h and add pi/2; then t mod pi, in [0, pi)",
    "obb_corners": "v1 = (w/2 cos t, w/2 sin t), v2 = (-h/2 sin t, h/2 cos t); p1 = c+v1+v2, "
                   "p2 = c+v1-v2, p3 = c-v1-v2, p4 = c-v1+v2 (from the regularised box). In "
                   "pixel coords (y down) the ring p1..p4 has negative shoelace area; mapped "
                   "through a north-up geotransform (y flips) it is counter-clockwise, as "
                   "RFC 7946 wants for exterior rings",
    "segment": "class = argmax_c p_c (softmax first for logits); a pixel whose winning "
               "probability is <= score threshold becomes background_class",
}


def corners(cx, cy, w, h, t):
    c, s = math.cos(t), math.sin(t)
    v1 = (w / 2 * c, w / 2 * s)
    v2 = (-h / 2 * s, h / 2 * c)
    return [[cx + v1[0] + v2[0], cy + v1[1] + v2[1]], [cx + v1[0] - v2[0], cy + v1[1] - v2[1]],
            [cx - v1[0] - v2[0], cy - v1[1] - v2[1]], [cx - v1[0] + v2[0], cy - v1[1] + v2[1]]]


def cols_to_tensor(cols):
    """Columns (one list per anchor) -> [1, rows, N] nested list (YOLOv8 layout)."""
    return [np.array(cols, dtype=np.float64).T.tolist()]


CASES = []

# ------------------------------------------------------------------ yolov5 ----------------
CASES.append({
    "name": "yolov5_gates_and_tie",
    "kind": "decode", "head": "yolov5",
    "tensor": [[
        [50, 40, 20, 10, 0.9, 0.2, 0.8],
        [70, 70, 10, 10, 0.2, 1.0, 0.0],
        [90, 90, 10, 10, 0.3, 0.8, 0.1],
        [10, 10, 4, 6, 0.9, 0.5, 0.5],
    ]],
    "score_threshold": 0.25, "nms_iou_threshold": 0.45, "max_detections": 300,
    "expected": [
        {"class": 1, "score": 0.72, "index": 0, "xyxy": [40, 35, 60, 45]},
        {"class": 0, "score": 0.45, "index": 3, "xyxy": [8, 7, 12, 13]},
    ],
    "why": "layout [1, N=4, 5+C=7]. row 0: 0.9 * 0.8 = 0.72, class 1, xyxy = (50-10, 40-5, 50+10, 40+5). "
           "row 1: obj 0.2 <= 0.25, dropped although p = 1. row 2: obj 0.3 passes but 0.3 * 0.8 = 0.24 "
           "<= 0.25, dropped. row 3: p tie 0.5/0.5 -> class 0, score 0.45, xyxy (10-2, 10-3, 10+2, 10+3). "
           "Output sorted by score.",
})

# ------------------------------------------------------------------ yolov8 ----------------
CASES.append({
    "name": "yolov8_layout_threshold_degenerate",
    "kind": "decode", "head": "yolov8",
    "tensor": cols_to_tensor([
        [64, 32, 16, 8, 0.1, 0.9],
        [10, 10, 5, 5, 0.25, 0.2],
        [100, 100, 0, 10, 0.99, 0.0],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.7, "max_detections": 300,
    "expected": [{"class": 1, "score": 0.9, "index": 0, "xyxy": [56, 28, 72, 36]}],
    "why": "layout [1, 4+C=6, N=3]: tensor[0][k][j] is attribute k of anchor j (transpose before "
           "reading rows). anchor 0: class 1, 0.9, xyxy (64-8, 32-4, 64+8, 32+4). anchor 1: best 0.25 "
           "is not > 0.25. anchor 2: w = 0, dropped.",
})

CASES.append({
    "name": "yolov8_nms_class_aware",
    "kind": "decode", "head": "yolov8",
    "tensor": cols_to_tensor([
        [5, 5, 10, 10, 0.9, 0.0],
        [6, 5, 10, 10, 0.8, 0.0],
        [6, 5, 10, 10, 0.0, 0.85],
        [10, 5, 10, 10, 0.7, 0.0],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.7, "max_detections": 300,
    "expected": [
        {"class": 0, "score": 0.9, "index": 0, "xyxy": [0, 0, 10, 10]},
        {"class": 1, "score": 0.85, "index": 2, "xyxy": [1, 0, 11, 10]},
        {"class": 0, "score": 0.7, "index": 3, "xyxy": [5, 0, 15, 10]},
    ],
    "why": "IoU([0,0,10,10], [1,0,11,10]) = 90 / 110 = 0.8182 > 0.7: anchor 1 (class 0) is suppressed "
           "by anchor 0; anchor 2 has the same box but class 1, so it survives (class-aware). "
           "IoU([0,0,10,10], [5,0,15,10]) = 50 / 150 = 0.3333: anchor 3 survives.",
})

CASES.append({
    "name": "yolov8_nms_equal_iou_and_equal_scores",
    "kind": "decode", "head": "yolov8",
    "tensor": cols_to_tensor([
        [5, 5, 10, 10, 0.9, 0.0],
        [5, 2.5, 10, 5, 0.8, 0.0],
        [25, 5, 10, 10, 0.6, 0.0],
        [26, 5, 10, 10, 0.6, 0.0],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.5, "max_detections": 300,
    "expected": [
        {"class": 0, "score": 0.9, "index": 0, "xyxy": [0, 0, 10, 10]},
        {"class": 0, "score": 0.8, "index": 1, "xyxy": [0, 0, 10, 5]},
        {"class": 0, "score": 0.6, "index": 2, "xyxy": [20, 0, 30, 10]},
    ],
    "why": "IoU([0,0,10,10], [0,0,10,5]) = 50 / 100 = 0.5, not > 0.5, so anchor 1 survives. Anchors "
           "2 and 3 tie at 0.6: the stable sort keeps anchor 2 first; IoU = 90 / 110 > 0.5 suppresses 3.",
})

CASES.append({
    "name": "yolov8_max_detections",
    "kind": "decode", "head": "yolov8",
    "tensor": cols_to_tensor([
        [5, 5, 10, 10, 0.5, 0.0],
        [25, 5, 10, 10, 0.0, 0.7],
        [45, 5, 10, 10, 0.6, 0.0],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.7, "max_detections": 2,
    "expected": [
        {"class": 1, "score": 0.7, "index": 1, "xyxy": [20, 0, 30, 10]},
        {"class": 0, "score": 0.6, "index": 2, "xyxy": [40, 0, 50, 10]},
    ],
    "why": "three disjoint boxes, max_detections 2 keeps the two highest scores (across classes).",
})

# ------------------------------------------------------------------ obb -------------------
c30 = corners(50, 40, 20, 10, PI / 6)
CASES.append({
    "name": "obb_pi_over_6",
    "kind": "decode", "head": "yolov8-obb",
    "tensor": cols_to_tensor([
        [50, 40, 20, 10, 0.9, 0.05, PI / 6],
        [80, 80, 20, 10, 0.1, 0.2, 0.0],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.45, "max_detections": 300,
    "expected": [{
        "class": 0, "score": 0.9, "index": 0,
        "raw_xywhr": [50, 40, 20, 10, PI / 6],
        "xywhr": [50, 40, 20, 10, PI / 6],
        "corners": [[50 + 5 * S3 - 2.5, 40 + 5 + 2.5 * S3], [50 + 5 * S3 + 2.5, 40 + 5 - 2.5 * S3],
                    [50 - 5 * S3 + 2.5, 40 - 5 - 2.5 * S3], [50 - 5 * S3 - 2.5, 40 - 5 + 2.5 * S3]],
    }],
    "why": "layout [1, 4+C+1=7, N=2], angle last. cos 30deg = sqrt(3)/2, sin 30deg = 1/2: "
           "v1 = (10 cos, 10 sin) = (8.660254, 5), v2 = (-5 sin, 5 cos) = (-2.5, 4.330127). "
           "p1 = (56.160254, 49.330127), p2 = (61.160254, 40.669873), p3 = (43.839746, 30.669873), "
           "p4 = (38.839746, 39.330127). The long side runs from p3 towards p2: right and DOWN the "
           "image, i.e. the box is turned 30 degrees clockwise on screen. In map coordinates (north "
           "up) the same box is turned 30 degrees clockwise too (its long axis points east-south-east).",
})
assert all(abs(a - b) < 1e-9 for p, q in zip(c30, CASES[-1]["expected"][0]["corners"]) for a, b in zip(p, q))

CASES.append({
    "name": "obb_regularise_and_duplicate",
    "kind": "decode", "head": "yolov8-obb",
    "tensor": cols_to_tensor([
        [50, 40, 20, 10, 0.9, 0.0, PI / 6],
        [50, 40, 10, 20, 0.8, 0.0, 2 * PI / 3],
        [20, 20, 8, 24, 0.0, 0.6, -PI / 6],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.45, "max_detections": 300,
    "expected": [
        {"class": 0, "score": 0.9, "index": 0, "raw_xywhr": [50, 40, 20, 10, PI / 6],
         "xywhr": [50, 40, 20, 10, PI / 6], "corners": corners(50, 40, 20, 10, PI / 6)},
        {"class": 1, "score": 0.6, "index": 2, "raw_xywhr": [20, 20, 8, 24, -PI / 6],
         "xywhr": [20, 20, 24, 8, PI / 3], "corners": corners(20, 20, 24, 8, PI / 3)},
    ],
    "why": "anchor 1 (w 10, h 20, t 2pi/3) regularises to (20, 10, 2pi/3 + pi/2 - pi = pi/6): the "
           "same rectangle as anchor 0, polygon IoU 1 > 0.45, suppressed. anchor 2 (w 8 < h 24, "
           "t -pi/6) regularises to (24, 8, -pi/6 + pi/2 = pi/3); class 1, kept. corners come from "
           "the regularised box.",
})

d5 = (5 * S3 / 2, 2.5)   # 5 px along the long axis at pi/6
d10 = (10 * S3 / 2, 5.0)
CASES.append({
    "name": "obb_nms_polygon_iou",
    "kind": "decode", "head": "yolov8-obb",
    "tensor": cols_to_tensor([
        [50, 40, 20, 10, 0.9, 0.0, PI / 6],
        [50 + d5[0], 40 + d5[1], 20, 10, 0.8, 0.0, PI / 6],
        [50 + d10[0], 40 + d10[1], 20, 10, 0.7, 0.0, PI / 6],
    ]),
    "score_threshold": 0.25, "nms_iou_threshold": 0.45, "max_detections": 300,
    "expected": [
        {"class": 0, "score": 0.9, "index": 0, "raw_xywhr": [50, 40, 20, 10, PI / 6],
         "xywhr": [50, 40, 20, 10, PI / 6], "corners": corners(50, 40, 20, 10, PI / 6)},
        {"class": 0, "score": 0.7, "index": 2, "raw_xywhr": [50 + d10[0], 40 + d10[1], 20, 10, PI / 6],
         "xywhr": [50 + d10[0], 40 + d10[1], 20, 10, PI / 6],
         "corners": corners(50 + d10[0], 40 + d10[1], 20, 10, PI / 6)},
    ],
    "why": "boxes 20 x 10 at pi/6, shifted along their long axis by 5 and 10 px. IoU(0, 1) = "
           "(15 x 10) / (200 + 200 - 150) = 0.6 > 0.45: 1 suppressed. IoU(0, 2) = (10 x 10) / "
           "(400 - 100) = 0.3333: 2 kept.",
})

ROTATED_IOU = [
    {"a": [0, 0, 2, 2, 0], "b": [0, 0, 2, 2, PI / 4], "iou": 1 / math.sqrt(2),
     "probiou_ultralytics": 0.9995527864,
     "why": "a 2 x 2 square and itself turned 45 degrees: the intersection is the regular octagon of "
            "inradius 1, area 8 (sqrt 2 - 1) = 3.313708; IoU = 3.313708 / (8 - 3.313708) = 1/sqrt 2. "
            "probiou sees two identical isotropic Gaussians (~1): Ultralytics would suppress, polygon "
            "IoU 0.707 suppresses only at thresholds below 0.707."},
    {"a": [0, 0, 4, 2, 0], "b": [0, 0, 4, 2, PI / 2], "iou": 1 / 3,
     "probiou_ultralytics": 0.5527862892,
     "why": "a 4 x 2 cross: intersection 2 x 2 = 4, union 8 + 8 - 4 = 12."},
    {"a": [50, 40, 20, 10, PI / 6], "b": [50 + d5[0], 40 + d5[1], 20, 10, PI / 6], "iou": 0.6,
     "why": "shift of 5 along the long axis: intersection 15 x 10, union 250."},
    {"a": [50, 40, 20, 10, PI / 6], "b": [50, 40, 10, 20, 2 * PI / 3], "iou": 1.0,
     "why": "the same rectangle written two ways."},
    {"a": [0, 0, 10, 10, 0], "b": [20, 0, 10, 10, PI / 3], "iou": 0.0,
     "why": "disjoint."},
]
for r in ROTATED_IOU:
    if "probiou_ultralytics" not in r:
        r["probiou_ultralytics"] = None

# ------------------------------------------------------------------ segment ---------------
CASES.append({
    "name": "segment_probabilities",
    "kind": "segment", "head": "segment", "output": "probabilities", "background_class": 0,
    "tensor": [np.array([
        [[0.7, 0.1, 0.2], [0.1, 0.4, 0.05]],
        [[0.2, 0.8, 0.3], [0.3, 0.4, 0.9]],
        [[0.1, 0.1, 0.5], [0.6, 0.2, 0.05]],
    ]).tolist()],
    "score_threshold": 0.5,
    "expected_class_map": [[0, 1, 0], [2, 0, 1]],
    "why": "layout [1, C=3, H=2, W=3]. (0,2): best 0.5 (class 2) is not > 0.5 -> background 0. "
           "(1,1): tie 0.4 / 0.4 -> class 0 (and 0.4 <= 0.5 anyway).",
})
CASES.append({
    "name": "segment_logits",
    "kind": "segment", "head": "segment", "output": "logits", "background_class": 0,
    "tensor": [[[[0.0, 1.0]], [[math.log(3.0), 0.0]]]],
    "score_threshold": 0.5,
    "expected_class_map": [[1, 0]],
    "expected_probabilities": [[[0.25, 1 / (1 + math.exp(-1))]], [[0.75, 1 - 1 / (1 + math.exp(-1))]]],
    "why": "softmax over C: pixel 0 (0, ln 3) -> (0.25, 0.75) class 1; pixel 1 (1, 0) -> "
           "(0.731059, 0.268941) class 0.",
})


def _close(a, b, tol=1e-6):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=tol, rtol=0)


def check():
    """Assert that reference_decode.py reproduces every hand-written value."""
    for c in CASES:
        t = np.asarray(c["tensor"], dtype=np.float64)
        c["tensor_shape"] = list(t.shape)
        if c["kind"] == "segment":
            cls, _ = rd.decode_segment(t, c["output"], c["score_threshold"], c["background_class"])
            assert cls.tolist() == c["expected_class_map"], (c["name"], cls.tolist())
            if "expected_probabilities" in c:
                assert _close(rd.softmax(t[0], 0), c["expected_probabilities"])
            continue
        got = rd.decode(c["head"], t, c["score_threshold"], c["nms_iou_threshold"], c["max_detections"])
        exp = c["expected"]
        assert len(got) == len(exp), (c["name"], got)
        for g, e in zip(got, exp):
            assert g["class"] == e["class"] and g["index"] == e["index"], (c["name"], g, e)
            assert abs(g["score"] - e["score"]) < 1e-9, (c["name"], g, e)
            for k in ("xyxy", "raw_xywhr", "xywhr", "corners"):
                if k in e:
                    assert _close(g[k], e[k]), (c["name"], k, g[k], e[k])
    for r in ROTATED_IOU:
        assert abs(rd.iou_rbox(r["a"], r["b"]) - r["iou"]) < 1e-9, r
        assert abs(rd.iou_rbox(r["b"], r["a"]) - r["iou"]) < 1e-9, r
        if r["probiou_ultralytics"] is not None:
            assert abs(rd.probiou(r["a"], r["b"]) - r["probiou_ultralytics"]) < 1e-8, r
        else:
            r["probiou_ultralytics"] = rd.probiou(r["a"], r["b"])


def _round(o):
    if isinstance(o, float):
        return round(o, 9)
    if isinstance(o, list):
        return [_round(v) for v in o]
    if isinstance(o, dict):
        return {k: _round(v) for k, v in o.items()}
    return o


def write(path):
    check()
    doc = {"conventions": CONVENTIONS, "cases": CASES,
           "rotated_iou": [dict(r, kind="rotated_iou") for r in ROTATED_IOU]}
    with open(path, "w") as f:
        json.dump(_round(doc), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "decode_cases.json"))
    print("decode cases checked and written")
