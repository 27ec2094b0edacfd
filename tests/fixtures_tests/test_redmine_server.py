"""A real Redmine started by fixtures.trackers.redmine behaves as the migrator needs.

The migrator relies on exactly these behaviours of its target: the admin key
can act as another user (X-Redmine-Switch-User), Japanese text survives, and the
"Legacy ID" custom field can be filtered on to find an already-migrated ticket
(idempotent re-runs). If the fixture stops providing any of them, every
integration test would fail in confusing ways, so they are checked here first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from fixtures.trackers import redmine

pytestmark = pytest.mark.redmine

LEGACY_VALUE = "trac:x#1"  # '#' must be URL-encoded or it becomes a fragment
SUBJECT = "ログイン画面で文字化けする"
DESCRIPTION = "再現手順：\n1. 日本語でログイン\n2. 表示を確認"


def _session(api_key: str | None = None) -> requests.Session:
    """A session that ignores proxy settings: the server is on loopback."""
    session = requests.Session()
    session.trust_env = False
    if api_key:
        session.headers["X-Redmine-API-Key"] = api_key
    return session


def _get(http: requests.Session, url: str, **params: Any) -> Any:
    resp = http.get(url, params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_instance_serves_what_the_migrator_needs(tmp_path: Path) -> None:
    """One instance (starting one costs seconds) checked end to end, then stopped."""
    if os.geteuid() != 0 and redmine.missing_packages():
        pytest.skip("Redmine packages are missing and installing them needs root")
    instance = redmine.start(tmp_path / "redmine")
    link = redmine.INSTANCES_ROOT / instance.name
    try:
        assert link.is_symlink()
        with _session(instance.api_key) as http:
            _check_instance(instance, http)
    finally:
        redmine.stop(instance)

    with pytest.raises(ProcessLookupError):
        os.kill(instance.pid, 0)
    assert not link.is_symlink()
    with _session() as http, pytest.raises(requests.ConnectionError):
        http.get(f"{instance.url}/issues.json", timeout=5)


def _check_instance(instance: redmine.RedmineInstance, http: requests.Session) -> None:
    base = instance.url

    projects = _get(http, f"{base}/projects.json", include="trackers,enabled_modules")
    demo = next(p for p in projects["projects"] if p["identifier"] == instance.project)
    assert instance.project == "demo"
    assert {t["name"] for t in demo["trackers"]} >= {"Bug", "Feature", "Support"}
    assert "issue_tracking" in {m["name"] for m in demo["enabled_modules"]}

    fields = _get(http, f"{base}/custom_fields.json")["custom_fields"]
    legacy = next(f for f in fields if f["name"] == "Legacy ID")
    assert legacy["id"] == instance.legacy_field_id
    assert legacy["customized_type"] == "issue"
    assert legacy["field_format"] == "string"
    assert legacy["is_filter"] is True
    assert legacy["searchable"] is True
    assert {t["name"] for t in legacy["trackers"]} >= {"Bug", "Feature", "Support"}

    users = {u["login"]: u for u in _get(http, f"{base}/users.json", limit=100)["users"]}
    for spec_user in redmine.DEFAULT_SPEC["users"]:
        got = users[spec_user["login"]]
        assert (got["firstname"], got["lastname"]) == (
            spec_user["firstname"],
            spec_user["lastname"],
        )
        assert got["mail"] == spec_user["mail"]

    memberships = _get(http, f"{base}/projects/demo/memberships.json", limit=100)["memberships"]
    members = {m["user"]["id"]: {r["name"] for r in m["roles"]} for m in memberships if "user" in m}
    for login in [*(u["login"] for u in redmine.DEFAULT_SPEC["users"]), "admin"]:
        assert "Manager" in members[users[login]["id"]], login

    created = http.post(
        f"{base}/issues.json",
        json={
            "issue": {
                "project_id": instance.project,
                "subject": SUBJECT,
                "description": DESCRIPTION,
                "custom_fields": [{"id": instance.legacy_field_id, "value": LEGACY_VALUE}],
            }
        },
        headers={"X-Redmine-Switch-User": "tanaka"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    issue = created.json()["issue"]
    assert issue["author"]["id"] == users["tanaka"]["id"]
    assert issue["subject"] == SUBJECT

    fetched = _get(http, f"{base}/issues/{issue['id']}.json")["issue"]
    assert fetched["subject"] == SUBJECT
    assert fetched["description"].replace("\r\n", "\n") == DESCRIPTION
    assert fetched["author"]["name"] == "太郎 田中"
    assert {"id": instance.legacy_field_id, "name": "Legacy ID", "value": LEGACY_VALUE} in (
        fetched["custom_fields"]
    )

    # requests encodes params ('#' -> %23, ':' kept legal); a hand-built URL would not.
    found = _get(
        http,
        f"{base}/issues.json",
        project_id=instance.project,
        status_id="*",
        **{f"cf_{instance.legacy_field_id}": LEGACY_VALUE},
    )
    assert [i["id"] for i in found["issues"]] == [issue["id"]]
    missing = _get(
        http,
        f"{base}/issues.json",
        project_id=instance.project,
        status_id="*",
        **{f"cf_{instance.legacy_field_id}": "trac:x#2"},
    )
    assert missing["total_count"] == 0
