"""The contract every Source passes, whatever the tracker.

A :class:`Case` describes one source over its seeded fixture: the ``[source]``
section that reads it, and what the fixture holds (:class:`Expected`).  The
checks below take a case and a complete extraction through the real extract
stage into a real SQLite staging, and assert what the rest of the pipeline
relies on:

* counts match the seeded fixture; every field the source carries round-trips;
* attachments are byte-identical (the blob's sha256 is the attachment's, and
  the fixture's);
* history and comments are ordered by time; links and parents resolve to
  origin keys present in the extract;
* Japanese text is intact; bytes that are not valid UTF-8 are replaced (U+FFFD)
  and reported, or refused with a clear error where the source's format makes
  them undecodable (a CSV in a declared encoding); never a crash;
* paging resumes exactly after any checkpoint; ``--ids``, ``--since`` and
  ``--project`` select what they say (or ``--project`` is refused clearly);
* wrong credentials are refused through the CLI with one clear error, a
  non-zero exit and staging untouched.

``tests/trackers/test_contract.py`` runs it against each source's real
server or files; the per-source modules test each tracker's peculiarities.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from migrator.config import Config
from migrator.errors import ConfigError, MigratorError
from migrator.extract import ExtractSummary, extract_configured
from migrator.extract.extractor import activity
from migrator.model import Ticket, parse_iso
from migrator.progress import Silent
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore
from migrator.trackers import IdSet, make_source
from migrator.trackers.protocols import Source
from tests.cli_runner import run

# ---------------------------------------------------------------- describing a case


@dataclass
class Expected:
    """What the seeded fixture holds, as canonical tickets must show it."""

    tickets: int
    comments: int
    # source id -> canonical field -> value; "comments" is the list of comment bodies
    fields: dict[str, dict[str, Any]]
    # source id -> sorted (name, sha256) of its attachments
    attachments: dict[str, list[tuple[str, str]]]
    japanese: tuple[str, ...]  # each must appear byte-exact in some title, description or comment
    links: int = 0  # links in the whole extract (they must all resolve)


@dataclass
class BadBytes:
    """How the source meets bytes that are not valid UTF-8 (or not its declared encoding).

    ``section`` reads a copy of the fixture holding such bytes (None: the
    fixture itself has them).  ``replaced``: the origin whose text must show
    U+FFFD and be named in the extract's warnings; ``refused``: words the
    clear error must contain.
    """

    section: dict[str, Any] | None
    replaced: str | None = None
    refused: str | None = None


@dataclass
class Project:
    """``--project``: a project to select and the ticket projects it yields, or refusal."""

    name: str
    yields: frozenset[str] = frozenset()  # empty: the source has no projects, refused
    count: int | None = None


@dataclass
class Case:
    name: str
    section: dict[str, Any]  # [source], paths absolute
    expected: Expected
    bad_bytes: BadBytes | None
    no_bad_bytes: str = ""  # why there is no bad-bytes case, when there is none
    projects: list[Project] = field(default_factory=list)
    wrong_credentials: dict[str, Any] | None = None  # a [source] with a wrong secret
    refusal: str = ""  # words the wrong-credentials error must contain
    env: dict[str, str] = field(default_factory=dict)  # secrets the sections refer to


@dataclass
class Extraction:
    tickets: dict[str, Ticket]  # by source id, as staged (what later stages read)
    summary: ExtractSummary
    blobs: BlobStore
    staging_path: Path


# ---------------------------------------------------------------- running a case


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_config(directory: Path, section: dict[str, Any]) -> Path:
    """A migration.toml reading ``section`` into staging.sqlite beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[source]"]
    tables = {k: v for k, v in section.items() if isinstance(v, dict)}
    lines += [f"{k} = {toml_value(v)}" for k, v in section.items() if k not in tables]
    for name, table in tables.items():
        lines += ["", f"[source.{name}]"]
        lines += [f"{toml_value(k)} = {toml_value(v)}" for k, v in table.items()]
    lines += [
        "",
        "[target]",
        'type = "redmine"',
        'url = "http://127.0.0.1:9"',
        'api_key = "$env:MIGRATOR_CONTRACT_UNUSED"',
        "",
        "[mapping]",
        'file = "mapping.yaml"',
        "",
    ]
    path = directory / "migration.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def config_for(directory: Path, section: dict[str, Any]) -> Config:
    from migrator.config import load_config

    return load_config(write_config(directory, section))


