"""The whole flow as a user runs it, on a real Trac and a real Redmine."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fixtures.generate import counts
from tests.cli_runner import run


def test_trac_to_redmine_end_to_end(
    make_migration: Any, redmine_admin: Any, dataset: dict[str, Any]
) -> None:
    m = make_migration()
    expected = counts(dataset)

    result = run(m.config, "extract", "-q")
    assert result.exit_code == 0, result.output
    result = run(m.config, "plan")
    assert result.exit_code == 0, result.output
    assert f"{expected['tickets']} tickets, {expected['comments']} comments" in result.output
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output

    issues = redmine_admin.issues(m.project)
    assert len(issues) == expected["tickets"]
    origins = Counter(
        cf["value"] for i in issues for cf in i["custom_fields"] if cf["name"] == "Legacy ID"
    )
    assert set(origins.values()) == {1}
    assert len(origins) == expected["tickets"]
    # Status and tracker as the shipped mapping says, counted on the Redmine side.
    closed_rejected = sum(
        n
        for r, n in expected["resolution"].items()
        if r in {"wontfix", "invalid", "duplicate", "worksforme"}
    )
    statuses = Counter(i["status"]["name"] for i in issues)
    assert statuses["Rejected"] == closed_rejected
    assert statuses["Closed"] == expected["status"]["closed"] - closed_rejected
    assert Counter(i["tracker"]["name"] for i in issues)["Bug"] == expected["type"]["defect"]
    # Japanese subjects arrive untouched, and authors were switched where mapped.
    by_origin = {
        cf["value"]: i for i in issues for cf in i["custom_fields"] if cf["name"] == "Legacy ID"
    }
    for raw in dataset["tickets"][:40]:
        issue = by_origin[f"trac:{m.project}#{raw['id']}"]
        if len(raw["summary"]) <= 255:
            assert issue["subject"] == raw["summary"]
        if raw["reporter"] == "tanaka":
            assert issue["author"]["name"] == "太郎 田中"

    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert f"{expected['tickets']} match, 0 differ" in result.output

    result = run(m.config, "report")
    assert result.exit_code == 0, result.output
    html = (m.directory / "reports" / "reconciliation.html").read_text(encoding="utf-8")
    md = (m.directory / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert "<script>" not in html.split("</style>", 1)[1]  # ticket text is escaped
    assert f"| Verified identical | {expected['tickets']} |" in md

    result = run(m.config, "status", "--json")
    status = json.loads(result.output)
    assert status["tickets_extracted"] == status["tickets_planned"] == expected["tickets"]
    assert status["tickets_loaded"] == status["tickets_verified"] == expected["tickets"]
    assert status["tickets_failed"] == 0
    assert status["comments_loaded"] == expected["comments"]

    # A second load sends no create at all: the staging DB knows everything is done.
    posts = redmine_admin.requests_seen("POST", "/issues.json")
    puts = redmine_admin.requests_seen("PUT", "/issues/")
    assert posts >= expected["tickets"] and puts >= expected["comments"]
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "0 tickets created" in result.output
    assert redmine_admin.requests_seen("POST", "/issues.json") == posts
    assert redmine_admin.requests_seen("PUT", "/issues/") == puts


def test_verify_catches_a_change_made_behind_its_back(
    make_migration: Any, redmine_admin: Any, small_trac_env: Any
) -> None:
    m = make_migration(env=small_trac_env)
    for command in ("extract", "plan", "load"):
        assert run(m.config, command, "-q").exit_code == 0
    issue = redmine_admin.issues(m.project)[0]
    rejected = next(
        s["id"]
        for s in redmine_admin.get("/issue_statuses.json")["issue_statuses"]
        if s["name"] != issue["status"]["name"]
    )
    redmine_admin.send("PUT", f"/issues/{issue['id']}.json", {"issue": {"status_id": rejected}})
    result = run(m.config, "verify")
    assert result.exit_code == 1
    assert "1 differ" in result.output
    run(m.config, "report")
    md = (m.directory / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert f"| {issue['id']} | status |" in md
