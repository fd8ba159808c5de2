"""README.md documents every command and option of the CLI, and stays short.

Like sqlite-utils' test_docs.py: the commands and options are read from the
click group itself, so a new option without a README entry (or without
``help``) fails here, naming it.
"""

import re
from pathlib import Path

import click
import pytest

from kbsearch.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
MAX_README_LINES = 400


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _heading(name: str) -> re.Pattern:
    # "### `kbsearch search QUERY...`", "### `kbsearch stats`"
    return re.compile(rf"^### `kbsearch {re.escape(name)}(?: [^`]*)?`\s*$", re.MULTILINE)


def _section(text: str, name: str) -> str:
    """README's text from the command's heading to the next heading of its
    level or above."""
    m = _heading(name).search(text)
    assert m, f"README.md has no heading for `kbsearch {name}`"
    end = re.compile(r"^#{1,3} ", re.MULTILINE).search(text, m.end())
    return text[m.end(): end.start() if end else len(text)]


COMMANDS = sorted(cli.commands)
OPTIONS = [
    (name, opt)
    for name in COMMANDS
    for param in cli.commands[name].params
    if isinstance(param, click.Option)
    for opt in (*param.opts, *param.secondary_opts)
    if opt.startswith("--")
]
OPTION_PARAMS = [
    pytest.param(name, param, id=f"{name}-{max(param.opts, key=len)}")
    for name in COMMANDS
    for param in cli.commands[name].params
    if isinstance(param, click.Option)
]


def test_the_commands_are_known():
    # A guard for the parametrized tests below: an empty list would pass them.
    assert {"search", "index", "show", "stats", "eval"} <= set(COMMANDS)
    assert ("search", "--limit") in OPTIONS


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_readme_heading(command):
    assert _heading(command).search(_readme()), f"README.md has no '### `kbsearch {command} ...`' heading"


@pytest.mark.parametrize("command,option", OPTIONS)
def test_option_documented_under_its_command(command, option):
    # In a row of the option table of the command's section: "| `--limit N` | ...".
    rows = [line.split("|")[1] for line in _section(_readme(), command).splitlines()
            if line.startswith("|") and line.count("|") >= 3]
    assert any(re.search(rf"`{re.escape(option)}(?![\w-])", first) for first in rows), (
        f"README.md's `kbsearch {command}` option table has no row for {option}")


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help(command):
    assert (cli.commands[command].help or "").strip(), f"`kbsearch {command}` has no help text"


@pytest.mark.parametrize("command,option", OPTION_PARAMS)
def test_option_has_help(command, option):
    assert (option.help or "").strip(), f"`kbsearch {command}` option {max(option.opts, key=len)} has no help text"


def test_readme_is_short():
    n = len(_readme().splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines; keep it at most {MAX_README_LINES} (details go in docs/)"


def test_relative_links_and_images_exist():
    # README's screenshots and links to docs/ must ship with the repository.
    root = README.parent
    for doc in [README, *sorted((root / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to a missing {target}"
