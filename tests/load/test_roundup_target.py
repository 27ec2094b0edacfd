"""The Roundup target against a real Roundup 2.6: a Trac migration end to end, kill -9, logins.

Trackers are started by the project's own script (fixtures.trackers.roundup),
then given the origin property migrator needs (``legacy_id = String()`` on
the issue class, see :func:`start_tracker`'s ``extra_schema``) and served
again.  Each test that runs ``migrator verify`` gets a tracker of its own:
Roundup has no projects, so verify's census sees every marked issue of the
tracker, and another test's issues would be "unknown to staging" there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from fixtures.trackers import roundup as roundup_server
from migrator.errors import ConfigError, PermanentTargetError, SecretError, TargetError
from migrator.load.links import planned_links
from migrator.model import normalize_text, parse_iso
from migrator.secrets import Secret
from migrator.staging import Staging, schema
from migrator.staging.blobs import BlobStore
from migrator.trackers.roundup import target as roundup_target
from migrator.trackers.roundup.api import FreshConnections
from migrator.trackers.roundup.target import RoundupTarget
from tests.cli_runner import run
from tests.faultproxy import FaultProxy, Rule
from tests.load.helpers import final_text

pytestmark = [pytest.mark.roundup, pytest.mark.trac]

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MAPPING = REPO / "mappings" / "trac-to-roundup.yaml"
PEOPLE = ("alice", "bob", "carol", "tanaka", "suzuki", "yamada")  # users.map's Roundup side
# The origin property migrator needs; and where Trac's MasterTickets and Subtickets
# relations go (classic Roundup has neither).
TRACKER_SCHEMA = ("legacy_id=String()", 'blocks=Multilink("issue")', 'parent=Link("issue")')
PASSWORD_VAR = "MIGRATOR_TEST_ROUNDUP_PASSWORD"
OPERATOR = "operator"  # an Admin the wrong-password test may fail to log in as
OPERATOR_PASSWORD = "operator-secret-1"


# --------------------------------------------------------------------------- trackers


class RoundupRest:
    """Admin REST access for tests: set-up, and looking behind migrator's back."""

    def __init__(self, tracker_url: str, user: str, password: str):
        self.url = tracker_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = (user, password)
        self.session.mount("http://", FreshConnections())  # 5x faster with Roundup's server
        origin = "/".join(self.url.split("/")[:3])
        self.session.headers.update({"Origin": origin, "X-Requested-With": "tests"})

    def get(self, path: str, params: Any = None) -> Any:
        r = self.session.get(f"{self.url}/rest{path}", params=params, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def post(self, path: str, body: dict[str, Any]) -> str:
        r = self.session.post(f"{self.url}/rest{path}", json=body, timeout=30)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    def total(self, classname: str) -> int:
        return int(self.get(f"/data/{classname}", {"@page_size": 1})["@total_size"])

    def issues_by_origin(self) -> dict[str, list[str]]:
        items = self.get("/data/issue", {"@fields": "legacy_id"})["collection"]
        out: dict[str, list[str]] = {}
        for item in items:
            if item.get("legacy_id"):
                out.setdefault(item["legacy_id"], []).append(str(item["id"]))
        return out

    def issue(self, issue_id: str) -> dict[str, Any]:
        attributes: dict[str, Any] = self.get(f"/data/issue/{issue_id}", {"@verbose": 2})[
            "attributes"
        ]
        return attributes

    def messages(self, issue_id: str) -> list[dict[str, Any]]:
        """The issue's messages, oldest first: content, author (username), date."""
        ids = [m["id"] for m in self.issue(issue_id)["messages"]]
        params = [("id", i) for i in ids] + [("@fields", "content,author,date"), ("@verbose", "3")]
        found = {m["id"]: m for m in self.get("/data/msg", params)["collection"]}
        return [found[i] for i in sorted(ids, key=int)]

    def files(self, issue_id: str) -> list[tuple[str, str]]:
        """(name, sha256 of the bytes served) of the issue's files."""
        out = []
        for f in self.issue(issue_id)["files"]:
            r = self.session.get(f"{self.url}/rest/data/file/{f['id']}/binary_content", timeout=30)
            assert r.status_code == 200
            out.append((f["name"], hashlib.sha256(r.content).hexdigest()))
        return sorted(out)


@dataclass
class Tracker:
    url: str  # the tracker, http://127.0.0.1:PORT/NAME/
    user: str
    password: str = field(repr=False)
    home: Path
    process: subprocess.Popen[bytes]
    rest: RoundupRest

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def _extend_issue_class(schema: Path, properties: Sequence[str]) -> None:
    """Add PROPERTIES (``name=Type()``) to the issue class of a tracker's schema.py."""
    text = schema.read_text(encoding="utf-8")
    head = 'issue = IssueClass(db, "issue",'
    assert text.count(head) == 1, "not the classic schema"
    extra = "".join(f"\n                {p}," for p in properties)
    schema.write_text(text.replace(head, head + extra), encoding="utf-8")


def _serve(instance: roundup_server.RoundupInstance) -> subprocess.Popen[bytes]:
    """roundup-server for the tracker home again, on its port (what ``start`` runs)."""
    port = instance.url.rstrip("/").rsplit(":", 1)[1]
    cmd = [str(Path(sys.executable).parent / "roundup-server"), "-t", "thread"]
    cmd += ["-n", "127.0.0.1", "-p", port]
    if os.geteuid() == 0:  # Roundup refuses root unless told which user to be
        cmd += ["-u", roundup_server.SERVER_USER, "-g", roundup_server.SERVER_GROUP]
    cmd.append(f"{instance.name}={instance.directory}")
    with (instance.directory / "server.log").open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, (instance.directory / "server.log").read_text()
        try:  # anonymous: a wrong password here would count towards the lockout
            if requests.get(instance.tracker_url, timeout=2).status_code == 200:
                return proc
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"Roundup at {instance.tracker_url} did not come back")


