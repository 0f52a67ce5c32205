"""Random access to the samples of one split across all its shards (numpy only; the trainer wraps it).

Labels and metadata of every sample are read once, without any image, when the dataset is built;
the files are then closed. Image reads open each shard lazily in the process that reads (a
DataLoader worker reopens its own handles after a fork and never uses the parent's).

The frequency image is stored in grey levels with mean 0 (DC removed): the network reads it divided by
the shard set's constant standard deviation (index.json "freq_std", model.inputs.freq_input), never
(x / 255 - 0.5) / 0.5.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np

from pipeline.errors import LrlError
from pipeline.params import Selection
from pipeline.store.index import load_index
from pipeline.store.schema import (
    ADDED_IN_2,
    IMAGES,
    INT_META,
    LABEL,
    PLUGIN_CODECS,
    PLUGIN_NOTE,
    READABLE_VERSIONS,
    STRING_META,
)


def _open(path: Path):
    import h5py

    with contextlib.suppress(ImportError):
        import hdf5plugin  # noqa: F401 - registers the blosc filter (a missing one is said on first read)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise LrlError(f"{path}: cannot open shard ({exc})") from None


def _read(dset, local: int, path: Path) -> np.ndarray:
    """dset[local]; LrlError saying what to import when its compression filter is not available."""
    try:
        return dset[local]
    except OSError as exc:
        codec = dset.file.attrs.get("compression", "?")
        hint = PLUGIN_NOTE if codec in PLUGIN_CODECS else f"compression {codec}"
        raise LrlError(
            f"{path}: cannot read {dset.name.lstrip('/')} ({str(exc).splitlines()[0]}): {hint}"
        ) from None


def _columns(shard: int, path: Path) -> dict[str, np.ndarray]:
    """Labels and metadata of one shard file (no image is read); the file is closed again."""
    with _open(path) as f:
        version = f.attrs.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise LrlError(f"{path}: shard schema {version!r}, expected one of {READABLE_VERSIONS}")
        n = f[LABEL].shape[0]
        cols = {
            LABEL: f[LABEL][:],
            "local": np.arange(n, dtype=np.int64),
            "shard": np.full(n, shard, np.int32),
        }
        cols.update({name: f[name].asstr()[:].astype(object) for name in STRING_META})
        cols.update(
            {
                name: f[name][:] if name in f else np.full(n, ADDED_IN_2[name], dtype)  # schema 1
                for name, dtype in INT_META.items()
            }
        )
    return cols


def _read_meta(paths: list[Path]) -> dict[str, np.ndarray]:
    columns = [_columns(i, path) for i, path in enumerate(paths)]
    names = (LABEL, "shard", "local") + STRING_META + tuple(INT_META)
    return {
        name: np.concatenate([c[name] for c in columns]) if columns else np.zeros(0, object) for name in names
    }


@dataclass(frozen=True)
class SampleFilter:
    """Samples kept by the value of one metadata column (ShardDataset.meta: video, dataset, method, quality,
    ...): those matching a pattern of `only` (None: every sample), less those matching one of `exclude`.
    Patterns are fnmatch's (`*`, `?`, `[...]`; a plain name matches itself only), case-sensitive.

    An identity fold of FF++ (videos "000" and "000_003": target, then source): training keeps
    SampleFilter(exclude=("000", "003", "000_*", "*_000", "003_*", "*_003")), the test keeps
    SampleFilter(only=(the same patterns)). LrlError when the column is not a string column."""

    column: str = "video"
    only: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    def admits(self, meta: dict[str, np.ndarray]) -> np.ndarray:
        """Boolean (n,) over the samples of `meta` (columns of equal length)."""
        if self.column not in STRING_META:
            raise LrlError(f"sample filter on {self.column!r}: choose one of {', '.join(STRING_META)}")
        values = meta[self.column].tolist()

        def matches(patterns) -> np.ndarray:
            return np.fromiter((any(fnmatchcase(v, p) for p in patterns) for v in values), bool, len(values))

        keep = np.ones(len(values), bool) if self.only is None else matches(self.only)
        return keep & ~matches(self.exclude) if self.exclude else keep

    def to_dict(self) -> dict:
        return {"column": self.column, "only": self.only and list(self.only), "exclude": list(self.exclude)}


def _select(
    meta: dict[str, np.ndarray], selection: Selection, interpolated: bool, datasets, keep_filter
) -> dict[str, np.ndarray]:
    keep = np.fromiter(
        map(selection.admits, meta["method"], meta["quality"], meta["split"]), bool, len(meta[LABEL])
    )
    if not interpolated:
        keep &= meta["interpolated"] == 0
    if datasets is not None:
        keep &= np.isin(meta["dataset"].astype(str), list(datasets))
    if keep_filter is not None:
        keep &= keep_filter.admits(meta)
    return {name: values[keep] for name, values in meta.items()}


class ShardSet:
    """One shard set opened once: its index.json and, on first use of each split, every sample's labels and
    metadata (no image). `ShardDataset(shard_set, split, ...)` then reads no file until an image is read, so
    a training run opens its shard set once and hands it to training and evaluation.

    `source`: WORK/shards or its index.json. LrlError when the index is absent or unreadable, or a shard
    file's schema is not readable."""

    def __init__(self, source):
        self.source = Path(source)
        self.folder = self.source if self.source.is_dir() else self.source.parent
        self.index = load_index(self.source)
        self.freq_std = float(self.index["freq_std"])
        self._meta: dict[str, dict[str, np.ndarray]] = {}

    def paths(self, split: str) -> list[Path]:
        """The shard files of one split, in index order."""
        return [self.folder / e["file"] for e in self.index["shards"] if e["split"] == split]

    def meta(self, split: str) -> dict[str, np.ndarray]:
        """Every sample's label and metadata columns of one split (read once)."""
        if split not in self._meta:
            self._meta[split] = _read_meta(self.paths(split))
        return self._meta[split]


