"""The Roundup source against a real Roundup 2.6 seeded from the fixture dataset.

One tracker is started for the module by the project's own script
(fixtures.trackers.roundup) and stopped by PID at the end.  Its home is made
with ``tempfile.mkdtemp`` because the server runs as ``nobody`` under root and
pytest's temporary root is private to its owner.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import counts, groups, is_comment
from fixtures.trackers import roundup as roundup_server
from migrator.errors import ConfigError, SecretError, SourceError
from migrator.model import Link, Ticket
from migrator.secrets import Secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.roundup.source import RoundupSource, from_config, ticket_from_rest

pytestmark = pytest.mark.roundup


@dataclass
class Tracker:
    instance: roundup_server.RoundupInstance
    report: roundup_server.SeedReport


@dataclass
class Extracted:
    tickets: dict[str, Ticket]
    blobs: BlobStore
    source: RoundupSource


@pytest.fixture(scope="module")
def tracker(dataset: dict[str, Any]) -> Iterator[Tracker]:
    roundup_server.install()
    home = Path(tempfile.mkdtemp(prefix="migrator-roundup-"))
    instance = roundup_server.start(home)
    try:
        yield Tracker(instance, roundup_server.seed(instance, dataset))
    finally:
        roundup_server.stop(instance)
        shutil.rmtree(home, ignore_errors=True)


def make_source(tracker: Tracker, **kwargs: Any) -> RoundupSource:
    i = tracker.instance
    return RoundupSource(i.tracker_url, i.user, Secret(i.password), **kwargs)


def extract(source: RoundupSource, blobs: BlobStore, checkpoint: str | None = None) -> list[Ticket]:
    return [t for page in source.pages(checkpoint, blobs) for t, _ in page.items]


@pytest.fixture(scope="module")
def extracted(tracker: Tracker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Extracted]:
    """Everything, once, with history read from the tracker home."""
    blobs = BlobStore(tmp_path_factory.mktemp("roundup-blobs"))
    source = make_source(tracker, tracker_dir=tracker.instance.directory)
    try:
        tickets = extract(source, blobs)
        yield Extracted({t.source_id: t for t in tickets}, blobs, source)
    finally:
        source.close()


def second(us: int) -> str:
    """A dataset time as Roundup keeps it: whole seconds, UTC."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def names(text: str | None) -> set[str]:
    return set(text.split(", ")) if text else set()


def test_counts_match_the_seeded_dataset(
    tracker: Tracker, extracted: Extracted, dataset: dict[str, Any]
) -> None:
    tickets = list(extracted.tickets.values())
    report = tracker.report
    assert [int(t.source_id) for t in tickets] == [tk["id"] for tk in dataset["tickets"]]
    assert extracted.source.count() == report.tickets == len(tickets)
    comments = sum(len(t.comments) for t in tickets)
    assert comments == report.comments == counts(dataset)["comments"] + 1  # + the raw one
    assert sum(bool(t.description) for t in tickets) == report.descriptions
    assert sum(len(t.attachments) for t in tickets) == report.files
    assert sum(len(t.links) for t in tickets) == report.superseders
    assert extracted.source.warnings == []


def test_every_field_round_trips(extracted: Extracted, dataset: dict[str, Any]) -> None:
    raw_ticket, raw_body = roundup_server.extras(dataset).raw_message or (0, b"")
    for tk in dataset["tickets"]:
        t = extracted.tickets[str(tk["id"])]
        assert t.origin == f"roundup:demo#{tk['id']}"
        assert t.title == tk["summary"]
        assert t.description == tk["description"]  # byte-exact, CRLF included
        assert (t.status, t.priority) == (tk["status"], tk["priority"] or None)
        assert t.assignee == (tk["owner"] or None)
        assert t.reporter == tk["reporter"]
        assert sorted(t.watchers) == sorted(roundup_server.watchers(dataset, tk["cc"]))
        assert sorted(t.labels) == sorted(set(tk["keywords"].split()))
        # Roundup's activity moves only when a change reaches the issue: a dataset
        # edit of a field the classic schema lacks leaves it where it was.
        changes = [x.time for x in (*t.comments, *t.history, *t.attachments) if x.time]
        assert t.created == second(tk["time"])
        assert t.updated == max([t.created, *changes]) <= second(tk["changetime"])
        expected = [
            (g[-1]["author"], second(g[-1]["time"]), g[-1]["newvalue"])
            for g in groups(tk)
            if is_comment(g[-1])
        ]
        if tk["id"] == raw_ticket:
            body = raw_body.decode("utf-8", "replace")
            expected.append((tk["reporter"], second(tk["changetime"]), body))
        assert [(c.author, c.time, c.body) for c in t.comments] == expected


