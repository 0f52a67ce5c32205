"""Every `lrl-*` command of the docs and the README runs as written (issue 33).

Each command (a line of a fenced block that starts with it, or an inline code span) is parsed by its own
command's parser, without running it: every option exists and has its value, every required option is
there, a choice written out is one of the choices, and no option is given without its mode (cli.modes).
A span with at most one option names that option (`lrl-prep extract --jobs 1`): its required options are
not asked for. Synopses are read with their optional `[...]` parts in, the first of `a|b`, and
placeholders (ROOT, WORK, N) as values. A command another helper adds to the docs is checked the same way.

Commands on the built-in demo (demo/ffpp, W, B, ...) of the cheap verbs in RUN also run: the paths
mapped onto the tiny demo (`demo_root`) and the tiny WORK and checkpoint (`tiny_run`), each must exit
0. Commands of other verbs (training, refresh: minutes) are checked by the parser only.
"""

import ast
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_docs import COMMAND, FENCE, PAGES, SPAN

import cli
from pipeline.options import misplaced

COMMANDS = {"lrl-prep": cli.prep, "lrl-train": cli.train, "lrl-predict": cli.predict}
SHELL = re.compile(r"^(\||\|\||&&|;|>>?|2>&1|<)")
RUN = ("index", "status", "report", "blend")  # lrl-prep verbs that run on the tiny demo in seconds
MODES = {"lrl-train": cli.train_modes}


@dataclass(frozen=True)
class Command:
    page: str
    name: str  # lrl-prep, lrl-train, lrl-predict
    args: tuple[str, ...]  # as written (lrl-prep: the verb first)
    fenced: bool

    def __str__(self) -> str:
        return f"{self.page}: {self.name} {' '.join(self.args)}"


def words(text: str) -> list[str]:
    """The command's words up to a shell operator (a pipe, a redirection)."""
    try:
        tokens = shlex.split(text, comments=True)
    except ValueError:
        tokens = text.split()
    out = []
    for token in tokens:
        if SHELL.match(token):
            break
        out.append(token)
    return out


def synopsis(tokens: list[str]) -> list[str]:
    """A synopsis read as a command: brackets dropped, the first of `a|b`, no `...`."""
    out = []
    for token in tokens:
        token = token.strip("[]").removesuffix("...")
        token = token.split("|")[0] if "|" in token and not token.startswith("|") else token
        token = token.split("/--")[0]  # --tensorboard/--no-tensorboard: the switch named
        if token:
            out.append(token)
    return out


def commands(page: Path) -> list[Command]:
    """The page's commands: each line of its fenced blocks (continuations joined), then its code spans."""
    text = page.read_text()
    lines = [
        (line, True) for block in FENCE.findall(text) for line in block.replace("\\\n", " ").splitlines()
    ]
    lines += [(span, False) for span in SPAN.findall(FENCE.sub("", text))]
    found = []
    for line, fenced in lines:
        parts = COMMAND.split(line)
        for before, name, rest in zip(parts[0::2], parts[1::2], parts[2::2], strict=False):
            if fenced and before.strip() and not before.rstrip().endswith("--no-python"):
                continue  # a diagram's label, not a command
            args = tuple(synopsis(words(rest)))
            if (
                args
                and not args[0].startswith("-")
                and not (name == "lrl-prep" and re.fullmatch(r"[a-z-]+", args[0]))
            ):
                continue  # prose: "lrl-prep <verb>", "lrl-train ── two streams", "lrl-predict DIR"
            found.append(Command(page.name, name, args, fenced))
    return found


ALL = [c for page in PAGES for c in commands(page)]


def parse(command: Command) -> str:
    """ "" when the parser takes the command, else what is wrong (one line)."""
    group = COMMANDS[command.name]
    args = list(command.args)
    if isinstance(group, click.Group):
        if not args or args[0].startswith("-"):
            return ""  # `lrl-prep` alone, or `lrl-prep --help`
        verb = args.pop(0)
        if verb not in group.commands:
            return f"no such command {verb!r}"
        cmd = group.commands[verb]
    else:
        cmd = group
    if "--help" in args or "-h" in args:
        return ""
    if not command.fenced and len(args) == 1 and args[0].startswith("--"):
        return ""  # a span naming one option (`lrl-predict --report`): test_docs checks it exists
    ctx = click.Context(cmd, info_name=command.name)
    try:
        opts, _, order = cmd.make_parser(ctx).parse_args(list(args))  # it empties its list
    except click.UsageError as exc:
        return exc.format_message()
    given = {p.name: p.opts[0] for p in order if isinstance(p, click.Option)}
    options = sum(a.startswith("--") for a in args)
    whole = command.fenced or options > 1  # a span with one option names it (`extract --jobs 1`)
    missing = [
        p.opts[0] for p in cmd.params if p.required and p.name not in opts and isinstance(p, click.Option)
    ]
    if missing and whole and options:
        return f"missing {', '.join(missing)}"
    for p in order:
        value = opts.get(p.name)
        if isinstance(p.type, click.Choice) and isinstance(value, str) and value not in p.type.choices:
            if not value.isupper():
                return f"{p.opts[0]} {value!r}: not one of {', '.join(p.type.choices)}"
    if command.name in MODES:
        flags = {p.name: p.opts[0] for p in cmd.params if isinstance(p, click.Option)}
        return misplaced(given, MODES[command.name](), flags)
    return ""


