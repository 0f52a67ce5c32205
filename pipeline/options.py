"""The one option convention of both commands: a dataclass field carrying its CLI help (`opt`), and comma-
separated lists (`split_csv`). Imports nothing of the project, so `model` may use it too."""

from __future__ import annotations

from dataclasses import field


def opt(default, help: str, choices: tuple | None = None, **cli):
    """A dataclass field carrying its CLI help and choices (and click extras: min, max, kind, switch,
    flag)."""
    return field(default=default, metadata={"help": help, "choices": choices, **cli})


def split_csv(values) -> tuple[str, ...] | None:
    """'a, b', ['a,b', 'c'] or ('a',) -> ('a', 'b'[, 'c']); None for an empty or absent list (keep all)."""
    items = [values] if isinstance(values, str) else list(values or ())
    return tuple(v.strip() for item in items for v in str(item).split(",") if v.strip()) or None
