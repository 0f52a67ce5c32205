"""When decoding skips ahead: seek to the keyframe before the next kept frame when that skips many frames.

Decoding in order costs every frame up to the last kept one; a seek lands on a keyframe and decodes from
there, so it pays only where a keyframe lies well past the current position and at or before the next
kept frame (FF++ c23 clips have keyframes 250 frames apart: 32 frames of a 300-frame clip never seek,
while a long video sampled sparsely seeks once per kept frame). A seek is taken when it skips at least
SEEK_MIN_GAP frames (measured in benchmarks/predict.py and benchmarks/extract.py).

Frame indices stay positions in presentation order, as in order decoding: the FrameTable maps every
packet's pts to its position, read by demuxing the packets (no decoding). A stream whose packets lack a
pts, or repeat one, is decoded in order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

SEEK_MIN_GAP = 16  # frames a seek must skip: it costs 5-10 frames of decoding (measured: docs/inputs.md)


@dataclass(frozen=True)
class FrameTable:
    """pts -> frame index (presentation order), and the keyframes' indices and pts, ascending."""

    index_of: dict[int, int]
    key_indices: list[int]
    key_pts: list[int]

    def keyframe_before(self, index: int) -> int | None:
        """Position in key_indices of the last keyframe at or before frame `index`, or None."""
        k = bisect.bisect_right(self.key_indices, index) - 1
        return k if k >= 0 else None


def frame_table(packets) -> FrameTable | None:
    """The table from (pts, is_keyframe) of every non-empty packet of a stream; None when a pts is missing
    or repeated (the indices could not be trusted)."""
    packets = list(packets)
    pts = sorted(p for p, _ in packets if p is not None)
    if len(pts) != len(packets) or len(set(pts)) != len(pts):
        return None
    index_of = {p: i for i, p in enumerate(pts)}
    keys = sorted((index_of[p], p) for p, key in packets if key)
    return FrameTable(index_of, [i for i, _ in keys], [p for _, p in keys])


def worth_a_table(targets: list[int], gap: int | None = SEEK_MIN_GAP) -> bool:
    """Whether any kept frame lies more than `gap` frames past the one before it (or past the start): else
    no seek could pay and the packets are not even read. None: never."""
    if gap is None:
        return False
    previous = -1
    for t in sorted(targets):
        if t - previous > gap:
            return True
        previous = t
    return False


def seek_target(
    table: FrameTable, position: int, following: int, gap: int | None = SEEK_MIN_GAP
) -> int | None:
    """The pts to seek to when the next frame wanted is `following` and the last decoded is `position`:
    that of the last keyframe at or before `following`, when it skips at least `gap` frames (None: never);
    else None."""
    k = table.keyframe_before(following)
    if gap is None or k is None or table.key_indices[k] - (position + 1) < gap:
        return None
    return table.key_pts[k]
