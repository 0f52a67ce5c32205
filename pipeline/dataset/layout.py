"""The one place that defines the input trees' layouts (ROOT, one dataset each). WORK's is
pipeline.store.layout.

FaceForensics++ (dataset "ffpp"; its DeepFakeDetection part is dataset "dfd"):
    original_sequences/{youtube,actors}/{raw,c23,c40}/videos/<id>.mp4
    manipulated_sequences/<Method>/{raw,c23,c40}/videos/<target>_<source>.mp4
    manipulated_sequences/<Method>/masks/videos/<target>_<source>.mp4   (official masks)

Celeb-DF v2 (dataset "celebdf", one quality "orig"; each folder may nest its videos under videos/):
    Celeb-real/id<A>_<NNNN>.mp4, YouTube-real/<NNNNN>.mp4, Celeb-synthesis/id<A>_id<B>_<NNNN>.mp4
    List_of_testing_videos.txt   lines "<label> <folder>/<file>", label 1 = real, 0 = fake (inverted!)

DFDC (dataset "dfdc", one quality "orig"):
    dfdc_train_part_<N>/<name>.mp4 + metadata.json
        {"<name>.mp4": {"label": "REAL" | "FAKE", "split": "train", "original": "<name>.mp4" | null}}
    <folder>/<name>.mp4 + labels.csv (public test set: header "filename,label", label 1 = fake; the
        folder is ROOT itself or a folder inside it)

A video is any file PyAV reads: the extensions of VIDEO_EXTS are taken as videos, any other is probed.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.params import BLEND_METHODS
from pipeline.store.records import ORIG

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
) + BLEND_METHODS
METHODS = REAL_METHODS + FAKE_METHODS
DFD_METHODS = ("actors", "DeepFakeDetection")  # FF++'s DeepFakeDetection part: dataset "dfd"
FFPP_QUALITIES = ("raw", "c23", "c40")
# Best first: the ranking picks the video a face is detected on; "orig" never shares a video with the others.
QUALITIES = FFPP_QUALITIES + (ORIG,)
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")  # others are probed with PyAV (scan.py)
SPLITS = ("train", "val", "test")
# The official split files: package data of the top-level package `manifests` (manifests/ffpp/*.json),
# read through importlib.resources (pipeline.dataset.splits.official_split_dir).
MANIFESTS_PACKAGE, FFPP_MANIFESTS = "manifests", "ffpp"

CELEB_REAL, YOUTUBE_REAL, CELEB_FAKE = "Celeb-real", "YouTube-real", "Celeb-synthesis"
CELEBDF_FOLDERS = (CELEB_REAL, YOUTUBE_REAL, CELEB_FAKE)
CELEBDF_NESTED = "videos"  # some copies keep each folder's videos in <folder>/videos/
CELEBDF_TEST_LIST = "List_of_testing_videos.txt"

DFDC_PART = re.compile(r"^dfdc_train_part_\d+$")
DFDC_METADATA = "metadata.json"
DFDC_LABELS = "labels.csv"
DFDC_REAL, DFDC_FAKE = "real", "fake"


def video_dir(root: Path, method: str, quality: str) -> Path:
    """Folder of the videos of one FF++ method at one quality."""
    parent = REAL_DIR if method in REAL_METHODS else FAKE_DIR
    return Path(root) / parent / method / quality / "videos"


def mask_video_dir(root: Path, method: str) -> Path:
    """Folder of a fake FF++ method's official mask videos (no quality level)."""
    return Path(root) / FAKE_DIR / method / "masks" / "videos"
