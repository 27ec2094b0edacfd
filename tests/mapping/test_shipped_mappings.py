"""Every mapping in mappings/ is valid and plans its source's fixture data with nothing unmapped."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures import spreadsheets
from fixtures.trackers import roundup as roundup_server
from migrator.mapping import load_mapping
from tests.cli_runner import run

MAPPINGS = Path(__file__).parents[2] / "mappings"


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def write_config(directory: Path, source: dict[str, Any], mapping: str) -> Path:
    lines = ["[source]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
    lines += [
        "[target]",
        'type = "redmine"',
        'url = "http://127.0.0.1:9"',
        'api_key = "$env:UNUSED_KEY"',
        "[mapping]",
        f'file = "{MAPPINGS / mapping}"',
    ]
    config = directory / "migration.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_mapping_loads(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.project and set(mapping.values) >= {"tracker", "status", "priority"}


def plan_json(config: Path) -> dict[str, Any]:
    assert run(config, "extract", "-q").exit_code == 0
    result = run(config, "plan", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    data: dict[str, Any] = json.loads(result.output)
    return data


@pytest.mark.parametrize("variant", ["utf8", "cp932", "xlsx"])
def test_csv_mapping_plans_the_fixture_sheets(
    tmp_path: Path, dataset: dict[str, Any], variant: str
) -> None:
    spreadsheets.write(tmp_path, dataset)
    source = spreadsheets.section(spreadsheets.VARIANTS[variant])
    data = plan_json(write_config(tmp_path, source, "csv-to-redmine.yaml"))
    assert data["tickets"] == len(dataset["tickets"])
    assert sum(data["values"]["tracker"].values()) == len(dataset["tickets"])
    assert data["dropped"] == {}  # the Japanese-headed extra columns are routed too


@pytest.fixture(scope="module")
def roundup(dataset: dict[str, Any]) -> Iterator[Any]:
    roundup_server.install()
    home = Path(tempfile.mkdtemp(prefix="migrator-roundup-"))
    instance = roundup_server.start(home)
    try:
        roundup_server.seed(instance, dataset)
        yield instance
    finally:
        roundup_server.stop(instance)
        shutil.rmtree(home, ignore_errors=True)


def test_roundup_mapping_plans_the_fixture_tracker(
    tmp_path: Path, roundup: Any, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_ROUNDUP_PASSWORD", roundup.password)
    source = {
        "type": "roundup",
        "url": roundup.tracker_url,
        "user": roundup.user,
        "password": "$env:TEST_ROUNDUP_PASSWORD",
    }
    data = plan_json(write_config(tmp_path, source, "roundup-to-redmine.yaml"))
    assert data["tickets"] == len(dataset["tickets"])
    assert data["dropped"] == {}  # every field with values is mapped, preserved or dropped
