"""Load-state rows are looked up in slices: PostgreSQL caps a statement at 65,535 parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.load import loader
from migrator.staging import Staging


def test_existing_keys_are_found_across_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "KEYS_PER_QUERY", 7)
    staging = Staging(f"sqlite:///{tmp_path / 'staging.sqlite'}")
    try:
        present = [f"trac:x#1/comment/{i}" for i in range(40)]
        with staging.begin() as conn:
            conn.execute(
                loader.ls.insert(),
                [loader._row(k, "comment", "trac:x#1", i, None) for i, k in enumerate(present)],
            )
            absent = [f"trac:x#2/comment/{i}" for i in range(30)]
            assert loader._existing(conn, absent + present + absent) == set(present)
            assert loader._existing(conn, []) == set()
    finally:
        staging.close()
