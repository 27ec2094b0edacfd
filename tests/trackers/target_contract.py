"""The contract every Target passes, whatever the tracker.

A :class:`Case` describes one target on a server of its own (a real tracker,
or a double that holds requests to the vendor's API description): the
``[target]`` section that reaches it, names it has and names it lacks, the
custom fields it holds, and whether it can delete.  Each check below builds
the target through ``make_target`` as a migration would, writes tickets with
origins of its own, and asserts what the loader, crash recovery, the
reference pass, rollback and the verifier rely on:

* ``preflight`` passes; ``check_plan`` names what the target lacks and
  accepts what it has; ``describe`` never shows the secret; ``requests_sent``
  counts what was sent;
* a created ticket is found by its exact origin, from a new target object
  too (a rerun after a crash is a new process), and listed by ``marked``;
* it reads back as sent: the fields the verifier compares, custom fields,
  Japanese text, emoji and HTML-looking text; attachments by name and size,
  and the sha256 of the bytes the target serves is the sha256 of those sent;
* comments are listed in order with handles, identical bodies included;
  descriptions and comments are edited in place, under the same handle;
* every link kind the target ``holds`` is stored once however often it is
  added, and the others are refused with a remedy;
* ``retire_ticket`` frees the origin for a reload; ``delete_ticket`` removes
  the ticket, or is refused with a remedy where the case says the tracker
  cannot delete.

What a target cannot hold is asked of the target (``holds``) or declared by
the case, never decided here by the target's name.
``tests/trackers/test_target_contract.py`` runs it against every target.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from migrator.config import load_config
from migrator.errors import MigratorError
from migrator.model import normalize_text
from migrator.staging.blobs import BlobStore
from migrator.trackers import make_target
from migrator.trackers.protocols import Target
from migrator.verify.verifier import COMPARED

LINK_KINDS = ("parent", "relates", "blocks", "duplicates")

# Texts that must come back as written: Japanese (with a decomposed kana and
# half-width katakana), emoji, and text a careless target would take for HTML.
SUBJECT = 'ログイン画面でエラーが発生する 🐛 <b>太字</b> &amp; "引用" #12'
DESCRIPTION = "\n".join(
    [
        "_Migrated from {origin} · originally by tanaka on 2016-03-01 12:34 UTC_",
        "",
        "再現手順：ユーザー名に「山田　太郎」を入力し、ログインを押す。😀👍🏽",
        "<script>alert('x')</script> <!-- not a comment --> &lt;b&gt; <b>bold</b> 1 < 2 > 0",
        "半角ｶﾀｶﾅ、全角＃１２、濁点か\u3099、𠮷野家、① ～ ‖",
        "    indented code line",
        "last line",
    ]
)
FILES = {
    "報告書（最終版）.txt": "日本語のテキスト\r\nShift_JISではない\n".encode(),
    "dump.bin": bytes(range(256)) * 3 + b"\x00\xff\xfe",
}
COMMENTS = ("最初のコメント 🙂", "二つ目 <i>HTML?</i>", "最初のコメント 🙂")


@dataclass
class Case:
    name: str
    section: dict[str, Any]  # [target], secrets as references into env
    values: dict[str, Any]  # project, tracker, status, priority, author, assignee it has
    lacks: dict[str, str]  # name kind -> a name of that kind the target does not have
    deletes: bool  # whether delete_ticket removes tickets (else: refused with a remedy)
    secret: str  # must never appear in describe()
    custom_fields: dict[str, str] = field(default_factory=dict)  # that it holds
    env: dict[str, str] = field(default_factory=dict)
    # Problems the server saw (a double's violations), checked after every check.
    problems: Callable[[], list[str]] = list

    @property
    def names(self) -> dict[str, set[str]]:
        """Every name a plan of this case's payloads uses, as ``check_plan`` takes them."""
        v = self.values
        names = {
            "project": {v["project"]},
            "tracker": {v["tracker"]},
            "status": {v["status"]},
            "priority": {v["priority"]},
            "user": {v["author"], v["assignee"]},
        }
        if self.custom_fields:
            names["custom_field"] = set(self.custom_fields)
        return names


