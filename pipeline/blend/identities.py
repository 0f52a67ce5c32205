"""Who is in each real of ROOT, so a swap never takes its face from another clip of the same person.

A dataset often has several clips of one person (FF++ has a few, the package-face demo up to three); a
"swap" between two of them would be a self-blend under another name. The identities come from, in order:
- `--identities FILE`: a JSON object {real id: identity}, or an object with such a mapping under
  "identities" (the demo's demo_truth.json is one);
- ROOT/demo_truth.json's "identities", when the file is there (the demo trees write it);
- else none: every real is its own identity (FF++, Celeb-DF and DFDC name no identities).
A real id is the video's name in ROOT (FF++'s "004", Celeb-DF's "id0_0000"); a real the mapping does not
name is its own identity.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import LrlError

TRUTH = "demo_truth.json"  # pipeline.demo.tree's truth file


def read_identities(root: Path, path: Path | None = None) -> dict[str, str]:
    """{real id: identity} from `path`, else ROOT/demo_truth.json, else {} (module docstring).

    Raises LrlError naming the file when it is not JSON or not a mapping of names to names."""
    if path is None:
        path = Path(root) / TRUTH
        if not path.is_file():
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
