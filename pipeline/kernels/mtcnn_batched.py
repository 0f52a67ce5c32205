"""MTCNN with one batched resampling call per network stage (facenet-pytorch's shipped weights).

facenet-pytorch 2.6.0's `detect_face` resamples every candidate box before RNet and ONet with its
own `interpolate(mode="area")` call: ~3,000 tiny calls for 32 frames, each split over torch's
threads, ~6 ms each instead of ~0.03 ms when one core is busy elsewhere (measured, DESIGN.md).
`detect` below runs the same three stages with the same networks, thresholds and NMS, and cuts and
resamples all boxes of a stage at once from a summed-area table of the batch: area interpolation
is a mean over input cells [floor(i * n / m), ceil((i + 1) * n / m)) (torch's adaptive average
pooling), and a summed-area table gives every such mean from four look-ups, for every box and
output cell in one gather. The result equals facenet's to float rounding (tests compare boxes).
"""

from __future__ import annotations

import numpy as np

# RNet sees 24x24 crops, ONet 48x48 (MTCNN, Zhang et al. 2016; facenet-pytorch).
RNET_SIDE, ONET_SIDE = 24, 48


def cell_bounds(start, length, out: int):
    """Input index ranges [lo, hi) of `out` area-interpolation cells over [start, start + length).

    start, length: (n,) int64 tensors; returns two (n, out) int64 tensors (torch adaptive pooling's
    floor(i * n / m) and ceil((i + 1) * n / m)).
    """
    import torch

    i = torch.arange(out, dtype=torch.int64, device=start.device)
    lo = (i[None] * length[:, None]) // out
    hi = -((-(i[None] + 1) * length[:, None]) // out)
    return start[:, None] + lo, start[:, None] + hi


def summed_area(frames):
    """(B, H + 1, W + 1, C) int32 summed-area table of (B, H, W, C) uint8 frames, zero first row and column.

    Integers: exact (a float32 table of a 720p frame would round its sums); channels last, so each
    look-up reads a pixel's channels together. Sums stay below 2**31 up to 2**31 / 255 pixels (8.4 M).
    """
    import torch

    table = frames.to(torch.int32).cumsum(1, dtype=torch.int32).cumsum(2, dtype=torch.int32)
    return torch.nn.functional.pad(table, (0, 0, 1, 0, 1, 0))


def crop_resample(table, image_inds, y0, y1, x0, x1, side: int):
    """Area-resampled crops rows [y0, y1), columns [x0, x1) of image image_inds[k], all at once.

    table: summed_area of the batch; image_inds, y0, y1, x0, x1: (n,) int64 tensors (non-empty
    ranges inside the image). Returns (n, C, side, side) float32, equal to facenet's
    `imresample(img[:, :, y0:y1, x0:x1], (side, side))` per box (to float rounding).
    """
    import torch

    ylo, yhi = cell_bounds(y0, y1 - y0, side)
    xlo, xhi = cell_bounds(x0, x1 - x0, side)
    b, rows, cols, c = table.shape
    base = (image_inds * rows)[:, None]
    r = torch.stack([(base + yhi) * cols, (base + ylo) * cols])[:, None, :, :, None]  # (2, 1, n, side, 1)
    q = torch.stack([xhi, xlo])[None, :, :, None, :]  # (1, 2, n, 1, side)
    corners = table.view(-1, c).index_select(0, (r + q).flatten()).view(2, 2, len(y0), side, side, c)
    total = corners[0, 0] - corners[1, 0] - corners[0, 1] + corners[1, 1]
    area = (yhi - ylo)[:, :, None] * (xhi - xlo)[:, None, :]
    return (total.to(torch.float32) / area[..., None].to(torch.float32)).permute(0, 3, 1, 2)


def _stage_input(table, boxes, image_inds, w: int, h: int, side: int):
    """Normalised crops of the boxes for the next network, and the mask of boxes kept (non-empty crops)."""
    import torch
    from facenet_pytorch.models.utils.detect_face import pad

    y, ey, x, ex = (torch.as_tensor(v, dtype=torch.int64) for v in pad(boxes, w, h))
    keep = (ey > y - 1) & (ex > x - 1)
    ind = image_inds.cpu()[keep]
    crops = crop_resample(
        table, ind.to(table.device), *(v[keep].to(table.device) for v in (y - 1, ey, x - 1, ex)), side
    )
    return (crops - 127.5) * 0.0078125, keep.to(boxes.device)


def _first_stage(imgs, pnet, minsize: float, threshold: float, factor: float):
    """PNet over the scale pyramid (facenet's stage 1 unchanged): candidate boxes (n, 5) and image indices."""
    import torch
    from facenet_pytorch.models.utils.detect_face import generateBoundingBox, imresample, rerec
    from torchvision.ops import batched_nms

    h, w = imgs.shape[2:4]
    m = 12.0 / minsize
    minl, scale, scales = min(h, w) * m, m, []
    while minl >= 12:
        scales.append(scale)
        scale, minl = scale * factor, minl * factor
    boxes, inds = [], []
    for scale in scales:
        im_data = (imresample(imgs, (int(h * scale + 1), int(w * scale + 1))) - 127.5) * 0.0078125
        reg, probs = pnet(im_data)
        b, i = generateBoundingBox(reg, probs[:, 1], scale, threshold)
        pick = batched_nms(b[:, :4], b[:, 4], i, 0.5)
        boxes.append(b[pick])
        inds.append(i[pick])
    boxes, inds = torch.cat(boxes), torch.cat(inds)
    pick = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
    boxes, inds = boxes[pick], inds[pick]
    regw, regh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    q = [
        boxes[:, 0] + boxes[:, 5] * regw,
        boxes[:, 1] + boxes[:, 6] * regh,
        boxes[:, 2] + boxes[:, 7] * regw,
        boxes[:, 3] + boxes[:, 8] * regh,
    ]
    return rerec(torch.stack(q + [boxes[:, 4]], dim=1)), inds


def _second_stage(table, boxes, inds, rnet, threshold: float, w: int, h: int):
    import torch
    from facenet_pytorch.models.utils.detect_face import bbreg, rerec
    from torchvision.ops import batched_nms

    crops, keep = _stage_input(table, boxes, inds, w, h, RNET_SIDE)
    boxes, inds = boxes[keep], inds[keep]
    reg, prob = rnet(crops)
    ipass = prob[:, 1] > threshold
    boxes = torch.cat((boxes[ipass, :4], prob[ipass, 1:2]), dim=1)
    inds, reg = inds[ipass], reg[ipass]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
    return rerec(bbreg(boxes[pick], reg[pick])), inds[pick]


def _third_stage(table, boxes, inds, onet, threshold: float, w: int, h: int):
    import torch
    from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg

    crops, keep = _stage_input(table, boxes, inds, w, h, ONET_SIDE)
    boxes, inds = boxes[keep], inds[keep]
    reg, marks, prob = onet(crops)
    ipass = prob[:, 1] > threshold
    boxes = torch.cat((boxes[ipass, :4], prob[ipass, 1:2]), dim=1)
    inds, reg, marks = inds[ipass], reg[ipass], marks[ipass]
    wi, hi = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
    px = wi[:, None] * marks[:, :5] + boxes[:, 0:1] - 1
    py = hi[:, None] * marks[:, 5:10] + boxes[:, 1:2] - 1
    points = torch.stack((px, py), dim=2)
    boxes = bbreg(boxes, reg)
    pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], inds, 0.7, "Min")
    return boxes[pick], inds[pick], points[pick]