def start_tracker(extra_schema: Sequence[str] = TRACKER_SCHEMA) -> Tracker:
    """A fresh classic tracker whose issues also have ``extra_schema``, with the users
    the shipped mapping names (and an Admin, ``operator``, for the login tests)."""
    roundup_server.install()
    # mkdtemp, not tmp_path: the server runs as nobody and must reach the home.
    home = Path(tempfile.mkdtemp(prefix="migrator-roundup-target-"))
    instance = roundup_server.start(home)
    roundup_server.stop(instance)
    if extra_schema:
        _extend_issue_class(home / "schema.py", extra_schema)
    proc = _serve(instance)
    rest = RoundupRest(instance.tracker_url, instance.user, instance.password)
    for login in PEOPLE:
        rest.post(
            "/data/user",
            {"username": login, "address": f"{login}@example.com", "roles": "User"},
        )
    rest.post(
        "/data/user",
        {"username": OPERATOR, "password": OPERATOR_PASSWORD, "roles": "Admin,User"},
    )
    return Tracker(instance.tracker_url, instance.user, instance.password, home, proc, rest)


@pytest.fixture(scope="module")
def shared_tracker() -> Iterator[Tracker]:
    """One tracker for the tests that do not run verify."""
    tracker = start_tracker()
    try:
        yield tracker
    finally:
        tracker.stop()


@pytest.fixture
def own_tracker() -> Iterator[Tracker]:
    tracker = start_tracker()
    try:
        yield tracker
    finally:
        tracker.stop()


# --------------------------------------------------------------------------- migrations


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
    """A migration directory as a user writes it: Trac source, Roundup target, the
    shipped trac-to-roundup mapping."""

    def make(url: str, *, user: str = "admin", password: str) -> Migration:
        name = f"rt{next(_names)}"
        directory = tmp_path / name
        (directory / "mappings").mkdir(parents=True)
        shutil.copy(SHIPPED_MAPPING, directory / "mappings" / SHIPPED_MAPPING.name)
        config = directory / "migration.toml"
        config.write_text(
            f"""\
[source]
type = "trac"
env = "{small_trac_env}"
name = "{name}"

[target]
type = "roundup"
url = "{url}"
user = "{user}"
password = "$env:{PASSWORD_VAR}"

[mapping]
file = "mappings/{SHIPPED_MAPPING.name}"
""",
            encoding="utf-8",
        )
        monkeypatch.setenv(PASSWORD_VAR, password)
        return Migration(directory, config, name, {PASSWORD_VAR: password})

    return make


