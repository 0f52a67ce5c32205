"""The one place that defines the input tree's layout: FaceForensics++ (ROOT). WORK's is pipeline.store.layout.

FaceForensics++ (ROOT):
    original_sequences/{youtube,actors}/{raw,c23,c40}/videos/<id>.mp4
    manipulated_sequences/<Method>/{raw,c23,c40}/videos/<target>_<source>.mp4
    manipulated_sequences/<Method>/masks/videos/<target>_<source>.mp4   (official masks)

A video is any file PyAV reads: the extensions of VIDEO_EXTS are taken as videos, any other is probed.

"""

from __future__ import annotations

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
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")  # others are probed with PyAV (scan.py)
SPLITS = ("train", "val", "test")
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def video_dir(root: Path, method: str, quality: str) -> Path:
    """Folder of the videos of one method at one quality."""
    parent = REAL_DIR if method in REAL_METHODS else FAKE_DIR
    return Path(root) / parent / method / quality / "videos"


def mask_video_dir(root: Path, method: str) -> Path:
    """Folder of a fake method's official mask videos (no quality level)."""
    return Path(root) / FAKE_DIR / method / "masks" / "videos"


def frame_name(index: int) -> str:
    return f"{index:06d}.png"
