"""Tiny networks whose exported heads match Ultralytics' ONNX output layouts.

Only the *exported* tensors matter to riskmap; these modules reproduce, op for op, what
Ultralytics' export paths put in the graph after the head:

* YOLOv5 ``Detect`` (export branch): per level, view (b, na, no, ny, nx) -> permute to
  (b, na, ny, nx, no) -> sigmoid -> split (2, 2, 1 + nc) -> xy = (2 s - 0.5 + grid) * stride,
  wh = (2 s)^2 * anchor -> concat -> view (b, na*ny*nx, no); levels concatenated on axis 1.
* YOLOv8 / YOLO11 ``Detect``: per level concat(box 4*reg_max, cls nc) -> view (b, no, ny*nx),
  levels concatenated on axis 2, split (4*reg_max, nc), DFL (view (b, 4, reg_max, a),
  transpose, softmax, 1x1 conv with weights 0..reg_max-1), dist2bbox (xywh) * stride,
  concat(box, sigmoid(cls)).
* YOLOv8 ``OBB``: the same plus an angle branch, angle = (sigmoid(t) - 0.25) * pi, boxes by
  dist2rbox, output concat(xywh, sigmoid(cls), angle).
* Segmentation: a small U-Net, softmax over the class axis in the graph.

Backbones are deliberately small (a few thousand to ~25k parameters) so the ONNX files stay
well under 200 KB.  Nothing here downloads anything.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    """Conv2d + BatchNorm + SiLU, as Ultralytics' Conv (fused into one Conv2d before export)."""

    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()
        self.fused = False

    def forward(self, x):
        if self.fused:
            return self.act(self.conv(x))
        return self.act(self.bn(self.conv(x)))

    def fuse(self):
        """Fold BatchNorm into the convolution (Ultralytics does this before every export)."""
        conv, bn = self.conv, self.bn
        w = conv.weight.detach()
        std = torch.sqrt(bn.running_var + bn.eps)
        scale = bn.weight.detach() / std
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                          conv.padding, bias=True)
        fused.weight.data = w * scale.view(-1, 1, 1, 1)
        fused.bias.data = bn.bias.detach() - bn.running_mean * scale
        self.conv = fused
        del self.bn
        self.fused = True


def fuse_all(model):
    for m in model.modules():
        if isinstance(m, Conv) and not m.fused:
            m.fuse()
    return model


class Backbone(nn.Module):
    """Stem to stride 8 (P3) and stride 16 (P4), with a top-down nearest-upsample fusion."""

    def __init__(self, cin, w=(8, 12, 16, 24)):
        super().__init__()
        self.stem = nn.Sequential(Conv(cin, w[0], 3, 2), Conv(w[0], w[1], 3, 2))  # /4
        self.p3 = nn.Sequential(Conv(w[1], w[2], 3, 2), Conv(w[2], w[2], 3, 1))  # /8
        self.p4 = nn.Sequential(Conv(w[2], w[3], 3, 2), Conv(w[3], w[3], 3, 1))  # /16
        self.lat = Conv(w[2] + w[3], w[2], 1, 1)  # P3 + upsampled P4
        self.out_channels = (w[2], w[3])

    def forward(self, x):
        x = self.stem(x)
        p3 = self.p3(x)
        p4 = self.p4(p3)
        up = F.interpolate(p4, scale_factor=2.0, mode="nearest")
        p3 = self.lat(torch.cat((p3, up), 1))
        return [p3, p4]


# ----------------------------------------------------------------------------------------
# YOLOv5
# ----------------------------------------------------------------------------------------

