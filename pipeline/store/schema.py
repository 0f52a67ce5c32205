"""The HDF5 shard schema: the one module that knows dataset names, dtypes, chunks and attributes.

(h5py is imported inside the functions that need it, so the CLI can read COMPRESSIONS cheaply.)

One shard file holds N samples (face crops of one split):
    rgb    (N, H, W, 3) uint8    RGB crop x1
    freq   (N, H, W)    float16  frequency cue x2 (pipeline.kernels.dct), grey-level units, mean 0
    mask   (N, H, W)    uint8    forgery mask in {0, 1} (all 0 for reals)
    label  (N,)         uint8    0 real, 1 fake
    dataset, method, quality, video, split (N,) utf-8 strings; frame (N,) int32 (frame index in the
    video); interpolated (N,) uint8 (1 when the face box of that frame was interpolated);
    face (N,) int16 (the face track id within the video, pipeline.stages.extract; 0 for a one-face
    video); mask_known (N,) uint8 (1 for reals and for fakes with a mask; 0 for a fake whose real is
    not in ROOT, whose mask is then all 0 and means nothing)
A video's sample group is (dataset, method, quality, video, face). Schema 1 (before face and
mask_known) is still read: every sample is face 0 with mask_known 1 (pipeline.store.reader).
Every image dataset is chunked one sample per chunk, so a random read touches one chunk. File
attributes: schema_version, alpha, size, mask_threshold, mask_reference_quality, mask_params (JSON),
compression, code_version, created, split, bucket, fingerprint, and the freq sums of the shard.

Compression (benchmarks/shards.py --samples 256 --tile 1, 299 x 299 astronaut crops, per
CPU-second, one run on the shared 2-core machine): bytes per sample (rgb + float16 freq + mask) and
random reads of one sample, against none (536,892 B, 7,540 samples/s):
    blosc-lz4  426,381 B (0.79x)   7,040 samples/s (0.93x)   writes 1,257 MB/s   needs hdf5plugin
    lzf        415,160 B (0.77x)   1,106 samples/s (0.15x)   writes   182 MB/s   plain h5py
    gzip       394,087 B (0.73x)     664 samples/s (0.09x)   writes    78 MB/s   plain h5py
blosc-lz4 stays the default: for 3 % more bytes than lzf it reads 6.4x and writes 7x faster. A plugin
codec is not built into HDF5, so every such shard carries the attribute `note` saying what to import
(readable without the plugin: attributes are never compressed); `--compression lzf` (or gzip) writes
shards any HDF5 tool reads as they are. freq, float16 noise, does not compress and is always stored
plain.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from pipeline import __version__

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # schema 1: no face, no mask_known columns
RGB, FREQ, MASK, LABEL = "rgb", "freq", "mask", "label"
IMAGES = (RGB, FREQ, MASK)
STRING_META = ("dataset", "method", "quality", "video", "split")
INT_META = {"frame": np.int32, "interpolated": np.uint8, "face": np.int16, "mask_known": np.uint8}
ADDED_IN_2 = {"face": 0, "mask_known": 1}  # INT_META columns schema 1 lacks, and the value they mean there
META = STRING_META + tuple(INT_META)
COMPRESSIONS = ("lzf", "gzip", "blosc-lz4", "none")
DEFAULT_COMPRESSION = "blosc-lz4"
REQUIRED_ATTRS = (
    "schema_version",
    "alpha",
    "size",
    "mask_threshold",
    "mask_reference_quality",
    "mask_params",
    "compression",
    "code_version",
    "created",
    "split",
    "bucket",
    "fingerprint",
    "freq_sum",
    "freq_sumsq",
    "freq_count",
)


def _image_dtype(name: str) -> np.dtype:
    return np.dtype(np.float16 if name == FREQ else np.uint8)


def _image_shape(name: str, size: int) -> tuple[int, ...]:
    return (size, size, 3) if name == RGB else (size, size)


PLUGIN_NOTE = (
    "rgb and mask are compressed with blosc-lz4 (HDF5 filter 32001, not built into HDF5): "
    "`pip install hdf5plugin` and `import hdf5plugin` before h5py reads them; shards written with "
    "--compression lzf or gzip need no plugin"
)
PLUGIN_CODECS = ("blosc-lz4",)


def compression_options(name: str) -> dict:
    """h5py create_dataset keywords of a compression name (see COMPRESSIONS)."""
    if name == "none":
        return {}
    if name == "lzf":
        return {"compression": "lzf"}
    if name == "gzip":
        return {"compression": "gzip", "compression_opts": 4}
    if name == "blosc-lz4":
        import hdf5plugin

        return dict(hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.NOSHUFFLE))
    raise ValueError(f"unknown compression {name!r}: choose one of {', '.join(COMPRESSIONS)}")


class ShardWriter:
    """Append batches of samples to a new shard file; `close` writes metadata and attributes."""

    def __init__(self, path: Path, size: int, compression: str = DEFAULT_COMPRESSION):
        self.size = size
        self.count = 0
        self.meta: dict[str, list] = {name: [] for name in META}
        self.labels: list[int] = []
        import h5py

        packed = compression_options(compression)
        self.file = h5py.File(path, "w")
        self.images = {
            name: self.file.create_dataset(
                name,
                shape=(0,) + shape,
                maxshape=(None,) + shape,
                chunks=(1,) + shape,
                dtype=_image_dtype(name),
                **({} if name == FREQ else packed),
            )
            for name, shape in ((name, _image_shape(name, size)) for name in IMAGES)
        }

    def append(self, rgb: np.ndarray, freq: np.ndarray, mask: np.ndarray, label: int, meta: dict) -> None:
        """Add n samples of one video: rgb (n, H, W, 3) uint8, freq (n, H, W) float16, mask (n, H, W)
        in {0, 1}.

        `meta` maps every name of META to a scalar (same for all n) or a sequence of n values.
        """
        n = len(rgb)
        for name, array in ((RGB, rgb), (FREQ, freq), (MASK, mask)):
            expected = (n,) + _image_shape(name, self.size)
            if array.shape != expected:
                raise ValueError(f"{name}: shape {array.shape}, expected {expected}")
            dset = self.images[name]
            dset.resize(self.count + n, axis=0)
            dset[self.count :] = array.astype(_image_dtype(name), copy=False)
        for name in META:
            value = meta[name]
            self.meta[name] += list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * n
        self.labels += [int(label)] * n
        self.count += n

    def close(self, attrs: dict) -> None:
        """Write labels, metadata, the generic attributes and `attrs` (the rest of REQUIRED_ATTRS), close."""
        import h5py

        f = self.file
        f.create_dataset(LABEL, data=np.asarray(self.labels, dtype=np.uint8).reshape(-1))
        for name in STRING_META:
            f.create_dataset(
                name, data=np.asarray(self.meta[name], dtype=object).reshape(-1), dtype=h5py.string_dtype()
            )
        for name, dtype in INT_META.items():
            f.create_dataset(name, data=np.asarray(self.meta[name], dtype=dtype).reshape(-1))
        full = {
            "schema_version": SCHEMA_VERSION,
            "size": self.size,
            "code_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **attrs,
        }
        if full.get("compression") in PLUGIN_CODECS:
            full["note"] = PLUGIN_NOTE
        for key, value in full.items():
            f.attrs[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
        f.close()

    def abort(self) -> None:
        """Close without finishing (the caller deletes the temporary file)."""
        self.file.close()


def check(f) -> list[str]:
    """Schema problems of an open shard file (empty when it conforms)."""
    problems = [f"missing attribute {a}" for a in REQUIRED_ATTRS if a not in f.attrs]
    version = f.attrs.get("schema_version")
    if version not in READABLE_VERSIONS:
        problems.append(f"schema_version {version!r}, expected one of {READABLE_VERSIONS}")
    meta = tuple(n for n in META if version != 1 or n not in ADDED_IN_2)
    missing = [n for n in IMAGES + (LABEL,) + meta if n not in f]
    if missing:
        return problems + [f"missing datasets {', '.join(missing)}"]
    n = f[LABEL].shape[0]
    size = int(f.attrs.get("size", -1))
    for name in IMAGES:
        dset = f[name]
        expected = (n,) + _image_shape(name, size)
        if dset.shape != expected or dset.dtype != _image_dtype(name):
            problems.append(f"{name}: {dset.dtype} {dset.shape}, expected {_image_dtype(name)} {expected}")
        elif dset.chunks != (1,) + expected[1:]:
            problems.append(f"{name}: chunks {dset.chunks}, expected one sample per chunk")
    for name in (LABEL,) + meta:
        if f[name].shape != (n,):
            problems.append(f"{name}: shape {f[name].shape}, expected ({n},)")
    if f[LABEL].dtype != np.uint8 or (n and int(np.max(f[LABEL][:])) > 1):
        problems.append("label: not uint8 values in {0, 1}")
    return problems