def test_the_docs_show_commands_of_every_kind():
    assert len(ALL) > 100
    assert {c.name for c in ALL} == set(COMMANDS)
    assert any(c.args[:1] == ("blend",) and c.fenced for c in ALL)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_of_the_docs_parses(page):
    wrong = [f"{c}: {why}" for c in commands(page) if (why := parse(c))]
    assert not wrong


def test_the_parser_check_catches_what_issue_33_found():
    def check(text):
        return parse(Command("x.md", *(lambda w: (w[0], tuple(synopsis(w[1:]))))(words(text)), True))

    assert check(
        "lrl-prep report --work W --thumb 80"
    ) == "Missing option '--out'." or "missing --out" in check("lrl-prep report --work W --thumb 80")
    assert "No such option '--qualities'" in check("lrl-prep refresh --root R --work W --qualities raw")
    assert (
        check("lrl-train --evaluate CKPT --levels 3")
        == "--levels goes with robustness (--evaluate, --perturb)"
    )
    assert check("lrl-prep demo-data --out D --faces packages|builtin [--size tiny|small]") == ""
    assert check("lrl-prep masks --root R --work W --source fancy").startswith("--source 'fancy': not one of")


# ---------------------------------------------------------------- the commands that run

PATHS = ("--root", "--work", "--out")


def mapped(args: tuple[str, ...], places: dict[str, Path]) -> list[str] | None:
    """The arguments with the demo's paths put onto the fixtures (longest name first); None when a --root,
    --work or --out names a path outside them (a command that must not write beside the tests)."""
    out = []
    for i, arg in enumerate(args):
        key = next(
            (k for k in sorted(places, key=len, reverse=True) if arg == k or arg.startswith(k + "/")), None
        )
        if key is None and i and args[i - 1] in PATHS:
            return None
        out.append(arg if key is None else str(places[key]) + arg[len(key) :])
    return out


def test_the_commands_on_the_demo_run_as_written(demo_root, tiny_run, tmp_path):
    """E.g. docs/blend.md's `lrl-prep blend --root demo/ffpp --out B --jobs 2` (it exited 2 on the built-in
    demo's demo_truth.json) and its QA report command (it lacked --out)."""
    _, work, _ = tiny_run
    places = {
        "demo/ffpp": demo_root,
        "demo/work": work,
        "W": work,
        "B": tmp_path / "B",
        "demo/qa": tmp_path / "qa",
    }
    places["QA"] = tmp_path / "QA"
    ran = {}
    for command in ALL:
        if command.name != "lrl-prep" or command.args[:1] not in [(v,) for v in RUN] or parse(command):
            continue
        args = mapped(command.args, places)
        if args is None or not any(a in PATHS for a in args) or tuple(args) in ran:
            continue
        result = CliRunner().invoke(cli.prep, args)
        ran[tuple(args)] = command
        assert result.exit_code == 0, f"{command}: exit {result.exit_code}: {result.output[-500:]}"
    assert {"blend", "report", "index"} <= {a[0] for a in ran}, sorted(ran)


# ---------------------------------------------------------------- the messages of a command's code

TOP = Path(__file__).resolve().parents[1]
MESSAGES = {"pipeline/blend": ("lrl-prep", "blend"), "pipeline/predict": ("lrl-predict",)}
MESSAGES["model/training"] = ("lrl-train",)


def options_of(name: str, *verb: str) -> set[str]:
    cmd = COMMANDS[name].commands[verb[0]] if verb else COMMANDS[name]
    return {o for p in cmd.params for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]}


def named_options(path: Path) -> set[tuple[str, str]]:
    """(option, string) for every --option a string of the module names (docstrings and other commands'
    `lrl-...` spans left out)."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = re.sub(r"`lrl-[^`]*`", "", node.value)
            found |= {(o, node.value) for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)}
    return found


@pytest.mark.parametrize("folder", sorted(MESSAGES))
def test_messages_name_only_options_their_command_has(folder):
    """E.g. blend's `select fewer with --datasets / --splits`: lrl-prep blend has neither."""
    known = options_of(*MESSAGES[folder])
    wrong = [
        (str(p.relative_to(TOP)), o, s)
        for p in sorted((TOP / folder).rglob("*.py"))
        for o, s in named_options(p)
        if o not in known
    ]
    assert not wrong
