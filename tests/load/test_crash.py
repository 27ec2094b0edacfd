"""kill -9 at any instant, rerun, and every ticket and comment exists exactly once.

The loader runs as a real process behind a loopback proxy.  Some kills are
aimed (the proxy lets the server commit a create, then kills the loader before
the answer reaches it: the worst instant), the rest land at random times.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from migrator.model import normalize_text
from migrator.staging import Staging
from migrator.trackers.redmine.target import RELATION
from migrator.verify.verifier import links_by_source
from tests.cli_runner import run
from tests.faultproxy import FaultProxy, Rule
from tests.load.helpers import final_text


def redmine_inert(written: str) -> str:
    return f"!{written}"  # Redmine's escape: not a link


def start_load(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", "load", "-q", "-c", str(config)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def planned_payloads(config_dir: Path) -> list[dict[str, Any]]:
    staging = Staging(f"sqlite:///{config_dir / 'staging.sqlite'}")
    try:
        plan = staging.latest_plan()
        return [row.payload for row in staging.iter_planned(plan.id)]
    finally:
        staging.close()


def assert_exactly_once(redmine_admin: Any, project: str, payloads: list[dict[str, Any]]) -> None:
    issues = redmine_admin.issues(project)
    by_origin: dict[str, list[int]] = {}
    for issue in issues:
        for cf in issue["custom_fields"]:
            if cf["name"] == "Legacy ID":
                by_origin.setdefault(cf["value"], []).append(issue["id"])
    assert {o: len(ids) for o, ids in by_origin.items() if len(ids) != 1} == {}
    assert sorted(by_origin) == sorted(p["origin"] for p in payloads)
    new_ids = {o: ids[0] for o, ids in by_origin.items()}

    for p in payloads:
        notes = Counter(
            normalize_text(j["notes"]) for j in redmine_admin.journals(by_origin[p["origin"]][0])
        )
        want = Counter(
            final_text(p, c["body"], new_ids, "#{}", redmine_inert) for c in p["comments"]
        )
        assert notes == want, p["origin"]
        issue = next(i for i in issues if i["id"] == by_origin[p["origin"]][0])
        assert normalize_text(issue["description"]) == final_text(
            p, p["description"], new_ids, "#{}", redmine_inert
        ), p["origin"]
        assert issue["status"]["name"] == p["status"], p["origin"]
        files = redmine_admin.get(f"/issues/{issue['id']}.json", include="attachments")["issue"]
        got = sorted(
            (a["filename"], redmine_admin.sha256(a["content_url"])) for a in files["attachments"]
        )
        assert got == sorted((a["name"], a["sha256"]) for a in p["attachments"]), p["origin"]
    # Relations exactly once, from the side that creates them, and parents.
    origin_of = {str(ids[0]): o for o, ids in by_origin.items()}
    expected = links_by_source(payloads)
    kinds = {v: k for k, v in RELATION.items()}
    for p in payloads:
        issue_id = by_origin[p["origin"]][0]
        data = redmine_admin.get(f"/issues/{issue_id}.json", include="relations")["issue"]
        got_links = sorted(
            f"{kinds[r['relation_type']]} {origin_of[str(r['issue_to_id'])]}"
            for r in data.get("relations", [])
            if r["issue_id"] == issue_id
        )
        assert got_links == sorted(expected.get(p["origin"], ())), p["origin"]
        parent = data.get("parent")
        assert (origin_of[str(parent["id"])] if parent else None) == p.get("parent"), p["origin"]
    assert any(p["attachments"] for p in payloads)
    assert any(expected.values()) and any(p.get("parent") for p in payloads)
    # References to tickets created later: rewritten after the fact, exactly once too.
    assert any(r["origin"] > p["origin"] for p in payloads for r in p.get("refs", []))


@pytest.mark.parametrize("seed", [1])
def test_sigkill_anywhere_then_rerun_is_exactly_once(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, redmine: Any, seed: int
) -> None:
    rng = random.Random(seed)
    proxy = FaultProxy(redmine.url)
    m = make_migration(env=small_trac_env, url=proxy.url)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    payloads = planned_payloads(m.directory)
    kills = 0
    try:
        # Aimed kills: after the server committed a create / a comment / a status change,
        # before the loader could record it.
        for method, prefix, nth in [
            ("POST", "/issues.json", 2),
            ("POST", "/issues.json", 1),
            ("PUT", "/issues/", 3),
            ("PUT", "/issues/", 1),
            ("POST", "/issues.json", 4),
            ("PUT", "/issues/", 5),
        ]:
            proc = start_load(m.config, m.env)
            proxy.rules = [
                Rule(
                    method,
                    prefix,
                    nth,
                    "call-after",
                    callback=lambda p=proc: p.send_signal(signal.SIGKILL),
                )
            ]
            assert proc.wait(timeout=120) == -signal.SIGKILL
            kills += 1
        proxy.rules = []
        # Random kills: anywhere, including inside staging transactions.
        for _ in range(14):
            proc = start_load(m.config, m.env)
            time.sleep(rng.uniform(0.3, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=120)
        result = run(m.config, "load")
        assert result.exit_code == 0, result.output
        assert kills >= 10
        assert_exactly_once(redmine_admin, m.project, payloads)
        result = run(m.config, "verify")
        assert result.exit_code == 0, result.output
    finally:
        proxy.close()


def test_lost_response_after_commit_is_not_retried_blindly(
    make_migration: Any, small_trac_env: Path, redmine_admin: Any, redmine: Any
) -> None:
    """The server creates the issue but the answer is lost: the loader looks before retrying."""
    proxy = FaultProxy(redmine.url)
    m = make_migration(env=small_trac_env, url=proxy.url)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    proxy.rules = [
        Rule("POST", "/issues.json", 3, "drop-after"),
        Rule("PUT", "/issues/", 4, "drop-after"),
        Rule("POST", "/issues.json", 5, "status:503", retry_after="0"),
        Rule("GET", "/issues.json", 2, "status:429", retry_after="1"),
    ]
    try:
        result = run(m.config, "load")
    finally:
        proxy.close()
    assert result.exit_code == 0, result.output
    assert "recovered" in result.output
    assert_exactly_once(redmine_admin, m.project, planned_payloads(m.directory))


def test_sigkill_at_20_random_points_across_the_fixture_dataset(
    make_migration: Any, trac_env: Path, redmine_admin: Any
) -> None:
    """The whole fixture dataset (200 tickets, comments, attachments, relations, parents)."""
    rng = random.Random(20)
    m = make_migration(env=trac_env)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    payloads = planned_payloads(m.directory)
    kills = 0
    for _ in range(60):  # bounded: at most 60 starts
        if kills >= 20:
            break
        proc = start_load(m.config, m.env)
        # Short enough that the load (about 30 s of work) outlasts 20 kills on a fast machine.
        time.sleep(rng.uniform(0.6, 1.8))
        if proc.poll() is not None:
            break  # it finished before the kill: nothing left to interrupt
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
    assert kills >= 20
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert_exactly_once(redmine_admin, m.project, payloads)
    assert run(m.config, "verify", "-q").exit_code == 0
