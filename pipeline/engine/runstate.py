"""The run state: one SQLite file in WORK recording every unit of work of every stage.

A unit (a video for extract and masks, a shard for shards) is recorded with the fingerprint of its
inputs (paths, sizes, mtimes and the stage's parameters), its status (done; failed, with a one-line
reason; or a status of the stage's own, with the reason: held, e.g. the masks stage's no_mask for a
fake that cannot get a mask until its inputs change), its outputs, counts and stage-specific data
(the records and meta keys: pipeline.store.records). A stage skips a unit whose recorded fingerprint
equals the current one and whose status is settled (anything but failed): a held unit is not retried
by every refresh, and it is not a failure. Only the coordinating process writes here. A full disk
while writing it is DiskFull naming the file; SQLite rolls the failed write back, so every record
made before stays.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pipeline.store.records import ROOT_META, params_meta, selection_meta
from pipeline.store.space import disk_full, is_disk_full

DONE = "done"
FAILED = "failed"  # every other status is a held one (e.g. pipeline.store.records.NO_MASK): settled, not done
PAGE, PAGES_NEEDED = 4096, 4  # SQLite's default page; a write touches a few pages (table, index, WAL frame)

SCHEMA = """
CREATE TABLE IF NOT EXISTS units (
    stage TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    outputs TEXT NOT NULL,
    counts TEXT NOT NULL,
    data TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (stage, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class UnitResult:
    """What a worker reports for one unit of work."""

    key: str
    fingerprint: str
    status: str
    reason: str | None = None
    outputs: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == DONE


def file_stamp(path: str | os.PathLike) -> list:
    """[path, size, mtime_ns] of a file, or [path, None, None] when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return [str(path), None, None]
    return [str(path), st.st_size, st.st_mtime_ns]


def fingerprint(paths: Iterable[str | os.PathLike], params: dict, upstream: Iterable[str] = ()) -> str:
    """Hash of the input files' stamps, the stage parameters and upstream fingerprints."""
    payload = {
        "files": [file_stamp(p) for p in paths],
        "params": params,
        "upstream": list(upstream),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


class RunState:
    """SQLite-backed store of unit records, plus a small key/value table for stage settings."""

    def __init__(self, db_path: Path):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            self._db.close()
            raise self._full(exc, PAGES_NEEDED * PAGE) from None

    def _full(self, exc: sqlite3.OperationalError, needed: int) -> Exception:
        """DiskFull naming this file when SQLite says the disk is full, else `exc` itself."""
        return disk_full(self.path, needed, "recording the run state") if is_disk_full(exc) else exc

    def _write(self, sql: str, values: tuple) -> None:
        try:
            self._db.execute(sql, values)
        except sqlite3.OperationalError as exc:
            raise self._full(exc, PAGES_NEEDED * PAGE + sum(len(str(v)) for v in values)) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "RunState":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, stage: str, result: UnitResult) -> None:
        """Insert or replace the record of one unit."""
        self._write(
            "INSERT OR REPLACE INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stage,
                result.key,
                result.fingerprint,
                result.status,
                result.reason,
                json.dumps(result.outputs),
                json.dumps(result.counts),
                json.dumps(result.data),
                time.time(),
            ),
        )

    def get(self, stage: str, key: str) -> UnitResult | None:
        row = self._db.execute(
            "SELECT key, fingerprint, status, reason, outputs, counts, data FROM units "
            "WHERE stage=? AND key=?",
            (stage, key),
        ).fetchone()
        return _row_to_result(row) if row else None

    def is_fresh(self, stage: str, key: str, fp: str) -> bool:
        """True when the unit is recorded as done with this very fingerprint."""
        return self.settled(stage, key, fp) == DONE

    def settled(self, stage: str, key: str, fp: str) -> str | None:
        """The unit's status when it is recorded with this very fingerprint and settled (not FAILED), else
        None."""
        row = self._db.execute(
            "SELECT fingerprint, status FROM units WHERE stage=? AND key=?", (stage, key)
        ).fetchone()
        return row[1] if row is not None and row[0] == fp and row[1] != FAILED else None

    def records(self, stage: str) -> list[UnitResult]:
        rows = self._db.execute(
            "SELECT key, fingerprint, status, reason, outputs, counts, data FROM units "
            "WHERE stage=? ORDER BY key",
            (stage,),
        ).fetchall()
        return [_row_to_result(r) for r in rows]

    def delete(self, stage: str, key: str) -> None:
        self._write("DELETE FROM units WHERE stage=? AND key=?", (stage, key))

    def stages(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT stage FROM units ORDER BY stage")]

    def set_meta(self, name: str, value) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    def save_settings(self, stage: str, params: dict, selection: dict, root) -> None:
        """What a stage ran with, so `status` and `refresh` can re-plan it: parameters, filters, ROOT."""
        self.set_meta(params_meta(stage), params)
        self.set_meta(selection_meta(stage), selection)
        self.set_meta(ROOT_META, str(root))

    def get_meta(self, name: str, default=None):
        row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else default


def _row_to_result(row) -> UnitResult:
    key, fp, status, reason, outputs, counts, data = row
    return UnitResult(key, fp, status, reason, json.loads(outputs), json.loads(counts), json.loads(data))
