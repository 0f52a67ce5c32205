"""FaceForensics++ official split files: JSON lists of [a, b] pairs."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.dataset.layout import MANIFESTS, SPLITS
from pipeline.errors import LrlError


def default_split_dir(root: Path) -> Path:
    """ROOT/splits when the tree carries its own split files (the demo does), else the official ones."""
    own = Path(root) / "splits"
    return own if all((own / f"{s}.json").exists() for s in SPLITS) else MANIFESTS / "ffpp"


def load_pairs(split_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """The pairs of each split."""
    pairs = {}
    for split in SPLITS:
        path = Path(split_dir) / f"{split}.json"
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
