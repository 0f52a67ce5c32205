"""The tree `lrl-prep blend` writes (ROOT2): FaceForensics++'s layout, so every stage reads it unchanged.

    original_sequences/youtube/{raw,c23,c40}/videos/AAA.mp4     symbolic links to ROOT's reals (absolute)
    manipulated_sequences/<Method>/{raw,c23,c40}/videos/AAA_BBB.mp4
    manipulated_sequences/<Method>/masks/videos/AAA_BBB.mp4     the blend region, lossless grey
    splits/{train,val,test}.json    FF++'s format ([a, b] pairs), each real in its ROOT split
    blend.json                      ids (AAA -> ROOT's real), seed, and per fake its target and source
    .blend/                         the run state (hidden: no adapter reads it)

Reals are symbolic links, not hard links: a hard link cannot cross file systems, and a link shows where the
video comes from. A real of ROOT at quality "orig" (Celeb-DF, DFDC: one quality) is linked as `raw`: it is
the best copy there is, and the raw fakes are made losslessly from its decoded frames; its c23 / c40 are
not made, so train such a tree at one quality (`--qualities raw`). AAA: ROOT's id when every real's id is
FF++'s three digits, else 000, 001, ... in the order of ROOT's keys (FF++'s adapter reads three digits
only, so at most 1000 reals; the map is in blend.json). Split pairs: the reals of a split paired in id
order ([a, b], the last one alone as [a, a]); fakes AAA_BBB are in their target AAA's split (the FF++
adapter's rule for a name no pair lists), and a swap's source comes from the same split
(pipeline.blend.sources).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.dataset.layout import FFPP_QUALITIES, ORIG, SPLITS, mask_video_dir, video_dir
from pipeline.errors import LrlError
from pipeline.store.atomic import TMP_MARK, write_bytes
from pipeline.store.records import VideoRecord

REAL = "youtube"
STATE = Path(".blend") / "state.db"
MANIFEST = "blend.json"
MASKS = "masks"
FFPP_ID = re.compile(r"^\d{3}$")
MAX_REALS = 1000


def real_key(video: VideoRecord) -> str:
    """A real's identity in ROOT, whatever its quality: dataset/method/id."""
    return f"{video.dataset}/{video.method}/{video.video}"


def assign_ids(keys: list[str]) -> dict[str, str]:
    """ROOT's real key -> AAA in ROOT2 (module docstring)."""
    names = [k.rsplit("/", 1)[1] for k in keys]
    if all(FFPP_ID.match(n) for n in names) and len(set(names)) == len(names):
        return dict(zip(keys, names, strict=True))
    if len(keys) > MAX_REALS:
        raise LrlError(
            f"{len(keys)} reals to renumber, but FF++'s layout names at most {MAX_REALS} (000-999); "
            "blend a ROOT of at most that many reals (e.g. a folder of links to some of them)"
        )
    return {k: f"{i:03d}" for i, k in enumerate(sorted(keys))}


def out_quality(quality: str) -> str:
    return "raw" if quality == ORIG else quality


def real_path(root2: Path, aaa: str, quality: str) -> Path:
    return video_dir(root2, REAL, out_quality(quality)) / f"{aaa}.mp4"


def fake_paths(root2: Path, method: str, name: str) -> dict[str, Path]:
    """Every file of one fake: its three qualities and MASKS."""
    paths = {q: video_dir(root2, method, q) / f"{name}.mp4" for q in FFPP_QUALITIES}
    paths[MASKS] = mask_video_dir(root2, method) / f"{name}.mp4"
    return paths


def link(path: Path, target: Path) -> bool:
    """Make `path` a symbolic link to `target` (absolute); False when it already is one. Atomic."""
    target = Path(target).resolve()
    if path.is_symlink() and Path(os.readlink(path)) == target:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_MARK}{path.name}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, path)
    return True


def split_pairs(splits: dict[str, str]) -> dict[str, list[list[str]]]:
    """{split: [[a, b], ...]} from AAA -> split (reals with split "none" are in no file)."""
    pairs = {}
    for split in SPLITS:
        ids = sorted(a for a, s in splits.items() if s == split)
        pairs[split] = [[ids[i], ids[min(i + 1, len(ids) - 1)]] for i in range(0, len(ids), 2)]
    return pairs


def write_if_changed(path: Path, obj) -> bool:
    """Write `obj` as JSON unless the file already holds exactly that; whether it wrote."""
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    if path.is_file() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def write_splits(root2: Path, splits: dict[str, str]) -> int:
    """The split files; how many were (re)written."""
    return sum(
        write_if_changed(root2 / "splits" / f"{s}.json", pairs) for s, pairs in split_pairs(splits).items()
    )


def check_out(root: Path, root2: Path) -> None:
    """ROOT2 must be neither ROOT nor inside it (ROOT's next scan would read the fakes as its own)."""
    root, root2 = Path(root).resolve(), Path(root2).resolve()
    if root2 == root or root2.is_relative_to(root):
        raise LrlError(f"--out {root2}: inside --root {root}; choose a folder outside it")
    if root.is_relative_to(root2):
        raise LrlError(f"--out {root2}: holds --root {root}; choose a folder outside it")
