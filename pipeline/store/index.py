"""WORK/shards/index.json: what every shard holds and its checksum; `--verify` checks files against it.

The index is written last, atomically, and only when every shard unit of the run is done, so it
always describes one complete set of files. Its `freq_std` is the standard deviation of the stored
frequency images over the train split (all splits when there is no train split): the constant the
trainer divides them by (model.inputs.freq_input). The mean is 0 by construction.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.errors import LrlError
from pipeline.store.atomic import write_json
from pipeline.store.layout import WorkLayout
from pipeline.store.preprocessing import Preprocessing
from pipeline.store.schema import LABEL, READABLE_VERSIONS, SCHEMA_VERSION, check

SHARD_NAME = re.compile(r"^[A-Za-z0-9_]+-\d{4}\.h5$")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (mapped, not copied: the hash runs at its own speed)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return hashlib.sha256().hexdigest()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return hashlib.sha256(data).hexdigest()


def sample_counts(labels, methods, qualities) -> dict:
    """Samples per label ("0" real, "1" fake), per method and per quality."""
    return {
        "label": dict(sorted(Counter(str(int(x)) for x in labels).items())),
        "method": dict(sorted(Counter(str(m) for m in methods).items())),
        "quality": dict(sorted(Counter(str(q) for q in qualities).items())),
    }


def _add_counts(total: dict, counts: dict) -> None:
    for kind, values in counts.items():
        bucket = total.setdefault(kind, {})
        for name, n in values.items():
            bucket[name] = bucket.get(name, 0) + n


@dataclass(frozen=True)
class ShardEntry:
    """One shard file as index.json lists it: what it holds, its checksum and its unit's fingerprint."""

    file: str
    split: str
    bucket: int
    samples: int
    videos: int
    bytes: int
    sha256: str
    counts: dict  # sample_counts of the file
    freq: dict  # sum, sumsq and count of its stored frequency values (not listed in index.json)
    fingerprint: str

    def listed(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "freq"}


def _freq_stats(entries: list[ShardEntry]) -> dict:
    n = sum(e.freq["count"] for e in entries)
    if n == 0:
        return {"count": 0, "mean": 0.0, "std": 0.0}
    mean = sum(e.freq["sum"] for e in entries) / n
    var = sum(e.freq["sumsq"] for e in entries) / n - mean * mean
    return {"count": n, "mean": mean, "std": math.sqrt(max(var, 0.0))}


def build_index(entries: list[ShardEntry], header: dict) -> dict:
    """The index of one complete set of shards; `header` adds params, size, buckets..."""
    shards, splits, by_split = [], {}, {}
    for e in sorted(entries, key=lambda e: e.file):
        shards.append(e.listed())
        total = splits.setdefault(e.split, {"shards": 0, "samples": 0, "videos": 0})
        total["shards"] += 1
        total["samples"] += e.samples
        total["videos"] += e.videos
        _add_counts(total, e.counts)
        by_split.setdefault(e.split, []).append(e)
    stats = {split: _freq_stats(es) for split, es in sorted(by_split.items())}
    basis = "train" if stats.get("train", {}).get("count") else "all"
    chosen = stats["train"] if basis == "train" else _freq_stats(entries)
    return {
        "schema_version": SCHEMA_VERSION,
        "code_version": __version__,
        **header,
        "freq_std": chosen["std"] or 1.0,
        "freq_std_from": basis,
        "freq_stats": stats,
        "splits": dict(sorted(splits.items())),
        "shards": shards,
    }


def preprocessing(index: dict) -> Preprocessing:
    """What a shard set's samples were made with (what a model trained on them expects): the typed record
    of pipeline.store.preprocessing (crop size, alpha, mask settings, schema, freq_std, extract settings)."""
    return Preprocessing.from_index(index)


def digest(index: dict) -> str:
    """A short hash of a shard index (its time left out): names results measured on this shard set."""
    text = json.dumps({k: v for k, v in index.items() if k != "created"}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def write_index(path: Path, index: dict) -> bool:
    """Write the index unless the one on disk says the same (apart from its time); True when written."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    if isinstance(old, dict) and {**old, "created": None} == {**index, "created": None}:
        return False
    write_json(path, {**index, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return True


def load_index(path: Path) -> dict:
    """The index at `path` (index.json or its folder); LrlError when absent or unreadable."""
    path = Path(path)
    path = path / "index.json" if path.is_dir() else path
    try:
        index = json.loads(path.read_text())
    except FileNotFoundError:
        raise LrlError(f"{path}: no shard index (run `lrl-prep shards` first)") from None
    except (OSError, ValueError) as exc:
        raise LrlError(f"{path}: unreadable shard index ({exc})") from None
    version = index.get("schema_version") if isinstance(index, dict) else None
    if version not in READABLE_VERSIONS or not isinstance(index.get("shards"), list):
        raise LrlError(
            f"{path}: not a shard index of schema {' or '.join(map(str, READABLE_VERSIONS))} "
            f"(found {version!r}; rerun `lrl-prep shards`)"
        )
    return index


def shard_files(folder: Path) -> list[Path]:
    """Shard files (by name) in a folder, temporary files excluded."""
    return sorted(p for p in Path(folder).glob("*.h5") if SHARD_NAME.match(p.name))


def _problem(path: Path, entry: dict) -> str | None:
    """What is wrong with one shard file against its index entry, or None."""
    import h5py

    if not path.is_file():
        return "missing"
    if sha256_file(path) != entry["sha256"]:
        return "checksum differs from index.json (changed or corrupted since it was written)"
    try:
        with h5py.File(path, "r") as f:
            problems = check(f)
            if problems:
                return "schema: " + "; ".join(problems)
            counts = sample_counts(f[LABEL][:], f["method"].asstr()[:], f["quality"].asstr()[:])
            samples = int(f[LABEL].shape[0])
    except OSError as exc:
        return f"not a readable HDF5 file ({exc})"
    if samples != entry["samples"] or counts != entry["counts"]:
        return f"holds {samples} samples {counts}, index.json says {entry['samples']} {entry['counts']}"
    return None


def verify(work: Path) -> tuple[int, list[tuple[str, str]]]:
    """(number of good shards, [(file, reason)] of bad ones, unlisted shard files included)."""
    layout = WorkLayout(Path(work))
    index = load_index(layout.shard_index)
    bad, good = [], 0
    listed = set()
    for entry in index["shards"]:
        listed.add(entry["file"])
        problem = _problem(layout.shards / entry["file"], entry)
        if problem:
            bad.append((entry["file"], problem))
        else:
            good += 1
    bad += [(p.name, "not listed in index.json") for p in shard_files(layout.shards) if p.name not in listed]
    return good, bad
