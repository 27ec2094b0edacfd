"""Field-change history as journals (`history: {render: compact}`), on the real Redmine.

The loader knows nothing of history: these journals are payload comments like
any other, so they must load, verify and survive a rerun (and a re-plan) with
nothing created twice.
"""

from __future__ import annotations

import re
from itertools import groupby
from pathlib import Path
from typing import Any

from migrator.mapping import load_mapping
from migrator.model import normalize_text
from tests.cli_runner import run

TICKETS = 30  # small_trac_env


def expected_lists(raw: dict[str, Any], users: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Per journal the ticket should get, in order: (target login, change lines).

    Worked out from the fixture's ticket_change rows, as docs/mapping.md
    describes the rendering, not from the migrator's payloads.
    """
    out = []
    for _, rows in groupby(raw["changes"], key=lambda ch: ch["time"]):
        edit = list(rows)
        lines = []
        # Trac's connector reads ticket_change ORDER BY time, field.
        for ch in sorted(edit, key=lambda ch: ch["field"]):
            if ch["field"] == "comment":
                continue
            old, new = ch["oldvalue"] or "", ch["newvalue"] or ""
            if ch["field"] == "description" or any(len(v) > 200 or "\n" in v for v in (old, new)):
                lines.append(f"* {ch['field']}: changed")
            else:
                lines.append(f"* {ch['field']}: {old or '(empty)'} → {new or '(empty)'}")
        commented = any(ch["field"] == "comment" and ch["newvalue"] for ch in edit)
        if lines or commented:
            out.append((users.get(edit[0]["author"], ""), lines))
    return out


def test_compact_history_loads_verifies_and_reruns_without_duplicates(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, dataset: dict[str, Any]
) -> None:
    m = make_migration(env=small_trac_env)
    text, dropped = re.subn(
        r"^  - history\b.*\n", "", m.mapping.read_text(encoding="utf-8"), flags=re.M
    )
    assert dropped == 1
    m.mapping.write_text(text + "\nhistory:\n  render: compact\n", encoding="utf-8")
    users = load_mapping(m.mapping).users
    raws = {f"trac:{m.project}#{t['id']}": t for t in dataset["tickets"][:TICKETS]}
    expected = {origin: expected_lists(raw, users) for origin, raw in raws.items()}
    journals = sum(len(e) for e in expected.values())
    assert any(lines for e in expected.values() for _, lines in e)

    assert run(m.config, "extract", "-q").exit_code == 0
    result = run(m.config, "plan")
    assert result.exit_code == 0, result.output
    assert f"{TICKETS} tickets, {journals} comments" in result.output
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert f"{TICKETS} tickets created" in result.output
    assert f"{journals} comments created" in result.output

    logins = {u["id"]: u["login"] for u in redmine_admin.get("/users.json", limit=100)["users"]}

    def notes_by_origin() -> dict[str, list[tuple[str, str]]]:
        out = {}
        for issue in redmine_admin.issues(m.project):
            origin = next(cf["value"] for cf in issue["custom_fields"] if cf["name"] == "Legacy ID")
            out[origin] = [
                (logins.get(j["user"]["id"], ""), normalize_text(j["notes"]))
                for j in redmine_admin.journals(issue["id"])
            ]
        return out

    loaded = notes_by_origin()
    assert sorted(loaded) == sorted(raws)
    for origin, want in expected.items():
        got = loaded[origin]
        assert len(got) == len(want), origin
        for (login, note), (mapped, lines) in zip(got, want, strict=True):
            if lines:  # the list ends the journal, after any comment text
                assert note.endswith("\n\n" + "\n".join(lines)), (origin, note)
            if mapped:
                assert login == mapped, (origin, note)

    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert f"{TICKETS} match, 0 differ" in result.output

    # A rerun, and a rerun after planning the same data again, sends nothing.
    puts = redmine_admin.requests_seen("PUT", "/issues/")
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "0 tickets created" in result.output and "0 comments created" in result.output
    assert run(m.config, "plan", "-q").exit_code == 0
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "0 tickets created" in result.output and "0 comments created" in result.output
    assert redmine_admin.requests_seen("PUT", "/issues/") == puts
    assert notes_by_origin() == loaded
    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert f"{TICKETS} match, 0 differ" in result.output
