"""Decoding that seeks ahead to the keyframe before the next kept frame (issue 26): the same frames as
decoding in order, fewer frames decoded, and in-order decoding when seeking cannot be trusted."""

import numpy as np
import pytest

import pipeline.kernels.video as video
from pipeline.kernels.seek import FrameTable, frame_table, seek_target, worth_a_table
from pipeline.kernels.video import Decoding, iter_frames, sample_frames
from tests.videos import truncate, write_video

N = 64


def levels(n: int = N) -> list[np.ndarray]:
    """Flat frames whose grey level (10 + 3 i) names their index i (H.264 at crf 0 keeps it within 1)."""
    return [np.full((48, 64, 3), 10 + 3 * i, np.uint8) for i in range(n)]


def frame_id(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 10) / 3)


def test_frame_table_orders_by_pts_and_refuses_missing_or_repeated_pts():
    # decode order I P B B (pts 0 3 1 2): presentation indices 0 3 1 2
    table = frame_table([(0, True), (30, False), (10, False), (20, False), (40, True)])
    assert table.index_of == {0: 0, 10: 1, 20: 2, 30: 3, 40: 4}
    assert (table.key_indices, table.key_pts) == ([0, 4], [0, 40])
    assert frame_table([(0, True), (None, False)]) is None and frame_table([(0, True), (0, False)]) is None


def test_a_seek_is_taken_when_it_skips_enough_frames():
    table = FrameTable({}, [0, 25, 50], [0, 2500, 5000])
    assert seek_target(table, 3, 60, gap=16) == 5000  # skips 4..49
    assert seek_target(table, 40, 60, gap=16) is None  # keyframe 50 skips only 41..49
    assert seek_target(table, 40, 60, gap=9) == 5000
    assert seek_target(table, 3, 20, gap=1) is None  # no keyframe past 3 before 20
    assert worth_a_table([0, 10, 20], gap=16) is False and worth_a_table([0, 10, 40], gap=16) is True


@pytest.fixture(params=["ultrafast", "veryfast"], ids=["no-b-frames", "b-frames"])
def short_gops(request, tmp_path):
    """64 grey frames whose level names their index, a keyframe every 8 frames."""
    return write_video(tmp_path / "gop8.mp4", levels(), gop=8, preset=request.param)


def test_seeking_yields_the_frames_decoding_in_order_does(short_gops, monkeypatch):
    seeks = []
    real_seek = video._seek
    monkeypatch.setattr(video, "_seek", lambda c, s, pts: seeks.append(pts) or real_seek(c, s, pts))
    wanted = [3, 30, 31, 55, 63]
    status = Decoding()
    got = [(i, frame_id(f)) for i, f in iter_frames(short_gops, wanted, status=status)]
    assert got == [(i, i) for i in wanted]
    assert len(seeks) == 2 and status.decoded == N  # to keyframes 24 and 48 (skipping 20 and 16 frames)
    assert [(i, frame_id(f)) for i, f in iter_frames(short_gops, wanted, min_gap=None)] == got
    assert len(seeks) == 2  # min_gap None: decoded in order


def test_sampling_a_sparse_long_clip_and_a_truncated_one(short_gops, tmp_path):
    sampled = sample_frames(short_gops, 4)
    assert sampled.indices == [0, 21, 42, 63] and sampled.n_frames == N
    assert [frame_id(f) for f in sampled.frames] == sampled.indices
    cut = truncate(write_video(tmp_path / "cut.mp4", levels(), gop=8, faststart=True), 0.5)
    short = sample_frames(cut, 4)
    assert short.n_frames < N and [frame_id(f) for f in short.frames] == short.indices
    assert short.indices[-1] == short.n_frames - 1


def test_a_seek_that_misses_falls_back_to_decoding_in_order(short_gops, monkeypatch):
    """A table whose pts are shifted by one frame (as a stream with an edit list could mislead it): every
    frame after the seek is unknown or past the one wanted, so decoding restarts in order, no frame twice."""
    real = video._table

    def shifted(path):
        t = real(path)
        return FrameTable(
            {p + 1: i for p, i in t.index_of.items()}, t.key_indices, [p + 1 for p in t.key_pts]
        )

    monkeypatch.setattr(video, "_table", shifted)
    got = [(i, frame_id(f)) for i, f in iter_frames(short_gops, [0, 40, 63])]
    assert got == [(0, 0), (40, 40), (63, 63)]
