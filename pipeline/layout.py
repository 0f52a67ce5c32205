"""The one place that defines the on-disk layout: the FaceForensics++ input tree and WORK.

FaceForensics++ (ROOT):
    original_sequences/{youtube,actors}/{raw,c23,c40}/videos/<id>.mp4
    manipulated_sequences/<Method>/{raw,c23,c40}/videos/<target>_<source>.mp4
    manipulated_sequences/<Method>/masks/videos/<target>_<source>.mp4   (official masks)

WORK:
    state.sqlite                                   run state (pipeline.runstate)
    faces/<dataset>/<method>/<quality>/<video>/<frame:06d>.png
    masks/<dataset>/<method>/<quality>/<video>/<frame:06d>.png
    shards/<split>-<bucket:04d>.h5, shards/index.json
    logs/<stage>-<timestamp>.log
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REAL_DIR = "original_sequences"
FAKE_DIR = "manipulated_sequences"
REAL_METHODS = ("youtube", "actors")
FAKE_METHODS = (
    "Deepfakes",
    "Face2Face",
    "FaceSwap",
    "NeuralTextures",
    "FaceShifter",
    "DeepFakeDetection",
)
METHODS = REAL_METHODS + FAKE_METHODS
QUALITIES = ("raw", "c23", "c40")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov")
SPLITS = ("train", "val", "test")
MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"


def video_dir(root: Path, method: str, quality: str) -> Path:
    """Folder of the videos of one method at one quality."""
    parent = REAL_DIR if method in REAL_METHODS else FAKE_DIR
    return Path(root) / parent / method / quality / "videos"


def mask_video_dir(root: Path, method: str) -> Path:
    """Folder of a fake method's official mask videos (no quality level)."""
    return Path(root) / FAKE_DIR / method / "masks" / "videos"


def frame_name(index: int) -> str:
    return f"{index:06d}.png"


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


DEMO_TRUTH = "demo_truth.json"


def demo_truth_path(root: Path) -> Path:
    """The demo tree's sidecar of true face boxes and landmarks (pipeline.demo)."""
    return Path(root) / DEMO_TRUTH
