"""A migration driven through the CLI, as a user runs it, for the dry-run tests."""

from __future__ import annotations

import json
from typing import Any

from migrator.config import load_config
from migrator.staging import Staging
from tests.cli_runner import run


class Trial:
    """One migration directory (conftest ``make_migration``), run as a user runs it."""

    def __init__(self, migration: Any):
        self.m = migration
        self.origin = f"trac:{migration.project}#"
        self._staging: Staging | None = None

    def extract(self, *args: str) -> None:
        result = run(self.m.config, "extract", "-q", *args)
        assert result.exit_code == 0, result.output

    def plan(self) -> dict[str, Any]:
        """``migrator plan --json``: the summary, with ``plan_id``."""
        result = run(self.m.config, "plan", "--json")
        assert result.exit_code == 0, result.output
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    def edit_mapping(self, old: str, new: str) -> None:
        text = self.m.mapping.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        self.m.mapping.write_text(text.replace(old, new), encoding="utf-8")

    @property
    def staging(self) -> Staging:
        if self._staging is None:
            self._staging = Staging(load_config(self.m.config).staging_url)
        return self._staging

    def close(self) -> None:
        if self._staging is not None:
            self._staging.close()
