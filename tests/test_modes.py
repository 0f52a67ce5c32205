"""One rule for every command's options: an option given without the mode it belongs to is refused in one
line (pipeline.options.misplaced, cli.modes), before anything runs."""

import click
import pytest
from click.testing import CliRunner

import cli
from pipeline.options import Mode, misplaced

EVALUATE = Mode("evaluation", needs=("ckpt",))
TRAIN = Mode("training", without=("ckpt",))
FLAGS = {"ckpt": "--evaluate", "levels": "--levels", "perturb": "--perturb", "epochs": "--epochs"}


def test_the_rule_on_hand_written_modes():
    belongs = {"levels": (Mode("robustness", needs=("ckpt", "perturb")),), "epochs": (TRAIN,)}
    assert misplaced({"ckpt": "--evaluate", "levels": "--levels"}, belongs, FLAGS) == (
        "--levels goes with robustness (--evaluate, --perturb)"
    )
    assert misplaced({"ckpt": "", "perturb": "", "levels": ""}, belongs, FLAGS) == ""
    assert misplaced({"epochs": "--epochs"}, belongs, FLAGS) == ""
    assert misplaced({"ckpt": "", "epochs": "--epochs"}, belongs, FLAGS) == (
        "--epochs goes with training (no --evaluate)"
    )
    two = {"epochs": (TRAIN, EVALUATE)}
    assert misplaced({"epochs": "--epochs"}, two, FLAGS) == ""


def value_args(param: click.Option, existing: str) -> list[str]:
    """The option as typed, with a value its type accepts."""
    if param.is_flag:
        return [param.opts[0]]
    kind = param.type
    value = kind.choices[0] if isinstance(kind, click.Choice) else "1"
    if isinstance(kind, click.Path):
        value = existing
    return [param.opts[0]] + [value] * max(param.nargs, 1)


CONTEXTS = [(), ("--evaluate", "CKPT"), ("--evaluate", "CKPT", "--perturb", "gb")]
CONTEXTS += [("--evaluate", "CKPT", "--figures")]
NAMES = {"--evaluate": "ckpt", "--perturb": "perturb", "--figures": "figures"}


@pytest.mark.parametrize("name", sorted(cli.train_modes()))
def test_every_lrl_train_option_without_its_mode_is_one_line_and_exit_2(name, tmp_path):
    """E.g. `lrl-train --evaluate CKPT --levels 3` (no --perturb): it used to run a plain evaluation."""
    modes = cli.train_modes()[name]
    param = next(p for p in cli.train.params if p.name == name)
    context = next(
        c for c in CONTEXTS if not any(m.holds({NAMES[a] for a in c if a in NAMES} | {name}) for m in modes)
    )
    args = [*context, *value_args(param, str(tmp_path))]
    result = CliRunner().invoke(cli.train, args)
    assert result.exit_code == 2, (args, result.output)
    assert result.output.startswith(f"error: {param.opts[0]} goes with "), args
    assert len(result.output.splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_shards_options_with_verify_are_refused(tmp_path):
    result = CliRunner().invoke(cli.prep, ["shards", "--work", str(tmp_path), "--verify", "--jobs", "2"])
    assert (result.exit_code, result.output) == (2, "error: --jobs goes with building shards (no --verify)\n")