def planned(m: Migration) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The plan's payloads, and the canonical tickets by origin (for original times)."""
    staging = Staging(f"sqlite:///{m.directory / 'staging.sqlite'}")
    try:
        plan = staging.latest_plan()
        payloads = [row.payload for row in staging.iter_planned(plan.id)]
        tickets = {t.origin: t for t in staging.iter_tickets()}
    finally:
        staging.close()
    return payloads, tickets


def load_requests(m: Migration) -> list[int]:
    """Requests each load run sent to the target, oldest run first."""
    staging = Staging(f"sqlite:///{m.directory / 'staging.sqlite'}")
    try:
        with staging.begin() as conn:
            summaries = conn.scalars(
                select(schema.runs.c.summary)
                .where(schema.runs.c.command == "load")
                .order_by(schema.runs.c.id)
            ).all()
    finally:
        staging.close()
    return [int(summary["requests"]) for summary in summaries]


def roundup_time(iso_time: str, *, to_minute: bool) -> str:
    when = parse_iso(iso_time)
    assert when is not None
    if to_minute:
        when = when.replace(second=0)
    return when.strftime("%Y-%m-%d.%H:%M:%S")


def assert_exactly_once(rest: RoundupRest, m: Migration, payloads: list[dict[str, Any]]) -> None:
    """Every planned ticket is one issue, with its messages and files once each."""
    mine = {o: ids for o, ids in rest.issues_by_origin().items() if o.startswith(f"trac:{m.name}#")}
    assert {o: ids for o, ids in mine.items() if len(ids) != 1} == {}
    assert sorted(mine) == sorted(p["origin"] for p in payloads)
    new_ids = {o: ids[0] for o, ids in mine.items()}

    for p in payloads:
        issue_id = mine[p["origin"]][0]
        texts = [normalize_text(msg["content"]) for msg in rest.messages(issue_id)]
        want = [final_text(p, p["description"], new_ids, "issue{}")] + [
            final_text(p, c["body"], new_ids, "issue{}") for c in p["comments"]
        ]
        assert texts == want, p["origin"]
        assert rest.files(issue_id) == sorted((a["name"], a["sha256"]) for a in p["attachments"])
        assert rest.issue(issue_id)["status"]["name"] == p["status"], p["origin"]
    assert any(p["attachments"] for p in payloads)
    assert sum(len(p["comments"]) for p in payloads) > len(payloads)
    assert any(p.get("refs") for p in payloads)


# --------------------------------------------------------------------------- tests


def test_trac_migration_into_roundup_is_complete_and_exactly_once(
    own_tracker: Tracker, make_migration: Callable[..., Migration]
) -> None:
    rest = own_tracker.rest
    m = make_migration(own_tracker.url, password=own_tracker.password)
    assert run(m.config, "extract", "-q").exit_code == 0
    result = run(m.config, "plan", "-q")
    assert result.exit_code == 0, result.output
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    payloads, tickets = planned(m)
    assert f"{len(payloads)} tickets created" in result.output
    # Trac's MasterTickets and Subtickets relations, into this tracker's blocks and parent.
    relations = {link.key for p in payloads for link in planned_links(p)}
    assert f"{len(relations)} links created" in result.output
    assert len(payloads) == 30
    assert_exactly_once(rest, m, payloads)
    # What estimates count per ticket is what the load sent (after its preflight).
    origins = {p["origin"] for p in payloads}
    assert load_requests(m) == [sum(roundup_target.requests_for(p, origins) for p in payloads)]

    # Messages in their original authors' names, at their original times.
    issue_of = {o: ids[0] for o, ids in rest.issues_by_origin().items()}
    for p in payloads:
        ticket = tickets[p["origin"]]
        messages = rest.messages(issue_of[p["origin"]])
        authors = [msg["author"]["username"] for msg in messages]
        want = [p["author"] or "admin"] + [c["author"] or "admin" for c in p["comments"]]
        assert authors == want, p["origin"]
        # The plan carries times to the minute in its attribution lines; to the
        # second once it carries them as data (payload "created" / comment "time").
        dates = [msg["date"] for msg in messages]
        want = [roundup_time(ticket.created, to_minute="created" not in p)]
        want += [
            roundup_time(c.time, to_minute="time" not in pc)
            for c, pc in zip(ticket.comments, p["comments"], strict=True)
        ]
        assert dates == want, p["origin"]
        issue = rest.issue(issue_of[p["origin"]])
        assert issue["title"] == p["subject"]
        nosy = {n["username"] for n in issue["nosy"]}
        assert set(p["watchers"]) | ({p["author"]} if p["author"] else set()) <= nosy
        assert (issue["assignedto"] or {}).get("username") == p["assignee"]
    # Every message was created as already seen by the nosy list: nobody was mailed.
    mail = own_tracker.home / "mail.log"
    assert not mail.exists() or mail.read_text(errors="replace").strip() == ""

    result = run(m.config, "verify")
    assert result.exit_code == 0, result.output
    assert "30 match, 0 differ" in result.output

    # A rerun finds everything done in staging and writes nothing.
    totals = {c: rest.total(c) for c in ("issue", "msg", "file")}
    result = run(m.config, "load")
    assert result.exit_code == 0, result.output
    assert "0 tickets created" in result.output and "0 comments created" in result.output
    assert {c: rest.total(c) for c in ("issue", "msg", "file")} == totals
    assert load_requests(m)[-1] == 0  # nothing but the preflight's reads


