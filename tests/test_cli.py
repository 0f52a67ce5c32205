"""The CLI starts fast and lists every subcommand."""

import subprocess
import sys

from click.testing import CliRunner

from cli import prep


def test_help_lists_subcommands_with_one_line_each():
    result = CliRunner().invoke(prep, ["--help"])
    assert result.exit_code == 0
    for command in ("index", "demo-data", "status"):
        assert f"  {command} " in result.output


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cli import prep\n"
        "CliRunner().invoke(prep, ['--help'])\n"
        "heavy = [m for m in ('torch', 'cv2', 'h5py', 'facenet_pytorch', 'av', 'timm') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
