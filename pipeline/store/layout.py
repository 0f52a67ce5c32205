"""The one place that defines WORK's layout: where every stage writes.

WORK:
    state.sqlite                                   run state (pipeline.engine.runstate)
    faces/<dataset>/<method>/<quality>/<video>/<frame:06d>[-f<face>].png    crops, RGB (pipeline.store.images)
    masks/<dataset>/<method>/<quality>/<video>/<frame:06d>[-f<face>].png    masks, 0/255 grey
                                                                            (reals: implied zero)
    shards/<split>-<bucket:04d>.h5, shards/index.json             shards (pipeline.store.schema, .index)
    logs/<stage>-<timestamp>.log
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def frame_name(index: int, face: int = 0) -> str:
    """The PNG file name of frame `index` of face track `face` of a video (crops and masks alike).

    Face 0 (the only face of a one-face video) is `<frame:06d>.png`, face k >= 1 `<frame:06d>-f<k>.png`.
    """
    return f"{index:06d}.png" if face == 0 else f"{index:06d}-f{face}.png"


@dataclass(frozen=True)
class WorkLayout:
    """Where every stage writes under WORK."""

    work: Path

    @property
    def state_db(self) -> Path:
        return self.work / "state.sqlite"

    @property
    def faces(self) -> Path:
        return self.work / "faces"

    @property
    def masks(self) -> Path:
        return self.work / "masks"

    @property
    def shards(self) -> Path:
        return self.work / "shards"

    @property
    def shard_index(self) -> Path:
        return self.shards / "index.json"

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    def face_dir(self, dataset: str, method: str, quality: str, video: str) -> Path:
        return self.faces / dataset / method / quality / video

    def mask_dir(self, dataset: str, method: str, quality: str, video: str) -> Path:
        return self.masks / dataset / method / quality / video

    def shard_path(self, split: str, bucket: int) -> Path:
        return self.shards / f"{split}-{bucket:04d}.h5"