def extract_all(case: Case, directory: Path, **filters: Any) -> Extraction:
    """Everything the case's source gives (with ``filters``), through the extract stage."""
    config = config_for(directory, case.section)
    staging = Staging(config.staging_url)
    try:
        summary = extract_configured(config, staging, Silent(), **filters)
        tickets = {t.source_id: t for t in staging.iter_tickets()}
    finally:
        staging.close()
    return Extraction(tickets, summary, BlobStore(config.blobs_dir), directory / "staging.sqlite")


@contextmanager
def opened(case: Case, directory: Path, **filters: Any) -> Iterator[Source]:
    source = make_source(config_for(directory, case.section), **filters)
    try:
        yield source
    finally:
        source.close()


def source_ids(source: Source, blobs: BlobStore) -> list[str]:
    return [t.source_id for page in source.pages(None, blobs) for t, _ in page.items]


def staging_snapshot(path: Path) -> tuple[list[Any], list[Any]]:
    """Every row of source_tickets and meta, as stored."""
    if not path.exists():
        return [], []
    with closing(sqlite3.connect(path)) as db:
        tickets = db.execute("SELECT * FROM source_tickets ORDER BY origin").fetchall()
        meta = db.execute("SELECT * FROM meta ORDER BY key").fetchall()
    return tickets, meta


def content_hashes(path: Path) -> dict[str, str]:
    """Origin -> content hash of every staged ticket."""
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT origin, content_hash FROM source_tickets").fetchall())


# ---------------------------------------------------------------- the checks


def check_counts(case: Case, got: Extraction) -> None:
    tickets = list(got.tickets.values())
    assert len(tickets) == case.expected.tickets == got.summary.tickets
    assert sum(len(t.comments) for t in tickets) == case.expected.comments
    assert got.summary.comments == case.expected.comments
    attachments = sum(len(v) for v in case.expected.attachments.values())
    assert sum(len(t.attachments) for t in tickets) == attachments == got.summary.attachments
    assert got.summary.new == len(tickets)  # into an empty staging


def check_fields(case: Case, got: Extraction) -> None:
    assert set(case.expected.fields) == set(got.tickets)
    for sid, fields in case.expected.fields.items():
        t = got.tickets[sid]
        actual = {name: getattr(t, name) for name in fields if name != "comments"}
        if "comments" in fields:
            actual["comments"] = [c.body for c in t.comments]
        assert actual == fields, t.origin


def check_attachments(case: Case, got: Extraction) -> None:
    for sid, expected in case.expected.attachments.items():
        t = got.tickets[sid]
        assert sorted((a.name, a.sha256) for a in t.attachments) == expected, t.origin
        for a in t.attachments:
            data = got.blobs.path(a.sha256).read_bytes()
            assert hashlib.sha256(data).hexdigest() == a.sha256 and len(data) == a.size
    for sid, t in got.tickets.items():
        if sid not in case.expected.attachments:
            assert t.attachments == [], t.origin


def _times(texts: list[str]) -> list[datetime]:
    return [t for t in (parse_iso(x) for x in texts if x) if t is not None]


def check_order(case: Case, got: Extraction) -> None:
    for t in got.tickets.values():
        history = _times([h.time for h in t.history])
        assert history == sorted(history), t.origin
        comments = _times([c.time for c in t.comments])
        assert comments == sorted(comments), t.origin


def check_links(case: Case, got: Extraction) -> None:
    origins = {t.origin for t in got.tickets.values()}
    links = [link for t in got.tickets.values() for link in t.links]
    assert len(links) == case.expected.links
    assert all(link.other in origins for link in links)
    assert all(t.parent in origins for t in got.tickets.values() if t.parent)


def check_japanese(case: Case, got: Extraction) -> None:
    texts = [
        text
        for t in got.tickets.values()
        for text in (t.title, t.description, *(c.body for c in t.comments))
    ]
    for phrase in case.expected.japanese:
        assert any(phrase.encode() in text.encode() for text in texts), phrase


