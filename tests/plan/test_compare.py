"""Comparing plans: a mapping edit shows up as exactly the tickets and fields it changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migrator.errors import StagingError
from migrator.plan import compare
from migrator.plan.compare import FieldChange, compare_plans, diff_payloads, format_comparison
from tests.cli_runner import run
from tests.plan.trial import Trial


def origins(t: Trial, tickets: list[dict[str, Any]]) -> set[str]:
    return {f"{t.origin}{tk['id']}" for tk in tickets}


VERSION_LINE = (
    '  - version                  # Trac "version" (found in); Redmine has no such field\n'
)


def test_a_mapping_edit_changes_exactly_the_tickets_it_maps(
    trial: Callable[..., Trial], small_trac_env: Path, dataset: dict[str, Any]
) -> None:
    t = trial(small_trac_env)
    t.extract()
    before = t.plan()["plan_id"]
    t.edit_mapping("reopened: New", "reopened: Feedback")
    after = t.plan()["plan_id"]

    c = compare_plans(t.staging, before, after)

    tickets = dataset["tickets"][:30]
    reopened = [tk for tk in tickets if tk["status"] == "reopened"]
    assert reopened, "the fixture slice must hold reopened tickets"
    assert {d.origin for d in c.differences} == origins(t, reopened)
    for d in c.differences:
        assert d.changes == [FieldChange("status", "value", "New", "Feedback")]
    assert (c.changed, c.added, c.removed) == (len(reopened), 0, 0)
    assert c.unchanged == len(tickets) - len(reopened)
    assert c.has_differences
    assert c.old.mapping_digest != c.new.mapping_digest
    assert dict(c.by_field) == {"status": {"New -> Feedback": len(reopened)}}

    text = format_comparison(c)
    assert text.startswith(
        f"plan {before} -> plan {after}: {len(reopened)} changed, 0 added, 0 removed, "
        f"{c.unchanged} unchanged\n"
    )
    assert text.count("  status: New -> Feedback\n") == len(reopened)
    data = json.loads(json.dumps(c.as_dict()))
    assert data["has_differences"] is True
    assert {d["origin"] for d in data["differences"]} == origins(t, reopened)

    # Without a second id the latest plan is the new side.
    assert compare_plans(t.staging, before).new.id == after


def test_the_same_mapping_twice_gives_the_same_plan(
    trial: Callable[..., Trial], small_trac_env: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    first, second = t.plan()["plan_id"], t.plan()["plan_id"]

    c = compare_plans(t.staging, first, second)

    assert c.old.digest == c.new.digest  # plan determinism
    assert not c.has_differences
    assert (c.changed, c.added, c.removed, c.unchanged) == (0, 0, 0, 30)
    assert c.differences == []
    assert "no differences (30 tickets unchanged)" in format_comparison(c)


def test_text_changes_are_short_diffs_and_comments_compare_by_key(
    trial: Callable[..., Trial],
    small_trac_env: Path,
    dataset: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stop preserving the version, and map carol to a new login, in one edit."""
    t = trial(small_trac_env)
    t.extract()
    before = t.plan()["plan_id"]
    t.edit_mapping(VERSION_LINE, "")
    t.edit_mapping("- history ", "- version\n  - history ")
    t.edit_mapping("carol: cwhite", "carol: cwhite2")
    after = t.plan()["plan_id"]
    # Small pages and batches, so the merge join crosses many page boundaries.
    monkeypatch.setattr(compare, "CHUNK", 4)
    monkeypatch.setattr(compare, "BATCH", 3)

    c = compare_plans(t.staging, before, after)

    tickets = dataset["tickets"][:30]
    with_version = [tk for tk in tickets if tk["version"]]
    by_carol = [
        tk
        for tk in tickets
        if "carol" in (tk["reporter"], tk["owner"])
        or "carol" in tk["cc"].replace(",", " ").split()  # a watcher
        or any(
            c["field"] == "comment" and c["newvalue"] and c["author"] == "carol"
            for c in tk["changes"]
        )
    ]
    assert {d.origin for d in c.differences} == origins(t, with_version + by_carol)
    assert c.changed + c.unchanged == len(tickets)
    diffs = {d.origin: d for d in c.differences}
    for tk in with_version:
        desc = next(
            ch for ch in diffs[f"{t.origin}{tk['id']}"].changes if ch.field == "description"
        )
        assert desc.kind == "text"
        assert f"-* version: {tk['version']}" in desc.diff
        assert len(desc.diff) <= compare.MAX_DIFF_LINES + 1
    comment_changes = [
        ch for d in c.differences for ch in d.changes if ch.field.startswith("comment ")
    ]
    assert comment_changes
    for ch in comment_changes:
        assert ch.field.endswith(" author")  # the same comment, matched by key
        assert (ch.old, ch.new) == ("cwhite", "cwhite2")
    text = format_comparison(c)
    assert "  description:\n    @@ " in text
    assert f"comments: author: cwhite -> cwhite2 — {len(comment_changes)} comment(s)" in text