class YoloV5Tiny(nn.Module):
    strides = (8, 16)
    # anchors in input pixels, per level (w, h)
    anchors = (((10, 10), (20, 10), (10, 20)), ((24, 24), (40, 18), (18, 40)))

    def __init__(self, cin, nc, height, width):
        super().__init__()
        self.nc, self.na, self.no = nc, 3, nc + 5
        self.backbone = Backbone(cin)
        self.m = nn.ModuleList(nn.Conv2d(c, self.na * self.no, 1) for c in self.backbone.out_channels)
        self.height, self.width = height, width
        self.export = False
        for i, s in enumerate(self.strides):
            ny, nx = height // s, width // s
            yv, xv = torch.meshgrid(torch.arange(ny, dtype=torch.float32),
                                    torch.arange(nx, dtype=torch.float32), indexing="ij")
            grid = torch.stack((xv, yv), 2).expand(1, self.na, ny, nx, 2) - 0.5
            ag = torch.tensor(self.anchors[i], dtype=torch.float32).view(1, self.na, 1, 1, 2)
            ag = ag.expand(1, self.na, ny, nx, 2)
            self.register_buffer(f"grid{i}", grid.contiguous(), persistent=False)
            self.register_buffer(f"anchor_grid{i}", ag.contiguous(), persistent=False)
        # YOLOv5's bias init: objectness prior ~8 objects per 640 image, class prior 0.6/nc
        for mi, s in zip(self.m, self.strides):
            b = mi.bias.view(self.na, -1).detach().clone()
            b[:, 4] += math.log(8 / (640 / s) ** 2)
            b[:, 5:] += math.log(0.6 / (nc - 0.99999))
            mi.bias = nn.Parameter(b.view(-1))

    def raw(self, x):
        """Training output: list of (b, na, ny, nx, no) raw logits per level."""
        feats = self.backbone(x)
        out = []
        for i, f in enumerate(feats):
            bs, _, ny, nx = f.shape
            out.append(self.m[i](f).view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous())
        return out

    def decode_level(self, i, p):
        """Ultralytics YOLOv5 Detect.forward export branch for one level."""
        bs, na, ny, nx, no = p.shape
        xy, wh, conf = p.sigmoid().split((2, 2, self.nc + 1), 4)
        xy = (xy * 2 + getattr(self, f"grid{i}")) * self.strides[i]
        wh = (wh * 2) ** 2 * getattr(self, f"anchor_grid{i}")
        y = torch.cat((xy, wh, conf), 4)
        return y.view(bs, na * nx * ny, no)

    def forward(self, x):
        raw = self.raw(x)
        return torch.cat([self.decode_level(i, p) for i, p in enumerate(raw)], 1)


# ----------------------------------------------------------------------------------------
# YOLOv8 / OBB
# ----------------------------------------------------------------------------------------

class DFL(nn.Module):
    """Distribution focal loss integral (Ultralytics DFL): expectation over reg_max bins."""

    def __init__(self, c1=16):
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float32).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


def make_anchors(shapes, strides, offset=0.5):
    """Anchor points (cell centres, in grid units) and strides, Ultralytics order (row-major)."""
    pts, sts = [], []
    for (h, w), s in zip(shapes, strides):
        sx = torch.arange(w, dtype=torch.float32) + offset
        sy = torch.arange(h, dtype=torch.float32) + offset
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        pts.append(torch.stack((xx, yy), -1).view(-1, 2))
        sts.append(torch.full((h * w, 1), float(s)))
    return torch.cat(pts), torch.cat(sts)


# Export variants, for opencv_compat.py only; the committed models use the defaults.
VARIANT = {
    "chunk": False,        # True: distance.chunk(2, 1) exactly as Ultralytics writes it
    "strides": "full",     # "2d": (1, A) as Ultralytics; "3d": (1, 1, A); "full": (1, 4, A)
    "split": True,         # False: slice box / cls instead of Tensor.split (Ultralytics' TF path)
}


def dist2bbox(distance, anchor_points, dim=1):
    # Ultralytics writes distance.chunk(2, dim); torch 1.13 exports chunk as shape arithmetic
    # (Shape/Gather/Add/Div/Slice) that OpenCV 4.6 cannot import.  onnxslim/onnxsim fold it to
    # constant Slices; plain constant slicing exports exactly that folded form.
    if VARIANT["chunk"]:
        lt, rb = distance.chunk(2, dim)
    else:
        lt, rb = distance[:, :2], distance[:, 2:4]
    x1y1 = anchor_points - lt
    x2y2 = anchor_points + rb
    return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)


def dist2rbox(pred_dist, pred_angle, anchor_points, dim=1):
    lt, rb = pred_dist[:, :2], pred_dist[:, 2:4]  # Ultralytics: pred_dist.split(2, dim=dim)
    cos, sin = torch.cos(pred_angle), torch.sin(pred_angle)
    half = (rb - lt) / 2
    xf, yf = half[:, 0:1], half[:, 1:2]  # Ultralytics: .split(1, dim=dim)
    x, y = xf * cos - yf * sin, xf * sin + yf * cos
    xy = torch.cat([x, y], dim=dim) + anchor_points
    return torch.cat([xy, lt + rb], dim=dim)