def check_bad_bytes(case: Case, got: Extraction, directory: Path) -> None:
    bad = case.bad_bytes
    if bad is None:
        pytest.skip(case.no_bad_bytes)
    if bad.refused is not None:
        assert bad.section is not None
        with pytest.raises(MigratorError, match=bad.refused):  # typed: a clear message
            extract_all(Case(**{**vars(case), "section": bad.section}), directory)
        return
    result = got
    if bad.section is not None:
        result = extract_all(Case(**{**vars(case), "section": bad.section}), directory)
    assert bad.replaced is not None
    (ticket,) = [t for t in result.tickets.values() if t.origin == bad.replaced]
    texts = [ticket.title, ticket.description, *(c.body for c in ticket.comments)]
    assert any("\ufffd" in text for text in texts)
    assert any("U+FFFD" in w and bad.replaced in w for w in result.summary.warnings)


def check_resume(case: Case, directory: Path, page_size: int = 5) -> None:
    """Pages after the second page's checkpoint are exactly the third page on."""
    blobs = BlobStore(directory / "blobs")
    with opened(case, directory) as source:
        source.page_size = page_size  # every source pages by it
        pages = source.pages(None, blobs)
        try:
            first = [next(pages) for _ in range(3)]
        finally:
            pages.close()
    with opened(case, directory) as source:
        source.page_size = page_size
        pages = source.pages(first[1].checkpoint, blobs)
        try:
            again = next(pages)
        finally:
            pages.close()
    ids = [[t.source_id for t, _ in page.items] for page in first]
    assert all(len(p) == page_size for p in ids) and len({i for p in ids for i in p}) == 15
    assert [t.source_id for t, _ in again.items] == ids[2]


def check_ids(case: Case, got: Extraction, directory: Path) -> None:
    numbers = sorted(int(i) for i in got.tickets)
    chosen = IdSet.parse(f"{numbers[0]},{numbers[2]}-{numbers[4]},{numbers[-1]}")
    want = [str(n) for n in numbers if n in chosen]
    with opened(case, directory, ids=chosen) as source:
        assert source_ids(source, BlobStore(directory / "blobs")) == want
    assert len(want) == 5


def check_since(case: Case, got: Extraction, directory: Path) -> None:
    """Everything updated at or after T, and nothing without activity at or after T."""
    updated = sorted(t.updated for t in got.tickets.values() if t.updated)
    cut = parse_iso(updated[len(updated) // 2])
    assert cut is not None
    with opened(case, directory, since=cut) as source:
        chosen = set(source_ids(source, BlobStore(directory / "blobs")))
    must = {sid for sid, t in got.tickets.items() if (parse_iso(t.updated) or cut) >= cut}
    may = {sid for sid, t in got.tickets.items() if (activity(t) or cut) >= cut}
    assert must <= chosen <= may
    assert 0 < len(chosen) < len(got.tickets)


def check_projects(case: Case, got: Extraction, directory: Path) -> None:
    assert case.projects, "a case names at least one project (or one the source refuses)"
    for project in case.projects:
        if not project.yields:
            with (
                pytest.raises(ConfigError, match="--project"),
                opened(case, directory, project=project.name) as source,
            ):
                source_ids(source, BlobStore(directory / "blobs"))
            continue
        with opened(case, directory, project=project.name) as source:
            ids = source_ids(source, BlobStore(directory / "blobs"))
        assert {got.tickets[i].project for i in ids} <= project.yields
        assert len(ids) == (project.count if project.count is not None else len(got.tickets))


def check_wrong_credentials(case: Case, got: Extraction, directory: Path) -> None:
    """Through the CLI, into a staging that holds a complete extract: refused, untouched."""
    if case.wrong_credentials is None:
        pytest.skip(f"{case.name} has no credentials")
    config = write_config(got.staging_path.parent, case.wrong_credentials)
    before = staging_snapshot(got.staging_path)
    result = run(config, "extract")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and case.refusal in errors[0], result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert staging_snapshot(got.staging_path) == before


CHECKS: dict[str, Callable[..., None]] = {
    "counts": check_counts,
    "fields": check_fields,
    "attachments": check_attachments,
    "order": check_order,
    "links": check_links,
    "japanese": check_japanese,
}
# Checks that read the source again (in a directory of their own).
SOURCE_CHECKS: dict[str, Callable[..., None]] = {
    "bad_bytes": check_bad_bytes,
    "ids": check_ids,
    "since": check_since,
    "projects": check_projects,
    "wrong_credentials": check_wrong_credentials,
}
