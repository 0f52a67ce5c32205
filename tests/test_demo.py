"""The demo tree: FF++ layout and index, lossless raw, exact ground-truth masks, truth sidecar,
determinism."""

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.dataset.adapters import scan
from pipeline.dataset.layout import FFPP_QUALITIES, SPLITS, mask_video_dir, video_dir
from pipeline.dataset.splits import load_pairs
from pipeline.demo import tree as demo
from pipeline.demo.scene import (
    PHOTOS,
    background,
    donor_face,
    frame_geom,
    load_photo,
    package_image,
    render_frame,
    render_video,
)
from pipeline.demo.synth import FORGERIES, change_mask, similarity, window
from pipeline.demo.tree import (
    METHODS,
    SIZES,
    DemoSize,
    build_group,
    demo_truth_path,
    group_files,
    make_demo,
    plan,
)
from pipeline.errors import LrlError
from pipeline.params import Selection

REALS, FRAMES = [f"{i:03d}" for i in range(6)], 10  # the tiny demo: 3 pairs, one per split


def seed_of(root: Path) -> int:
    return json.loads(demo_truth_path(root).read_text())["seed"]


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def fakes_of(root: Path) -> list[tuple[str, str, str]]:
    """(method, fake name, target) of every fake of the tree, from its split files."""
    pairs = load_pairs(root / "splits")
    return [(m, f"{a}_{b}", a) for s in SPLITS for p in pairs[s] for a, b in (p, p[::-1]) for m in METHODS]


def test_similarity_recovers_a_known_transform():
    src = np.array([[0, 0], [1, 0], [0, 1]], float)
    dst = np.array([[3, 4], [3, 6], [1, 4]], float)  # x2, rotated 90 degrees, shifted by (3, 4)
    np.testing.assert_allclose(similarity(src, dst), [[0, -2, 3], [2, 0, 4]], atol=1e-12)


def test_window_is_one_at_the_centre_half_midway_and_zero_on_the_rim():
    xx = np.array([10, 12, 10, 14, 20], np.float32)
    yy = np.array([10, 10, 11, 10, 10], np.float32)
    np.testing.assert_allclose(window(xx, yy, (10, 10), (4, 2)), [1, 0.5, 0.5, 0, 0], atol=1e-6)


def test_change_mask_is_every_changed_pixel_plus_the_region():
    real = np.zeros((2, 3, 3), np.uint8)
    fake = real.copy()
    fake[0, 1, 2] = 1
    region = np.zeros((2, 3), bool)
    region[1, 0] = True
    assert change_mask(real, fake, region).tolist() == [[False, True, False], [True, False, False]]


def test_frame_box_and_landmarks_are_the_photo_ones_under_the_frame_transform():
    spec = plan(3, SIZES["tiny"])[0][1]
    _, marks, (x0, y0, x1, y1) = load_photo(spec.photo, spec.flip)
    for index in (0, 7):
        geom = frame_geom(spec, index)
        centre = geom.matrix @ [(x0 + x1) / 2, (y0 + y1) / 2, 1]
        np.testing.assert_allclose(geom.center, centre)
        scale = spec.face_width / (x1 - x0) * (1 + spec.scale.at(index / 25))
        np.testing.assert_allclose(geom.size, (scale * (x1 - x0), scale * (y1 - y0)))
        np.testing.assert_allclose(geom.landmarks, np.c_[marks, np.ones(5)] @ geom.matrix.T)
        assert math.isclose(np.hypot(*geom.matrix[:, 0]), scale)


@pytest.mark.parametrize("method", METHODS)
def test_each_forgery_changes_the_face_and_nothing_outside_its_region(method):
    specs, _ = plan(0, SIZES["tiny"])
    geom = frame_geom(specs[0], 0)
    real = render_frame(specs[0], geom, background(specs[0]), 0)
    fake, region = FORGERIES[method](real, geom, donor_face(specs[1], geom), 0.5)
    changed = np.any(fake != real, axis=2)
    assert not (changed & ~region).any() and changed[region].mean() > 0.5
    x0, y0, x1, y1 = geom.box
    ys, xs = np.nonzero(region)
    assert x0 - 10 < xs.mean() < x1 + 10 and y0 < ys.mean() < y1 + 20


