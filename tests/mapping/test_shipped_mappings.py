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
from fixtures.trackers import redmine as redmine_server
from fixtures.trackers import roundup as roundup_server
from fixtures.trackers.redmine_seed import seed as seed_redmine
from migrator.config import load_config
from migrator.mapping import apply, load_mapping
from migrator.mapping.engine import field_value
from migrator.model import Ticket
from migrator.staging import Staging
from tests.cli_runner import run

MAPPINGS = Path(__file__).parents[2] / "mappings"


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


# A Redmine target nobody answers for: plan never contacts the target.
UNUSED_TARGET = {"type": "redmine", "url": "http://127.0.0.1:9", "api_key": "$env:UNUSED_KEY"}


def write_config(
    directory: Path,
    source: dict[str, Any],
    mapping: str,
    target: dict[str, Any] = UNUSED_TARGET,
) -> Path:
    lines = ["[source]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
    lines += ["[target]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in target.items()]
    lines += ["[mapping]", f'file = "{MAPPINGS / mapping}"']
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


OLD_REDMINE_ISSUES = 60


@pytest.fixture(scope="module")
def old_redmine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[redmine_server.RedmineInstance, dict[str, Any]]]:
    """A Redmine of its own, seeded in bulk (the session one is the new Redmine)."""
    redmine_server.install()
    instance = redmine_server.start(tmp_path_factory.mktemp("old-redmine"))
    try:
        yield instance, seed_redmine(instance, OLD_REDMINE_ISSUES)
    finally:
        redmine_server.stop(instance)


def staged_tickets(config: Path) -> list[Ticket]:
    staging = Staging(load_config(config).staging_url)
    try:
        return list(staging.iter_tickets())
    finally:
        staging.close()


@pytest.mark.redmine
def test_redmine_mapping_plans_a_seeded_redmine_and_checks_against_a_new_one(
    tmp_path: Path,
    old_redmine: tuple[redmine_server.RedmineInstance, dict[str, Any]],
    redmine: redmine_server.RedmineInstance,
    redmine_admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, facts = old_redmine
    monkeypatch.setenv("TEST_OLD_REDMINE_KEY", old.api_key)
    monkeypatch.setenv("TEST_NEW_REDMINE_KEY", redmine.api_key)
    source = {"type": "redmine", "url": old.url, "api_key": "$env:TEST_OLD_REDMINE_KEY"}
    target = {"type": "redmine", "url": redmine.url, "api_key": "$env:TEST_NEW_REDMINE_KEY"}
    config = write_config(
        tmp_path, {**source, "name": "old"}, "redmine-to-redmine.yaml", target=target
    )
    data = plan_json(config)
    assert data["tickets"] == facts["issues"] == OLD_REDMINE_ISSUES
    assert data["dropped"] == {}  # every field with values is mapped, preserved or dropped
    assert set(data["names"]["project"]) == set(facts["per_project"])  # same identifiers

    # The old projects are routed by identifier: the new Redmine must have them first.
    routed = set(facts["per_project"])
    there = {p["identifier"] for p in redmine_admin.get("/projects.json", limit=100)["projects"]}
    result = run(config, "check", "--json")
    assert json.loads(result.output)["target"] == [
        f"project {p!r} not found (or the key cannot see it)" for p in sorted(routed - there)
    ]
    assert result.exit_code == (1 if routed - there else 0)
    for identifier in sorted(routed - there):
        redmine_admin.create_project(identifier)

    # The new Redmine (a fresh one, with Redmine's default names) has every name used.
    result = run(config, "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["blocking"] == [] and report["unmapped"] == [] and report["target"] == []
    assert report["target_checked"].startswith("Redmine at ")  # checked, not skipped
    assert report["not_migrated"] == {}
    assert [u["login"] for u in report["users"]] == ["yamada"]  # locked: left out on purpose

    # Every old value, login and preserved field the mapping names occurs in the old Redmine.
    mapping = load_mapping(MAPPINGS / "redmine-to-redmine.yaml")
    tickets = staged_tickets(config)
    for name, vm in [*mapping.values.items(), *mapping.custom_fields.items()]:
        seen = {field_value(t, vm.source) for t in tickets} if vm.source else set()
        assert set(vm.table) <= seen, f"{name}: {set(vm.table) - seen} never occur"
    people = {
        p
        for t in tickets
        for p in (t.reporter, t.assignee, *t.watchers, *(c.author for c in t.comments))
    }
    assert set(mapping.users) <= people
    for name in (*mapping.preserve, *mapping.drop):
        assert any(field_value(t, name) for t in tickets), f"{name} never has a value"

    # Japanese text arrives intact, Textile turned into Markdown around it.
    converted = 0
    for t in tickets:
        planned = apply(mapping, t)
        p = planned.payload
        assert not [w for w in planned.warnings if w.startswith("markup-")], t.origin
        assert p["subject"] == t.title  # byte-exact, 255 multi-byte characters included
        assert p["custom_fields"].get("Customer") == t.custom.get("顧客")
        assert (p.get("category"), p.get("version")) == (
            t.components[0] if t.components else None,
            t.milestone,
        )
        if t.description:
            assert "### 再現手順 / Steps" in p["description"]  # was "h3. 再現手順 / Steps"
            assert "**期待結果**: 正常に保存される。" in p["description"]
            converted += 1
        bodies = [c["body"] for c in p["comments"]]
        assert len(bodies) == len(t.comments)
        for c, body in zip(t.comments, bodies, strict=True):
            if not c.body.isascii():  # the Japanese notes carry no markup: kept as written
                assert body.endswith("\n\n" + c.body), (t.origin, body)
    assert converted > 0
    texts = [t.title for t in tickets] + [c.body for t in tickets for c in t.comments]
    assert any("ログイン画面でエラーが発生する" in x for x in texts)
    assert any("全角スペース「　」" in x for x in texts)
    assert any("🐛" in x for x in texts)
