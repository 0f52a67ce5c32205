"""Batched MTCNN: area resampling by hand, and boxes equal to facenet-pytorch's own `detect`."""

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.kernels.detect import detection_scale, get_mtcnn, shrink
from pipeline.kernels.mtcnn_batched import cell_bounds, crop_resample, detect, summed_area
from pipeline.kernels.video import sample_frames
from pipeline.params import DetectParams

FFPP = Path(__file__).resolve().parents[2] / "shared" / "data" / "ffpp"


def test_cell_bounds_follow_area_interpolation_by_hand():
    lo, hi = cell_bounds(torch.tensor([0, 5]), torch.tensor([3, 4]), 2)
    assert lo.tolist() == [[0, 1], [5, 7]] and hi.tolist() == [[2, 3], [7, 9]]  # 3 -> 2 cells overlap


def test_crop_resample_hand_values_and_facenet_equality():
    image = torch.arange(1, 10, dtype=torch.uint8).view(1, 3, 3, 1).expand(1, 3, 3, 3).contiguous()
    table = summed_area(image)
    one = torch.tensor([0])
    out = crop_resample(table, one, one, one + 3, one, one + 3, 2)
    assert out[0, 0].tolist() == [[3.0, 4.0], [6.0, 7.0]]  # means of the overlapping 2x2 blocks
    from facenet_pytorch.models.utils.detect_face import imresample

    g = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (2, 50, 70, 3), generator=g, dtype=torch.uint8)
    boxes = [(0, 3, 10, 5, 40), (1, 0, 50, 0, 70), (1, 20, 25, 30, 33), (0, 7, 40, 1, 9)]  # b, y0, y1, x0, x1
    got = crop_resample(summed_area(frames), *(torch.tensor(v) for v in zip(*boxes, strict=True)), 24)
    for k, (b, y0, y1, x0, x1) in enumerate(boxes):
        ref = imresample(frames[b : b + 1, y0:y1, x0:x1].permute(0, 3, 1, 2).float(), (24, 24))[0]
        assert torch.allclose(got[k], ref, atol=1e-3)


def detection_frames(path: Path, count: int) -> np.ndarray:
    """Frames as extract feeds MTCNN: downscaled to DetectParams' side, with its black border."""
    import cv2

    params = DetectParams()
    small = sample_frames(
        path, count, lambda f: shrink(f, detection_scale(*f.shape[:2], params.det_side))
    ).frames
    b = round(params.pad * min(small[0].shape[:2]))
    return np.stack([cv2.copyMakeBorder(f, b, b, b, b, cv2.BORDER_CONSTANT) for f in small])


def assert_same_as_facenet(frames: np.ndarray) -> int:
    """Our boxes, scores and landmarks within 1 px (0.001) of facenet's `detect`; returns faces compared."""
    mtcnn = get_mtcnn("cpu", DetectParams())
    ref_boxes, ref_probs, ref_points = mtcnn.detect(frames, landmarks=True)
    compared = 0
    for ours, rb, rp, rl in zip(detect(mtcnn, frames), ref_boxes, ref_probs, ref_points, strict=True):
        if rb is None:
            assert len(ours[0]) == 0
            continue
        assert ours[0].shape == np.asarray(rb, float).shape
        assert np.abs(ours[0] - np.asarray(rb, float)).max() <= 1.0
        assert np.abs(ours[2] - np.asarray(rl, float)).max() <= 1.0
        assert np.abs(ours[1] - np.asarray(rp, float)).max() <= 1e-3
        compared += len(rb)
    return compared


def test_boxes_match_facenet_on_the_demo_frames(demo_root, one_torch_thread):
    videos = sorted((demo_root / "original_sequences").rglob("*.mp4"))[:2]
    assert sum(assert_same_as_facenet(detection_frames(v, 4)) for v in videos) >= 8


@pytest.mark.skipif(not (FFPP / "original_sequences").is_dir(), reason=f"no FF++ sample data at {FFPP}")
def test_boxes_match_facenet_on_the_shared_ffpp_pair(one_torch_thread):
    videos = sorted(FFPP.rglob("c23/videos/*.mp4"))
    assert len(videos) == 2
    assert sum(assert_same_as_facenet(detection_frames(v, 8)) for v in videos) >= 16
