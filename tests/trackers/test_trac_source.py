"""The Trac source against a real Trac 1.6 environment built from the fixture dataset."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import counts
from migrator.errors import ConfigError, SourceError
from migrator.model import Ticket
from migrator.staging.blobs import BlobStore
from migrator.trackers import IdSet
from migrator.trackers.trac.source import TracSource, from_config


def all_tickets(env: Path, blobs: BlobStore | None = None) -> list[Ticket]:
    source = TracSource(env, name="demo")
    store = blobs or BlobStore(Path(tempfile.mkdtemp(prefix="blobs-")))
    try:
        return [t for page in source.pages(None, store) for t, _ in page.items]
    finally:
        source.close()


def test_counts_match_the_dataset(trac_env: Path, dataset: dict[str, Any]) -> None:
    tickets = all_tickets(trac_env)
    expected = counts(dataset)
    assert len(tickets) == expected["tickets"]
    assert sum(len(t.comments) for t in tickets) == expected["comments"]
    assert sum(len(t.history) for t in tickets) == expected["field_changes"]
    for status, n in expected["status"].items():
        assert sum(t.status == status for t in tickets) == n, status


def test_every_field_round_trips(trac_env: Path, dataset: dict[str, Any]) -> None:
    by_id = {t.source_id: t for t in all_tickets(trac_env)}
    for raw in dataset["tickets"]:
        t = by_id[str(raw["id"])]
        assert t.origin == f"trac:demo#{raw['id']}"
        assert t.title == raw["summary"]  # byte-exact, Japanese and emoji included
        assert t.description == raw["description"]
        assert (t.type, t.status, t.priority) == (raw["type"], raw["status"], raw["priority"])
        assert t.resolution == (raw["resolution"] or None)
        assert t.assignee == (raw["owner"] or None)
        assert t.milestone == (raw["milestone"] or None)
        assert t.components == ([raw["component"]] if raw["component"] else [])
        assert t.custom == {k: v for k, v in raw["custom"].items() if v}
        bodies = [
            c["newvalue"] for c in raw["changes"] if c["field"] == "comment" and c["newvalue"]
        ]
        assert [c.body for c in t.comments] == bodies
        times = [c.time for c in t.comments]
        assert times == sorted(times)


def test_japanese_text_is_untouched(trac_env: Path) -> None:
    tickets = all_tickets(trac_env)
    assert any("ログイン画面でエラーが発生する" in t.title for t in tickets)
    assert any("🐛" in t.title + t.description for t in tickets)


def test_resumes_after_a_checkpoint(trac_env: Path) -> None:
    source = TracSource(trac_env, page_size=50)
    blobs = BlobStore(trac_env.parent / "blobs")
    first = next(source.pages(None, blobs))
    rest = [t.source_id for page in source.pages(first.checkpoint, blobs) for t, _ in page.items]
    source.close()
    assert rest and int(rest[0]) == int(first.items[-1][0].source_id) + 1


def test_missing_environment(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no Trac environment"):
        TracSource(tmp_path / "nowhere")


def test_too_old_schema_is_refused(copy_trac_env: Any) -> None:
    env = copy_trac_env()
    with sqlite3.connect(env / "db" / "trac.db") as db:
        db.execute("UPDATE system SET value = '21' WHERE name = 'database_version'")
    with pytest.raises(SourceError, match=r"older than 0\.12"):
        TracSource(env)


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(copy_trac_env: Any) -> None:
    env = copy_trac_env()
    with sqlite3.connect(env / "db" / "trac.db") as db:
        db.execute("UPDATE ticket SET summary = CAST(X'4162FF63' AS TEXT) WHERE id = 1")
    ticket = next(t for t in all_tickets(env) if t.source_id == "1")
    assert ticket.title == "Ab\ufffdc"


def test_attachments_arrive_byte_identical(
    trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    by_id = {t.source_id: t for t in all_tickets(trac_env, blobs)}
    seen = 0
    for raw in dataset["tickets"]:
        got = by_id[str(raw["id"])].attachments
        assert [a.name for a in got] == [a["filename"] for a in raw["attachments"]]
        for att, want in zip(got, raw["attachments"], strict=True):
            data = base64.b64decode(want["content_b64"])
            assert att.sha256 == hashlib.sha256(data).hexdigest() and att.size == len(data)
            assert blobs.path(att.sha256).read_bytes() == data
            assert att.author == want["author"] and att.description == want["description"]
            seen += 1
    assert seen == counts(dataset)["attachments"] > 0
    assert any(not a.name.isascii() for t in by_id.values() for a in t.attachments)


def test_missing_attachment_file_is_reported_not_fatal(copy_trac_env: Any) -> None:
    env = copy_trac_env()
    victim = next(f for f in (env / "files" / "attachments").rglob("*") if f.is_file())
    victim.unlink()
    source = TracSource(env)
    store = BlobStore(env.parent / "blobs")
    tickets = [t for page in source.pages(None, store) for t, _ in page.items]
    assert len(source.warnings) == 1 and "is missing" in source.warnings[0]
    assert sum(1 for t in tickets for a in t.attachments if a.sha256 == "") == 1


def _utc(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def test_since_selects_changed_tickets_and_files_attached_since(
    trac_env: Path, dataset: dict[str, Any], tmp_path: Path
) -> None:
    """Trac leaves changetime alone when a file is attached: attachment times count too."""
    times = sorted(t["changetime"] for t in dataset["tickets"])
    cut = times[len(times) // 2]
    attached = {
        t["id"] for t in dataset["tickets"] for a in t.get("attachments", []) if a["time"] >= cut
    }
    changed = {t["id"] for t in dataset["tickets"] if t["changetime"] >= cut}
    source = TracSource(trac_env, name="demo", since=_utc(cut), page_size=7)
    try:
        ids = [
            int(t.source_id)
            for page in source.pages(None, BlobStore(tmp_path))
            for t, _ in page.items
        ]
        assert source.count() == len(ids)
        assert "changed since" in source.describe()
    finally:
        source.close()
    assert ids == sorted(changed | attached)  # (tests/extract attach a file later, too)


def test_ids_select_and_resume_within_the_selection(trac_env: Path, tmp_path: Path) -> None:
    source = TracSource(trac_env, ids=IdSet.parse("2,4-6,190-195,9999"), page_size=3)
    blobs = BlobStore(tmp_path)
    try:
        pages = list(source.pages(None, blobs))
        assert source.count() == 10
        after = [
            t.source_id for page in source.pages(pages[1].checkpoint, blobs) for t, _ in page.items
        ]
    finally:
        source.close()
    ids = [t.source_id for page in pages for t, _ in page.items]
    assert ids == ["2", "4", "5", "6", "190", "191", "192", "193", "194", "195"]
    assert [p.checkpoint for p in pages] == ["5", "191", "194", "195"]
    assert after == ids[6:]


def test_project_is_the_environment_and_ids_are_numbers(trac_env: Path) -> None:
    TracSource(trac_env, name="demo", project="demo").close()
    with pytest.raises(ConfigError, match="the one project 'demo'"):
        TracSource(trac_env, name="demo", project="core")
    with pytest.raises(ConfigError, match="Trac ticket ids are numbers"):
        TracSource(trac_env, ids=IdSet.parse("BUG-1"))


def test_from_config_page_size(trac_env: Path, tmp_path: Path) -> None:
    source = from_config({"type": "trac", "env": str(trac_env), "page_size": 25}, tmp_path)
    try:
        assert source.page_size == 25 and source.name == trac_env.name
    finally:
        source.close()
    with pytest.raises(ConfigError, match="page_size must be a positive whole number"):
        from_config({"type": "trac", "env": str(trac_env), "page_size": 0}, tmp_path)


def test_plugin_relations_become_links_and_parents(trac_env: Path, dataset: dict[str, Any]) -> None:
    by_id = {t.source_id: t for t in all_tickets(trac_env)}
    for raw in dataset["tickets"]:
        t = by_id[str(raw["id"])]
        blocked_by = sorted(link.other for link in t.links if link.kind == "blocked-by")
        assert blocked_by == sorted(f"trac:demo#{d}" for d in raw["blocked_by"])
        blocks = sorted(link.other for link in t.links if link.kind == "blocks")
        assert blocks == sorted(
            f"trac:demo#{o['id']}" for o in dataset["tickets"] if raw["id"] in o["blocked_by"]
        )
        assert t.parent == (f"trac:demo#{raw['parent']}" if raw["parent"] else None)
    assert sum(len(t.links) for t in by_id.values()) == 2 * counts(dataset)["blocked_by"] > 0
