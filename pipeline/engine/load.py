"""The default number of workers: the cores that are idle now, never more than there are units to run.

Measured (issue 26, 2-core machine, five FF++ c23 clips, 32 frames): with one core kept busy by another
process, `lrl-prep extract` with one worker per core (2) took 14.3 s, with one worker 11.0 s: a second
worker shares the busy core and pays its own start (importing torch and MTCNN). So without `--jobs`
a stage runs `default_jobs` workers:

    jobs = max(1, min(units, idle cores rounded half up))

where "idle cores" is the sum, over the cores this process may run on (its CPU affinity), of the
fraction of IDLE_WINDOW seconds each spent idle (or waiting for I/O), read from /proc/stat; where
/proc/stat is missing (macOS), the cores less the 1-minute load average. A core half used by another
process counts half. Each worker then gets max(1, cores // jobs) threads (pipeline.engine.threads).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.engine.threads import available_cores

IDLE_WINDOW = 0.25  # seconds sampled at the start of a stage that has more than one unit to run
PROC_STAT = Path("/proc/stat")


def cpu_times(text: str, cpus: set[int]) -> tuple[int, int]:
    """(idle + iowait, total) jiffies of the listed cores, from /proc/stat's text (per-core "cpuN" lines:
    user nice system idle iowait irq softirq steal ...; guest time is already in user)."""
    idle = total = 0
    for line in text.splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in values[:8]]
        idle += ticks[3] + ticks[4]
        total += sum(ticks)
    return idle, total


def idle_fraction(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The fraction of the time between two `cpu_times` readings the cores spent idle (0 to 1)."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 1.0


def idle_cores(window: float = IDLE_WINDOW) -> float:
    """Cores of this process's affinity idle over the next `window` seconds (from /proc/stat), or, without
    /proc/stat, the cores less the 1-minute load average (at least 0)."""
    cores = available_cores()
    try:
        cpus = os.sched_getaffinity(0)
        before = cpu_times(PROC_STAT.read_text(), cpus)
        time.sleep(window)
        after = cpu_times(PROC_STAT.read_text(), cpus)
    except (OSError, AttributeError, ValueError, IndexError):
        return max(0.0, cores - os.getloadavg()[0])
    return len(cpus) * idle_fraction(before, after)


def default_jobs(units: int, idle: float | None = None) -> int:
    """Workers for `units` units when --jobs is not given (`idle`: the idle cores, measured when None)."""
    if units <= 1:
        return 1
    idle = idle_cores() if idle is None else idle
    return max(1, min(units, available_cores(), int(idle + 0.5)))