def test_japanese_text_and_bad_bytes(extracted: Extracted, dataset: dict[str, Any]) -> None:
    titles = [t.title for t in extracted.tickets.values()]
    assert "ログイン画面でエラーが発生する" in titles
    assert any("🐛" in title for title in titles)
    assert any(
        a.name.startswith("ログ_") for t in extracted.tickets.values() for a in t.attachments
    )
    raw_ticket, _ = roundup_server.extras(dataset).raw_message or (0, b"")
    last = extracted.tickets[str(raw_ticket)].comments[-1].body
    assert "\ufffd" in last and last.endswith(" -- end\n")  # replaced, never a crash


def test_attachments_are_byte_identical(extracted: Extracted, dataset: dict[str, Any]) -> None:
    seeded = roundup_server.extras(dataset).files
    assert any(not f.name.isascii() for f in seeded)
    assert any(b"\xff" in f.data for f in seeded)  # binary, not UTF-8
    for f in seeded:
        t = extracted.tickets[str(f.ticket)]
        (a,) = [a for a in t.attachments if a.name == f.name]
        assert (a.sha256, a.size, a.content_type) == (f.sha256, f.size, f.content_type)
        assert a.author == (f.author or t.reporter)
        assert a.time == (second(f.time) if f.time else t.created)
        with extracted.blobs.open(a.sha256) as blob:
            assert hashlib.sha256(blob.read()).hexdigest() == f.sha256


def test_superseders_are_links_to_origin_keys(
    extracted: Extracted, dataset: dict[str, Any]
) -> None:
    superseders = roundup_server.extras(dataset).superseders
    origins = {t.origin for t in extracted.tickets.values()}
    for tid, others in superseders.items():
        links = extracted.tickets[str(tid)].links
        assert links == [Link("duplicates", f"roundup:demo#{o}") for o in others]
        assert all(link.other in origins for link in links)
    assert any(len(v) == 2 for v in superseders.values())


def test_history_comes_from_the_tracker_home(extracted: Extracted, dataset: dict[str, Any]) -> None:
    fields = {"status": "status", "priority": "priority", "summary": "title", "owner": "assignedto"}
    for tk in dataset["tickets"]:
        t = extracted.tickets[str(tk["id"])]
        seen = {(h.time, h.author, h.field, h.old, h.new) for h in t.history}
        for ch in tk["changes"]:
            if ch["field"] in fields:
                old, new = ch["oldvalue"] or None, ch["newvalue"] or None
                change = (second(ch["time"]), ch["author"], fields[ch["field"]], old, new)
                assert change in seen, (tk["id"], change)
        for ch in tk["changes"]:
            old, new = (
                set(roundup_server.watchers(dataset, ch[k])) for k in ("oldvalue", "newvalue")
            )
            if ch["field"] == "cc" and old != new:
                nosy = [h for h in t.history if h.field == "nosy" and h.time == second(ch["time"])]
                assert [(names(h.old), names(h.new)) for h in nosy] == [(old, new)]
        assert [h.time for h in t.history] == sorted(h.time for h in t.history)
        if t.status == "closed":
            closes = [h.time for h in t.history if h.field == "status" and h.new == "closed"]
            assert t.closed == closes[-1]


def test_content_lost_on_the_server_is_a_warning(
    tracker: Tracker, extracted: Extracted, tmp_path: Path
) -> None:
    """A file or message whose bytes are gone from the tracker's disk does not stop extraction."""
    before = next(t for t in extracted.tickets.values() if t.attachments and t.comments)
    file_id, msg_id = before.attachments[0].id, before.comments[0].id
    files = tracker.instance.directory / "db" / "files"
    moved = []
    for path in (*files.rglob(f"file{file_id}"), *files.rglob(f"msg{msg_id}")):
        os.replace(path, tmp_path / path.name)
        moved.append(path)
    source = make_source(tracker, page_size=1)
    try:
        checkpoint = str(int(before.source_id) - 1)
        (ticket, _raw), *_ = next(source.pages(checkpoint, BlobStore(tmp_path / "blobs"))).items
    finally:
        source.close()
        for path in moved:
            os.replace(tmp_path / path.name, path)
    assert len(moved) == 2
    assert (ticket.attachments[0].sha256, ticket.attachments[0].size) == ("", 0)
    assert ticket.comments[0].body == ""
    assert [w.split(":")[0] for w in source.warnings[1:]] == [f"msg{msg_id}", f"file{file_id}"]


def test_without_tracker_home_history_is_reported_unavailable(
    tracker: Tracker, tmp_path: Path
) -> None:
    source = make_source(tracker, page_size=20)
    try:
        assert any("history unavailable" in note for note in source.warnings)
        page = next(source.pages(None, BlobStore(tmp_path)))
    finally:
        source.close()
    assert len(page.items) == 20
    assert all(t.history == [] and t.closed is None for t, _ in page.items)


