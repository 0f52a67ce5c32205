"""The prep -> train -> predict contract: what a shard set's samples were made with, one typed record.

Written from the shard index (`Preprocessing.from_index`), kept in every checkpoint (`to_dict`, the dict
form checkpoints and metrics files have always held), read back by evaluation (`differences`) and by
lrl-predict (`extract`, `alpha`, `freq_std`, applied to new videos). Old indexes (no extract settings)
and old checkpoints (no record at all) read as records with those parts None.

Which differences matter when (`differences`, `Difference.when`):
- crop size and alpha (eq. 2), ALWAYS: they change what the network sees;
- the mask settings (threshold, reference quality, source), MASK_IOU: only where mask IoU is measured;
- freq_std, NOTE: the spread of the shard set's own frequency images, a statistic of the data (another
  dataset or compression gives another value), not a setting: the checkpoint's own value normalises the
  input; noted when more than FREQ_STD_TOLERANCE away;
- the schema version and the extract settings (frames, detector, crop margin), NEVER: the reader gives
  every readable schema the same rgb / freq / mask, and an evaluation set's frame sampling is its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.params import ExtractParams

ALWAYS, MASK_IOU, NOTE, NEVER = "always", "mask_iou", "note", "never"
FREQ_STD_TOLERANCE = 0.05  # relative: the same preprocessing of the same data gives the same freq_std


def _extract(d: dict | None) -> ExtractParams | None:
    """ExtractParams from its recorded dict; None when absent or written by a version with other settings
    (lrl-predict then refuses the checkpoint in one line, naming what to rebuild)."""
    try:
        return ExtractParams.from_dict(d) if d else None
    except (KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Difference:
    """One setting that differs: its name as printed, the given and trained values, and when it matters."""

    name: str
    given: object
    trained: object
    when: str  # ALWAYS, MASK_IOU, NOTE or NEVER

    @property
    def text(self) -> str:
        if self.given is None and self.trained is None:
            return self.name  # a statement of its own (nothing recorded)
        return f"{self.name} {self.given!r}, trained on {self.trained!r}"


@dataclass(frozen=True)
class Preprocessing:
    """size: crop side (px); alpha: eq. 2's cut; masks: the mask settings (MasksParams as a dict);
    schema_version: of the shards; freq_std: the frequency spread the trainer divides by; extract: the
    extract settings (frames, crop, detector), None for indexes written before they were recorded.
    `recorded` is False for a checkpoint made before lrl recorded its shards' preprocessing."""

    size: int | None = None
    alpha: float | None = None
    masks: dict | None = None
    schema_version: int | None = None
    freq_std: float | None = None
    extract: ExtractParams | None = None
    recorded: bool = True

    @classmethod
    def from_index(cls, index: dict) -> "Preprocessing":
        """From a shard index (pipeline.store.index), any schema load_index reads."""
        extract = index.get("extract_params") or None
        return cls(
            index.get("size"),
            (index.get("params") or {}).get("alpha"),
            index.get("mask_params"),
            index.get("schema_version"),
            index.get("freq_std"),
            _extract(extract),
        )

    @classmethod
    def from_dict(cls, d: dict | None, freq_std: float | None = None) -> "Preprocessing":
        """From `to_dict`'s form (checkpoints' metrics["shards"]); None (older checkpoints): not recorded,
        only the checkpoint's `freq_std`."""
        if not d:
            return cls(freq_std=freq_std, recorded=False)
        extract = d.get("extract") or None
        return cls(
            d.get("size"),
            d.get("alpha"),
            d.get("mask_params"),
            d.get("schema_version"),
            d.get("freq_std") if freq_std is None else freq_std,
            _extract(extract),
        )

    def to_dict(self) -> dict:
        """The dict form checkpoints and metrics files hold (extract {} and frames None when unknown)."""
        extract = asdict(self.extract) if self.extract else {}
        return {
            "size": self.size,
            "alpha": self.alpha,
            "mask_params": self.masks,
            "schema_version": self.schema_version,
            "freq_std": self.freq_std,
            "frames": extract.get("frames"),
            "extract": extract,
        }

    def differences(self, trained: "Preprocessing") -> list[Difference]:
        """How this (given) preprocessing differs from the `trained` one, each with when it matters (module
        docstring). A `trained` record that was never recorded differs ALWAYS, as one entry."""
        if not trained.recorded:
            return [
                Difference(
                    "the checkpoint records no shard preprocessing (made before lrl recorded it)",
                    None,
                    None,
                    ALWAYS,
                )
            ]
        out = [
            Difference(name, getattr(self, name), getattr(trained, name), ALWAYS)
            for name in ("size", "alpha")
            if getattr(self, name) != getattr(trained, name)
        ]
        mine, theirs = self.masks or {}, trained.masks or {}
        out += [
            Difference(f"mask {name}", mine.get(name), theirs.get(name), MASK_IOU)
            for name in sorted(set(mine) | set(theirs))
            if mine.get(name) != theirs.get(name)
        ]
        if (
            self.freq_std
            and trained.freq_std
            and abs(self.freq_std - trained.freq_std) > FREQ_STD_TOLERANCE * abs(trained.freq_std)
        ):
            out.append(Difference("freq_std", self.freq_std, trained.freq_std, NOTE))
        out += [
            Difference(name, getattr(self, name), getattr(trained, name), NEVER)
            for name in ("schema_version", "extract")
            if getattr(self, name) != getattr(trained, name)
        ]
        return out