def start_load(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``migrator load`` as a real process that can be killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", "load", "-q", "-c", str(config)],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_after_roundup_committed_then_rerun_is_exactly_once(
    own_tracker: Tracker, make_migration: Callable[..., Migration]
) -> None:
    """The loader dies right after Roundup committed a write, before it hears of it."""
    proxy = FaultProxy(own_tracker.url.split("/demo/")[0])
    m = make_migration(f"{proxy.url}/demo/", password=own_tracker.password)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    payloads, _ = planned(m)
    try:
        for method, prefix, nth in [
            ("POST", "/demo/rest/data/issue", 2),  # an issue with its description and files
            ("PUT", "/demo/rest/data/issue/", 2),  # a comment linked to its issue
            ("POST", "/demo/rest/data/issue", 1),
            ("POST", "/demo/rest/data/msg", 3),  # a message not linked yet: an orphan
            ("PUT", "/demo/rest/data/issue/", 1),
        ]:
            proc = start_load(m.config, m.env)
            proxy.rules = [Rule(method, prefix, nth, "call-after", callback=proc.kill)]
            assert proc.wait(timeout=120) == -signal.SIGKILL, (method, prefix, nth)
        proxy.rules = []
        result = run(m.config, "load")
        assert result.exit_code == 0, result.output
        assert "recovered" in result.output
        assert_exactly_once(own_tracker.rest, m, payloads)
        result = run(m.config, "verify")
        assert result.exit_code == 0, result.output
    finally:
        proxy.close()


def test_lost_answers_and_refusals_on_the_way_end_exactly_once(
    shared_tracker: Tracker, make_migration: Callable[..., Migration]
) -> None:
    """Writes Roundup committed but whose answer was lost, 5xx and resets, in one load."""
    proxy = FaultProxy(shared_tracker.url.split("/demo/")[0])
    m = make_migration(f"{proxy.url}/demo/", password=shared_tracker.password)
    assert run(m.config, "extract", "-q").exit_code == 0
    assert run(m.config, "plan", "-q").exit_code == 0
    proxy.rules = [
        Rule("POST", "/demo/rest/data/issue", 2, "drop-after"),  # created, answer lost
        Rule("PUT", "/demo/rest/data/issue/", 3, "drop-after"),  # comment linked, answer lost
        Rule("POST", "/demo/rest/data/msg", 4, "status:503", retry_after="0"),
        Rule("POST", "/demo/rest/data/file", 1, "reset"),  # never reached Roundup
        Rule("GET", "/demo/rest/data/issue/", 2, "status:502"),
    ]
    try:
        result = run(m.config, "load")
    finally:
        proxy.close()
    assert result.exit_code == 0, result.output
    assert all(rule.fired for rule in proxy.rules), [r for r in proxy.rules if not r.fired]
    assert "1 recovered" in result.output
    # The comment's PUT was sent again with the same etag: refused (412), found done.
    assert ("PUT", 412) in {(method, code) for method, _, code in proxy.log}
    payloads, _ = planned(m)
    assert_exactly_once(shared_tracker.rest, m, payloads)


