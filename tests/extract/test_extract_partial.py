"""Partial extraction (``--ids``, ``--project``) and the options' contract, through the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from migrator.config import load_config
from migrator.extract import Scope, extract
from migrator.progress import Silent
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore
from migrator.trackers import Page, make_source
from tests.cli_runner import run
from tests.extract.helpers import last_run, meta, staged_hashes
from tests.trackers.contract import staging_snapshot


def error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ids_and_ranges(trac_env: Path, trac_migration: Callable[..., Path]) -> None:
    config = trac_migration(trac_env)
    staging = config.parent / "staging.sqlite"
    result = run(config, "extract", "--ids", "3, 1,10-12,11")
    assert result.exit_code == 0, result.output
    assert "trac:demo: ids 1,3,10-12" in result.output
    assert "extracted 5 tickets (5 new, 0 changed, 0 unchanged)" in result.output
    assert [o for o, _ in staged_hashes(staging)] == [
        f"trac:demo#{i}" for i in sorted(["1", "10", "11", "12", "3"])
    ]
    # Part of the source says nothing about the rest: no cursor, so the next plain
    # extract reads everything (and finds those five unchanged).
    assert "extract.cursor" not in meta(staging)
    rest = run(config, "extract")
    assert rest.exit_code == 0 and "trac:demo: every ticket" in rest.output
    assert "(195 new, 0 changed, 5 unchanged)" in rest.output
    assert "extract.cursor" in meta(staging)


def test_project_of_a_trac_environment(trac_env: Path, trac_migration: Callable[..., Path]) -> None:
    config = trac_migration(trac_env)
    result = run(config, "extract", "--project", "demo", "--since", "2024-06-01")
    assert result.exit_code == 0, result.output
    assert "trac:demo: updated since 2024-06-01T00:00:00Z, project demo" in result.output
    wrong = run(config, "extract", "--project", "core")
    assert wrong.exit_code == 2
    line = error_line(wrong)
    assert "--project core: this Trac environment is the one project 'demo'" in line
    assert "use --project demo" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ids", "5-1"], "range 5-1 runs backwards"),
        (["--ids", "1,,2"], "empty item"),
        (["--ids", "BUG-1"], "Trac ticket ids are numbers"),
        (["--since", "last tuesday"], "--since 'last tuesday' is not a date or an ISO time"),
        (["--full", "--since", "2024-01-01"], "--full and --since contradict each other"),
    ],
)
def test_bad_options_are_usage_errors(
    trac_env: Path, trac_migration: Callable[..., Path], args: list[str], message: str
) -> None:
    config = trac_migration(trac_env)
    assert run(config, "extract", "-q", "--ids", "1-3").exit_code == 0
    staging = config.parent / "staging.sqlite"
    before = staging_snapshot(staging)
    result = run(config, "extract", *args)
    assert result.exit_code == 2
    assert message in error_line(result)
    assert staging_snapshot(staging) == before


def test_roundup_and_spreadsheets_have_no_projects(tmp_path: Path) -> None:
    from tests.trackers.contract import write_config

    roundup = write_config(
        tmp_path / "r",
        {"type": "roundup", "url": "http://127.0.0.1:9/demo/", "user": "u", "password": "$env:X"},
    )
    result = run(roundup, "extract", "--project", "demo")
    assert result.exit_code == 2
    assert "--project demo: a Roundup source has no projects" in error_line(result)
    sheet = write_config(
        tmp_path / "s", {"type": "csv", "file": "bugs.csv", "columns": {"id": "No.", "title": "t"}}
    )
    result = run(sheet, "extract", "--project", "x")
    assert result.exit_code == 2
    assert "a spreadsheet source has no projects" in error_line(result)


class Interrupted(Exception):
    pass


class StopsAfterOnePage:
    """A source that breaks off after its first page, as a killed extract would."""

    def __init__(self, source: Any):
        self.source = source
        self.kind, self.name, self.warnings = source.kind, source.name, source.warnings

    def describe(self) -> str:
        return str(self.source.describe())

    def count(self) -> int | None:
        return self.source.count()

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        pages = self.source.pages(checkpoint, blobs)
        yield next(pages)
        pages.close()
        raise Interrupted

    def close(self) -> None:
        self.source.close()


def interrupt_after_first_page(config: Path, scope: Scope) -> None:
    cfg = load_config(config)
    staging = Staging(cfg.staging_url)
    source = make_source(cfg, since=scope.since, ids=scope.ids, project=scope.project)
    try:
        with pytest.raises(Interrupted):
            extract(
                staging, StopsAfterOnePage(source), BlobStore(cfg.blobs_dir), Silent(), scope=scope
            )
    finally:
        source.close()
        staging.close()


def test_a_checkpoint_is_resumed_only_with_the_same_options(
    trac_env: Path, trac_migration: Callable[..., Path]
) -> None:
    config = trac_migration(trac_env, page_size=50)
    staging = config.parent / "staging.sqlite"
    interrupt_after_first_page(config, Scope())
    state = json.loads(meta(staging)["extract.checkpoint"])
    assert (state["page"], state["tickets"], state["source"]) == ("50", 50, "trac:demo")
    # Other options: the interrupted extract is abandoned, and this one starts afresh.
    other = run(config, "extract", "--ids", "1-60")
    assert other.exit_code == 0
    assert "resumed" not in other.output
    assert "an interrupted extract of trac:demo (every ticket) is abandoned" in other.stderr
    assert "extracted 60 tickets (10 new, 0 changed, 50 unchanged)" in other.output
    # The same options resume after the checkpoint.
    interrupt_after_first_page(config, Scope())
    again = run(config, "extract")
    assert "resumed an interrupted extract after checkpoint 50" in again.output
    assert "extracted 150 tickets (140 new, 0 changed, 10 unchanged)" in again.output
    assert last_run(staging)["resumed_from"] == "50"


def test_an_unreadable_cursor_is_refused_and_replaced_by_full(
    trac_env: Path, trac_migration: Callable[..., Path]
) -> None:
    config = trac_migration(trac_env)
    staging = config.parent / "staging.sqlite"
    assert run(config, "extract", "-q", "--ids", "1").exit_code == 0
    with closing(sqlite3.connect(staging)) as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('extract.cursor', '{\"v\": 9}')")
        db.commit()
    plain = run(config, "extract")
    assert plain.exit_code == 1
    assert "meta extract.cursor has format version 9" in error_line(plain)
    assert "--full" in error_line(plain)
    full = run(config, "extract", "--full")
    assert full.exit_code == 0, full.output
    assert "the stored cursor could not be read and is replaced" in full.stderr
    assert json.loads(meta(staging)["extract.cursor"])["v"] == 1
