"""References between tickets end as the new tracker's numbers, across batches, in a real Redmine.

Ticket 1 names ticket 2 (loaded in the same batch, after it) and ticket 3
(loaded in a later batch); ticket 2 names ticket 1 (loaded before it).  After
each load the texts must say exactly what the id map allows, and nothing
may be a link to the wrong ticket in between.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.trackers import trac as trac_env_builder
from tests.cli_runner import run

DESCRIPTIONS = {
    1: (
        "Forward to #2 and ticket:3, to a ticket that was never here #99, "
        "a changeset r10, and code that stays: {{{#2}}}"
    ),
    2: "Back to #1. 日本語のまま: #1 と同じ原因です。",
    3: "Names nobody.",
}
COMMENT = "See comment:1:ticket:2 and [ticket:3 the third one]."


@pytest.fixture(scope="module")
def refs_env(tmp_path_factory: pytest.TempPathFactory, dataset: dict[str, Any]) -> Path:
    data = copy.deepcopy(dataset)
    tickets = []
    for t in data["tickets"][:3]:
        t.update(description=DESCRIPTIONS[t["id"]], blocked_by=[], parent=None)
        t["attachments"] = []
        if t["id"] == 1:
            comment = next(c for c in t["changes"] if c["field"] == "comment")
            comment["newvalue"] = COMMENT
        tickets.append(t)
    env = tmp_path_factory.mktemp("trac-refs") / "refs"
    trac_env_builder.build(env, {**data, "tickets": tickets})
    return env


def _issue(admin: Any, project: str, origin_id: int) -> dict[str, Any]:
    for issue in admin.issues(project):
        for cf in issue["custom_fields"]:
            if cf["name"] == "Legacy ID" and (cf["value"] or "").endswith(f"#{origin_id}"):
                full: dict[str, Any] = admin.get(f"/issues/{issue['id']}.json", include="journals")[
                    "issue"
                ]
                return full
    raise AssertionError(f"ticket {origin_id} not in Redmine")


def _comment(issue: dict[str, Any]) -> str:
    notes = [j["notes"] for j in issue["journals"] if "comment:1:ticket" in (j["notes"] or "")]
    notes += [j["notes"] for j in issue["journals"] if "the third one" in (j["notes"] or "")]
    assert notes, issue["journals"]
    return str(notes[0])


def test_references_resolve_as_their_tickets_are_loaded(
    make_migration: Any, refs_env: Path, redmine_admin: Any, tmp_path: Path
) -> None:
    m = make_migration(env=refs_env)
    assert run(m.config, "extract", "-q").exit_code == 0
    plan = run(m.config, "plan", "-q", "--report", str(tmp_path / "plan.json"), "--show", "1")
    assert plan.exit_code == 0, plan.output
    report = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    warnings = json.dumps(report, ensure_ascii=False)
    # What cannot be rewritten is named before anything is written.
    assert "unresolved-ticket: #99" in warnings
    assert "unresolved-changeset: r10" in warnings
    # The dry run shows where a new number will go; placeholders never reach a reader.
    assert "Forward to #2→ and #3→, " in warnings
    assert "\ue000" not in warnings

    # Issues made by hand first, so that new numbers differ from old ones.
    for n in range(3):
        redmine_admin.send(
            "POST", "/issues.json", {"issue": {"project_id": m.project, "subject": f"by hand {n}"}}
        )
    (tmp_path / "first.txt").write_text("1\n2\n", encoding="utf-8")
    first_batch = run(m.config, "batch", "create", "first", "--ids", str(tmp_path / "first.txt"))
    assert first_batch.exit_code == 0, first_batch.output
    assert run(m.config, "batch", "create", "rest").exit_code == 0
    first = run(m.config, "load", "--batch", "first")
    assert first.exit_code == 0, first.output
    assert "1 waiting for a later batch" in first.output

    one, two = _issue(redmine_admin, m.project, 1), _issue(redmine_admin, m.project, 2)
    assert (one["id"], two["id"]) != (1, 2)
    # Ticket 2 was created after ticket 1: the pass rewrote 1's description in place.
    assert f"Forward to #{two['id']} and !#3, " in one["description"]
    assert "never here !#99" in one["description"]  # shown as written, links nowhere
    assert "r10" in one["description"]
    assert "code that stays: @#2@" in one["description"]  # code is never touched
    assert f"Back to #{one['id']}." in two["description"]
    assert f"日本語のまま: #{one['id']} と同じ原因です。" in two["description"]
    assert f"#{two['id']} (comment 1)" in _comment(one)
    assert "the third one (!#3)" in _comment(one)
    assert run(m.config, "verify", "-q").exit_code == 0

    rest = run(m.config, "load", "--batch", "rest")
    assert rest.exit_code == 0, rest.output
    assert "references rewritten in 1 tickets" in rest.output
    three = _issue(redmine_admin, m.project, 3)
    one = _issue(redmine_admin, m.project, 1)
    assert f"Forward to #{two['id']} and #{three['id']}, " in one["description"]
    assert f"the third one (#{three['id']})" in _comment(one)
    # Edited in place: still one comment, not a second one.
    assert sum(1 for j in one["journals"] if "the third one" in (j["notes"] or "")) == 1
    verify = run(m.config, "verify")
    assert verify.exit_code == 0, verify.output

    again = run(m.config, "load")
    assert again.exit_code == 0
    assert "references rewritten" not in again.output
    assert "waiting" not in again.output

    # Ticket 3 rolled back and loaded again gets a new number: ticket 1's texts follow.
    rollback = run(m.config, "rollback", "--batch", "rest", "--yes")
    assert rollback.exit_code == 0, rollback.output
    # Someone files an issue meanwhile, so the number cannot simply be reused.
    redmine_admin.send(
        "POST", "/issues.json", {"issue": {"project_id": m.project, "subject": "meanwhile"}}
    )
    reload = run(m.config, "load", "--batch", "rest")
    assert reload.exit_code == 0, reload.output
    new_three = _issue(redmine_admin, m.project, 3)
    assert new_three["id"] != three["id"]
    one = _issue(redmine_admin, m.project, 1)
    assert f"Forward to #{two['id']} and #{new_three['id']}, " in one["description"]
    assert f"the third one (#{new_three['id']})" in _comment(one)
    assert run(m.config, "verify", "-q").exit_code == 0


def test_keep_leaves_references_as_written(
    make_migration: Any, refs_env: Path, redmine_admin: Any
) -> None:
    m = make_migration(env=refs_env)
    text = m.mapping.read_text(encoding="utf-8")
    assert "references: rewrite" in text
    m.mapping.write_text(text.replace("references: rewrite", "references: keep"), "utf-8")
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    assert run(m.config, "load", "-q").exit_code == 0
    two = _issue(redmine_admin, m.project, 2)
    assert "Back to #1." in two["description"]
    assert run(m.config, "verify", "-q").exit_code == 0