def test_scan_indexes_every_demo_video_with_target_source_split_and_mask(demo_root):
    index = scan(demo_root)
    assert not index.problems
    expected = {}
    for method, name, target in fakes_of(demo_root):
        for quality in FFPP_QUALITIES:
            expected[(method, quality, name)] = (target, name[4:])
    for real in REALS:
        for quality in FFPP_QUALITIES:
            expected[("youtube", quality, real)] = (real, None)
    assert {(r.method, r.quality, r.video): (r.target, r.source) for r in index.records} == expected
    assert len(index.records) == 6 * 3 + 6 * 4 * 3
    split_of = {r.video: r.split for r in index.records if not r.is_fake}
    for r in index.records:
        assert r.split == split_of[r.target] and r.split in SPLITS
        if r.is_fake:
            assert Path(r.mask_path) == mask_video_dir(demo_root, r.method).resolve() / f"{r.video}.mp4"
            assert Path(r.mask_path).is_file()
    counts = index.counts()
    for split in SPLITS:
        assert (
            counts[("ffpp", "youtube", "c40", split, 0)] == 2
            and counts[("ffpp", "FaceSwap", "raw", split, 1)] == 2
        )


def test_split_files_are_official_pairs_with_each_split_nonempty(demo_root):
    ids = {}
    for split in SPLITS:
        pairs = json.loads((demo_root / "splits" / f"{split}.json").read_text())
        assert pairs and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
        )
        ids[split] = {x for p in pairs for x in p}
    assert sorted(ids["train"] | ids["val"] | ids["test"]) == REALS
    assert sum(len(v) for v in ids.values()) == len(REALS)


def test_raw_reals_decode_bit_exact_to_the_rendered_frames(demo_root):
    specs, _ = plan(seed_of(demo_root), SIZES["tiny"])
    frames, _ = render_video(specs[0])
    decoded = decode(video_dir(demo_root, "youtube", "raw") / f"{specs[0].video}.mp4")
    assert len(decoded) == FRAMES
    assert all(np.array_equal(a, b) for a, b in zip(decoded, frames, strict=True))


def test_fakes_differ_from_their_reals_only_inside_their_masks(demo_root):
    truth = json.loads(demo_truth_path(demo_root).read_text())
    reals = {r: decode(video_dir(demo_root, "youtube", "raw") / f"{r}.mp4") for r in REALS}
    for method, name, target in fakes_of(demo_root):
        fake = decode(video_dir(demo_root, method, "raw") / f"{name}.mp4")
        masks = decode(mask_video_dir(demo_root, method) / f"{name}.mp4")
        assert len(fake) == len(masks) == len(reals[target]) == FRAMES
        for i, (r, f, m) in enumerate(zip(reals[target], fake, masks, strict=True)):
            assert ((m == 0) | (m == 255)).all() and (m == m[..., :1]).all()
            inside, ne = m[..., 0] > 0, r != f
            changed = ne[..., 0] | ne[..., 1] | ne[..., 2]
            assert not changed[~inside].any(), (method, name, i)
            assert changed[inside].mean() > 0.5, (method, name, i)
            x0, y0, x1, y1 = truth["boxes"][target][i]
            w, h = x1 - x0, y1 - y0
            ys, xs = np.nonzero(inside)  # local: around the face only
            assert xs.min() >= x0 - 0.3 * w and xs.max() <= x1 + 0.3 * w and ys.min() >= y0 - 0.3 * h
            assert ys.max() <= y1 + 0.3 * h
        assert truth["fakes"][f"{method}/{name}"]["mask_fraction"] > 0.01


def test_every_video_is_640x480_at_25_fps_with_the_expected_codec(demo_root):
    for method, name, _ in fakes_of(demo_root)[:4] + [("youtube", "000", "000")]:
        for quality in FFPP_QUALITIES:
            with av.open(str(video_dir(demo_root, method, quality) / f"{name}.mp4")) as container:
                stream = container.streams.video[0]
                assert (stream.width, stream.height, stream.average_rate) == (640, 480, 25)
                assert stream.frames == FRAMES
                assert stream.codec_context.pix_fmt == ("gbrp" if quality == "raw" else "yuv420p")
        sizes = [(video_dir(demo_root, method, q) / f"{name}.mp4").stat().st_size for q in FFPP_QUALITIES]
        assert sizes[0] > sizes[1] > sizes[2]


