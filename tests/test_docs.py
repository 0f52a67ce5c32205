"""The docs cannot drift from the code: the site builds strictly, every command line they show names
options its command has, and every link of the README resolves."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

TOP = Path(__file__).resolve().parents[1]
PAGES = sorted((TOP / "docs").glob("*.md")) + [TOP / "README.md"]
COMMANDS = {"lrl-prep": cli.prep, "lrl-train": cli.train, "lrl-predict": cli.predict}
COMMAND = re.compile(r"(?<![\w/.-])(lrl-prep|lrl-train|lrl-predict)(?![\w-])")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_site_builds_strictly(tmp_path):
    run = mkdocs_build(TOP / "mkdocs.yml", tmp_path / "site")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "site" / "usage" / "index.html").is_file()


def test_a_broken_link_or_a_page_outside_the_nav_fails_the_build(tmp_path):
    shutil.copytree(TOP / "docs", tmp_path / "docs", symlinks=True)
    shutil.copy2(TOP / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copy2(TOP / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    with (tmp_path / "docs" / "usage.md").open("a") as f:
        f.write("\nSee [the missing page](missing.md) and [an anchor](datasets.md#no-such-heading).\n")
    (tmp_path / "docs" / "orphan.md").write_text("# Orphan\n")
    run = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert run.returncode != 0
    for needle in ("'missing.md'", "'#no-such-heading'", "orphan.md"):
        assert needle in run.stderr


def command_lines(text: str) -> list[str]:
    """The code a page shows: each line of a fenced block (continuations joined, comments cut) and each
    inline code span."""
    lines = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            lines.append(re.split(r"\s#\s", line)[0])
    lines += SPAN.findall(FENCE.sub("", text))
    return lines


def options_in_help(command, args: list[str]) -> set[str] | None:
    """The options of `command args --help`, read from the help's option column; None when the command
    (or subcommand) does not exist."""
    result = CliRunner().invoke(command, [*args, "--help"], terminal_width=200)
    if result.exit_code != 0:
        return None
    options = result.output.split("Options:", 1)[-1].splitlines()
    column = [re.split(r"\s{2,}", line.strip())[0] for line in options if line.startswith("  -")]
    return set(OPTION.findall(" ".join(column)))


def wrong_options(text: str) -> list[str]:
    """Every `lrl-... [subcommand] --option` of a page that its command's --help does not list."""
    found = []
    for line in command_lines(text):
        parts = COMMAND.split(line)
        for name, rest in zip(parts[1::2], parts[2::2], strict=True):
            sub = re.match(r"\s+([a-z][a-z-]*)(?=\s|$)", rest) if name == "lrl-prep" else None
            args = [sub.group(1)] if sub else []
            known = options_in_help(COMMANDS[name], args)
            if known is None:
                found.append(f"{name} {' '.join(args)}: no such command")
                continue
            found += [
                f"{name} {' '.join(args)} {opt}".replace("  ", " ")
                for opt in OPTION.findall(rest)
                if opt not in known
            ]
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_option_the_docs_name_is_in_its_commands_help(page):
    assert not wrong_options(page.read_text())


def test_the_option_check_catches_a_wrong_option_and_command():
    text = (
        "Run `lrl-prep index --root R --bogus` then\n\n"
        "```\nlrl-train --shards S \\\n    --epochz 3  # x\n"
        "lrl-prep nosuch --root R\nlrl-predict --checkpoint C --report D in.mp4\n```\n"
    )
    assert wrong_options(text) == [
        "lrl-train --epochz",
        "lrl-prep nosuch: no such command",
        "lrl-prep index --bogus",
    ]


def github_slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {github_slug(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}


def test_every_link_of_the_readme_resolves():
    readme = TOP / "README.md"
    links = LINK.findall(FENCE.sub("", readme.read_text()))
    assert links
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (TOP / path).resolve() if path else readme
        assert target.exists(), f"README links to {link}: no such file"
        if anchor:
            assert anchor in anchors(target), f"README links to {link}: no such heading"


def test_the_readme_stays_short():
    assert len((TOP / "README.md").read_text().splitlines()) <= 150