class Run:
    """One check's view of a case: a working directory, a target and its blob store."""

    def __init__(self, case: Case, directory: Path, check: str):
        self.case = case
        self.directory = directory
        self.prefix = f"contract:{case.name}-{os.getpid()}#{check}"
        self.config = write_config(directory, case.section)
        self.blobs = BlobStore(load_config(self.config).blobs_dir)
        self._count = 0

    @contextmanager
    def target(self) -> Iterator[Target]:
        """A new target object, as a new process (a rerun after a crash) would make it."""
        target = make_target(load_config(self.config))
        try:
            yield target
        finally:
            target.close()

    def origin(self) -> str:
        self._count += 1
        return f"{self.prefix}-{self._count}"

    def payload(
        self, origin: str | None = None, files: dict[str, bytes] | None = None
    ) -> dict[str, Any]:
        """A payload in the shape the plan writes (``mapping.engine.apply``)."""
        origin = origin or self.origin()
        attachments = []
        for i, (name, data) in enumerate((files or {}).items()):
            sha, size = self.blobs.put_bytes(data)
            attachments.append(
                {
                    "key": f"{origin}/attachment/{i}",
                    "name": name,
                    "sha256": sha,
                    "size": size,
                    "content_type": "application/octet-stream",
                    "description": "originally by tanaka on 2016-03-01 12:34 UTC",
                }
            )
        v = self.case.values
        return {
            "origin": origin,
            "project": v["project"],
            "tracker": v["tracker"],
            "status": v["status"],
            "priority": v["priority"],
            "subject": SUBJECT,
            "description": DESCRIPTION.format(origin=origin),
            "created": "2016-03-01T12:34:56Z",
            "author": v["author"],
            "assignee": v["assignee"],
            "watchers": [],
            "custom_fields": dict(self.case.custom_fields),
            "attachments": attachments,
            "comments": [],
            "links": [],
        }


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    raise TypeError(f"no TOML for {value!r}")


