"""The hostile dataset is a valid dataset, deterministic, and Trac stores it as written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fixtures.generate import dumps, validate
from fixtures.hostile import NAMES, hostile_dataset
from fixtures.trackers import trac as trac_fixture

pytestmark = pytest.mark.trac


def test_valid_and_deterministic() -> None:
    first = hostile_dataset(40, seed=3)
    assert validate(first) == []
    assert dumps(first) == dumps(hostile_dataset(40, seed=3))
    assert dumps(first) != dumps(hostile_dataset(40, seed=4))


def test_every_hostile_name_reaches_trac_as_written(tmp_path: Path) -> None:
    dataset = hostile_dataset(40)
    env = trac_fixture.build(tmp_path / "env", dataset)
    db = sqlite3.connect(f"file:{trac_fixture.db_path(env)}?mode=ro", uri=True)
    try:
        stored = {name for (name,) in db.execute("SELECT filename FROM attachment")}
    finally:
        db.close()
    wanted = {a["filename"] for t in dataset["tickets"] for a in t["attachments"]}
    assert stored == wanted
    assert set(NAMES) <= stored  # each one, the NUL byte and the NFD twin included