def test_resumes_after_a_checkpoint(tracker: Tracker, tmp_path: Path) -> None:
    source = make_source(tracker, page_size=50)
    blobs = BlobStore(tmp_path)
    try:
        first = next(source.pages(None, blobs))
        assert first.checkpoint == first.items[-1][0].source_id == "50"
        second_page = next(source.pages(first.checkpoint, blobs))
        tail = extract(source, blobs, "190")
    finally:
        source.close()
    assert [int(t.source_id) for t, _ in second_page.items] == list(range(51, 101))
    assert [int(t.source_id) for t in tail] == list(range(191, tracker.report.tickets + 1))


def test_wrong_password_fails_at_once_and_is_never_retried(tracker: Tracker) -> None:
    source = RoundupSource(tracker.instance.tracker_url, "carol", Secret("not-her-password"))
    with pytest.raises(SourceError, match="rejected the login of user 'carol'") as err:
        source.count()
    source.close()
    assert source.http.requests_sent == 1
    assert "not-her-password" not in str(err.value)


def test_a_locked_login_is_reported_not_retried(tracker: Tracker) -> None:
    """Four failures lock a user out of REST; the fifth answer is a plain-text 429."""
    for _ in range(4):
        source = RoundupSource(tracker.instance.tracker_url, "bob", Secret("wrong"))
        with pytest.raises(SourceError, match="rejected the login"):
            source.preflight()
        source.close()
    source = RoundupSource(tracker.instance.tracker_url, "bob", Secret("wrong"))
    with pytest.raises(SourceError, match="locked REST logins for user 'bob'"):
        source.preflight()
    source.close()
    assert source.http.requests_sent == 1


def test_unknown_tracker_and_unreachable_server(tracker: Tracker) -> None:
    i = tracker.instance
    wrong = RoundupSource(f"{i.url}nosuch/", i.user, Secret(i.password))
    with pytest.raises(SourceError, match="no Roundup tracker at"):
        wrong.count()
    wrong.close()
    port = roundup_server.free_port()
    down = RoundupSource(f"http://127.0.0.1:{port}/demo/", "admin", Secret("x"), attempts=1)
    with pytest.raises(SourceError, match="cannot reach Roundup"):
        down.count()
    down.close()


def test_from_config(tracker: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    i = tracker.instance
    monkeypatch.setenv("ROUNDUP_PASSWORD", i.password)
    section = {"type": "roundup", "url": i.tracker_url, "user": i.user}
    source = from_config({**section, "password": "$env:ROUNDUP_PASSWORD"}, tmp_path)
    try:
        assert source.name == "demo" and source.count() == tracker.report.tickets
        assert i.password not in source.describe() + repr(source.http)
    finally:
        source.close()
    with pytest.raises(SecretError):
        from_config({**section, "password": i.password}, tmp_path)
    with pytest.raises(ConfigError, match="url is required"):
        from_config(
            {"type": "roundup", "user": "admin", "password": "$env:ROUNDUP_PASSWORD"}, tmp_path
        )
    with pytest.raises(ConfigError, match="not a Roundup tracker home"):
        from_config(
            {**section, "password": "$env:ROUNDUP_PASSWORD", "tracker_dir": "nowhere"}, tmp_path
        )


def test_properties_of_a_customised_schema_become_custom_fields() -> None:
    """Real trackers add properties (bugs.python.org: type, components, resolution...)."""
    issue = {
        "id": "7",
        "link": "http://x/demo/rest/data/issue/7",
        "title": "t",
        "creation": "2020-01-02.03:04:05",
        "activity": "2020-01-02.03:04:06",
        "creator": {"id": "3", "username": "alice"},
        "type": {"id": "1", "link": "…", "name": "crash"},
        "components": [{"id": "1", "name": "core"}, {"id": "2", "name": "ui"}],
        "stage": None,
        "messages": [],
    }
    t = ticket_from_rest(
        {"issue": issue, "messages": []}, name="bpo", username=lambda u: u and u["username"]
    )
    assert t.custom == {"components": "core, ui", "type": "crash"}
    assert (t.origin, t.reporter, t.created) == ("roundup:bpo#7", "alice", "2020-01-02T03:04:05Z")


def test_extras_invent_files_only_for_a_dataset_without_any(dataset: dict[str, Any]) -> None:
    bare = {**dataset, "tickets": [{**tk, "attachments": []} for tk in dataset["tickets"]]}
    invented = roundup_server.extras(bare).files
    assert invented == roundup_server.extras(bare).files  # deterministic
    assert {f.ticket % 7 for f in invented} == {0}
    assert any(f.size == 0 for f in invented) and any(f.data[:4] == b"\x89PNG" for f in invented)
    own = roundup_server.extras(dataset).files
    expected = sum(len(tk.get("attachments", [])) for tk in dataset["tickets"])
    assert len(own) == expected or (expected == 0 and own == invented)
