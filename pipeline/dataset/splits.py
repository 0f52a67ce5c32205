"""FaceForensics++ official split files: JSON lists of [a, b] pairs."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.dataset.layout import FFPP_MANIFESTS, MANIFESTS_PACKAGE, SPLITS
from pipeline.errors import LrlError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def official_split_dir() -> Traversable:
    """The official FF++ split files, package data of `manifests` read through importlib.resources (a
    folder on disk in a wheel, `pip install .` or `-e` install). LrlError when the package is missing."""
    try:
        return resources.files(MANIFESTS_PACKAGE) / FFPP_MANIFESTS
    except ModuleNotFoundError:
        raise LrlError(
            f"the official split files (package {MANIFESTS_PACKAGE!r}) are not installed: "
            "reinstall lrl (`pip install .`, or `make`), or give --split-dir"
        ) from None


def default_split_dir(root: Path) -> Path | Traversable:
    """ROOT/splits when the tree carries its own split files (the demo does), else the official ones."""
    own = Path(root) / "splits"
    return own if all((own / f"{s}.json").exists() for s in SPLITS) else official_split_dir()


def load_pairs(split_dir: Path | str | Traversable) -> dict[str, list[tuple[str, str]]]:
    """The pairs of each split. LrlError naming the file when one is missing or is no list of pairs."""
    folder = Path(split_dir) if isinstance(split_dir, str) else split_dir
    pairs = {}
    for split in SPLITS:
        path = folder / f"{split}.json"
        if not path.is_file():
            raise LrlError(
                f"{path}: split file missing (a split folder holds {', '.join(f'{s}.json' for s in SPLITS)})"
            )
        try:
            pairs[split] = [(str(a), str(b)) for a, b in json.loads(path.read_text())]
        except (OSError, ValueError, TypeError) as exc:
            raise LrlError(f"{path}: not a split file of [a, b] pairs ({exc})") from None
    return pairs


def split_lookup(pairs: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """Map real ids and fake names to their split: pair [a, b] holds a, b, a_b and b_a."""
    lookup = {}
    for split, split_pairs in pairs.items():
        for a, b in split_pairs:
            for name in (a, b, f"{a}_{b}", f"{b}_{a}"):
                lookup[name] = split
    return lookup