class ShardDataset:
    """Samples of one split: ds[i] -> dict(rgb, freq, mask, label, metadata); len(ds); ds.labels.

    `ds.meta` holds every per-sample column, `face` and `mask_known` included (schema 1 shards: face 0,
    mask_known 1); `ds.videos` names each sample's video (without its face: group by video and face
    for one sample group per face).

    `source` is an open ShardSet, or WORK/shards or its index.json (opened here); `fields` the images to
    read (any of rgb, freq, mask); `methods` / `qualities` / `datasets` keep only those samples (None keeps
    all); `keep` (a SampleFilter) too; `interpolated` False leaves out the frames whose face box was
    interpolated between detections (the trainer's default); `unknown_masks` False leaves out the samples
    whose mask is unknown (mask_known 0: a fake whose real is not in ROOT), counted in
    `ds.unknown_masks_left_out`. `ds.index` is the shard set's index.json.
    """

    def __init__(
        self,
        source,
        split: str,
        fields=IMAGES,
        methods=None,
        qualities=None,
        interpolated: bool = True,
        datasets=None,
        unknown_masks: bool = True,
        keep: SampleFilter | None = None,
    ):
        opened = source if isinstance(source, ShardSet) else ShardSet(source)
        self.source = opened.source
        self.index = opened.index
        self.split = split
        self.fields = tuple(fields)
        unknown = set(self.fields) - set(IMAGES)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}: choose from {IMAGES}")
        self.freq_std = opened.freq_std
        self.size = int(self.index.get("size", 0))
        self.paths = opened.paths(split)
        meta = _select(opened.meta(split), Selection(methods, qualities), interpolated, datasets, keep)
        known = meta["mask_known"] != 0
        self.unknown_masks_left_out = 0 if unknown_masks else int((~known).sum())
        self.meta = (
            meta if unknown_masks else {name: values[known] for name, values in meta.items()}
        )  # no images
        self.labels = self.meta[LABEL].astype(np.uint8)
        self.methods = self.meta["method"]
        self.videos = np.array(
            [
                "/".join(v)
                for v in zip(*(self.meta[k] for k in ("dataset", "method", "quality", "video")), strict=True)
            ],
            object,
        )
        self._where = list(zip(self.meta["shard"].tolist(), self.meta["local"].tolist(), strict=True))
        self._rows = {name: self.meta[name].tolist() for name in (LABEL,) + STRING_META + tuple(INT_META)}
        self._keys = self.videos.tolist()
        self._pid: int | None = None
        self._files: dict[int, tuple] = {}  # shard -> (h5py.File, {field: dataset}), this process's

    def __len__(self) -> int:
        return len(self.labels)

    def _datasets(self, shard: int) -> dict:
        if self._pid != os.getpid():  # first use in this process (or after a fork): own handles
            self._pid, self._files = os.getpid(), {}
        if shard not in self._files:
            f = _open(self.paths[shard])
            self._files[shard] = (f, {name: f[name] for name in self.fields})
        return self._files[shard][1]

    def __getitem__(self, index: int) -> dict:
        """rgb (H, W, 3) uint8, freq (H, W) float16, mask (H, W) uint8 (those in `fields`), label int,
        dataset, method, quality, video, split str, frame int, interpolated bool, face int, mask_known
        bool, key (the video's)."""
        shard, local = self._where[index]
        sample = {name: _read(dset, local, self.paths[shard]) for name, dset in self._datasets(shard).items()}
        for name, column in self._rows.items():
            sample[name] = column[index]
        sample["interpolated"] = bool(sample["interpolated"])
        sample["mask_known"] = bool(sample["mask_known"])
        sample["key"] = self._keys[index]
        return sample

    def close(self) -> None:
        """Close the files this process opened."""
        if self._pid == os.getpid():
            for f, _ in self._files.values():
                f.close()
        self._files = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_files": {}, "_pid": None}
