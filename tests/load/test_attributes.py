"""Issue attributes (private flag, dates, % done, estimated time) arrive as planned in a real
Redmine, and verify compares them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.cli_runner import run
from tests.load.test_crash import planned_payloads

ATTRIBUTES = """\
values:
  private: {from: type, map: {enhancement: "yes"}, default: "no"}
  start_date: {template: "{created}"}
  due_date: {from: milestone, map: {"1.0": "2016-12-31"}, default: ""}
  done_ratio: {from: status, map: {closed: "100", new: "0"}, default: "50"}
  estimated_hours: {template: "1.50"}
"""


def test_attributes_arrive_and_are_verified(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any
) -> None:
    m = make_migration(env=small_trac_env)
    text = m.mapping.read_text(encoding="utf-8")
    assert text.count("\nvalues:\n") == 1
    m.mapping.write_text(text.replace("\nvalues:\n", "\n" + ATTRIBUTES), encoding="utf-8")
    assert run(m.config, "extract", "-q").exit_code == 0
    plan = run(m.config, "plan", "-q")
    assert plan.exit_code == 0, plan.output
    load = run(m.config, "load", "-q")
    assert load.exit_code == 0, load.output
    payloads = {p["origin"]: p for p in planned_payloads(m.directory)}
    assert {p["private"] for p in payloads.values()} == {"yes", "no"}
    seen = 0
    for issue in redmine_admin.issues(m.project):
        origin = next(cf["value"] for cf in issue["custom_fields"] if cf["name"] == "Legacy ID")
        p = payloads[origin]
        assert issue["is_private"] is (p["private"] == "yes"), origin
        assert issue["start_date"] == p["start_date"], origin
        assert issue.get("due_date") == p["due_date"], origin
        assert str(issue["done_ratio"]) == p["done_ratio"], origin
        assert issue["estimated_hours"] == 1.5, origin
        seen += 1
    assert seen == len(payloads)
    verify = run(m.config, "verify")
    assert verify.exit_code == 0, verify.output

    # A private flag cleared behind migrator's back is a difference, not a detail.
    private = next(i for i in redmine_admin.issues(m.project) if i["is_private"])
    redmine_admin.send("PUT", f"/issues/{private['id']}.json", {"issue": {"is_private": False}})
    verify = run(m.config, "verify")
    assert verify.exit_code == 1
    db = sqlite3.connect(m.directory / "staging.sqlite")
    try:
        differ = db.execute("SELECT differences FROM verifications WHERE NOT ok").fetchall()
    finally:
        db.close()
    assert [[d["field"] for d in json.loads(row[0])] for row in differ] == [["private"]]