def write_config(directory: Path, section: dict[str, Any]) -> Path:
    """A migration.toml whose ``[target]`` is ``section`` (the source is never read)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "[source]",
        'type = "csv"',
        'file = "unused.csv"',
        "",
        "[target]",
        *(f"{k} = {toml_value(v)}" for k, v in section.items()),
        "",
        "[mapping]",
        'file = "mapping.yaml"',
        "",
    ]
    path = directory / "migration.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def assert_refused(action: Callable[[], object], what: str) -> MigratorError:
    """``action`` raises a typed error that says how to go on."""
    with pytest.raises(MigratorError) as exc:
        action()
    assert exc.value.remedy, f"{what}: {exc.value} has no remedy"
    return exc.value


def marked_as(target: Target, case: Case, target_id: str) -> list[str]:
    return [o for t, o in target.marked({case.values["project"]}) if t == target_id]


# ---------------------------------------------------------------- the checks


def check_preflight(run: Run) -> None:
    case = run.case
    with run.target() as target:
        assert case.secret not in target.describe()
        sent = target.requests_sent
        target.preflight()
        target.preflight()  # once is enough; again is harmless
        assert target.requests_sent > sent, "preflight reached the server: requests_sent counts it"
        assert case.secret not in target.describe()
        assert target.check_plan(case.names) == []
        assert case.lacks, "a case names something its target lacks"
        for kind, missing in case.lacks.items():
            names = {**case.names, kind: case.names.get(kind, set()) | {missing}}
            problems = target.check_plan(names)
            assert len(problems) == 1 and missing in problems[0], (kind, missing, problems)
        sent = target.requests_sent
        assert target.find_by_origin(f"{run.prefix}-never-created") is None
        assert target.requests_sent > sent


def check_create_and_find(run: Run) -> None:
    case = run.case
    first = run.origin()
    longer = f"{first}0"  # "#1" must not find "#10", nor "#10" "#1"
    with run.target() as target:
        a = target.create_ticket(run.payload(first))
        b = target.create_ticket(run.payload(longer))
        assert a != b
        assert target.find_by_origin(first) == a
        assert target.find_by_origin(longer) == b
        assert target.find_by_origin(first[:-1]) is None
        assert target.find_by_origin(f"{run.prefix}-unknown") is None
    with run.target() as again:
        assert again.find_by_origin(first) == a
        assert again.find_by_origin(longer) == b
        assert marked_as(again, case, a) == [first]
        assert marked_as(again, case, b) == [longer]
        assert again.ticket_url(a) != again.ticket_url(b)


def check_read_back(run: Run) -> None:
    payload = run.payload()
    with run.target() as target:
        tid = target.create_ticket(payload)
        back = target.read_back(tid)
    assert back.target_id == tid
    assert back.origin == payload["origin"]
    assert back.fields["subject"] == SUBJECT  # byte for byte
    # Line endings and outer blanks are rendering (Redmine stores CRLF); every
    # character in between must be the one sent.
    assert normalize_text(back.fields["description"]) == payload["description"]
    for name in COMPARED:
        if name in back.fields:
            want, got = payload[name], back.fields[name]
            assert normalize_text(got) == normalize_text(want), (name, got, want)
    assert back.fields.get("custom_fields", {}) == run.case.custom_fields
    assert back.comments == [] and back.attachments == []


def check_attachments(run: Run) -> None:
    payload = run.payload(files=FILES)
    with run.target() as target:
        tid = target.create_ticket(payload)
        sent = sorted((a["name"], a["size"]) for a in payload["attachments"])
        back = target.read_back(tid)
        assert sorted((f["name"], f["size"]) for f in back.attachments) == sent
        for f in back.attachments:
            data = FILES[f["name"]]
            assert target.attachment_sha256(f["url"]) == hashlib.sha256(data).hexdigest()
        # Crash recovery completes a ticket found by origin: a complete one gains nothing.
        target.reconcile(tid, payload)
        # Rewriting references sets the description: the files and the marker stay.
        target.set_description(tid, "新しい説明")
    with run.target() as again:
        back = again.read_back(tid)
        assert sorted((f["name"], f["size"]) for f in back.attachments) == sent
        assert back.fields["status"] == payload["status"]
        assert normalize_text(back.fields["description"]) == "新しい説明"
        assert again.find_by_origin(payload["origin"]) == tid


def check_comments(run: Run) -> None:
    payload = run.payload()
    author = run.case.values["author"]
    with run.target() as target:
        tid = target.create_ticket(payload)
        for i, body in enumerate(COMMENTS):
            target.add_comment(
                tid, {"key": f"{payload['origin']}/comment/{i}", "author": author, "body": body}
            )
        texts = target.texts(tid)
        assert normalize_text(texts.description) == payload["description"]
        assert [normalize_text(body) for _, body in texts.comments] == list(COMMENTS)
        handles = [handle for handle, _ in texts.comments]
        assert len(set(handles)) == len(COMMENTS), handles
        back = target.read_back(tid)
        assert [normalize_text(c) for c in back.comments] == list(COMMENTS)
        # A comment does not move the ticket's status (the verifier compares it).
        assert back.fields["status"] == payload["status"]


def check_texts_edited_in_place(run: Run) -> None:
    with run.target() as target:
        a = target.create_ticket(run.payload())
        b = target.create_ticket(run.payload())
        ref_a, ref_b = target.reference(a), target.reference(b)
        assert a in ref_a and b in ref_b and ref_a != ref_b
        inert = target.inert_reference("#12")
        assert inert != target.reference("12")
        assert target.inert_reference("#12") == inert  # a function of what was written
        waiting = f"{COMMENTS[0]} see {inert}"
        target.add_comment(b, {"key": "k0", "author": None, "body": waiting})
        target.add_comment(b, {"key": "k1", "author": None, "body": COMMENTS[1]})
        before = target.texts(b)
        assert [normalize_text(t) for _, t in before.comments] == [waiting, COMMENTS[1]]
        handle = before.comments[0][0]
        target.edit_comment(b, handle, f"{COMMENTS[0]} see {ref_a}")
        target.set_description(b, f"説明 names {ref_a}")
    with run.target() as again:
        after = again.texts(b)
        assert [(h, normalize_text(t)) for h, t in after.comments] == [
            (handle, f"{COMMENTS[0]} see {ref_a}"),
            (before.comments[1][0], COMMENTS[1]),
        ]
        assert normalize_text(after.description) == f"説明 names {ref_a}"
        back = again.read_back(b)
        assert normalize_text(back.fields["description"]) == f"説明 names {ref_a}"
        assert [normalize_text(c) for c in back.comments] == [
            f"{COMMENTS[0]} see {ref_a}",
            COMMENTS[1],
        ]
        assert again.find_by_origin(back.origin or "") == b


def check_links(run: Run) -> None:
    with run.target() as target:
        held = [kind for kind in LINK_KINDS if target.holds(kind)]
        assert held, "a target holds at least one kind of link"
        a = target.create_ticket(run.payload())
        # One other ticket per kind: some trackers keep one relation per pair of tickets.
        other = {kind: target.create_ticket(run.payload()) for kind in LINK_KINDS}
        relations = {(kind, other[kind]) for kind in held if kind != "parent"}
        for _ in range(2):  # the second pass may ask twice: still one link
            for kind in held:
                if kind == "parent":
                    target.set_parent(other[kind], a)
                else:
                    target.add_link(a, kind, other[kind])
        for kind in LINK_KINDS:
            if kind in held:
                continue
            if kind == "parent":
                assert_refused(lambda: target.set_parent(other["parent"], a), "parent")
            else:
                assert_refused(lambda k=kind: target.add_link(a, k, other[k]), kind)
    with run.target() as again:
        assert again.links(a) == relations
        back = again.read_back(a)
        assert back.fields["links"] == sorted(f"{kind} {to}" for kind, to in relations)
        for kind in LINK_KINDS:
            # Forward relations only: the other end is the source of none.
            assert again.links(other[kind]) == set()
        child = again.read_back(other["parent"])
        assert child.fields.get("parent") == (a if "parent" in held else None)


def check_retire(run: Run) -> None:
    case = run.case
    payload = run.payload()
    origin = payload["origin"]
    with run.target() as target:
        tid = target.create_ticket(payload)
        target.retire_ticket(tid, origin)
        assert target.find_by_origin(origin) is None
    with run.target() as again:
        assert again.find_by_origin(origin) is None
        assert origin not in marked_as(again, case, tid)
        assert again.read_back(tid).origin != origin
        # The origin is free: a reload creates the ticket again.
        reloaded = again.create_ticket(payload)
        assert reloaded != tid
        assert again.find_by_origin(origin) == reloaded


def check_delete(run: Run) -> None:
    case = run.case
    payload = run.payload()
    origin = payload["origin"]
    with run.target() as target:
        tid = target.create_ticket(payload)
        if not case.deletes:
            error = assert_refused(lambda: target.delete_ticket(tid), "delete")
            assert tid in str(error)
            assert target.find_by_origin(origin) == tid  # nothing was removed
            return
        target.delete_ticket(tid)
        target.delete_ticket(tid)  # already gone is fine
    with run.target() as again:
        assert again.find_by_origin(origin) is None
        assert marked_as(again, case, tid) == []


CHECKS: dict[str, Callable[[Run], None]] = {
    "preflight": check_preflight,
    "create_and_find": check_create_and_find,
    "read_back": check_read_back,
    "attachments": check_attachments,
    "comments": check_comments,
    "texts_edited_in_place": check_texts_edited_in_place,
    "links": check_links,
    "retire": check_retire,
    "delete": check_delete,
}