def test_truth_sidecar_has_a_face_box_and_landmarks_for_every_frame(demo_root):
    truth = json.loads(demo_truth_path(demo_root).read_text())
    assert truth["fps"] == 25 and truth["size"] == [640, 480] and truth["complete"]
    assert sorted(truth["boxes"]) == sorted(truth["landmarks"]) == sorted(truth["faces"]) == REALS
    assert set(truth["faces"].values()) == set(PHOTOS)
    for real in REALS:
        assert len(truth["boxes"][real]) == len(truth["landmarks"][real]) == FRAMES
        for (x0, y0, x1, y1), marks in zip(truth["boxes"][real], truth["landmarks"][real], strict=True):
            assert 0 <= x0 and 0 <= y0 and x1 <= 640 and y1 <= 480 and 90 <= x1 - x0 <= 200
            assert all(x0 < x < x1 and y0 < y < y1 for x, y in marks)
    assert sorted(truth["fakes"]) == sorted(f"{m}/{n}" for m, n, _ in fakes_of(demo_root))
    assert all((demo_root / f).is_file() for f in truth["files"])


def test_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(demo_root, tmp_path):
    for seed, same in ((seed_of(demo_root), True), (seed_of(demo_root) + 1, False)):
        specs, pairs = plan(seed, SIZES["tiny"])
        a, b = pairs["val"][0]
        by_id = {s.video: s for s in specs}
        build_group(tmp_path / str(seed), by_id[a], by_id[b], seed)
        for f in group_files(a, b):
            assert ((tmp_path / str(seed) / f).read_bytes() == (demo_root / f).read_bytes()) == same, f


def test_refuses_a_folder_that_is_not_a_demo_and_an_unknown_size(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(LrlError, match="not a demo tree"):
        make_demo(tmp_path, size="tiny")
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(LrlError, match="unknown demo size"):
        make_demo(tmp_path / "new", size="huge")


def test_rebuild_replaces_an_earlier_demo_and_removes_only_its_stale_files(tmp_path, monkeypatch):
    monkeypatch.setitem(demo.SIZES, "micro", DemoSize(reals=2, frames=2, pairs=(1, 0, 0)))
    stale = video_dir(tmp_path, "youtube", "raw") / "007.mp4"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("mine")
    demo_truth_path(tmp_path).write_text(json.dumps({"files": [str(stale.relative_to(tmp_path))]}))
    info = make_demo(tmp_path, seed=5, size="micro", n_jobs=1)
    assert not stale.exists() and (tmp_path / "notes.txt").exists()
    truth = json.loads(demo_truth_path(tmp_path).read_text())
    assert (
        truth["complete"] and len(truth["files"]) == 2 * 19 + 3 == info.files - 1
    )  # per real: 3 videos + 4 fakes x (3 + mask)
    assert info.reals == 2 and info.fakes == 8 and "2 reals and 8 fakes" in info.line()
    assert (
        scan(tmp_path).filter(Selection(splits=("train",))).counts()[("ffpp", "Deepfakes", "c23", "train", 1)]
        == 2
    )


@pytest.fixture(scope="module")
def mtcnn():
    facenet = pytest.importorskip("facenet_pytorch")
    return facenet.MTCNN(device="cpu", keep_all=True)


def test_photo_constants_are_what_mtcnn_measures(mtcnn):
    for name, photo in PHOTOS.items():
        boxes, _, marks = mtcnn.detect(package_image(name), landmarks=True)
        np.testing.assert_allclose(np.asarray(boxes, float)[0], photo.box, atol=1.0)
        np.testing.assert_allclose(np.asarray(marks, float)[0], photo.landmarks, atol=1.0)


def test_mtcnn_finds_one_face_on_the_true_box_of_each_real(demo_root, mtcnn):
    truth = json.loads(demo_truth_path(demo_root).read_text())["boxes"]
    for real in REALS:
        frame = decode(video_dir(demo_root, "youtube", "c23") / f"{real}.mp4")[-1]
        boxes, _ = mtcnn.detect(np.ascontiguousarray(frame[::2, ::2]))  # at half size, as extraction may
        assert boxes is not None and len(boxes) == 1, real
        (a0, b0, a1, b1), (x0, y0, x1, y1) = 2 * np.asarray(boxes, float)[0], truth[real][-1]
        inter = max(0, min(a1, x1) - max(a0, x0)) * max(0, min(b1, y1) - max(b0, y0))
        assert inter / ((a1 - a0) * (b1 - b0) + (x1 - x0) * (y1 - y0) - inter) > 0.7, real
