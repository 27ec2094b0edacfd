"""Bad input to extract: one clear error, a non-zero exit, and staging exactly as it was.

Each test first extracts a good source, leaves an interrupted extract's
checkpoint behind (the state most worth protecting), then points the
migration at a bad source and checks that ``source_tickets`` and ``meta`` are
byte-for-byte what they were.  Wrong credentials are checked against real
servers by the contract suite (tests/trackers/contract.py).
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from fixtures.spreadsheets import VARIANTS, write
from fixtures.spreadsheets import section as sheet_section
from migrator.extract import Scope
from tests.cli_runner import run
from tests.extract.test_extract_partial import interrupt_after_first_page
from tests.trackers.contract import staging_snapshot, write_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def prepared(trac_env: Path, trac_migration: Callable[..., Path]) -> Path:
    """A migration directory whose staging holds a complete extract and an interrupted one."""
    config = trac_migration(trac_env, page_size=50)
    assert run(config, "extract", "-q").exit_code == 0
    interrupt_after_first_page(config, Scope(ids=None))
    return config.parent


def fails_cleanly(directory: Path, section: dict[str, Any], *words: str) -> str:
    staging = directory / "staging.sqlite"
    before = staging_snapshot(staging)
    assert before[0] and any(key == "extract.checkpoint" for key, _ in before[1])
    result = run(write_config(directory, section), "extract")
    assert result.exit_code == 1, result.output
    line = error_line(result)
    for word in words:
        assert word in line, line
    assert "Traceback" not in result.output + result.stderr
    assert staging_snapshot(staging) == before
    return line


def test_unreachable_roundup(prepared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATOR_TEST_ROUNDUP_PASSWORD", "secret-password")
    url = f"http://127.0.0.1:{free_port()}/demo/"
    section = {
        "type": "roundup",
        "url": url,
        "user": "admin",
        "password": "$env:MIGRATOR_TEST_ROUNDUP_PASSWORD",
    }
    line = fails_cleanly(prepared, section, f"cannot reach Roundup at {url}")
    assert "secret-password" not in line


def test_unreachable_redmine_source(prepared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATOR_TEST_REDMINE_SOURCE_KEY", "k" * 40)
    url = f"http://127.0.0.1:{free_port()}"
    section = {"type": "redmine", "url": url, "api_key": "$env:MIGRATOR_TEST_REDMINE_SOURCE_KEY"}
    line = fails_cleanly(prepared, section, "cannot reach Redmine at")
    assert "k" * 40 not in line


def test_unsupported_trac_schema_version(prepared: Path, trac_env: Path, tmp_path: Path) -> None:
    old = tmp_path / "old-trac"
    shutil.copytree(trac_env, old)
    with closing(sqlite3.connect(old / "db" / "trac.db")) as db:
        db.execute("UPDATE system SET value = '21' WHERE name = 'database_version'")
        db.commit()
    section = {"type": "trac", "env": str(old), "name": "demo"}
    fails_cleanly(prepared, section, "Trac database version 21 is older than 0.12", "upgrade")


def test_missing_trac_environment(prepared: Path, tmp_path: Path) -> None:
    section = {"type": "trac", "env": str(tmp_path / "nowhere"), "name": "demo"}
    fails_cleanly(prepared, section, "no Trac environment at", "trac-admin initenv")


@pytest.fixture
def bad_sheets(tmp_path: Path, dataset: dict[str, Any]) -> dict[str, Any]:
    """The UTF-8 CSV export and its [source], with absolute paths."""
    folder = tmp_path / "sheets"
    write(folder, dataset)
    section = sheet_section(VARIANTS["utf8"])
    for key in ("file", "comments_file"):
        section[key] = str(folder / section[key])
    return section


def test_csv_without_a_mapped_column(prepared: Path, bad_sheets: dict[str, Any]) -> None:
    path = Path(bad_sheets["file"])
    data = path.read_bytes()
    path.write_bytes(data.replace("件名".encode(), "タイトル".encode(), 1))
    line = fails_cleanly(prepared, bad_sheets, "column '件名' (mapped to title", "headers found")
    assert "タイトル" in line


def test_csv_with_bytes_it_cannot_decode(prepared: Path, bad_sheets: dict[str, Any]) -> None:
    path = Path(bad_sheets["file"])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\x82\xa0" + data[len(data) // 2 :])
    # Auto-detection refuses a file that is neither UTF-8 nor Japanese Shift_JIS...
    fails_cleanly(prepared, bad_sheets, "cannot tell the encoding", "first bad bytes at line")
    # ...and a declared encoding names the line and column of the first bad bytes.
    fails_cleanly(
        prepared, {**bad_sheets, "encoding": "utf-8"}, "cannot decode bytes 82 as utf-8", "line"
    )
