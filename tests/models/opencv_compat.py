#!/usr/bin/python3
"""Which ONNX exports OpenCV 4.6's DNN importer reads: a probe, written to opencv_compat.json.

    /usr/bin/python3 tests/models/opencv_compat.py [OUT.json]     (about 30 s)

Each probe builds one of the tiny networks (random weights, fixed seed; parameters perturbed
so no two initialisers are equal, see the "identical initialisers" probe), exports it with
torch.onnx at an opset / with a variant, loads it with cv2.dnn.readNetFromONNX, runs it on a
fixed input and compares with torch.  Result per probe: ok + max |OpenCV - torch|, or the
failing node and OpenCV's message.
"""

import io
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tiny_nets  # noqa: E402
from tiny_nets import SegTiny, YoloV5Tiny, YoloV8Tiny, fuse_all  # noqa: E402


def build(kind, perturb=True, **kw):
    torch.manual_seed(0)
    if kind == "yolov5":
        m, shape = YoloV5Tiny(3, 2, 128, 128), (1, 3, 128, 128)
    elif kind == "yolov8":
        m, shape = YoloV8Tiny(3, 2, 128, 160), (1, 3, 128, 160)
    elif kind == "yolov8-obb":
        m, shape = YoloV8Tiny(4, 2, 128, 128, obb=True), (1, 4, 128, 128)
    else:
        m, shape = SegTiny(4, 3, kw.get("upsample", "nearest")), (1, 4, 64, 64)
        m.softmax = kw.get("softmax", True)
    if perturb:
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
        for p in m.parameters():
            if p.requires_grad:
                p.data += 0.01 * torch.randn_like(p)
    m.eval()
    fuse_all(m)
    return m, shape


def probe(label, kind, opset, variant=None, dynamic=None, run_shape=None, perturb=True, **kw):
    saved = dict(tiny_nets.VARIANT)
    tiny_nets.VARIANT.update(variant or {})
    try:
        m, shape = build(kind, perturb, **kw)
        x = torch.from_numpy(np.random.RandomState(1).rand(*shape).astype(np.float32))
        f = io.BytesIO()
        args = dict(opset_version=opset, input_names=["images"], output_names=["output0"],
                    do_constant_folding=True)
        if dynamic:
            args["dynamic_axes"] = dynamic
        torch.onnx.export(m, x, f, **args)
    finally:
        tiny_nets.VARIANT.clear()
        tiny_nets.VARIANT.update(saved)
    rec = {"probe": label, "head": kind, "opset": opset, "variant": variant or {},
           "dynamic_axes": dynamic or None, "onnx_bytes": len(f.getvalue())}
    if run_shape:
        x = torch.from_numpy(np.random.RandomState(2).rand(*run_shape).astype(np.float32))
        rec["run_shape"] = list(run_shape)
    with torch.no_grad():
        ref = m(x).numpy()
    try:
        net = cv2.dnn.readNetFromONNX(np.frombuffer(f.getvalue(), np.uint8))
    except cv2.error as e:
        rec.update(ok=False, stage="import", error=_msg(e))
        return rec
    try:
        net.setInput(x.numpy())
        out = net.forward()
    except cv2.error as e:
        rec.update(ok=False, stage="forward", error=_msg(e))
        return rec
    if tuple(out.shape) != tuple(ref.shape):
        rec.update(ok=False, stage="compare", error=f"shape {list(out.shape)} != torch {list(ref.shape)}")
        return rec
    rec.update(ok=True, max_abs_diff=float(np.abs(out - ref).max()),
               max_rel_diff=float((np.abs(out - ref) / (np.abs(ref) + 1e-3)).max()))
    return rec


def _msg(e):
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    node = [ln for ln in lines if ln.startswith("> Node")]
    core = [ln for ln in lines if "error:" in ln]
    return " | ".join((node[:1] or []) + (core[-1:] or lines[-1:]))[:400]


def main():
    torch.set_num_threads(1)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "opencv_compat.json")
    dyn_b = {"images": {0: "batch"}, "output0": {0: "batch"}}
    dyn_hw = {"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch", 2: "height", 3: "width"}}
    res = []
    for op in (11, 12, 13, 17):
        res.append(probe("yolov5 head", "yolov5", op))
    res.append(probe("yolov5 head, dynamic batch", "yolov5", 12, dynamic=dyn_b))
    for op in (11, 12, 13, 17):
        res.append(probe("yolov8 head as committed", "yolov8", op))
    res.append(probe("yolov8 head as committed, dynamic batch", "yolov8", 12, dynamic=dyn_b))
    res.append(probe("yolov8 head, no Split (box/cls by slicing)", "yolov8", 13, {"split": False}))
    res.append(probe("yolov8 head, no Split (box/cls by slicing)", "yolov8", 17, {"split": False}))
    res.append(probe("yolov8 head, Ultralytics distance.chunk (unsimplified)", "yolov8", 12, {"chunk": True}))
    res.append(probe("yolov8 head, Ultralytics strides constant (1, A)", "yolov8", 12, {"strides": "2d"}))
    res.append(probe("yolov8 head, strides constant (1, 1, A)", "yolov8", 12, {"strides": "3d"}))
    for op in (11, 12, 13, 17):
        res.append(probe("yolov8-obb head as committed", "yolov8-obb", op))
    res.append(probe("yolov8-obb head, no Split", "yolov8-obb", 13, {"split": False}))
    for op in (11, 12, 13, 17):
        res.append(probe("segment, nearest Resize, softmax", "segment", op))
    for op in (11, 12, 17):
        res.append(probe("segment, bilinear Resize (align_corners=False)", "segment", op, upsample="bilinear"))
    res.append(probe("segment, logits (no softmax)", "segment", 12, softmax=False))
    res.append(probe("segment, dynamic H/W, run at 96x96", "segment", 12, dynamic=dyn_hw, run_shape=(1, 4, 96, 96)))
    res.append(probe("freshly initialised yolov8 (equal biases: torch dedups them to Identity)", "yolov8", 12, perturb=False))
    res.append(probe("freshly initialised segment net (all fused biases 0)", "segment", 12, perturb=False))
    with open(out, "w") as f:
        json.dump({"opencv": cv2.__version__, "torch": torch.__version__, "probes": res}, f, indent=1)
        f.write("\n")
    w = max(len(r["probe"]) for r in res)
    for r in res:
        status = f"ok  max|diff| {r['max_abs_diff']:.1e}" if r["ok"] else f"FAIL ({r['stage']}) {r['error']}"
        print(f"{r['probe']:<{w}}  opset {r['opset']:>2}  {status}")


if __name__ == "__main__":
    main()
