"""The CLI's contract: help on every command with an example, documented, version, exit codes."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from migrator import __version__
from migrator.cli import main
from tests.cli_runner import run

DOCS = Path(__file__).parents[1] / "docs"
DOC = (DOCS / "cli.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)
SUBCOMMANDS = [
    f"{name} {sub}"
    for name, command in sorted(main.commands.items())
    for sub in sorted(getattr(command, "commands", {}))
]


def test_version() -> None:
    result = run(None, "--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("name", COMMANDS + SUBCOMMANDS)
def test_every_command_has_help_with_an_example_and_is_documented(name: str) -> None:
    result = run(None, *name.split(), "-h")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"migrator {name}" in result.output
    command: click.Command = main
    for word in name.split():
        command = command.commands[word]  # type: ignore[attr-defined]
    assert f"## migrator {name}\n" in DOC
    section = DOC.split(f"## migrator {name}\n", 1)[1].split("\n## ", 1)[0]
    summary = (command.help or "").strip().split("\n\n")[0]
    assert " ".join(summary.split()) in " ".join(section.split())
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.opts[-1] in section, f"{param.opts[-1]} of {name} not in docs/cli.md"


def test_unknown_option_is_a_usage_error() -> None:
    assert run(None, "load", "--frobnicate").exit_code == 2


def test_cli_doc_is_generated_from_the_help() -> None:
    import runpy

    render = runpy.run_path(str(DOCS / "gen_cli.py"))["render"]
    assert render() == DOC, "docs/cli.md is stale: run `python docs/gen_cli.py`"
