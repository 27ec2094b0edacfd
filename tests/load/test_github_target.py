"""The GitHub target against a double that holds every request to GitHub's OpenAPI description.

GitHub cannot run here: :mod:`tests.doubles.github_api` serves one repository
on loopback, validates each request (operation, parameters, body, headers)
and a sample of its own answers against the pinned description, and records
every mismatch as a violation.  Each test ends with no violation recorded.

The migrations are the project's fixture data (30 Trac tickets) through the
shipped ``mappings/trac-to-github.yaml``, run with the CLI; the crash test runs
the loader as a real process and kills it with SIGKILL right after the double
committed a write, before the answer reaches it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from fixtures.apis import github as github_description
from migrator.errors import ConfigError, PermanentTargetError, SecretError, TargetError
from migrator.model import normalize_text
from migrator.secrets import Secret
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore
from migrator.trackers.github import target as github
from migrator.trackers.github.body import Body, attachment_path
from migrator.trackers.github.target import STATES, GitHubTarget
from tests.cli_runner import run
from tests.doubles.github_api import Fault, GitHubDouble, Issue
from tests.load.helpers import final_text

pytestmark = [pytest.mark.github, pytest.mark.trac]

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MAPPING = REPO / "mappings" / "trac-to-github.yaml"
PEOPLE = ("alice", "bob", "carol", "tanaka", "suzuki", "yamada")  # users.map's GitHub side
TOKEN_VAR = "MIGRATOR_TEST_GITHUB_TOKEN"
TOKEN = "ghp-test-0123456789abcdef"


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    # Pages of 7: every listing the target reads (issues, comments) spans several pages.
    server = GitHubDouble(token=TOKEN, assignable=PEOPLE, page_cap=7)
    try:
        yield server
    finally:
        server.close()


@dataclass
class Migration:
    directory: Path
    config: Path
    name: str  # the source name: origins are trac:NAME#id
    env: dict[str, str]


_names = iter(range(1, 1000))


@pytest.fixture
def make_migration(
    tmp_path: Path, small_trac_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Migration]:
    """A migration directory as a user writes it: Trac source, GitHub target, the shipped
    trac-to-github mapping (and its hook)."""

    def make(double: GitHubDouble, *, token: str = TOKEN) -> Migration:
        name = f"gh{next(_names)}"
        directory = tmp_path / name
        shutil.copytree(
            REPO / "mappings",
            directory / "mappings",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        config = directory / "migration.toml"
        config.write_text(
            f"""\
[source]
type = "trac"
env = "{small_trac_env}"
name = "{name}"

[target]
type = "github"
url = "{double.url}"
repo = "{double.owner}/{double.repo}"
token = "$env:{TOKEN_VAR}"

[mapping]
file = "mappings/{SHIPPED_MAPPING.name}"

