"""The Redmine source against a real Redmine 5 seeded in bulk.

The module starts its own Redmine (the session one is shared by tests that
count what they create) and seeds it with ``fixtures.trackers.redmine_seed``,
whose facts are what every assertion compares with.  The one test that writes
to Redmine (``since``) runs after the shared extraction has been taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from fixtures.trackers import redmine as redmine_server
from fixtures.trackers.redmine_seed import seed
from migrator.errors import ConfigError, SourceError
from migrator.extract import extract
from migrator.model import Ticket
from migrator.progress import Silent
from migrator.secrets import Secret
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore
from migrator.trackers.redmine.api import redmine_since
from migrator.trackers.redmine.source import RedmineSource, from_config

pytestmark = pytest.mark.redmine

ISSUES = 60
NAME = "old"
KINDS = {
    "relates",
    "blocks",
    "blocked-by",
    "precedes",
    "follows",
    "duplicates",
    "duplicated-by",
    "copied-to",
    "copied-from",
}


@dataclass
class Seeded:
    instance: redmine_server.RedmineInstance
    facts: dict[str, Any]

    def issue(self, ticket: Ticket) -> dict[str, Any]:
        facts: dict[str, Any] = self.facts["issues_by_id"][int(ticket.source_id)]
        return facts

    def origin(self, issue_id: int) -> str:
        return f"redmine:{NAME}#{issue_id}"


@dataclass
class Extracted:
    tickets: dict[int, Ticket]
    blobs: BlobStore
    warnings: list[str]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    redmine_server.install()
    instance = redmine_server.start(tmp_path_factory.mktemp("redmine-source"))
    try:
        yield Seeded(instance, seed(instance, ISSUES))
    finally:
        redmine_server.stop(instance)


def source(seeded: Seeded, key: str | None = None, **kwargs: Any) -> RedmineSource:
    i = seeded.instance
    return RedmineSource(i.url, Secret(key or i.api_key), name=NAME, **kwargs)


def tickets_of(src: RedmineSource, blobs: BlobStore, checkpoint: str | None = None) -> list[Ticket]:
    try:
        return [t for page in src.pages(checkpoint, blobs) for t, _ in page.items]
    finally:
        src.close()


@pytest.fixture(scope="module")
def extracted(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Extracted:
    """Everything, once, through the real extract stage into a real SQLite staging."""
    work = tmp_path_factory.mktemp("redmine-extract")
    blobs = BlobStore(work / "blobs")
    staging = Staging(f"sqlite:///{work / 'staging.sqlite'}")
    src = source(seeded)
    try:
        summary = extract(staging, src, blobs, Silent())
        tickets = {int(t.source_id): t for t in staging.iter_tickets()}
    finally:
        src.close()
        staging.close()
    assert summary.tickets == len(tickets)
    return Extracted(tickets, blobs, list(src.warnings))


def test_counts(seeded: Seeded, extracted: Extracted) -> None:
    facts, tickets = seeded.facts, extracted.tickets.values()
    assert len(tickets) == facts["issues"] == ISSUES
    assert sum(len(t.comments) for t in tickets) == facts["comments"]
    assert sum(len(t.attachments) for t in tickets) == facts["attachments"]
    assert sum(len(t.links) for t in tickets) == 2 * facts["relations"]  # both ends
    closed = [t for t in tickets if t.closed]
    assert len(closed) == facts["closed"] > 0
    assert {t.status for t in closed} == {"Closed", "Rejected"}
    assert extracted.warnings == []


def test_every_field_round_trips(seeded: Seeded, extracted: Extracted) -> None:
    for iid, t in extracted.tickets.items():
        f = seeded.issue(t)
        assert t.origin == seeded.origin(iid)
        assert (t.title, t.description) == (f["subject"], f["description"])  # byte-exact
        assert (t.project, t.type, t.status, t.priority) == (
            f["project"],
            f["tracker"],
            f["status"],
            f["priority"],
        )
        assert (t.reporter, t.assignee, t.watchers) == (f["author"], f["assignee"], f["watchers"])
        assert t.milestone == f["version"]
        assert t.components == ([f["category"]] if f["category"] else [])
        assert (t.created, t.updated) == (f["created_on"], f["updated_on"])
        assert t.closed == f["closed_on"]
        assert t.markup == "textile"
        assert t.parent == (seeded.origin(f["parent"]) if f["parent"] else None)
        extras = {
            "start_date": f["start_date"],
            "due_date": f["due_date"],
            "done_ratio": str(f["done_ratio"]) if f["done_ratio"] else None,
            "estimated_hours": str(f["estimated_hours"]) if f["estimated_hours"] else None,
            "is_private": "true" if f["is_private"] else None,
        }
        assert t.custom == {**f["custom"], **{k: v for k, v in extras.items() if v}}
        assert [(int(c.id), c.author, c.body) for c in t.comments] == [
            tuple(c) for c in f["comments"]
        ]


def test_japanese_text_and_line_endings_survive(extracted: Extracted) -> None:
    texts = [t.title + t.description for t in extracted.tickets.values()]
    assert any("ログイン画面でエラーが発生する" in x for x in texts)
    assert any("🐛" in x for x in texts)
    assert any("\r\n" in x for x in texts)
    assert extracted.tickets[3].title == ("長い件名" * 64)[:255]
    assert any(
        "全角スペース「　」" in c.body for t in extracted.tickets.values() for c in t.comments
    )


def test_attachments_are_byte_identical(seeded: Seeded, extracted: Extracted) -> None:
    big = 0
    for t in extracted.tickets.values():
        expected = seeded.issue(t)["attachments"]
        assert [
            (a.name, a.size, a.sha256, a.content_type, a.author, a.time) for a in t.attachments
        ] == [
            (a["filename"], a["size"], a["sha256"], a["content_type"], a["author"], a["created_on"])
            for a in expected
        ]
        for a in t.attachments:
            data = extracted.blobs.path(a.sha256).read_bytes()
            assert hashlib.sha256(data).hexdigest() == a.sha256
            big += len(data) > 1 << 20  # more than one chunk of the blob store
    assert big >= 1


def test_history_is_ordered_and_speaks_names(seeded: Seeded, extracted: Extracted) -> None:
    for t in extracted.tickets.values():
        f = seeded.issue(t)
        times = [h.time for h in t.history]
        assert times == sorted(times)
        assert len(t.history) == f["details"]
        assert [(h.old, h.new) for h in t.history if h.field == "status"] == [
            tuple(c) for c in f["status_changes"]
        ]
        names = {a["filename"] for a in f["attachments"]}
        assert {h.new for h in t.history if h.field == "attachments"} == names
        for h in t.history:
            if h.field == "links":
                kind, other = (h.new or "").split(" ")
                assert kind in KINDS and other.startswith(f"redmine:{NAME}#"), h
            if h.field == "assignee":
                assert h.new == f["assignee"]
    customer = [
        h for t in extracted.tickets.values() for h in t.history if h.field == "custom.顧客"
    ]
    assert customer and all(h.new for h in customer)


def test_links_resolve_to_extracted_tickets(seeded: Seeded, extracted: Extracted) -> None:
    origins = {t.origin for t in extracted.tickets.values()}
    kinds = set()
    for t in extracted.tickets.values():
        f = seeded.issue(t)
        assert [(link.kind, link.other) for link in t.links] == [
            (kind, seeded.origin(other)) for kind, other in f["links"]
        ]
        assert all(link.other in origins for link in t.links)
        assert t.parent is None or t.parent in origins
        kinds |= {link.kind for link in t.links}
    assert kinds == KINDS


def first_pages(src: RedmineSource, blobs: BlobStore, pages: int, after: int = 0) -> list[Ticket]:
    """The tickets of the first PAGES pages after issue AFTER: a slice, to keep tests quick."""
    gen = src.pages(str(after) if after else None, blobs)
    try:
        return [t for _, page in zip(range(pages), gen, strict=False) for t, _ in page.items]
    finally:
        gen.close()
        src.close()


def test_resumes_after_a_checkpoint(seeded: Seeded, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    first = first_pages(source(seeded, page_size=10), blobs, 1, after=30)
    assert [int(t.source_id) for t in first] == list(range(31, 41))
    # A killed extract resumes at its last committed checkpoint: the rest, once, in order.
    rest = tickets_of(source(seeded), blobs, first[-1].source_id)
    assert [int(t.source_id) for t in rest] == list(range(41, ISSUES + 1))


def test_one_project_and_its_subprojects(seeded: Seeded, tmp_path: Path) -> None:
    per = seeded.facts["per_project"]
    src = source(seeded, project="demo", page_size=12)
    assert src.count() == per["demo"] + per["demo-sub"]
    tickets = first_pages(src, BlobStore(tmp_path), 2)
    assert len(tickets) == 24
    assert {t.project for t in tickets} == {"demo", "demo-sub"}  # issues 10 and 30 are in demo-sub
    assert [int(t.source_id) for t in tickets] == [i for i in range(1, 27) if i % 20 != 0][:24]


def test_private_notes_only_when_asked(
    seeded: Seeded, extracted: Extracted, tmp_path: Path
) -> None:
    by_id = seeded.facts["issues_by_id"]
    assert by_id[23]["private_notes"] == 1
    src = source(seeded, private_notes=True, page_size=1)
    (ticket,) = first_pages(src, BlobStore(tmp_path), 1, after=22)
    assert ticket.source_id == "23"
    assert len(ticket.comments) == len(by_id[23]["comments"]) + 1
    assert len(extracted.tickets[23].comments) == len(by_id[23]["comments"])


def test_a_non_admin_key_finds_the_same_people(
    seeded: Seeded, extracted: Extracted, tmp_path: Path
) -> None:
    """asmith manages ``demo`` and is no member of ``demo-sub`` (issue 10): logins come
    from /users/ID.json; watchers only where the key may see them."""
    src = source(seeded, key=seeded.facts["api_keys"]["asmith"], page_size=10)
    tickets = first_pages(src, BlobStore(tmp_path), 2)
    assert [int(t.source_id) for t in tickets] == list(range(1, 21))
    assert any("not an administrator" in w for w in src.warnings)
    assert any("watchers in project 'demo-sub'" in w for w in src.warnings)
    for t in tickets:
        full = extracted.tickets[int(t.source_id)]
        assert (t.reporter, t.assignee) == (full.reporter, full.assignee)
        assert t.watchers == (full.watchers if t.project == "demo" else [])
        # A locked user is invisible to other users: the display name stands in.
        assert [c.author for c in t.comments] == [
            "一郎 山田" if c.author == "yamada" else c.author for c in full.comments
        ]
        assert [(h.field, h.old, h.new) for h in t.history] == [
            (h.field, h.old, h.new) for h in full.history
        ]
        assert t.custom == full.custom
    assert "一郎 山田" in {c.author for t in tickets for c in t.comments}  # issue 17
    assert any("'一郎 山田' stands in" in w for w in src.warnings)


def test_a_lost_or_damaged_attachment_is_never_staged_silently(
    seeded: Seeded, tmp_path: Path
) -> None:
    files = seeded.instance.directory / "files"

    def on_disk(issue_id: int) -> Path:
        (attachment,) = seeded.facts["issues_by_id"][issue_id]["attachments"]
        (path,) = files.rglob(f"*_{attachment['sha256'][:12]}_*")
        return path

    lost, damaged = on_disk(59), on_disk(57)
    lost_bytes, damaged_bytes = lost.read_bytes(), damaged.read_bytes()
    try:
        lost.unlink()
        damaged.write_bytes(damaged_bytes[:-1])
        src = source(seeded, page_size=1)
        (ticket,) = first_pages(src, BlobStore(tmp_path), 1, after=58)
        assert ticket.source_id == "59" and ticket.attachments == []
        assert any(f"of {seeded.origin(59)}: not downloadable" in w for w in src.warnings)
        with pytest.raises(SourceError, match=r"downloaded \d+ bytes, Redmine records \d+"):
            first_pages(source(seeded, page_size=1), BlobStore(tmp_path), 1, after=56)
    finally:
        lost.write_bytes(lost_bytes)
        damaged.write_bytes(damaged_bytes)


def test_metadata_names_what_a_mapping_must_cover(seeded: Seeded) -> None:
    src = source(seeded, project="demo")
    try:
        meta = src.metadata()
    finally:
        src.close()
    projects = {p["identifier"]: p for p in meta["projects"]}
    assert set(projects) == {"demo", "demo-sub"}  # the project and its subproject only
    assert projects["demo-sub"]["parent"] == "demo"
    assert projects["demo"]["versions"] == ["1.0", "2.0 リリース"]
    assert sorted(projects["demo"]["categories"]) == sorted(["UI", "バックエンド"])
    assert {"Closed", "Rejected"} <= set(meta["closed_statuses"]) <= set(meta["statuses"])
    assert {"Bug", "Feature", "Support"} <= set(meta["trackers"])
    assert {f["name"] for f in meta["custom_fields"]} >= {"顧客", "Platforms"}
    users = {u.login: u for u in meta["users"]}
    assert users["yamada"].name == "一郎 山田"  # locked users too, with an admin key
    assert users["tanaka"].email == "tanaka@example.com"


def test_wrong_key_is_refused_once_with_the_remedy(seeded: Seeded) -> None:
    log = seeded.instance.directory / "log" / "production.log"

    def seen() -> int:
        return log.read_text(errors="replace").count('Started GET "/users/current.json"')

    before = seen()
    src = source(seeded, key="0" * 40)
    with pytest.raises(SourceError, match="rejected the API key") as err:
        src.count()
    src.close()
    assert "API access key" in str(err.value) and "0" * 40 not in str(err.value)
    assert seen() == before + 1  # a 401 is not retried


def test_unreachable_server(tmp_path: Path) -> None:
    port = redmine_server.free_port()
    src = RedmineSource(f"http://127.0.0.1:{port}", Secret("k" * 40), attempts=2)
    with pytest.raises(SourceError, match="cannot reach Redmine at"):
        list(src.pages(None, BlobStore(tmp_path)))


def test_since_returns_only_issues_updated_since(
    seeded: Seeded, extracted: Extracted, tmp_path: Path
) -> None:
    """Writes to Redmine: depends on ``extracted`` so the shared extraction came first."""
    i = seeded.instance
    by_id = seeded.facts["issues_by_id"]
    # Issues no other test reads the content of, and no subtasks: a note on a subtask
    # updates its parent too.
    touched = [21, 53]
    with requests.Session() as session:
        session.trust_env = False
        session.headers["X-Redmine-API-Key"] = i.api_key
        for iid in touched:
            r = session.put(
                f"{i.url}/issues/{iid}.json",
                json={"issue": {"notes": "更新 / touched"}},
                timeout=30,
            )
            assert r.status_code == 204, r.text
    newest = max(f["updated_on"] for f in by_id.values())
    assert newest < "2021"
    src = source(seeded, since="2021-01-01")
    assert src.count() == len(touched)
    got = tickets_of(src, BlobStore(tmp_path))
    assert [int(t.source_id) for t in got] == touched
    assert all(t.comments[-1].body == "更新 / touched" for t in got)
    # A time inside the seeded range: the issues updated at or after it, plus the touched ones.
    cut = by_id[40]["updated_on"]
    src = source(seeded, since=cut)
    expected = sorted({iid for iid, f in by_id.items() if f["updated_on"] >= cut} | set(touched))
    assert [int(t.source_id) for t in tickets_of(src, BlobStore(tmp_path))] == expected


def test_since_is_written_as_redmine_accepts_it() -> None:
    assert redmine_since("2024-05-01") == "2024-05-01"
    assert redmine_since("2024-05-01T18:30:00+09:00") == "2024-05-01T09:30:00Z"
    assert redmine_since("2024-05-01T09:30:00") == "2024-05-01T09:30:00Z"
    with pytest.raises(ConfigError, match="not a date"):
        redmine_since("yesterday")


def test_from_config(seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATOR_TEST_REDMINE_SOURCE_KEY", seeded.instance.api_key)
    section = {
        "type": "redmine",
        "url": seeded.instance.url,
        "api_key": "$env:MIGRATOR_TEST_REDMINE_SOURCE_KEY",
        "project": "other",
        "workers": 2,
    }
    src = from_config(section, tmp_path)
    assert src.name == "127.0.0.1"  # the host, when no name is given
    assert src.count() == seeded.facts["per_project"]["other"]
    assert seeded.instance.api_key not in repr(vars(src)) + src.describe()
    src.close()
    with pytest.raises(ConfigError, match="url is required"):
        from_config({"type": "redmine", "api_key": "$env:X"}, tmp_path)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) projects"):
        from_config({**section, "projects": "demo"}, tmp_path)
    with pytest.raises(ConfigError, match="secrets must be references"):
        from_config({**section, "api_key": seeded.instance.api_key}, tmp_path)
    with pytest.raises(SourceError, match="no project 'nope'"):
        from_config({**section, "project": "nope"}, tmp_path).count()
