"""Shards stage benchmark: ours against bare scipy / h5py doing the same work, in one run (medians).

1. DCT high-pass (eq. 1-3), images/s: pipeline.kernels.dct.frequency_cue on a batch of RGB crops against a
   per-image loop of grey + scipy.fft.dctn / zero / idctn (float32, one thread both).
2. Shard write, MB/s of array data: pipeline.store.schema.ShardWriter (per-video appends, metadata,
   attributes; then the sha256 the stage records) against h5py create_dataset(data=...) of the same
   arrays with the same chunks and compression.
3. Reader random access, samples/s: pipeline.store.reader.ShardDataset[i] against h5py dset[i] reads of
   the same samples on files opened once.
Plus the compression table the schema's choice rests on, the whole stage's samples/s, and the
range of the frequency cue on these crops. Rates are per CPU-second of this process (see CLOCK).
Usage: python benchmarks/shards.py [--samples 256] [--tile 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - blosc filter for the bare reads
import numpy as np
import scipy.fft

from pipeline.engine.runstate import DONE, RunState, UnitResult
from pipeline.kernels.dct import GRAY_WEIGHTS, frequency_cue, keep_mask
from pipeline.params import COMPRESSIONS, PrepConfig, RunOptions, ShardsParams
from pipeline.stages import shards
from pipeline.stages.context import run_stage
from pipeline.store.images import write_png
from pipeline.store.index import sha256_file
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.reader import ShardDataset
from pipeline.store.records import MASKS, VideoRecord, params_meta
from pipeline.store.schema import DEFAULT_COMPRESSION, ShardWriter, compression_options

SIZE = 299
FRAMES = 32
CLOCK = time.process_time  # CPU time of this process (user + system, all threads): rates per CPU-second,
# which other jobs on a shared machine disturb far less than wall time; same as wall time when idle


def interleaved(runs: dict, repeats: int) -> dict[str, float]:
    """Median CPU seconds of each callable, run in turn within every round (noise hits all alike)."""
    times = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm up: imports, page cache, open handles
    for _ in range(repeats):
        for name, fn in runs.items():
            start = CLOCK()
            fn()
            times[name].append(CLOCK() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def crops(n: int) -> np.ndarray:
    """n different 299x299 views of the astronaut photograph (position and scale vary)."""
    import cv2
    from skimage.data import astronaut

    image, rng, out = astronaut(), np.random.default_rng(0), []
    for _ in range(n):
        side = int(rng.integers(260, 420))
        y, x = (int(v) for v in rng.integers(0, 512 - side, 2))
        out.append(cv2.resize(image[y : y + side, x : x + side], (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def bare_highpass(rgb: np.ndarray, alpha: float) -> list[np.ndarray]:
    zero = keep_mask(SIZE, SIZE, alpha) == 0
    out = []
    for image in rgb:
        coeffs = scipy.fft.dctn(image.astype(np.float32) @ GRAY_WEIGHTS, norm="ortho")
        coeffs[zero] = 0.0
        out.append(scipy.fft.idctn(coeffs, norm="ortho"))
    return out


def bench_dct(rgb: np.ndarray, repeats: int) -> None:
    t = interleaved(
        {"ours": partial(frequency_cue, rgb, 0.33), "bare": partial(bare_highpass, rgb, 0.33)}, repeats
    )
    ours, bare = len(rgb) / t["ours"], len(rgb) / t["bare"]
    print(f"dct high-pass   ours {ours:8.0f} img/s   bare scipy {bare:8.0f} img/s   ratio {ours / bare:.2f}")


def write_ours(path: Path, rgb, freq, mask, compression: str, checksum: bool) -> None:
    writer = ShardWriter(path, SIZE, compression)
    for start in range(0, len(rgb), FRAMES):
        part = slice(start, start + FRAMES)
        n = len(rgb[part])
        meta = {
            "dataset": "ffpp",
            "method": "Deepfakes",
            "quality": "c23",
            "video": f"{start:03d}_999",
            "split": "train",
            "frame": list(range(n)),
            "interpolated": [0] * n,
            "face": 0,
            "mask_known": 1,
        }
        writer.append(rgb[part], freq[part], mask[part], 1, meta)
    writer.close({"alpha": 0.33, "split": "train", "bucket": 0, "freq_sum": 0.0, "freq_sumsq": 0.0})
    if checksum:
        sha256_file(path)


def write_bare(path: Path, rgb, freq, mask, compression: str) -> None:
    packed = compression_options(compression)
    with h5py.File(path, "w") as f:
        f.create_dataset("rgb", data=rgb, chunks=(1, SIZE, SIZE, 3), **packed)
        f.create_dataset("freq", data=freq, chunks=(1, SIZE, SIZE))
        f.create_dataset("mask", data=mask, chunks=(1, SIZE, SIZE), **packed)
        f.create_dataset("label", data=np.ones(len(rgb), np.uint8))


def bare_reads(files, order, shard, local) -> None:
    for i in order:
        dsets = files[shard[i]]
        for dset in dsets:
            dset[local[i]]


def ours_reads(ds: ShardDataset, order) -> None:
    for i in order:
        ds[i]


def bench_write(tmp: Path, rgb, freq, mask, repeats: int) -> None:
    mb = (rgb.nbytes + freq.nbytes + mask.nbytes) / 1e6
    print(
        f"shard write ({len(rgb)} samples, {mb:.0f} MB of arrays), MB/s; read = random samples/s on that file"
    )
    order = np.random.default_rng(1).permutation(len(rgb))
    bare_none = None
    for compression in sorted(COMPRESSIONS, key=lambda c: c != "none"):  # "none" first: the baseline
        path = tmp / f"bench-{compression}.h5"
        t = interleaved(
            {
                "bare": partial(write_bare, path, rgb, freq, mask, compression),
                "ours": partial(write_ours, path, rgb, freq, mask, compression, False),
                "ours+sha256": partial(write_ours, path, rgb, freq, mask, compression, True),
            },
            repeats,
        )
        bare, plain, summed = mb / t["bare"], mb / t["ours"], mb / t["ours+sha256"]
        size = path.stat().st_size / 1e6
        with h5py.File(path) as f:
            stored = {n: f[n].id.get_storage_size() / f[n].nbytes for n in ("rgb", "mask")}
            dsets = [(f["rgb"], f["freq"], f["mask"])]
            reads = (
                len(rgb)
                / interleaved(
                    {"r": partial(bare_reads, dsets, order, np.zeros(len(rgb), int), order)}, repeats
                )["r"]
            )
        bare_none = bare_none or reads
        mark = "  <- default" if compression == DEFAULT_COMPRESSION else ""
        print(
            f"  {compression:<10} ours {plain:6.0f}  ours+sha256 {summed:6.0f}  bare h5py {bare:6.0f}  "
            f"ratio {plain / bare:.2f} ({summed / bare:.2f} with sha256)  size {size / mb:.2f}x "
            f"(rgb {stored['rgb']:.2f}x, mask {stored['mask']:.3f}x)  {size * 1e6 / len(rgb):7.0f} "
            f"bytes/sample  read {reads:6.0f}/s ({reads / bare_none:.2f}x none){mark}"
        )


def make_work(work: Path, rgb: np.ndarray) -> None:
    """A WORK tree of videos of FRAMES crops each (alternately real and fake), as extract/masks leave it."""
    layout = WorkLayout(work)
    with RunState(layout.state_db) as state:
        state.set_meta(params_meta(MASKS), {"threshold": 0.15})
        for v, start in enumerate(range(0, len(rgb), FRAMES)):
            fake = v % 2 == 1
            target = f"{v // 2:03d}"
            name = f"{target}_999" if fake else target
            method = "Deepfakes" if fake else "youtube"
            rec = VideoRecord(
                "ffpp",
                method,
                "c23",
                name,
                f"/x/{name}.mp4",
                int(fake),
                target,
                "youtube",
                "999" if fake else None,
                None,
                "train",
            )
            frames = list(range(len(rgb[start : start + FRAMES])))
            for f in frames:
                write_png(layout.face_dir("ffpp", method, "c23", name) / frame_name(f), rgb[start + f])
                if fake:
                    box = np.zeros((SIZE, SIZE), np.uint8)
                    box[80:220, 70:230] = 255
                    write_png(layout.mask_dir("ffpp", method, "c23", name) / frame_name(f), box)
            state.record(
                "extract",
                UnitResult(
                    rec.key,
                    f"e{v}",
                    DONE,
                    data={
                        "record": rec.to_dict(),
                        "frames": frames,
                        "interpolated": [False] * len(frames),
                        "size": SIZE,
                        "transforms": [[[1, 0, 0], [0, 1, 0]]] * len(frames),
                        "detect_key": rec.key,
                    },
                ),
            )
            if fake:
                state.record(
                    "masks",
                    UnitResult(
                        rec.key,
                        f"m{v}",
                        DONE,
                        data={
                            "frames": frames,
                            "reference_quality": "raw",
                            "source": "diff",
                            "mean_area": 0.0,
                            "mean_components": 0.0,
                            "empty_frames": [],
                        },
                    ),
                )


def bench_stage_and_reader(tmp: Path, rgb: np.ndarray, repeats: int) -> None:
    work = tmp / "work"
    make_work(work, rgb)
    start = time.perf_counter()
    params = ShardsParams(shard_samples=len(rgb) // 2)
    run_stage(shards, work, PrepConfig(shards=params, run=RunOptions(jobs=1, progress=False)))
    seconds = time.perf_counter() - start
    print(
        f"stage end to end (PNG reads + DCT + write + index, 1 job, wall time): {len(rgb) / seconds:.0f} "
        "samples/s"
    )
    ds = ShardDataset(WorkLayout(work).shards, "train")
    order = np.random.default_rng(2).permutation(len(ds))
    files = [h5py.File(p, "r") for p in ds.paths]
    dsets = [(f["rgb"], f["freq"], f["mask"]) for f in files]
    shard, local = ds.meta["shard"], ds.meta["local"]
    t = interleaved(
        {"ours": partial(ours_reads, ds, order), "bare": partial(bare_reads, dsets, order, shard, local)},
        repeats,
    )
    ours_rate, bare_rate = len(ds) / t["ours"], len(ds) / t["bare"]
    print(
        f"reader random   ours {ours_rate:8.0f} samples/s   bare h5py {bare_rate:8.0f} samples/s   "
        f"ratio {ours_rate / bare_rate:.2f}   ({len(ds.paths)} shards, {DEFAULT_COMPRESSION})"
    )
    freq = np.stack([ds[i]["freq"].astype(np.float32) for i in range(len(ds))])
    lo, hi = np.percentile(freq, [0.1, 99.9])
    print(
        f"freq cue on these crops: min {freq.min():.1f} max {freq.max():.1f}, 0.1-99.9 % {lo:.1f}..{hi:.1f}, "
        f"std {freq.std():.2f} (index freq_std {ds.freq_std:.2f}), mean {freq.mean():.4f}"
    )
    for f in files:
        f.close()
    ds.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--tile", type=int, default=4, help="write benchmark: the crops repeated this often")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rgb = crops(args.samples)
    bench_dct(rgb[:64], args.repeats)
    tiled = np.concatenate([rgb] * args.tile)  # a shard-sized write; chunks are compressed one by one
    freq = frequency_cue(tiled).astype(np.float16)
    mask = np.zeros(tiled.shape[:3], np.uint8)
    mask[1::2, 80:220, 70:230] = 1
    with tempfile.TemporaryDirectory() as tmp:
        bench_write(Path(tmp), tiled, freq, mask, args.repeats)
        del tiled, freq, mask
        bench_stage_and_reader(Path(tmp), rgb, args.repeats)


if __name__ == "__main__":
    main()