class YoloV8Tiny(nn.Module):
    strides = (8, 16)
    reg_max = 16

    def __init__(self, cin, nc, height, width, obb=False):
        super().__init__()
        self.nc, self.obb = nc, obb
        self.no = nc + 4 * self.reg_max
        self.backbone = Backbone(cin)
        ch = self.backbone.out_channels
        c2, c3 = 12, 12
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(c, c2, 3), nn.Conv2d(c2, 4 * self.reg_max, 1)) for c in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(c, c3, 3), nn.Conv2d(c3, nc, 1)) for c in ch)
        if obb:
            self.cv4 = nn.ModuleList(nn.Sequential(Conv(c, 8, 3), nn.Conv2d(8, 1, 1)) for c in ch)
        self.dfl = DFL(self.reg_max)
        shapes = [(height // s, width // s) for s in self.strides]
        anchors, strides = make_anchors(shapes, self.strides)
        self.register_buffer("anchors", anchors.transpose(0, 1).contiguous(), persistent=False)  # (2, A)
        # Ultralytics keeps strides as (1, A).  OpenCV 4.6 cannot broadcast a constant of another
        # shape against the (1, 4, A) boxes (Mul: "Assertion failed ... in function 'total'", both
        # for (1, A) and (1, 1, A)), so the constant is stored expanded to the full (1, 4, A).
        st = strides.transpose(0, 1)  # (1, A)
        if VARIANT["strides"] == "3d":
            st = st.reshape(1, 1, -1)
        elif VARIANT["strides"] == "full":
            st = st.reshape(1, 1, -1).expand(1, 4, -1)
        self.register_buffer("stride_t", st.contiguous(), persistent=False)
        # Ultralytics bias_init
        for a, b, s in zip(self.cv2, self.cv3, self.strides):
            a[-1].bias.data[:] = 1.0
            b[-1].bias.data[:nc] = math.log(5 / nc / (640 / s) ** 2)

    def raw(self, x):
        """Training output: (box logits (b, 4*reg_max, A), cls logits (b, nc, A), angle logit or None)."""
        feats = self.backbone(x)
        bs = x.shape[0]
        box = torch.cat([self.cv2[i](f).view(bs, 4 * self.reg_max, -1) for i, f in enumerate(feats)], 2)
        cls = torch.cat([self.cv3[i](f).view(bs, self.nc, -1) for i, f in enumerate(feats)], 2)
        ang = None
        if self.obb:
            ang = torch.cat([self.cv4[i](f).view(bs, 1, -1) for i, f in enumerate(feats)], 2)
        return box, cls, ang

    def forward(self, x):
        # Same ops, same order as Ultralytics Detect.forward / OBB.forward in export mode.
        feats = self.backbone(x)
        bs = feats[0].shape[0]
        if self.obb:
            angle = torch.cat([self.cv4[i](feats[i]).view(bs, 1, -1) for i in range(len(feats))], 2)
            angle = (angle.sigmoid() - 0.25) * math.pi  # [-pi/4, 3pi/4)
        xs = [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate(feats)]
        x_cat = torch.cat([xi.view(bs, self.no, -1) for xi in xs], 2)
        if VARIANT["split"]:
            box, cls = x_cat.split((self.reg_max * 4, self.nc), 1)
        else:
            box, cls = x_cat[:, : self.reg_max * 4], x_cat[:, self.reg_max * 4:]
        if self.obb:
            dbox = dist2rbox(self.dfl(box), angle, self.anchors.unsqueeze(0), dim=1) * self.stride_t
            return torch.cat([torch.cat((dbox, cls.sigmoid()), 1), angle], 1)
        dbox = dist2bbox(self.dfl(box), self.anchors.unsqueeze(0), dim=1) * self.stride_t
        return torch.cat((dbox, cls.sigmoid()), 1)


# ----------------------------------------------------------------------------------------
# Segmentation
# ----------------------------------------------------------------------------------------

class SegTiny(nn.Module):
    """U-Net in miniature: full, 1/2 and 1/4 resolution, skip connections, upsampling by
    Resize (nearest by default).  Output (1, C, H, W): softmax over C in the graph."""

    def __init__(self, cin, nc, upsample="nearest"):
        super().__init__()
        self.e1 = Conv(cin, 8, 3, 1)
        self.e2 = Conv(8, 16, 3, 2)
        self.e3 = nn.Sequential(Conv(16, 24, 3, 2), Conv(24, 24, 3, 1))
        self.d2 = Conv(24 + 16, 16, 3, 1)
        self.d1 = Conv(16 + 8, 8, 3, 1)
        self.head = nn.Conv2d(8, nc, 1)
        self.upsample = upsample
        self.softmax = True

    def up(self, x):
        if self.upsample == "nearest":
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.upsample == "bilinear":
            return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        raise ValueError(self.upsample)

    def logits(self, x):
        e1 = self.e1(x)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        d2 = self.d2(torch.cat((self.up(e3), e2), 1))
        d1 = self.d1(torch.cat((self.up(d2), e1), 1))
        return self.head(d1)

    def forward(self, x):
        y = self.logits(x)
        return y.softmax(1) if self.softmax else y


def count_params(m):
    return sum(p.numel() for p in m.parameters())
