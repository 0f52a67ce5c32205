"""The default --jobs: the idle cores when a stage starts, at most one per unit (issue 26)."""

from pipeline.engine.load import cpu_times, default_jobs, idle_cores, idle_fraction
from pipeline.engine.threads import available_cores

STAT = """cpu  300 0 100 1000 20 0 0 0 0 0
cpu0 100 0 50 400 10 0 0 0 0 0
cpu1 200 0 50 600 10 0 0 0 0 0
intr 12345
"""


def test_cpu_times_sum_the_cores_of_the_affinity_only():
    assert cpu_times(STAT, {0, 1}) == (1020, 1420)
    assert cpu_times(STAT, {1}) == (610, 860)


def test_idle_fraction_of_two_readings():
    assert idle_fraction((610, 860), (660, 960)) == 0.5
    assert idle_fraction((10, 10), (10, 10)) == 1.0


def test_default_jobs_rule():
    cores = available_cores()
    assert default_jobs(1, idle=cores) == 1  # one unit: no second worker
    assert default_jobs(5, idle=0.2) == 1  # a busy machine: one worker
    assert default_jobs(5, idle=1.4) == 1 and default_jobs(5, idle=1.5) == min(2, cores)
    assert default_jobs(3, idle=64.0) == min(3, cores)


def test_idle_cores_is_measured_within_the_cores():
    assert 0.0 <= idle_cores(0.05) <= available_cores() + 1e-9
