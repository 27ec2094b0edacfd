"""Adding a tracker is adding a folder: tests/trackers/plugins/fake/ and nothing else.

The folder is found through ``MIGRATOR_TRACKERS`` (docs/adding-a-tracker.md);
``migrator init`` then offers Trac -> Fake, ``make_target`` builds it, and it
passes the same target contract as Redmine, Roundup and GitHub, against a
small server of its own (tests/doubles/fake_tracker.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.trackers import registry, targets
from tests.doubles.fake_tracker import FakeTracker
from tests.trackers import target_contract as contract
from tests.trackers.target_contract import Case, Run

REPO = Path(__file__).resolve().parents[2]
PLUGINS = Path(__file__).resolve().parent / "plugins"
TOKEN = "fake-token-7c1e0d"


@pytest.fixture
def with_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(registry.PATH_VARIABLE, str(PLUGINS))
    registry.refresh()
    try:
        yield
    finally:
        monkeypatch.delenv(registry.PATH_VARIABLE)
        registry.refresh()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTracker]:
    double = FakeTracker(TOKEN)
    try:
        yield double
    finally:
        double.close()


def test_the_folder_is_a_tracker_only_when_named(with_plugins: None) -> None:
    assert "fake" in targets()
    fake = registry.tracker_for("target", "fake")
    assert fake.title == "Fake" and fake.package == "migrator.trackers.fake"


def test_without_the_variable_there_is_no_fake() -> None:
    registry.refresh()
    assert "fake" not in targets()


def test_init_offers_and_writes_the_new_pair(tmp_path: Path) -> None:
    env = {**os.environ, registry.PATH_VARIABLE: str(PLUGINS), "PYTHONPATH": str(REPO)}
    help_text = subprocess.run(
        [sys.executable, "-m", "migrator", "init", "-h"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "trac -> fake" in help_text
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "init", "--source", "trac", "--target", "fake"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    shipped = PLUGINS / "fake" / "mappings" / "trac-to-fake.yaml"
    assert (tmp_path / "mappings" / "trac-to-fake.yaml").read_bytes() == shipped.read_bytes()
    config = (tmp_path / "migration.toml").read_text(encoding="utf-8")
    assert '[target]\ntype = "fake"' in config and 'token = "$env:FAKE_TOKEN"' in config
    assert "export FAKE_TOKEN=..." in done.stdout


def fake_case(server: FakeTracker) -> Case:
    seen = len(server.violations)
    return Case(
        name="fake",
        section={"type": "fake", "url": server.url, "token": "$env:CONTRACT_FAKE_TOKEN"},
        values={
            "project": "alpha",
            "tracker": "Bug",
            "status": "Closed",
            "priority": "High",
            "author": "tanaka",
            "assignee": "suzuki",
        },
        lacks={"status": "No such status", "user": "nobody-here"},
        deletes=True,
        secret=TOKEN,
        custom_fields={"Customer": "株式会社サンプル <b>"},
        env={"CONTRACT_FAKE_TOKEN": TOKEN},
        problems=lambda: server.violations[seen:],
    )


@pytest.mark.parametrize("check", list(contract.CHECKS))
def test_the_new_target_passes_the_contract(
    check: str,
    server: FakeTracker,
    with_plugins: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    case = fake_case(server)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    contract.CHECKS[check](Run(case, tmp_path / check, check))
    assert case.problems() == []
