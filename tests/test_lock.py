"""The WORK lock: exclusive while held, released when the holder is killed."""

import os
import signal
import subprocess
import sys

import pytest

from pipeline.store.lock import WorkLock, WorkLocked

HOLD = (
    "import sys, time; from pipeline.store.lock import WorkLock\n"
    "with WorkLock(sys.argv[1]):\n"
    "    print('held', flush=True); time.sleep(60)\n"
)


def test_second_holder_is_refused_with_the_holders_pid(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(WorkLocked, match=f"pid {proc.pid}"):
            WorkLock(tmp_path).__enter__()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with WorkLock(tmp_path):
            assert f"pid {os.getpid()}" in (tmp_path / ".lock").read_text()
    finally:
        proc.kill()
        proc.wait()
