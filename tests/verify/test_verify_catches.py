"""Verify catches every kind of difference made behind migrator's back, precisely.

The changes are made the way people and other tools make them: over REST
(a status edit, a second copy of a ticket), or in Redmine's own storage (a
comment's text removed, an attachment's bytes damaged on disk).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.cli_runner import run


def test_verify_reports_each_difference_and_exits_1(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, redmine: Any
) -> None:
    m = make_migration(env=small_trac_env)
    for command in ("extract", "plan", "load"):
        assert run(m.config, command, "-q").exit_code == 0
    assert run(m.config, "verify", "-q").exit_code == 0

    issues = {
        cf["value"]: i
        for i in redmine_admin.issues(m.project)
        for cf in i["custom_fields"]
        if cf["name"] == "Legacy ID"
    }
    with_comments = [(o, i) for o, i in sorted(issues.items()) if redmine_admin.journals(i["id"])]
    with_files = [
        (o, i)
        for o, i in sorted(issues.items())
        if redmine_admin.get(f"/issues/{i['id']}.json", include="attachments")["issue"][
            "attachments"
        ]
    ]
    status_victim, comment_victim = sorted(issues)[0], with_comments[-1][0]
    file_victim, copied = with_files[0][0], sorted(issues)[1]

    # 1. A status changed in Redmine.
    issue = issues[status_victim]
    other = next(
        s["id"]
        for s in redmine_admin.get("/issue_statuses.json")["issue_statuses"]
        if s["name"] != issue["status"]["name"]
    )
    redmine_admin.send("PUT", f"/issues/{issue['id']}.json", {"issue": {"status_id": other}})
    # 2. A comment's text removed, 3. an attachment's bytes damaged, in Redmine's storage.
    db = sqlite3.connect(redmine.directory / "db" / "redmine.sqlite3")
    journal = redmine_admin.journals(issues[comment_victim]["id"])[0]["id"]
    with db:
        db.execute("UPDATE journals SET notes = '' WHERE id = ?", (journal,))
        att = redmine_admin.get(f"/issues/{issues[file_victim]['id']}.json", include="attachments")[
            "issue"
        ]["attachments"][0]
        directory, name = db.execute(
            "SELECT disk_directory, disk_filename FROM attachments WHERE id = ?", (att["id"],)
        ).fetchone()
    db.close()
    stored = redmine.directory / "files" / (directory or "") / name
    data = bytearray(stored.read_bytes())
    data[0] ^= 0xFF
    stored.write_bytes(bytes(data))
    # 4. A second copy of a ticket, as an earlier tool run might have left.
    field = redmine.legacy_field_id
    redmine_admin.send(
        "POST",
        "/issues.json",
        {
            "issue": {
                "project_id": m.project,
                "subject": "copy",
                "custom_fields": [{"id": field, "value": copied}],
            }
        },
    )
    # 5. A marked ticket this migration never made (another tool, another staging).
    redmine_admin.send(
        "POST",
        "/issues.json",
        {
            "issue": {
                "project_id": m.project,
                "subject": "stray",
                "custom_fields": [{"id": field, "value": "trac:elsewhere#1"}],
            }
        },
    )

    result = run(m.config, "verify")
    assert result.exit_code == 1
    assert "3 differ; 1 duplicated, 1 unknown to staging" in result.output
    assert f"duplicate: {copied} exists 2 times" in result.stderr
    assert "is marked trac:elsewhere#1: not in this migration's staging" in result.stderr

    staging = sqlite3.connect(m.directory / "staging.sqlite")
    rows = {
        origin: json.loads(diffs)
        for origin, diffs in staging.execute(
            "SELECT origin, differences FROM verifications WHERE ok = 0"
        )
    }
    staging.close()
    assert set(rows) == {status_victim, comment_victim, file_victim}
    assert [d["field"] for d in rows[status_victim]] == ["status"]
    assert "comment count" in {d["field"] for d in rows[comment_victim]}
    assert [d["field"] for d in rows[file_victim]] == [f"attachment {att['filename']}"]

    assert run(m.config, "report", "--format", "md").exit_code == 0
    md = (m.directory / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert "status" in md and att["filename"] in md
