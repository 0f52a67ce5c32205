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


def test_every_option_of_both_commands_has_help_and_lists_its_choices():
    from dataclasses import fields

    import click

    from cli import train
    from model.training.config import flag_fields
    from pipeline import params

    commands = [train] + list(prep.commands.values())
    for command in commands:
        for option in command.params:
            assert option.help, f"{command.name} --{option.name} has no help"
    choices = {
        f.name: f.metadata["choices"]
        for cls in (flag_fields(), params.MasksParams, params.ShardsParams, params.RunOptions)
        for f in fields(cls)
        if f.metadata.get("choices")
    }
    assert {"variant", "device", "reference_quality", "source", "compression", "backend"} <= set(choices)
    for command in commands:
        for option in command.params:
            if option.name in choices:
                assert isinstance(option.type, click.Choice), f"{command.name} --{option.name}"
                assert tuple(option.type.choices) == tuple(choices[option.name])


def test_a_default_is_written_once_in_the_dataclass():
    from pipeline.params import ExtractParams, MasksParams, ShardsParams

    options = {o.name: o for o in prep.commands["refresh"].params}
    assert options["threshold"].default == MasksParams().threshold
    assert options["alpha"].default == ShardsParams().alpha
    assert options["frames"].default == ExtractParams().frames
    assert options["jobs"].default is None  # every stage: all cores
