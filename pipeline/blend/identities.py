"""Who is in each real of ROOT, so a swap never takes its face from another clip of the same person.

A dataset often has several clips of one person (FF++ has a few, the package-face demo up to three); a
"swap" between two of them would be a self-blend under another name. The identities come from, in order:
- `--identities FILE`: a JSON object {real id: identity}, or an object with such a mapping under
  "identities" (the demo's demo_truth.json is one);
- ROOT/demo_truth.json's "identities", when the file has them (the package-face demo writes them);
- else none: every real is its own identity (FF++, Celeb-DF and DFDC name no identities, nor do the
  built-in-face demo trees), which `lrl-prep blend` says in a note.
A real id is the video's name in ROOT (FF++'s "004", Celeb-DF's "id0_0000"). A mapping names every real
of ROOT and nothing else (`check_names`): a key naming no real ("0" for "000") would leave that real its
own person, and swap two clips of one person with each other.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import LrlError

TRUTH = "demo_truth.json"  # pipeline.demo.tree's truth file


SHOWN = 5  # ids a refusal lists


def identities_file(root: Path, path: Path | None = None) -> Path | None:
    """The file the identities come from: `path`, else ROOT/demo_truth.json when it has "identities",
    else None (every real its own person)."""
    if path is not None:
        return Path(path)
    truth = Path(root) / TRUTH
    if not truth.is_file():
        return None
    try:
        data = json.loads(truth.read_text())
    except (OSError, ValueError) as exc:
        raise LrlError(f"{truth}: cannot read identities ({exc})") from None
    return truth if isinstance(data, dict) and "identities" in data else None


def read_identities(root: Path, path: Path | None = None) -> dict[str, str]:
    """{real id: identity} from `identities_file(root, path)`, or {} when there is none.

    Raises LrlError naming the file when it is not JSON or not a mapping of names to names."""
    path = identities_file(root, path)
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise LrlError(f"{path}: cannot read identities ({exc})") from None
    found = data.get("identities", data) if isinstance(data, dict) else data
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise LrlError(f"{path}: identities must be a JSON object {{real id: identity name}}")
    return dict(found)


def same_person(identities: dict[str, str], a: str, b: str) -> bool:
    """Whether reals `a` and `b` (ids in ROOT) show the same person: the same id, or one named identity."""
    return a == b or (a in identities and identities.get(a) == identities.get(b))


def check_names(identities: dict[str, str], path: Path, reals: set[str]) -> None:
    """LrlError in one line, naming `path` and the ids, when the mapping's keys are not exactly the ids
    of ROOT's reals (`reals`)."""
    unknown, unnamed = sorted(set(identities) - reals), sorted(reals - set(identities))
    parts = [f"{_listed(unknown)} name no real of ROOT"] if unknown else []
    parts += [f"real{'s' if len(unnamed) > 1 else ''} {_listed(unnamed)} not named"] if unnamed else []
    if parts:
        raise LrlError(f"{path}: {'; '.join(parts)} (name every real of ROOT once, by its video name)")


def _listed(ids: list[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")
