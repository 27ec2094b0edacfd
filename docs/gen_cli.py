"""Regenerate docs/cli.md from the commands' own help (``python docs/gen_cli.py``).

The help text is the single source; tests/test_cli.py fails when this file drifts.
"""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from migrator.cli import main

INTRO = """\
# Command reference

Every command reads `migration.toml` (`-c/--config`, or `MIGRATOR_CONFIG`).
Exit codes: **0** ok; **1** failure or differences found (`plan` with unmapped
values, `plan --compare` with differences, `load` with failed tickets, `verify`
with differences); **2** bad invocation or configuration.  Expected errors are
one line on stderr starting with `error:`, naming what failed and how to fix it.
Progress bars go to stderr, only on a terminal; `-q` silences them and the summary.
See also [dry-run.md](dry-run.md) for `plan --report` and `plan --compare`.
"""


def commands() -> list[list[str]]:
    out: list[list[str]] = []
    for name, command in main.commands.items():
        subs = getattr(command, "commands", None)
        out.append([name])
        if subs:
            out += [[name, sub] for sub in subs]
    return out


def render() -> str:
    os.environ["COLUMNS"] = "100"
    parts = [INTRO]
    for words in commands():
        result = CliRunner().invoke(main, [*words, "--help"], terminal_width=100)
        parts.append(f"\n## migrator {' '.join(words)}\n\n```\n{result.output}```\n")
    return "".join(parts)


if __name__ == "__main__":
    Path(__file__).with_name("cli.md").write_text(render(), encoding="utf-8")
