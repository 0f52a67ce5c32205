"""A library's warning never reaches the terminal bare (pipeline.errors.warning_line, in the CLI's process
and its workers); the demo trees' steps show bars when asked (pipeline.engine.progress)."""

import subprocess
import sys
import warnings

from pipeline.engine.progress import parallel, showing
from pipeline.errors import library_of, warning_line

LOKY = "/v/lib/python3.11/site-packages/joblib/externals/loky/process_executor.py"
STOPPED = (
    "A worker stopped while some jobs were given to the executor. This can be caused by a too short worker "
    "timeout or by a memory leak."
)


def test_the_line_names_the_library_its_first_sentence_and_what_lrl_does():
    assert library_of(LOKY) == "joblib" and library_of("/usr/lib/python3/dist-packages/cv2.py") == "cv2"
    assert warning_line(STOPPED, UserWarning, LOKY) == (
        "note: joblib (a library lrl uses) warned: A worker stopped while some jobs were given to the "
        "executor. This can be caused by a too short worker timeout or by a memory leak. (UserWarning); "
        "lrl goes on, and names any result this affects as failed"
    )


def test_a_command_s_warning_is_one_line_of_ours_on_stderr():
    code = (
        "import warnings, cli\n"
        "@cli.friendly\n"
        "def command():\n"
        f"    warnings.warn_explicit({STOPPED!r}, UserWarning, {LOKY!r}, 700)\n"
        "command()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr == warning_line(STOPPED, UserWarning, LOKY) + "\n"


def shows_warnings_with(i: int) -> str:
    """In a worker: the function that shows its warnings (a worker's stderr is the terminal it started on,
    which a test cannot capture once joblib reuses it)."""
    return f"{warnings.showwarning.__module__}.{warnings.showwarning.__qualname__}"


def test_workers_route_their_warnings_and_bars_show_only_when_asked(capfd):
    with showing(True):
        shown = parallel([(shows_warnings_with, (i,)) for i in range(3)], 2, "demo", "pair")
    assert shown == ["pipeline.errors.route_warnings.<locals>.show"] * 3
    err = capfd.readouterr().err
    assert "demo:" in err and "/3 [" in err  # the bar (it clears itself when done)
    with showing(False):
        assert parallel([(abs, (-1,))], 1, "demo", "pair") == [1]
    assert capfd.readouterr().err == ""
