"""A tiny WORK tree as the extract and masks stages leave it (pipeline.store.layout; the CropsRecord and
MasksRecord of pipeline.stages), for the shards tests.

Crops are shifted views of skimage's astronaut photograph; fakes get a rectangular 0/255 mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.engine.runstate import DONE, RunState, UnitResult
from pipeline.store.images import write_png
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import MASKS, VideoRecord, params_meta

FRAMES = (0, 4, 8)


@dataclass(frozen=True)
class Video:
    target: str
    split: str
    method: str = "youtube"
    source: str | None = None
    quality: str = "c23"
    dataset: str = "ffpp"
    real: str = "youtube"  # the method of the dataset's reals (its fakes' target_method)

    @property
    def record(self) -> VideoRecord:
        fake = self.method != self.real
        name = f"{self.target}_{self.source}" if fake else self.target
        return VideoRecord(
            self.dataset,
            self.method,
            self.quality,
            name,
            f"/data/{name}.mp4",
            int(fake),
            self.target,
            self.real,
            self.source,
            None,
            self.split,
        )


def base_image(size: int) -> np.ndarray:
    import cv2
    from skimage.data import astronaut

    return cv2.resize(astronaut()[20:420, 60:460], (size, size), interpolation=cv2.INTER_AREA)


def crop(size: int, seed: int, frame: int) -> np.ndarray:
    """A distinct crop per (video seed, frame)."""
    return np.roll(base_image(size), (seed * 3 + frame, seed + 2 * frame), axis=(0, 1))


def box_mask(size: int, frame: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 + frame : size // 2 + frame, size // 4 : 3 * size // 4] = 255
    return mask


def add_video(
    work: Path,
    state: RunState,
    video: Video,
    size: int = 32,
    frames=FRAMES,
    seed: int = 0,
    masks: bool = True,
    version: str = "1",
) -> VideoRecord:
    """Write the crops (and a fake's masks) and record done extract (and masks) units."""
    layout = WorkLayout(work)
    rec = video.record
    face_dir = layout.face_dir(rec.dataset, rec.method, rec.quality, rec.video)
    for f in frames:
        write_png(face_dir / frame_name(f), crop(size, seed, f))
    data = {
        "record": rec.to_dict(),
        "frames": list(frames),
        "interpolated": [f == frames[-1] for f in frames],
        "size": size,
        "transforms": [[[1, 0, 0], [0, 1, 0]]] * len(frames),
        "detect_key": rec.key,
    }
    state.record(
        "extract",
        UnitResult(
            rec.key,
            f"extract-{rec.key}-{version}",
            DONE,
            outputs=[str(face_dir)],
            counts={"crops": len(frames)},
            data=data,
        ),
    )
    if rec.is_fake and masks:
        mask_dir = layout.mask_dir(rec.dataset, rec.method, rec.quality, rec.video)
        for f in frames:
            write_png(mask_dir / frame_name(f), box_mask(size, f))
        data = {
            "frames": list(frames),
            "reference_quality": "raw",
            "source": "diff",
            "mean_area": 0.1,
            "mean_components": 1.0,
            "empty_frames": [],
        }
        state.record(
            "masks",
            UnitResult(
                rec.key,
                f"masks-{rec.key}-{version}",
                DONE,
                outputs=[str(mask_dir)],
                counts={"masks": len(frames)},
                data=data,
            ),
        )
    return rec


TREE = (
    [Video(f"{i:03d}", "train") for i in range(4)]
    + [Video(f"{i:03d}", "train", "Deepfakes", f"{(i + 1) % 4:03d}") for i in range(4)]
    + [
        Video("004", "val"),
        Video("004", "val", "Face2Face", "005"),
        Video("006", "test"),
        Video("006", "test", "Deepfakes", "007"),
    ]
)


def make_work(work: Path, size: int = 32, videos=TREE) -> dict[str, VideoRecord]:
    """A WORK tree holding every video of `videos` (extract and masks done), with the masks params."""
    records = {}
    with RunState(WorkLayout(work).state_db) as state:
        state.set_meta(params_meta(MASKS), {"threshold": 0.15, "reference_quality": "auto", "source": "diff"})
        for seed, video in enumerate(videos):
            rec = add_video(work, state, video, size=size, seed=seed)
            records[rec.key] = rec
    return records