def test_wrong_password_is_one_clear_error_and_no_lockout(
    shared_tracker: Tracker,
    make_migration: Callable[..., Migration],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each run tries the login once and stops: two runs are two failures of the four
    that would lock the user out, so the right password still works afterwards."""
    proxy = FaultProxy(shared_tracker.url.split("/demo/")[0])
    m = make_migration(f"{proxy.url}/demo/", user=OPERATOR, password="not-the-password")
    try:
        assert run(m.config, "extract", "-q").exit_code == 0
        assert run(m.config, "plan", "-q").exit_code == 0
        for attempt in (1, 2):
            result = run(m.config, "load")
            assert result.exit_code == 1
            assert f"rejected the login of user '{OPERATOR}'" in result.output
            assert "10 minutes" in result.output and "Traceback" not in result.output
            assert len(proxy.log) == attempt  # one request per run, never retried
        monkeypatch.setenv(PASSWORD_VAR, OPERATOR_PASSWORD)
        result = run(m.config, "load", "--limit", "1")
        assert result.exit_code == 0, result.output
        assert "1 tickets created" in result.output
    finally:
        proxy.close()


def test_a_locked_login_stops_at_once(shared_tracker: Tracker, tmp_path: Path) -> None:
    """Roundup's lock answers 429 with a Retry-After of minutes: never waited out."""
    rest = shared_tracker.rest
    rest.post("/data/user", {"username": "locked", "password": "right-one", "roles": "Admin"})
    for _ in range(4):
        r = requests.get(f"{shared_tracker.url}rest/data", auth=("locked", "wrong"), timeout=30)
        assert r.status_code == 401
    target = RoundupTarget(
        shared_tracker.url, "locked", Secret("right-one"), blobs=BlobStore(tmp_path)
    )
    started = time.monotonic()
    with pytest.raises(TargetError, match="locked REST logins for user 'locked'") as exc:
        target.preflight()
    assert time.monotonic() - started < 5
    assert "wait for the lock to expire" in str(exc.value)
    target.close()


def _payload(origin: str, blobs: BlobStore, files: Sequence[bytes] = ()) -> dict[str, Any]:
    attachments = []
    for i, data in enumerate(files):
        sha, size = blobs.put_bytes(data)
        attachments.append(
            {"key": f"{origin}/attachment/{i}", "name": f"f{i}.bin", "sha256": sha, "size": size}
        )
    return {
        "origin": origin,
        "project": "demo",
        "tracker": "issue",
        "status": "chatting",
        "priority": "bug",
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


def test_links_deletes_and_what_roundup_cannot_hold(
    shared_tracker: Tracker, tmp_path: Path
) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    target = RoundupTarget(
        shared_tracker.url, shared_tracker.user, Secret(shared_tracker.password), blobs=blobs
    )
    try:
        a = target.create_ticket(_payload("api:links#1", blobs, [b"\x00\xff bytes", b""]))
        b = target.create_ticket(_payload("api:links#2", blobs))
        assert target.skipped == ["api:links#1: empty attachment 'f1.bin' not uploaded"]
        assert target.find_by_origin("api:links#1") == a
        assert target.find_by_origin("api:links#") is None  # exact match, not a prefix
        message = shared_tracker.rest.messages(a)[0]
        assert message["date"] == "2016-03-01.12:34:00"  # from the attribution line
        assert message["author"]["username"] == "alice"

        target.add_link(a, "duplicates", b)
        target.add_link(a, "duplicates", b)  # the second pass may ask twice: one link
        target.add_link(a, "blocks", b)  # a property this tracker's schema added
        target.set_parent(a, b)
        target.set_parent(a, b)
        assert target.links(a) == {("duplicates", b), ("blocks", b)}
        assert target.links(b) == set()
        back = target.read_back(a)
        assert back.fields["links"] == [f"blocks {b}", f"duplicates {b}"]
        assert back.fields["parent"] == b
        assert back.fields["custom_fields"] == {}
        assert not target.holds("precedes")
        with pytest.raises(PermanentTargetError, match="no 'precedes' property") as exc:
            target.add_link(a, "precedes", b)
        assert 'precedes=Multilink("issue")' in str(exc.value)

        # Reconciling puts the planned status back; a comment keeps it (Roundup
        # classic's auditor would turn a resolved issue that gets a message "chatting").
        target.reconcile(b, {**_payload("api:links#2", blobs), "status": "resolved"})
        target.add_comment(b, {"key": "k", "author": None, "body": "a note"})
        back = target.read_back(b)
        assert back.fields["status"] == "resolved"
        assert back.comments == ["a note"]
        texts = target.texts(b)
        assert [body for _, body in texts.comments] == ["a note"]

        # Rewriting references edits the texts in place: no new message, nobody mailed.
        target.edit_comment(b, texts.comments[0][0], f"a note about {target.reference(a)}")
        target.set_description(b, "a description that names #1 and issue1")
        edited = target.texts(b)
        assert edited.description == "a description that names #1 and issue1"
        assert edited.comments == [(texts.comments[0][0], f"a note about issue{a}")]
        assert target.read_back(b).comments == [f"a note about issue{a}"]

        target.delete_ticket(b)
        target.delete_ticket(b)  # already gone is fine
        assert target.find_by_origin("api:links#2") is None
        target.retire_ticket(a, "api:links#1")
        assert target.find_by_origin("api:links#1") is None
        assert target.read_back(a).fields["status"] == "resolved"
        assert (a, "rolled-back:api:links#1") in set(target.marked(set()))
    finally:
        target.close()


def test_preflight_names_the_missing_origin_property(
    shared_tracker: Tracker, tmp_path: Path
) -> None:
    target = RoundupTarget(
        shared_tracker.url,
        shared_tracker.user,
        Secret(shared_tracker.password),
        blobs=BlobStore(tmp_path),
        legacy_property="migrated_from",
    )
    with pytest.raises(TargetError) as exc:
        target.preflight()
    assert "no 'migrated_from' property" in str(exc.value)
    assert "migrated_from=String()" in str(exc.value) and "schema.py" in str(exc.value)
    target.close()


def test_check_plan_refuses_what_roundup_does_not_have(
    shared_tracker: Tracker, tmp_path: Path
) -> None:
    target = RoundupTarget(
        shared_tracker.url,
        shared_tracker.user,
        Secret(shared_tracker.password),
        blobs=BlobStore(tmp_path),
    )
    problems = target.check_plan(
        {
            "project": {"demo"},
            "tracker": {"issue", "defect"},
            "status": {"resolved", "closed"},
            "priority": {"bug"},
            "user": {"alice", "nobody-here"},
            "category": {"core"},
            "custom_field": {"Customer"},
        }
    )
    target.close()
    text = "\n".join(problems)
    assert "tracker defect" in text and "template: issue" in text
    assert "status not in Roundup: closed" in text
    assert "user not in Roundup: nobody-here" in text
    assert "no category" in text
    assert "not issue properties in Roundup: Customer" in text
    assert len(problems) == 5


@pytest.mark.parametrize(
    ("section", "error", "words"),
    [
        ({"url": "demo", "user": "u", "password": "$env:X"}, ConfigError, "tracker's address"),
        ({"url": "http://h/demo/", "password": "$env:X"}, ConfigError, "user is required"),
        ({"url": "http://h/demo/", "user": "u"}, ConfigError, "password is required"),
        ({"url": "http://h/demo/", "user": "u", "password": "hunter2"}, SecretError, "references"),
        (
            {"url": "http://h/demo/", "user": "u", "password": "$env:HOME", "timeout": 0},
            ConfigError,
            "timeout must be a positive number",
        ),
    ],
)
def test_config_errors_are_clear(
    section: dict[str, Any], error: type[Exception], words: str, tmp_path: Path
) -> None:
    with pytest.raises(error, match=words):
        roundup_target.from_config({"type": "roundup", **section}, tmp_path, BlobStore(tmp_path))
