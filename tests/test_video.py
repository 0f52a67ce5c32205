"""PyAV decoding: kept frames only, evenly spaced, upright, and robust to broken or odd files."""

import numpy as np
import pytest
from videos import frame_id, grey_frames, truncate, write_video

from pipeline.errors import LrlError
from pipeline.kernels.video import Decoding, frame_count, iter_frames, sample_frames, sample_indices, upright


def test_sample_indices_are_evenly_spread_and_include_both_ends():
    assert sample_indices(10, 4) == [0, 3, 6, 9]
    assert sample_indices(309, 3) == [0, 154, 308]
    assert sample_indices(5, 8) == [0, 1, 2, 3, 4]
    assert sample_indices(5, None) == [0, 1, 2, 3, 4]
    assert sample_indices(0, 4) == []


def test_upright_rotates_counter_clockwise_by_the_display_rotation():
    frame = np.arange(6).reshape(2, 3)  # [[0 1 2], [3 4 5]]
    assert upright(frame, 0) is frame
    assert upright(frame, 90).tolist() == [[2, 5], [1, 4], [0, 3]]
    assert upright(frame, -90).tolist() == [[3, 0], [4, 1], [5, 2]]
    assert upright(frame, 180).tolist() == [[5, 4, 3], [2, 1, 0]]


def test_iter_frames_keeps_only_the_asked_frames_and_stops_after_the_last(tmp_path):
    path = write_video(tmp_path / "v.mp4", grey_frames(20))
    status = Decoding()
    got = list(iter_frames(path, [2, 7, 11], status=status))
    assert [i for i, _ in got] == [2, 7, 11]
    assert [frame_id(f) for _, f in got] == [2, 7, 11]
    assert got[0][1].shape == (48, 64, 3) and got[0][1].dtype == np.uint8
    assert status.decoded == 12 and not status.ended


def test_iter_frames_past_the_end_reports_the_length(tmp_path):
    path = write_video(tmp_path / "v.mp4", grey_frames(6))
    status = Decoding()
    assert [i for i, _ in iter_frames(path, [4, 9], status=status)] == [4]
    assert status.ended and status.decoded == 6


def test_sample_frames_spreads_over_the_whole_video_never_the_first_n(tmp_path):
    path = write_video(tmp_path / "v.mp4", grey_frames(20))
    out = sample_frames(path, 5)
    assert out.indices == [0, 5, 10, 14, 19]
    assert [frame_id(f) for f in out.frames] == out.indices
    assert (out.n_frames, out.width, out.height) == (20, 64, 48)


def test_sample_frames_all_and_convert(tmp_path):
    path = write_video(tmp_path / "v.mp4", grey_frames(7))
    out = sample_frames(path, None, convert=lambda f: f[:4, :4])
    assert out.indices == list(range(7)) and out.n_frames == 7
    assert out.frames[0].shape == (4, 4, 3) and (out.width, out.height) == (64, 48)


def test_frame_count_without_a_header_count_falls_back_to_packets(tmp_path):
    path = write_video(tmp_path / "v.mkv", grey_frames(13))  # Matroska stores no frame count
    assert frame_count(path) == 13
    assert sample_frames(path, 3).indices == [0, 6, 12]


def test_truncated_file_with_index_first_samples_its_decodable_prefix(tmp_path):
    path = write_video(tmp_path / "v.mp4", grey_frames(30), faststart=True)
    assert frame_count(path) == 30
    truncate(path, 0.5)
    out = sample_frames(path, 4)
    assert 0 < out.n_frames < 30
    assert out.indices == sample_indices(out.n_frames, 4)
    assert [frame_id(f) for f in out.frames] == out.indices


def test_truncated_file_with_index_last_is_a_one_line_error(tmp_path):
    path = truncate(write_video(tmp_path / "v.mp4", grey_frames(30)), 0.6)
    with pytest.raises(LrlError, match="cannot open as a video") as err:
        sample_frames(path, 4)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"this is not a video\n" * 20])
def test_empty_or_text_file_is_a_one_line_error_naming_it(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(LrlError) as err:
        sample_frames(path, 4)
    assert str(err.value).startswith(f"{path}: cannot open as a video") and "\n" not in str(err.value)


def test_rotated_video_comes_out_upright(tmp_path):
    image = np.zeros((48, 64, 3), np.uint8)
    image[:16, :24] = 255  # white block at the top left of the stored frame
    path = write_video(tmp_path / "v.mp4", [image] * 3, rotation=90)
    out = sample_frames(path, 2)
    assert (out.width, out.height) == (48, 64)
    frame = out.frames[0]
    assert frame.shape == (64, 48, 3)
    assert (
        frame[-16:, :16].mean() > 200 and frame[:16, :16].mean() < 50
    )  # 90 deg ccw: top left -> bottom left


def test_variable_frame_rate_indexes_frames_in_order(tmp_path):
    pts = [0, 40, 50, 200, 210, 500, 505, 900, 1400, 1410]  # ms: irregular gaps
    path = write_video(tmp_path / "v.mp4", grey_frames(10), pts=pts)
    out = sample_frames(path, 4)
    assert out.n_frames == 10
    assert out.indices == [0, 3, 6, 9]
    assert [frame_id(f) for f in out.frames] == out.indices


def test_frames_between_those_kept_skip_non_reference_frames_and_keep_the_same_pixels(tmp_path):
    from pipeline.kernels.video import _frames, _open, _table

    path = write_video(tmp_path / "b.mp4", grey_frames(30), crf=10, preset="veryfast")  # B-frames
    every = dict(iter_frames(path, None))
    table = _table(path)
    container, stream = _open(path)
    decoded = [table.index_of[f.pts] for f in _frames(container, stream, table, [3, 20])]
    container.close()
    assert {3, 20, 29} <= set(decoded) and len(decoded) < 30  # the last frame is always decoded
    for min_gap in (None, 4):  # in order, and seeking to keyframes
        got = dict(iter_frames(path, [3, 11, 20, 29], min_gap=min_gap))
        assert list(got) == [3, 11, 20, 29] and all(np.array_equal(got[i], every[i]) for i in got)
    out = sample_frames(path, 4)
    assert out.indices == [0, 10, 19, 29] and out.n_frames == 30