def detect(mtcnn, frames: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Faces in a batch of same-size frames, with facenet-pytorch's networks and settings.

    mtcnn: a facenet_pytorch.MTCNN (its pnet / rnet / onet, min_face_size, thresholds, factor,
    device); frames: (B, H, W, 3) uint8 RGB. Returns per frame (boxes (k, 4) x0, y0, x1, y1 float,
    probabilities (k,), landmarks (k, 5, 2) x, y), pixels of the frame; k = 0 where none is found;
    largest box first when `mtcnn.select_largest` (facenet's default), as `MTCNN.detect` orders them.
    Same stages as facenet's `detect_face` (which `MTCNN.detect` calls); only the crops before
    RNet and ONet are made in one batched call each (see the module docstring).
    """
    import torch

    with torch.no_grad():
        raw = torch.as_tensor(np.ascontiguousarray(frames), device=mtcnn.device)
        imgs = raw.permute(0, 3, 1, 2).to(next(mtcnn.pnet.parameters()).dtype)
        h, w = imgs.shape[2:4]
        th = mtcnn.thresholds
        boxes, inds = _first_stage(imgs, mtcnn.pnet, mtcnn.min_face_size, th[0], mtcnn.factor)
        points = torch.zeros(0, 5, 2)
        if len(boxes):
            table = summed_area(raw)
            boxes, inds = _second_stage(table, boxes, inds, mtcnn.rnet, th[1], w, h)
            if len(boxes):
                boxes, inds, points = _third_stage(table, boxes, inds, mtcnn.onet, th[2], w, h)
    return _per_frame(
        boxes.cpu().numpy().astype(float),
        inds.cpu().numpy(),
        points.cpu().numpy().astype(float),
        len(frames),
        mtcnn.select_largest,
    )


def _per_frame(boxes, inds, points, n: int, largest_first: bool):
    """Split the batch's detections per frame; largest box first when `largest_first` (as MTCNN.detect)."""
    out = []
    for b in range(n):
        box, pts = boxes[inds == b], points[inds == b]
        if largest_first:
            order = np.argsort((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]))[::-1]
            box, pts = box[order], pts[order]
        out.append((box[:, :4], box[:, 4], pts))
    return out
