"""`lrl-prep demo-data --dataset dfdc`: a small DFDC-shaped tree (pipeline.dataset.layout).

Four people A, B, C, D (the FF++ demo's photographs, each its own scene; names are 10 random
letters, as DFDC's) and a two-person scene P (pipeline.demo.crowd). Two training parts with a
metadata.json each:
    dfdc_train_part_0:  A (REAL), fake of B with donor A (original B: in the other part), fake of A
                        with donor B, fake of P swapping only its right person's face (original P:
                        in the other part)
    dfdc_train_part_1:  B (REAL), P (REAL, two people), fake of A with donor C (original A: in the
                        other part)
and a public-test-set folder `test/` with labels.csv (1 = fake): C (0) and a fake of D (1), D's real
not in the tree (no original known: it gets no difference mask). `small` adds to the test set
three people E, F, G (REAL), a fake of E with donor B, a fake of F with donor C and a fake of P
swapping its right person's face for C's (4 reals, 4 fakes; the test set names no original, so each fake
there is detected on itself and a two-person one keeps both faces).

More scenes (pipeline.demo.clips.SCENES) join by adding clips of their kind to `plan` with their
metadata.json or labels.csv rows (`Row`).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.dataset.layout import DFDC_LABELS, DFDC_METADATA
from pipeline.demo.clips import Clip, ClipDemo, write_clip_tree
from pipeline.demo.crowd import crowd_specs
from pipeline.demo.scene import RealSpec, sample_spec
from pipeline.demo.tree import PHOTO_OF_PARITY, SIZES

PARTS = ("dfdc_train_part_0", "dfdc_train_part_1")
TEST = "test"


@dataclass(frozen=True)
class Row:
    """A clip and what its folder's metadata.json or labels.csv says of it."""

    clip: Clip
    folder: str
    original: str | None = None  # a training fake's original, a file name (maybe in another part)


def names(rng: np.random.Generator, count: int, taken: tuple[str, ...] = ()) -> list[str]:
    """`count` distinct DFDC-like stems of 10 lowercase letters, none of them in `taken`."""
    found: list[str] = []
    while len(found) < count:
        name = "".join(rng.choice(list(string.ascii_lowercase), 10))
        found += [name] if name not in found and name not in taken else []
    return found


def plan(seed: int, size: str) -> tuple[list[Clip], dict[str, bytes]]:
    """The clips of the tree, each part's metadata.json and the test set's labels.csv."""
    frames = SIZES[size].frames
    rng = np.random.default_rng([seed, 23])
    stems = names(rng, 10)
    a, b, c, d = (sample_spec(rng, stems[i], PHOTO_OF_PARITY[i % 2], frames) for i in range(4))
    pair = crowd_specs(seed, frames)

    def real(stem: str, people: tuple[RealSpec, ...], folder: str, kind: str = "one-face") -> Row:
        return Row(Clip(f"{folder}/{stem}.mp4", people, kind=kind), folder)

    def fake(stem: str, of: Row, donor: RealSpec, folder: str, original: bool = True) -> Row:
        clip = Clip(f"{folder}/{stem}.mp4", of.clip.people, donor, of.clip.kind)
        return Row(clip, folder, Path(of.clip.path).name if original else None)

    reals = [
        real(a.video, (a,), PARTS[0]),
        real(b.video, (b,), PARTS[1]),
        real(c.video, (c,), TEST),
        real(stems[8], pair, PARTS[1], "two-people"),
    ]
    ra, rb, rc, rpair = reals
    rows = reals + [
        fake(stems[4], rb, a, PARTS[0]),
        fake(stems[5], ra, b, PARTS[0]),
        fake(stems[6], ra, c, PARTS[1]),
        fake(stems[9], rpair, pair[0], PARTS[0]),
        fake(stems[7], real(d.video, (d,), TEST), b, TEST, original=False),
    ]
    if size != "tiny":  # drawn after the tiny tree's, so its clips are the same in both sizes
        more = names(rng, 6, tuple(stems))
        e, f, g = (sample_spec(rng, more[i], PHOTO_OF_PARITY[i % 2], frames) for i in range(3))
        real_e, real_f = real(e.video, (e,), TEST), real(f.video, (f,), TEST)
        rows += [
            real_e,
            real_f,
            real(g.video, (g,), TEST),
            fake(more[3], real_e, b, TEST, original=False),
            fake(more[4], real_f, c, TEST, original=False),
            fake(more[5], rpair, c, TEST, original=False),
        ]
    return [r.clip for r in rows], side_files(rows)


def side_files(rows: list[Row]) -> dict[str, bytes]:
    """metadata.json of every training part and labels.csv of the test set, for `rows`."""
    side: dict[str, bytes] = {}
    for part in PARTS:
        meta = {
            Path(r.clip.path).name: {
                "label": ("REAL", "FAKE")[r.clip.label],
                "split": "train",
                "original": r.original,
            }
            for r in rows
            if r.folder == part
        }
        side[f"{part}/{DFDC_METADATA}"] = (json.dumps(meta, indent=1) + "\n").encode()
    lines = ["filename,label"] + [
        f"{Path(r.clip.path).name},{r.clip.label}" for r in rows if r.folder == TEST
    ]
    side[f"{TEST}/{DFDC_LABELS}"] = ("\n".join(lines) + "\n").encode()
    return side


def make_dfdc_demo(out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1) -> ClipDemo:
    """Write the DFDC-shaped demo tree into OUT (new, empty, or an earlier demo)."""
    clips, side = plan(seed, size)
    return write_clip_tree(out, "dfdc", seed, size, clips, side, n_jobs)
