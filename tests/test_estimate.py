"""Status per batch, throughput, ETA and the estimate, from a real pilot load."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from migrator.estimate import requests_for
from migrator.mapping.references import reference_token
from tests.cli_runner import run


def test_pilot_measures_the_pace_and_projects_the_rest(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any
) -> None:
    m = make_migration(env=small_trac_env)
    for command in ("extract", "plan"):
        assert run(m.config, command, "-q").exit_code == 0
    before = json.loads(run(m.config, "estimate", "--json").output)
    assert before["rate_source"] == "assumed" and before["remaining_tickets"] == 30

    assert run(m.config, "batch", "create", "pilot", "--limit", "10").exit_code == 0
    assert run(m.config, "batch", "create", "rest", "--where", "id > 0").exit_code == 0

    def writes() -> int:
        # Per-ticket writes; categories and versions made on first use are one-off costs.
        return sum(
            redmine_admin.requests_seen(method, path)
            for method, path in (("PUT", "/issues/"), ("POST", "/issues"), ("POST", "/uploads"))
        )

    before_writes = writes()
    assert run(m.config, "load", "--batch", "pilot", "-q").exit_code == 0
    sent_writes = writes() - before_writes

    status = json.loads(run(m.config, "status", "--json").output)
    batches = {b["name"]: b for b in status["batches"]}
    assert batches["pilot"]["done"] == 10 and batches["rest"]["pending"] == 20
    assert status["throughput_tickets_per_s"] > 0
    assert status["eta_seconds"] == round(20 / status["throughput_tickets_per_s"])

    after = json.loads(run(m.config, "estimate", "--json").output)
    assert after["rate_source"] == "measured"
    assert after["remaining_tickets"] == 20
    assert [(b["name"], b["remaining_tickets"]) for b in after["batches"]] == [("rest", 20)]
    assert abs(after["seconds"] - after["remaining_requests"] / after["rate"]) < 1e-6
    # The cost model counts exactly the writes the pilot sent (reads come on top).
    db = sqlite3.connect(m.directory / "staging.sqlite")
    pilot = [
        json.loads(payload)
        for (payload,) in db.execute(
            "SELECT payload FROM planned_tickets JOIN batch_tickets USING (origin) "
            "WHERE batch = 'pilot'"
        )
    ]
    db.close()
    waiting = db_count(
        m.directory,
        "SELECT count(*) FROM load_state WHERE kind IN ('link', 'parent') AND state != 'done' "
        "AND ticket_origin IN (SELECT origin FROM batch_tickets WHERE batch = 'pilot')",
    )
    assert len(pilot) == 10
    # Links to tickets of the later batch wait for it: the model counts them now.  Texts
    # naming tickets loaded after them are edited: those of the pilot now, the others later.
    loaded = {p["origin"] for p in pilot}
    assert sum(requests_for(p, loaded) for p in pilot) - waiting == sent_writes
    text = run(m.config, "estimate").output
    assert "rate:" in text and "(measured)" in text and "batch rest: 20/20 tickets to go" in text


def db_count(directory: Path, query: str) -> int:
    db = sqlite3.connect(directory / "staging.sqlite")
    try:
        return int(db.execute(query).fetchone()[0])
    finally:
        db.close()


def test_cost_model_counts_each_request() -> None:
    payload = {
        "origin": "trac:x#1",
        "status": "Closed",
        "attachments": [{}, {}],
        "comments": [{}, {}, {}],
        "links": [{"kind": "blocks", "other": "trac:x#2"}, {"kind": "blocked-by", "other": "z"}],
        "parent": "y",
    }
    # create, 2 uploads, 3 comments, status, the relation it is the source of, its parent
    assert requests_for(payload) == 1 + 2 + 3 + 1 + 1 + 1
    assert requests_for({"origin": "trac:x#3", "status": "New", "comments": []}) == 1


def test_cost_model_counts_the_edits_of_texts_naming_later_tickets() -> None:
    refs = [{"origin": "trac:x#2", "text": "#2"}, {"origin": "trac:x#0", "text": "#0"}]
    payload = {
        "origin": "trac:x#1",
        "status": "New",
        "description": f"see {reference_token(0)}",
        "comments": [{"body": reference_token(0)}, {"body": reference_token(1)}, {"body": "-"}],
        "refs": refs,
    }
    planned = {"trac:x#0", "trac:x#1", "trac:x#2"}
    # create and 3 comments; then the description and one comment name a later ticket
    assert requests_for(payload, planned) == 1 + 3 + 1 + 1
    # A ticket outside the plan is never loaded: its references are never edited.
    assert requests_for(payload, planned - {"trac:x#2"}) == 1 + 3
