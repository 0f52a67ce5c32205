"""Folds of identity for FF++ records: no person on both sides of a split, every fake with its real.

A fake `AAA_BBB` shows two people: the target AAA (its frames) and the source BBB (its face). Persons
joined by a fake form one unit (the connected components of that graph: a reciprocal pair `AAA_BBB` +
`BBB_AAA` is a unit of two; a real without fakes a unit of one), and a unit never straddles two splits.
With n folds, units sorted by their smallest id are dealt round-robin into n groups; fold k tests group k,
validates on group k + 1 (mod n: model selection inside the data it does not test on) and trains on the
rest, so every unit is tested exactly once and validation never sees a tested or trained person.

`split_pairs` writes a fold as FF++ split files (pipeline.dataset.splits: [a, b] puts a, b, a_b and b_a in
that split): one pair per fake's (target, source) and [a, a] for a real with no fake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.dataset.layout import SPLITS
from pipeline.errors import LrlError

Unit = tuple[str, ...]  # the sorted ids of one unit of persons


@dataclass(frozen=True)
class Fold:
    """Fold `index` of `n`: the units of persons in each split."""

    index: int
    n: int
    train: tuple[Unit, ...]
    val: tuple[Unit, ...]
    test: tuple[Unit, ...]

    def split_of(self) -> dict[str, str]:
        """Person id -> split."""
        return {p: split for split in SPLITS for unit in getattr(self, split) for p in unit}


def persons(record) -> tuple[str, ...]:
    """The ids a record shows: a real its own, a fake its target and its source."""
    return (record.target,) if not record.is_fake or not record.source else (record.target, record.source)


def units(records: Iterable) -> list[Unit]:
    """The connected components of the persons of `records` (FF++ records: .target, .source, .label),
    each sorted, sorted by their first id."""
    parent: dict[str, str] = {}

    def root(p: str) -> str:
        while parent.setdefault(p, p) != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for rec in records:
        ids = persons(rec)
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
        root(ids[0])
    groups: dict[str, list[str]] = {}
    for p in parent:
        groups.setdefault(root(p), []).append(p)
    return sorted(tuple(sorted(g)) for g in groups.values())


def identity_folds(records: Iterable, n: int = 5) -> list[Fold]:
    """n folds of identity over FF++ records (dataset "ffpp" only: youtube reals and their fakes).

    Raises LrlError when there are fewer units of persons than folds, or fewer than 3 folds (each fold needs
    a test, a val and a train group)."""
    found = units(r for r in records if r.dataset == "ffpp")
    if n < 3:
        raise LrlError(f"{n} folds: at least 3 are needed (test, val and train groups)")
    if len(found) < n:
        raise LrlError(
            f"{len(found)} groups of persons (joined by their fakes) for {n} folds: each fold needs its own"
        )
    groups = [tuple(found[i::n]) for i in range(n)]
    return [
        Fold(
            k,
            n,
            train=tuple(u for j in range(n) if j not in (k, (k + 1) % n) for u in groups[j]),
            val=groups[(k + 1) % n],
            test=groups[k],
        )
        for k in range(n)
    ]


def split_pairs(fold: Fold, records: Iterable) -> dict[str, list[list[str]]]:
    """The fold as FF++ split files' content: split -> [[target, source] of each fake, [a, a] of a real
    without one], sorted."""
    where = fold.split_of()
    out: dict[str, set[tuple[str, str]]] = {s: set() for s in SPLITS}
    faked = set()
    recs = [r for r in records if r.dataset == "ffpp"]
    for rec in recs:
        if rec.is_fake and rec.source:
            out[where[rec.target]].add((rec.target, rec.source))
            faked |= {rec.target, rec.source}
    for rec in recs:
        if rec.target not in faked:
            out[where[rec.target]].add((rec.target, rec.target))
    return {s: [list(p) for p in sorted(pairs)] for s, pairs in out.items()}


def check(records: Iterable, split_of) -> list[str]:
    """What is wrong with a split assignment (`split_of(record) -> split`), as lines (empty: none): a person
    shown in two splits, or a fake in another split than its real."""
    recs = list(records)
    seen: dict[str, set[str]] = {}
    real_split = {r.target: split_of(r) for r in recs if not r.is_fake}
    problems = []
    for rec in recs:
        split = split_of(rec)
        for p in persons(rec):
            seen.setdefault(p, set()).add(split)
        if rec.is_fake and rec.target in real_split and real_split[rec.target] != split:
            problems.append(f"{rec.key}: in {split}, its real {rec.target} in {real_split[rec.target]}")
    problems += [f"person {p}: in {', '.join(sorted(s))}" for p, s in sorted(seen.items()) if len(s) > 1]
    return problems