[load]
settle_seconds = 2
""",
            encoding="utf-8",
        )
        monkeypatch.setenv(TOKEN_VAR, token)
        return Migration(directory, config, name, {TOKEN_VAR: token})

    return make


def planned(m: Migration) -> list[dict[str, Any]]:
    staging = Staging(f"sqlite:///{m.directory / 'staging.sqlite'}")
    try:
        plan = staging.latest_plan()
        return [row.payload for row in staging.iter_planned(plan.id)]
    finally:
        staging.close()


def extract_and_plan(m: Migration) -> list[dict[str, Any]]:
    result = run(m.config, "extract", "-q")
    assert result.exit_code == 0, result.output
    result = run(m.config, "plan", "-q")
    assert result.exit_code == 0, result.output
    return planned(m)


def assert_exactly_once(double: GitHubDouble, m: Migration, payloads: list[dict[str, Any]]) -> None:
    """Every planned ticket is one issue, with its texts, state, labels and files once each."""
    mine = {o: ns for o, ns in double.by_origin().items() if o.startswith(f"trac:{m.name}#")}
    assert {o: ns for o, ns in mine.items() if len(ns) != 1} == {}
    assert sorted(mine) == sorted(p["origin"] for p in payloads)
    number = {o: ns[0] for o, ns in mine.items()}

    for p in payloads:
        issue = double.issues[number[p["origin"]]]
        body = Body.parse(issue.body)
        assert normalize_text(body.description) == final_text(p, p["description"], number, "#{}"), (
            p["origin"]
        )
        assert [normalize_text(c) for c in double.comments_of(issue.number)] == [
            final_text(p, c["body"], number, "#{}") for c in p["comments"]
        ], p["origin"]
        state, reason = STATES.get(p["status"], ("open", None))
        assert (issue.state, issue.state_reason if state == "closed" else None) == (state, reason)
        assert f"type: {p['tracker']}" in issue.labels and f"priority: {p['priority']}" in (
            issue.labels
        )
        assert issue.assignees == ([p["assignee"]] if p["assignee"] else [])
        assert [name for name, _ in body.attachments] == [a["name"] for a in p["attachments"]]
        for a in p["attachments"]:
            data = double.files[
                ("migrated-attachments", attachment_path(p["origin"], a["sha256"], a["name"]))
            ]
            assert hashlib.sha256(data).hexdigest() == a["sha256"]
    assert any(p["attachments"] for p in payloads)
    assert sum(len(p["comments"]) for p in payloads) > len(payloads)
    assert any(p.get("refs") for p in payloads)


# --------------------------------------------------------------------------- migrations


def test_trac_migration_into_github_is_complete_verified_and_exactly_once(
    double: GitHubDouble, make_migration: Callable[..., Migration]
) -> None:
    m = make_migration(double)
    result = run(m.config, "extract", "-q")
    assert result.exit_code == 0, result.output
    result = run(m.config, "check")
    assert result.exit_code == 0, result.output
    payloads = extract_and_plan(m)
    assert len(payloads) == 30
    assert all(p["watchers"] == [] for p in payloads)  # the mapping's hook: GitHub has none
    assert any("* watchers:" in p["description"] for p in payloads)  # ... the text keeps them

    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "30 tickets created" in result.output
    assert "0 failed;" in result.output and result.output.count("failed") == 1
    assert "cannot hold" not in result.output  # every Trac relation has a place
    assert_exactly_once(double, m, payloads)
    # Trac's blocked-by and parent: GitHub dependencies and sub-issues.
    blocked = [i for i in double.issues.values() if i.blocked_by]
    children = [i for i in double.issues.values() if i.parent is not None]
    assert blocked and children
    assert double.count("issues/add-blocked-by-dependency") == sum(
        len(i.blocked_by) for i in blocked
    )
    # Attachments are files of their own branch, which starts from a README commit.
    assert "heads/migrated-attachments" in double.refs
    # The listings were paged (pages of 7) through Link headers.
    assert any(op == "issues/list-comments" for op, _, _ in double.log)

    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert "30 match, 0 differ" in result.output
    assert "0 duplicated, 0 unknown to staging" in result.output
    result = run(m.config, "report", "--format", "md", "--out", "reports")
    assert result.exit_code == 0, result.output
    assert (m.directory / "reports").is_dir()

    # A rerun finds everything done in staging and writes nothing.
    writes = len(double.writes())
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "0 tickets created" in result.output and "0 comments created" in result.output
    assert len(double.writes()) == writes

    assert double.validated > 50  # answers checked against the described schemas
    assert double.violations == []


def test_verify_sees_what_was_changed_on_github(
    double: GitHubDouble, make_migration: Callable[..., Migration]
) -> None:
    """The read-back is the issue as GitHub holds it, not what the target remembers."""
    m = make_migration(double)
    payloads = extract_and_plan(m)
    assert run(m.config, "load", "-q").exit_code == 0
    with_file = next(p for p in payloads if p["attachments"])
    number = double.by_origin()[with_file["origin"]][0]
    closed = next(i for i in double.issues.values() if i.state == "closed" and i.number != number)
    closed.state, closed.state_reason = "open", "reopened"  # reopened on GitHub
    a = with_file["attachments"][0]
    key = ("migrated-attachments", attachment_path(with_file["origin"], a["sha256"], a["name"]))
    double.files[key] = b"x" + double.files[key][1:]  # same size, other bytes
    result = run(m.config, "verify")
    assert result.exit_code == 1
    assert "28 match, 2 differ" in result.output
    assert double.violations == []


def start_load(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``migrator load`` as a real process that can be killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", "load", "-q", "-c", str(config)],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_after_github_committed_then_rerun_is_exactly_once(
    double: GitHubDouble, make_migration: Callable[..., Migration]
) -> None:
    """The loader dies right after GitHub committed a write, before it hears of it."""
    m = make_migration(double)
    payloads = extract_and_plan(m)
    for operation, nth in [
        ("issues/create", 2),  # an issue, before its closed state was set
        ("issues/create-comment", 2),
        ("repos/create-or-update-file-contents", 1),  # a file, before its issue existed
        ("issues/update", 1),  # a state
        ("issues/create", 1),
        ("issues/add-blocked-by-dependency", 1),  # the second pass
    ]:
        proc = start_load(m.config, m.env)
        double.faults = [Fault(operation, nth, "call-after", callback=proc.kill)]
        assert proc.wait(timeout=120) == -signal.SIGKILL, (operation, nth)
    double.faults = []
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "recovered" in result.output
    assert_exactly_once(double, m, payloads)
    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert "30 match, 0 differ" in result.output
    assert double.violations == []


def test_lost_answers_server_errors_and_rate_limits_end_exactly_once(
    double: GitHubDouble, make_migration: Callable[..., Migration]
) -> None:
    """Writes GitHub committed but whose answer was lost, 5xx, and both kinds of rate limit."""
    m = make_migration(double)
    payloads = extract_and_plan(m)
    double.faults = [
        Fault("issues/create", 2, "drop-after"),  # created, answer lost
        Fault("issues/create-comment", 3, "drop-after"),
        Fault("repos/create-or-update-file-contents", 1, "drop-after"),
        Fault("issues/create", 4, "secondary-limit", retry_after="1"),  # 403 + Retry-After
        Fault("issues/create-comment", 5, "status:502"),
        Fault("issues/get", 1, "status:503", retry_after="0"),
        Fault("issues/list-for-repo", 1, "status:500"),
    ]
    double.exhaust_rate_limit(seconds=1)  # the hourly budget: 403, remaining 0, reset soon
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert [f for f in double.faults if not f.fired] == []
    assert "1 recovered" in result.output  # the issue whose answer was lost
    refused = [(op, status) for op, _, status in double.log if status == 403]
    assert len(refused) == 2  # the hourly budget and the secondary limit, each retried
    assert_exactly_once(double, m, payloads)
    assert double.violations == []


def test_wrong_token_is_one_clear_error_without_the_token(
    double: GitHubDouble, make_migration: Callable[..., Migration]
) -> None:
    wrong = "ghp-wrong-token-must-not-be-printed"
    m = make_migration(double, token=wrong)
    extract_and_plan(m)
    result = run(m.config, "load")
    assert result.exit_code == 1
    assert "rejected the token (HTTP 401: Bad credentials)" in result.output
    assert "[target] token" in result.output
    assert wrong not in result.output + result.stderr and "Traceback" not in result.output
    assert [status for _, _, status in double.log] == [401]  # refused once, never retried
    result = run(m.config, "verify")
    assert result.exit_code == 1 and wrong not in result.output
    assert double.issues == {}
    assert double.violations == []


# --------------------------------------------------------------------------- the target alone


@pytest.fixture
def target(double: GitHubDouble, tmp_path: Path) -> Iterator[GitHubTarget]:
    t = GitHubTarget(
        f"{double.owner}/{double.repo}", Secret(TOKEN), blobs=BlobStore(tmp_path), url=double.url
    )
    try:
        yield t
    finally:
        t.close()


def _payload(
    origin: str, blobs: BlobStore, files: dict[str, bytes] | None = None
) -> dict[str, Any]:
    attachments = []
    for i, (name, data) in enumerate((files or {}).items()):
        sha, size = blobs.put_bytes(data)
        attachments.append(
            {
                "key": f"{origin}/attachment/{i}",
                "name": name,
                "sha256": sha,
                "size": size,
                "description": "originally by alice on 2016-03-01 12:34 UTC",
            }
        )
    return {
        "origin": origin,
        "project": "tracker",
        "tracker": "Bug",
        "status": "open",
        "priority": "High",
        "category": "core",
        "version": "1.0",
        "subject": f"ticket {origin}",
        "description": "_Migrated from x · originally by alice on 2016-03-01 12:34 UTC_\n\ntext",
        "author": "alice",
        "assignee": None,
        "watchers": [],
        "custom_fields": {},
        "attachments": attachments,
        "comments": [],
        "links": [],
    }


def test_bodies_attachments_relations_and_rollback(
    double: GitHubDouble, target: GitHubTarget
) -> None:
    blobs = target.blobs
    files = {
        "報告 [draft] (1).txt": "日本語のテキスト\n".encode(),
        "bin\\ary*.dat": bytes(range(256)),
        "empty": b"",
    }
    a = target.create_ticket({**_payload("api:x#1", blobs, files), "status": "duplicate"})
    b = target.create_ticket({**_payload("api:x#2", blobs), "status": "in progress"})
    assert target.find_by_origin("api:x#1") == a
    assert target.find_by_origin("api:x#") is None  # exact, not a prefix
    # Later lookups read only what changed since, a minute early; and see other writers.
    other = double.issues[int(a)]
    double.issues[99] = Issue(99, 99, "t", "x\n\n<!-- migrator-origin: api:x#9 -->", "someone")
    assert target.find_by_origin("api:x#9") == "99"
    assert target.find_by_origin("api:x#9") == "99"
    since = [q.get("since") for op, q in double.queries if op == "issues/list-for-repo"]
    assert since[0] is None and since[1] is not None and since[1] < other.updated_at
    assert len(set(since[1:])) == 1  # the newest issue seen did not change: neither does since
    back = target.read_back(a)
    assert back.origin == "api:x#1"
    assert back.fields["status"] == "duplicate"
    assert (back.fields["tracker"], back.fields["priority"]) == ("Bug", "High")
    assert (back.fields["category"], back.fields["version"]) == ("core", "1.0")
    assert back.fields["description"] == _payload("api:x#1", blobs)["description"]
    assert [(f["name"], f["size"]) for f in back.attachments] == [
        (n, len(d)) for n, d in files.items()
    ]
    for f, data in zip(back.attachments, files.values(), strict=True):
        assert target.attachment_sha256(f["url"]) == hashlib.sha256(data).hexdigest()
    assert target.read_back(b).fields["status"] == "in progress"
    assert "status: in progress" in double.issues[int(b)].labels

    # Texts: the description is edited in place, the files and the marker stay.
    target.add_comment(b, {"key": "k", "body": f"see {target.inert_reference('#1')}"})
    texts = target.texts(b)
    assert texts.comments[0][1] == "see `#1`"  # GitHub does not link #N in code
    target.edit_comment(b, texts.comments[0][0], f"see {target.reference(a)}")
    assert target.texts(b).comments[0][1] == f"see #{a}"
    target.set_description(a, "new text naming #2")
    assert target.texts(a).description == "new text naming #2"
    assert target.find_by_origin("api:x#1") == a
    assert len(target.read_back(a).attachments) == 3

    # Relations GitHub holds: blocks (dependencies) and parent (sub-issues); twice is once.
    assert target.holds("blocks") and target.holds("parent") and not target.holds("relates")
    target.add_link(a, "blocks", b)
    target.add_link(a, "blocks", b)
    target.set_parent(b, a)
    target.set_parent(b, a)
    assert target.links(a) == {("blocks", b)} and target.links(b) == set()
    assert target.read_back(b).fields["parent"] == a
    assert target.read_back(b).fields["links"] == []
    with pytest.raises(PermanentTargetError, match="cannot hold a 'relates' link"):
        target.add_link(a, "relates", b)

    # Rollback: GitHub cannot delete issues; --close retires them.
    with pytest.raises(TargetError, match="cannot delete issues"):
        target.delete_ticket(a)
    target.retire_ticket(b, "api:x#2")
    assert target.find_by_origin("api:x#2") is None
    assert (b, "rolled-back:api:x#2") in set(target.marked(set()))
    assert double.issues[int(b)].state_reason == "not_planned"
    assert "migrator: rolled back" in double.issues[int(b)].labels
    assert double.violations == []


def test_check_plan_names_what_github_cannot_take(
    double: GitHubDouble, target: GitHubTarget
) -> None:
    problems = target.check_plan(
        {
            "project": {"a", "b"},
            "tracker": {"Bug", "x" * 50},
            "status": {"Closed", "open", "in progress"},
            "user": {"alice", "nobody-here"},
            "custom_field": {"Customer"},
        }
    )
    text = "\n".join(problems)
    assert "several projects" in text
    assert f"type: {'x' * 50}" in text and "longer than GitHub's 50" in text
    assert "status Closed" in text
    assert "custom fields (Customer)" in text
    assert "cannot be assigned in example/tracker: nobody-here" in text
    assert len(problems) == 5
    assert double.violations == []


def test_a_token_that_cannot_write_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    server = GitHubDouble(token=TOKEN, push=False)
    try:
        t = GitHubTarget(
            "example/tracker", Secret(TOKEN), blobs=BlobStore(tmp_path), url=server.url
        )
        with pytest.raises(TargetError, match="may not write to example/tracker"):
            t.preflight()
        t2 = GitHubTarget(
            "example/nothing", Secret(TOKEN), blobs=BlobStore(tmp_path), url=server.url
        )
        with pytest.raises(TargetError, match="no repository example/nothing"):
            t2.preflight()
        assert TOKEN not in repr(t.api) + repr(t.api.session.auth) + t.describe()
    finally:
        server.close()
    assert server.violations == []


def test_the_double_refuses_what_githubs_description_does_not_allow(double: GitHubDouble) -> None:
    """The violations the other tests expect to be empty are real: each kind is recorded."""
    api = f"{double.url}/repos/{double.owner}/{double.repo}"
    good = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    s = requests.Session()
    s.trust_env = False
    assert s.post(f"{api}/issues", json={"title": "ok"}, headers=good).status_code == 201
    r = s.post(f"{api}/issues", json={"body": "no title"}, headers=good)
    assert r.status_code == 422
    assert (
        s.post(f"{api}/issues", json={"title": "t", "asignees": ["x"]}, headers=good).status_code
        == 422
    )
    assert s.get(f"{api}/issues", params={"state": "everything"}, headers=good).status_code == 422
    assert s.get(f"{api}/issues", params={"per_page": "many"}, headers=good).status_code == 422
    assert s.delete(f"{api}/issues/1", headers=good).status_code == 404  # no such operation
    assert s.get(f"{api}/tickets", headers=good).status_code == 404
    anonymous = {k: v for k, v in good.items() if k != "Authorization"}
    assert s.get(f"{api}/issues/1", headers=anonymous).status_code == 401
    unversioned = {k: v for k, v in good.items() if k != "X-GitHub-Api-Version"}
    assert s.get(f"{api}/issues/1", headers=unversioned).status_code == 400
    assert (
        s.get(f"{api}/issues/1", headers={**good, "Authorization": "Bearer x"}).status_code == 401
    )
    kinds = [
        "'title' is a required property",
        "body property 'asignees' is not described",
        "query parameter: state",
        "parameter error: per_page",
        "DELETE /repos/example/tracker/issues/1: no such operation",
        "GET /repos/example/tracker/tickets: no such operation",
        "no Authorization header",
        "X-GitHub-Api-Version None",
    ]
    text = "\n".join(double.violations)
    assert [k for k in kinds if k.lower() not in text.lower()] == []
    assert len(double.violations) == len(kinds)  # a wrong token is not a violation
    # Answers are paged as GitHub pages them.
    for i in range(9):
        s.post(f"{api}/issues", json={"title": f"t{i}"}, headers=good)
    r = s.get(f"{api}/issues", params={"per_page": 4, "state": "all"}, headers=good)
    assert len(r.json()) == 4 and r.links["next"]["url"].endswith("page=2")
    assert r.headers["X-RateLimit-Remaining"].isdigit()


def test_the_description_is_the_pinned_one() -> None:
    path = github_description.path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == github_description.DESCRIPTION_SHA256
    assert json.loads(path.read_bytes())["info"]["version"] == github_description.VERSION


def test_bodies_read_back_exactly() -> None:
    body = Body("line\n\nmore", [], "trac:a#1", "").render()
    assert body.endswith("\n\n<!-- migrator-origin: trac:a#1 -->")
    assert Body.parse(body).description == "line\n\nmore"
    assert Body.parse(body.replace("\n", "\r\n")).origin == "trac:a#1"
    assert Body.parse("no marker").origin is None
    assert attachment_path("trac:demo#12", "ab" * 32, "../x/y.txt").startswith("trac-demo-12/")
    assert "/../" not in attachment_path("trac:demo#12", "ab" * 32, "../x/y.txt")


@pytest.mark.parametrize(
    ("section", "error", "words"),
    [
        ({"token": "$env:X"}, ConfigError, "owner/name"),
        ({"repo": "example", "token": "$env:X"}, ConfigError, "owner/name"),
        ({"repo": "a/b"}, ConfigError, "token is required"),
        ({"repo": "a/b", "token": "ghp-literal"}, SecretError, "references"),
        ({"repo": "a/b", "token": "$env:HOME", "url": "api.github.com"}, ConfigError, "REST API"),
        (
            {"repo": "a/b", "token": "$env:HOME", "attachments_branch": "a b"},
            ConfigError,
            "branch name",
        ),
        ({"repo": "a/b", "token": "$env:HOME", "rate_limit": 0}, ConfigError, "rate_limit"),
    ],
)
def test_config_errors_are_clear(
    section: dict[str, Any], error: type[Exception], words: str, tmp_path: Path
) -> None:
    with pytest.raises(error, match=words):
        github.from_config({"type": "github", **section}, tmp_path, BlobStore(tmp_path))
