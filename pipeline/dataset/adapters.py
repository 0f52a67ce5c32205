"""The dataset adapters behind one interface, and the choice among them (`--dataset`).

Each adapter module (pipeline.dataset.ffpp, .celebdf, .dfdc) has:
    NAME                          its `--dataset` value
    DATASETS                      the datasets its records carry (ffpp: "ffpp" and "dfd")
    LOOKED_FOR                    what `detect` looks for, said when no adapter recognises ROOT
    TITLE                         the dataset's name in messages
    layout_entries(root) -> list  the entries of ROOT with its layout (folders end with a slash)
    detect(root) -> bool          whether ROOT has its layout
    scan(root, split_dir) -> Index    every video as a VideoRecord, with problems and notes
"""

from __future__ import annotations

from pathlib import Path

from pipeline.dataset import celebdf, dfdc, ffpp
from pipeline.dataset.scan import Index
from pipeline.errors import LrlError
from pipeline.params import DATASETS
from pipeline.store.records import Problem

ADAPTERS = {
    module.NAME: module for module in (ffpp, celebdf, dfdc)
}  # pipeline.params.DATASETS: "auto" + these


def detect_dataset(root: Path) -> str:
    """The adapter whose layout ROOT has; LrlError when none or several recognise it."""
    root = Path(root)
    if not root.is_dir():
        raise LrlError(f"{root}: no such folder")
    found = [name for name, adapter in ADAPTERS.items() if adapter.detect(root)]
    if not found:
        looked = "; ".join(adapter.LOOKED_FOR for adapter in ADAPTERS.values())
        raise LrlError(f"{root}: not a dataset layout this tool knows (looked for {looked})")
    if len(found) > 1:
        raise LrlError(f"{root}: holds the layouts of {' and '.join(found)}; choose one with --dataset")
    return found[0]


def resolve(root: Path, dataset: str = "auto") -> str:
    """The adapter name for ROOT: `dataset` itself, or the detected one for "auto"."""
    if dataset == "auto":
        return detect_dataset(root)
    if dataset not in ADAPTERS:
        raise LrlError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return dataset


def scan(root: Path, dataset: str = "auto", split_dir: Path | None = None) -> Index:
    """Index every video of ROOT with the adapter `dataset` ("auto": detected from the layout)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise LrlError(f"{root}: no such folder")
    name = resolve(root, dataset)
    index = ADAPTERS[name].scan(root, Path(split_dir) if split_dir else None)
    index.notes += ignored_layouts(root, name)
    return index


def ignored_layouts(root: Path, name: str, shown: int = 3) -> list[Problem]:
    """A note for each other adapter's layout in ROOT, which the adapter `name` does not read."""
    notes = []
    for other, adapter in ADAPTERS.items():
        entries = adapter.layout_entries(root) if other != name else []
        if entries:
            listed = ", ".join(entries[:shown]) + (
                f" and {len(entries) - shown} more" if len(entries) > shown else ""
            )
            them = "it" if len(entries) == 1 else "them"
            notes.append(
                Problem(
                    str(root),
                    f"holds {listed} ({adapter.TITLE}), not read with --dataset {name}: "
                    f"index {them} with --dataset {other}",
                )
            )
    return notes
