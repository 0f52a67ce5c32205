"""The one option convention of both commands: a dataclass field carrying its CLI help (`opt`), and comma-
separated lists (`split_csv`). Imports nothing of the project, so `model` may use it too."""

from __future__ import annotations

from dataclasses import dataclass, field


def opt(default, help: str, choices: tuple | None = None, **cli):
    """A dataclass field carrying its CLI help and choices (and click extras: min, max, kind, switch,
    flag)."""
    return field(default=default, metadata={"help": help, "choices": choices, **cli})


def split_csv(values) -> tuple[str, ...] | None:
    """'a, b', ['a,b', 'c'] or ('a',) -> ('a', 'b'[, 'c']); None for an empty or absent list (keep all)."""
    items = [values] if isinstance(values, str) else list(values or ())
    return tuple(v.strip() for item in items for v in str(item).split(",") if v.strip()) or None


@dataclass(frozen=True)
class Mode:
    """A way of running a command: the options that select it (`needs`) and those it excludes (`without`),
    by parameter name."""

    name: str
    needs: tuple[str, ...] = ()
    without: tuple[str, ...] = ()

    def holds(self, given) -> bool:
        return all(n in given for n in self.needs) and not any(w in given for w in self.without)

    def spelled(self, flags: dict[str, str]) -> str:
        return ", ".join([flags[n] for n in self.needs] + [f"no {flags[w]}" for w in self.without])


def misplaced(given: dict[str, str], belongs: dict[str, tuple[Mode, ...]], flags: dict[str, str]) -> str:
    """The one rule of every command's options: an option given (`given`: parameter name -> the flag as
    typed) is refused unless one of the modes it belongs to (`belongs`; an option not listed belongs to
    all) holds. Returns the one-line refusal of the first misplaced option, or "" when none is.
    `flags`: every parameter's name -> its flag, for the message."""
    for name, flag in given.items():
        modes = belongs.get(name, ())
        if modes and not any(m.holds(given) for m in modes):
            where = " or ".join(f"{m.name} ({m.spelled(flags)})" for m in modes)
            return f"{flag} goes with {where}"
    return ""
