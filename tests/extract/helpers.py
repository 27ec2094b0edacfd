"""Reading a staging database behind migrator's back, for extract tests."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any


def rows(staging: Path, sql: str, *params: Any) -> list[Any]:
    with closing(sqlite3.connect(staging, timeout=30)) as db:
        return db.execute(sql, params).fetchall()


def staged_hashes(staging: Path) -> list[tuple[str, str]]:
    return rows(staging, "SELECT origin, content_hash FROM source_tickets ORDER BY origin")


def meta(staging: Path) -> dict[str, str]:
    return dict(rows(staging, "SELECT key, value FROM meta"))


def last_run(staging: Path) -> dict[str, Any]:
    """The newest extract run: its status and summary."""
    ((status, summary),) = rows(
        staging,
        "SELECT status, summary FROM runs WHERE command = 'extract' ORDER BY id DESC LIMIT 1",
    )
    return {"status": status, **json.loads(summary or "{}")}
