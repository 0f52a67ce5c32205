"""Every `lrl-prep` parameter in one place: the stages' dataclasses, their defaults, choices and help.

The CLI builds its options from these fields (`cli.dataclass_options`), so a default or a choice list is
written once, here. Light on purpose (no numpy): `lrl-prep --help` imports it. Every validation raises
LrlError with a one-line reason. What a field changes is what goes into the stage's fingerprints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.devices import DEVICES
from pipeline.errors import LrlError
from pipeline.options import opt

BACKENDS = ("loky", "dask", "ray")
REFERENCES = ("auto", "raw", "same")
MASK_SOURCES = ("diff", "official")
COMPRESSIONS = ("lzf", "gzip", "blosc-lz4", "none")
DEMO_SIZES = ("tiny", "small")
DATASETS = ("auto", "ffpp", "celebdf", "dfdc")  # input layouts (pipeline.dataset.adapters); auto detects it
BLEND_METHODS = ("SelfBlend", "FaceSwapBlend")  # made by `lrl-prep blend` (pipeline.blend) from reals


def _choose(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise LrlError(f"unknown {name} {value!r}: choose one of {', '.join(choices)}")


@dataclass(frozen=True)
class Selection:
    """Which videos a command works on: methods, qualities, splits, datasets (None keeps all). The one
    filter."""

    methods: tuple[str, ...] | None = opt(
        None, "Methods to keep, e.g. youtube,Deepfakes (default all).", kind="csv"
    )
    qualities: tuple[str, ...] | None = opt(
        None, "Qualities to keep: raw,c23,c40,orig (default all).", kind="csv"
    )
    splits: tuple[str, ...] | None = opt(
        None, "Splits to keep: train,val,test,none (default all).", kind="csv"
    )
    datasets: tuple[str, ...] | None = opt(
        None, "Datasets to keep: ffpp,dfd,celebdf,dfdc (default all).", kind="csv"
    )

    def admits(self, method: str, quality: str, split: str) -> bool:
        """Whether the method, quality and split filters admit these (the datasets filter is `keeps`')."""
        return all(
            allowed is None or value in allowed
            for allowed, value in ((self.methods, method), (self.qualities, quality), (self.splits, split))
        )

    def keeps(self, record) -> bool:
        """Whether a record (anything with .dataset, .method, .quality, .split) is selected."""
        return (self.datasets is None or record.dataset in self.datasets) and self.admits(
            record.method, record.quality, record.split
        )

    @classmethod
    def from_dict(cls, d: dict) -> "Selection":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass(frozen=True)
class Scope(Selection):
    """A selection of one input tree: its layout (which adapter reads it) and where FF++'s split files are.

    Run states saved before `--dataset` chose a layout hold dataset "ffpp" (then a WORK path name): still
    valid, the FF++ adapter.
    """

    dataset: str = opt(
        "auto",
        "Layout of ROOT: ffpp (FaceForensics++, DFD included), celebdf (Celeb-DF v2), "
        "dfdc; auto detects it from the folders.",
        DATASETS,
    )
    split_dir: str | None = opt(
        None,
        "FF++ only: folder of {train,val,test}.json (default ROOT/splits or the official ones).",
        kind="existing",
    )

    @property
    def selection(self) -> Selection:
        return Selection(self.methods, self.qualities, self.splits, self.datasets)


@dataclass(frozen=True)
class DetectParams:
    """MTCNN and tracking settings, chosen from measurements (1 thread, 32 frames of FF++ 004, 720p):

    - MTCNN sees frames with a short side of 240 (1/3 of 720p): ~5x faster than full size, boxes
      within ~7 px of full-size ones.
    - min_face_size 40 there, i.e. faces of at least 1/6 of the short side (FF++ 004: 1/4.5):
      1.8x faster than 20 on 004 and on the demo, every face still found. Frames where none is
      found are retried at twice the scale with min_face_size 20 (retry_min_face_size), which reaches
      faces of 1/24 of the short side.
    - A black border of 10% of the short side: facenet-pytorch clips candidate boxes at the image
      edge instead of padding them, which inflates the boxes of faces near the edge (IoU 0.7 with
      the true box on the demo's edge faces; >= 0.8 with a border of 5% or more).
    """

    det_side: int = 240  # short side of the frames MTCNN sees (no upscaling)
    min_face_size: int = 40  # MTCNN minimum face, in detection-frame pixels
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    min_score: float = 0.9  # candidates below this are ignored
    batch: int = 8
    pad: float = 0.1  # black border added around detection frames, as a fraction of their short side
    retry: bool = True  # frames without a face are tried again at twice the scale ...
    retry_min_face_size: int = 20  # ... with this MTCNN minimum face: faces of 1/24 of the short side
    # (realdev DFD actors walking far away: 35-70 px faces at 1080p, 1/30-1/15; found at 2x with 20, not 40)
    smooth_sigma: float = 2.0  # Gaussian smoothing of boxes over time, in frames
    # Linking (pipeline.kernels.detect.same_face): a detection continues a track when its centre moved
    # at most link_distance times the larger box side from the track's last detection and its side changed
    # at most link_zoom times. Measured on realdev (16 frames, about 1 s apart): the one face of FF++ 253
    # and Celeb-DF id33_0003 jumps 0.75 of its side between sampled frames (a cut, a head turn), DFD
    # kitchen pans 1.2; two people in one frame sit 3 sides or more apart. With 0.5 (before) 253 and
    # id33_0003 each split in two tracks and the pans lost 7-10 frames of 16; 1.5 links all of them and
    # keeps the two people of DFD 13 walking_down_indoor_hall apart.
    link_distance: float = 1.5
    link_zoom: float = 2.0
    # Longest run of sampled frames without a detection that is filled between two detections of
    # the track. Chosen 2: a missed frame or two (blur, a turned head) inside a track is the same
    # face, which linking already required to have moved at most half its size; across more, or
    # before the first / after the last detection, the box would be a guess (issue 13: a face that
    # appeared late gave 6 crops of background out of 8).
    max_gap: int = 2
    # Faces besides face 0 (the heaviest track, always kept, as the one face of a one-face video): a
    # track is another face when it is seen in at least min_track_seen of the sampled frames, with a
    # mean detector score of at least min_track_score and a median box side of at least
    # min_track_side of the frame's short side. Measured (every linked track, 32 frames): FF++ 004 c23
    # has one spurious track besides its face, seen in 1 of 32 frames (0.03) with mean score 0.957;
    # the true faces of FF++ 004 / 004_982 and of the 10 demo reals and 8 demo fakes are seen in
    # 32 of 32 with mean scores 0.995-1.000 and sides 0.23-0.45. So 0.25 (a person in a quarter of
    # the clip) and 0.97 sit between the two. min_track_side 0.1: a smaller face's 1.3x crop is upscaled
    # more than 2.3x to 299 px (1080p: faces under 108 px); MTCNN here finds faces down to 1/24.
    min_track_seen: float = 0.25
    min_track_score: float = 0.97
    min_track_side: float = 0.1


@dataclass(frozen=True)
class CropParams:
    size: int = opt(299, "Crop side in pixels.", min=16)
    margin: float = 1.3  # crop side / face side (FF++ convention)
    align: bool = opt(
        False,
        "Align the 5 landmarks to a template (similarity) instead of the FF++ square "
        "crop of 1.3x the face box.",
    )


@dataclass(frozen=True)
class ExtractParams:
    """Everything that changes the crops (it goes into the fingerprints)."""

    frames: int | None = opt(
        32, "Frames per video, evenly spaced over its length; 'all' keeps every frame.", kind="frames"
    )
    crop: CropParams = CropParams()
    detect: DetectParams = DetectParams()

    @classmethod
    def from_dict(cls, d: dict) -> "ExtractParams":
        det = {**d["detect"], "thresholds": tuple(d["detect"]["thresholds"])}
        return cls(d["frames"], CropParams(**d["crop"]), DetectParams(**det))


@dataclass(frozen=True)
class MasksParams:
    threshold: float = opt(
        0.15, "Forged where grey(|fake - real|) / 255 > threshold (strictly).", min=0.0, max=1.0
    )
    reference_quality: str = opt(
        "auto",
        "Pair the masks come from: raw crops applied to every quality, or "
        "the same quality; auto = raw when the raw fake and raw real crops "
        "exist.",
        REFERENCES,
    )
    source: str = opt(
        "diff",
        "diff: fake vs real crops (the paper); official: FF++ mask videos, warped to the crops.",
        MASK_SOURCES,
    )

    def __post_init__(self):
        if not 0.0 <= self.threshold < 1.0:
            raise LrlError(f"mask threshold {self.threshold} outside [0, 1)")
        _choose("reference quality", self.reference_quality, REFERENCES)
        _choose("mask source", self.source, MASK_SOURCES)


@dataclass(frozen=True)
class ShardsParams:
    alpha: float = opt(
        0.33,
        "Frequency cue: zero DCT coefficient (u, v) where u/H + v/W < alpha (paper eq. 2, section 4.1).",
        min=0.0,
        max=2.0,
    )
    shard_samples: int = opt(4096, "Target samples per shard (each video stays whole in one shard).", min=1)
    compression: str = opt("blosc-lz4", "Compression of rgb and mask (freq is stored plain).", COMPRESSIONS)

    def __post_init__(self):
        _choose("compression", self.compression, COMPRESSIONS)
        if not 0.0 <= self.alpha < 2.0:
            raise LrlError(f"alpha {self.alpha} outside [0, 2): u/H + v/W is always below 2")
        if self.shard_samples < 1:
            raise LrlError(f"shard_samples {self.shard_samples} must be at least 1")


@dataclass(frozen=True)
class BlendParams:
    """`lrl-prep blend`: which forgeries are made from ROOT's reals (everything here goes into the
    fingerprints)."""

    methods: tuple[str, ...] | None = opt(
        None,
        "Forgeries to make: SelfBlend (Shiohara and Yamasaki 2022), "
        "FaceSwapBlend (Face X-ray, Li et al. 2020) (default both).",
        kind="csv",
    )
    seed: int = opt(0, "Seed of every random draw (jitters, masks, swap sources).")
    all_faces: bool = opt(
        False,
        "Blend every face track of a real, not only face 0 (the one extract keeps "
        "first: the heaviest track).",
    )

    def __post_init__(self):
        for method in self.methods or ():
            _choose("blend method", method, BLEND_METHODS)

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(m for m in BLEND_METHODS if m in (self.methods or BLEND_METHODS))


@dataclass(frozen=True)
class Backend:
    """Where the workers run: joblib's loky processes here, a Dask cluster or a Ray cluster."""

    name: str = "loky"  # one of BACKENDS
    address: str | None = None  # Dask scheduler address or Ray cluster address; None starts a local one
    workers: int = 2  # local Dask cluster size or local Ray instance's CPUs, when no address is given

    def __post_init__(self):
        _choose("backend", self.name, BACKENDS)

    @property
    def remote(self) -> bool:
        return self.name != "loky"


@dataclass(frozen=True)
class RunOptions:
    """How a stage runs (never part of a fingerprint)."""

    jobs: int | None = opt(None, "Parallel workers (default: the idle cores, at most one per unit).", min=1)
    backend: str = opt(
        "loky", "Where workers run: local processes, a Dask cluster or a Ray cluster.", BACKENDS
    )
    scheduler: str | None = opt(None, "Dask scheduler address (default: a local cluster).")
    ray_address: str | None = opt(None, "Ray cluster address (default: a local instance).")
    progress: bool | None = opt(
        None, "Show progress bars (default: only when stderr is a terminal).", switch=True
    )
    device: str = opt("auto", "Where MTCNN runs.", DEVICES)

    @property
    def workers(self) -> int | None:
        """The number of parallel workers: --jobs, or None: the idle cores when a stage starts, at most one
        per unit (pipeline.engine.load)."""
        return self.jobs

    @property
    def show_progress(self) -> bool:
        """Progress bars: as asked, else only when stderr is a terminal (logs get summary lines only)."""
        import sys

        return self.progress if self.progress is not None else sys.stderr.isatty()

    @property
    def backend_spec(self) -> Backend:
        address = self.scheduler if self.backend == "dask" else self.ray_address
        return Backend(self.backend, address, self.jobs or os.cpu_count() or 1)


@dataclass(frozen=True)
class PredictOptions:
    """`lrl-predict`: where results go and how the checkpoint runs (its preprocessing comes from the
    checkpoint)."""

    out: str = opt("predictions", "Folder for predictions.json and predictions.csv.")
    report: str | None = opt(None, "Also write a self-contained HTML page per input and an index.html here.")
    device: str = opt("auto", "Where MTCNN and the network run (auto: CUDA when present).", DEVICES)
    batch: int = opt(32, "Crops per forward pass.", min=1)


@dataclass(frozen=True)
class ReportOptions:
    """`lrl-prep report`: the dataset QA pages of a WORK folder."""

    per_page: int = opt(25, "Videos per contact-sheet page (pages stay a few MB at FF++ scale).", min=1)
    thumb: int = opt(48, "Side in pixels of each crop thumbnail on the contact sheets.", min=16, max=299)


@dataclass(frozen=True)
class PrepConfig:
    """Everything `lrl-prep refresh` runs with: each stage's parameters, the scope, the run options."""

    extract: ExtractParams = ExtractParams()
    masks: MasksParams = MasksParams()
    shards: ShardsParams = ShardsParams()
    scope: Scope = Scope()
    run: RunOptions = RunOptions()


def read_options_file(path: Path) -> dict:
    """Options from a YAML (.yaml/.yml) or TOML (.toml) file, `-` in names read as `_`; both commands use
    it."""
    path = Path(path)
    try:
        text = path.read_text()
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise LrlError(f"{path}: config files must end in .toml, .yaml or .yml")
    except (OSError, ValueError) as exc:
        raise LrlError(f"{path}: cannot read config ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise LrlError(f"{path}: a config file must hold a mapping of option names to values")
    return {k.replace("-", "_"): v for k, v in data.items()}