def test_added_and_removed_tickets(
    trial: Callable[..., Trial], small_trac_env: Path, trac_env: Path, dataset: dict[str, Any]
) -> None:
    """Extract the full environment into a staging that held its first 30 tickets."""
    t = trial(small_trac_env)
    t.extract()
    small = t.plan()["plan_id"]
    config = t.m.config.read_text(encoding="utf-8")
    t.m.config.write_text(config.replace(str(small_trac_env), str(trac_env)), encoding="utf-8")
    t.extract("--full")  # another environment: the stored cursor says nothing about it
    full = t.plan()["plan_id"]

    grown = compare_plans(t.staging, small, full)
    shrunk = compare_plans(t.staging, full, small)

    extra = origins(t, dataset["tickets"][30:])
    # Tickets that later tickets block now carry those links too: they changed.
    blocking = {d for tk in dataset["tickets"][30:] for d in tk["blocked_by"] if d <= 30}
    assert (grown.added, grown.removed, grown.changed, grown.unchanged) == (
        len(extra),
        0,
        len(blocking),
        30 - len(blocking),
    )
    assert set(grown.added_origins) == extra
    assert (shrunk.added, shrunk.removed, shrunk.unchanged) == (0, len(extra), 30 - len(blocking))
    assert set(shrunk.removed_origins) == extra
    assert "Removed tickets:\n" in format_comparison(shrunk)


def test_unknown_plan_names_the_plans_that_exist(
    trial: Callable[..., Trial], small_trac_env: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    t.plan()
    t.plan()
    with pytest.raises(StagingError) as err:
        compare_plans(t.staging, 99)
    assert "no plan 99" in str(err.value) and "plans in staging: 1-2" in str(err.value)


def test_diff_payloads_matches_comments_and_attachments_by_key() -> None:
    old = {
        "subject": "Crash",
        "status": "New",
        "source": {"status": "reopened"},
        "comments": [
            {"key": "o/comment/1", "author": "a", "body": "one"},
            {"key": "o/comment/2", "author": "a", "body": "two"},
        ],
        "attachments": [{"key": "o/attachment/1", "name": "a.log", "size": 3}],
    }
    new = {
        "subject": "Crash",
        "status": "New",
        "source": {"status": "new"},
        "comments": [
            {"key": "o/comment/2", "author": "a", "body": "two, edited"},
            {"key": "o/comment/3", "author": None, "body": "three"},
        ],
        "attachments": [{"key": "o/attachment/1", "name": "a.log", "size": 4}],
    }
    assert diff_payloads(old, new) == [
        FieldChange("source.status", "value", "reopened", "new"),
        FieldChange("comment o/comment/2 body", "value", "two", "two, edited"),
        FieldChange("comment o/comment/3", "added", None, "three"),
        FieldChange("comment o/comment/1", "removed", "one", None),
        FieldChange("attachment o/attachment/1 size", "value", 3, 4),
    ]
    assert diff_payloads(old, old) == []


@pytest.mark.usefixtures("plan_cli")
def test_plan_compare_exits_1_on_differences_and_0_without(
    trial: Callable[..., Trial], small_trac_env: Path
) -> None:
    t = trial(small_trac_env)
    t.extract()
    first = t.plan()["plan_id"]

    same = run(t.m.config, "plan", "-q", "--compare", str(first))
    assert same.exit_code == 0, same.output
    assert "no differences" in same.stdout

    t.edit_mapping("reopened: New", "reopened: Feedback")
    edited = run(t.m.config, "plan", "-q", "--compare", str(first))
    assert edited.exit_code == 1, edited.output
    assert "status: New -> Feedback" in edited.stdout

    latest = t.plan()["plan_id"]
    as_json = run(t.m.config, "plan", "--compare", str(first), "--against", str(latest), "--json")
    assert as_json.exit_code == 1, as_json.output
    data = json.loads(as_json.stdout)
    assert data["comparison"]["new"]["id"] == latest
    assert data["comparison"]["changed"] == 3
