"""`lrl-prep demo-data --dataset dfd`: a small DeepFakeDetection (DFD) tree, FF++-shaped
(pipeline.dataset.layout).

DFD ships inside the FaceForensics++ tree; this one holds only its part, at one quality (c23):

    original_sequences/actors/c23/videos/<T>__<scene>.mp4                          reals
    manipulated_sequences/DeepFakeDetection/c23/videos/<T>_<S>__<scene>__<8 chars>.mp4   fakes

T the actor filmed (two digits), S the actor whose face replaces T's, the 8 characters upper-case
letters and digits (drawn from the seed); a fake is made frame i from frame i of `<T>__<scene>`, so
it is aligned with its real (pipeline.demo.clips). The index reads every video as dataset "dfd",
split "test" (pipeline.dataset.ffpp); the tree has no splits/ (the adapter reads the official FF++
split files, which name no DFD video).

Actors 01-04 (the FF++ demo's photographs, astronaut for odd ids, Grace Hopper for even ones), each
scene its own motion and lighting:
    small: 01__talking_against_wall, 02__kitchen_pan, 03__podium_speech_happy, 04__meeting_serious;
           fakes 01_02, 02_03, 03_04 of those scenes, and 04_01, 04_03 of meeting_serious
    tiny:  01__talking_against_wall, 04__meeting_serious; fakes 01_02 and 04_01
`meeting_serious` is the two-person scene of pipeline.demo.crowd: actor 04 on the right (face about
115 px) beside a bystander on the left (about 150 px, the larger face: detection's face 0); its fakes
swap actor 04's face only. That is DFD's trap: the forged face is not the largest one.
"""

from __future__ import annotations

import string
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.dataset.layout import video_dir
from pipeline.demo.clips import Clip, ClipDemo, write_clip_tree
from pipeline.demo.crowd import crowd_specs
from pipeline.demo.scene import RealSpec, sample_spec
from pipeline.demo.tree import PHOTO_OF_PARITY, SIZES

QUALITY = "c23"
ACTORS = ("01", "02", "03", "04")
ONE_FACE = (("01", "talking_against_wall"), ("02", "kitchen_pan"), ("03", "podium_speech_happy"))
TWO_PEOPLE = ("04", "meeting_serious")  # actor 04 is the crowd's right (smaller, swapped) person
# (target actor, face donor) of each fake, per demo size; the target's scene is its one scene above
FAKES = {
    "tiny": (("01", "02"), ("04", "01")),
    "small": (("01", "02"), ("02", "03"), ("03", "04"), ("04", "01"), ("04", "03")),
}
SUFFIX = string.ascii_uppercase + string.digits


def real_path(actor: str, scene: str) -> str:
    return str(video_dir(Path("."), "actors", QUALITY) / f"{actor}__{scene}.mp4")


def fake_path(actor: str, donor: str, scene: str, suffix: str) -> str:
    return str(video_dir(Path("."), "DeepFakeDetection", QUALITY) / f"{actor}_{donor}__{scene}__{suffix}.mp4")


def plan(seed: int, size: str) -> list[Clip]:
    """The clips of the tree: the reals of the scenes the size's fakes use, then the fakes."""
    rng = np.random.default_rng([seed, 29])
    frames = SIZES[size].frames
    scene_of = dict(ONE_FACE + (TWO_PEOPLE,))
    photo = {a: PHOTO_OF_PARITY[(int(a) + 1) % 2] for a in ACTORS}
    # each actor's look as a face donor (photo, mirroring, lighting), and each one-face scene's real
    looks = {a: sample_spec(rng, a, photo[a], frames) for a in ACTORS}
    scenes: dict[str, tuple[tuple[RealSpec, ...], str]] = {
        a: ((sample_spec(rng, f"{a}__{s}", photo[a], frames),), "one-face") for a, s in ONE_FACE
    }
    bystander, actor = crowd_specs(seed, frames)
    scenes[TWO_PEOPLE[0]] = (
        (bystander, replace(actor, video=f"{TWO_PEOPLE[0]}__{TWO_PEOPLE[1]}")),
        "two-people",
    )
    targets = sorted({t for t, _ in FAKES[size]})
    clips = [Clip(real_path(t, scene_of[t]), scenes[t][0], kind=scenes[t][1]) for t in targets]
    for target, donor in FAKES[size]:
        suffix = "".join(rng.choice(list(SUFFIX), 8))
        people, kind = scenes[target]
        clips.append(Clip(fake_path(target, donor, scene_of[target], suffix), people, looks[donor], kind))
    return clips


def make_dfd_demo(out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1) -> ClipDemo:
    """Write the DFD-shaped demo tree into OUT (new, empty, or an earlier demo)."""
    return write_clip_tree(out, "dfd", seed, size, plan(seed, size), {}, n_jobs)
