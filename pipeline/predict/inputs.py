"""What `lrl-predict INPUT...` means: video files, image files, and folders of either (searched recursively)."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})


def kind_of(path: Path) -> str:
    """"image" for the image suffixes, else "video" (a named file is tried as a video whatever its suffix)."""
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"


def expand(inputs) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """([(file, kind)] in the order given, folders expanded sorted), [(input, reason)] of unusable ones.

    A missing path, and a folder holding no video or image, are unusable (named with the reason).
    """
    found, bad, seen = [], [], set()
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           | VIDEO_SUFFIXES)
            if not files:
                bad.append((str(path), "folder holds no video or image file"))
        elif path.is_file():
            files = [path]
        else:
            bad.append((str(path), "no such file or folder"))
            files = []
        for f in files:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                found.append((f, kind_of(f)))
    return found, bad
