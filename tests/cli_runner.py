"""Run the CLI in-process, as a user would type it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from migrator.cli import main


def run(config: Path | None, *args: str) -> Result:
    argv = list(args)
    if config is not None:
        argv += ["-c", str(config)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)
