"""The source's field-change history, written as short lists in the target's journals.

A target loaded over REST cannot replay the old tracker's field changes as its
own (Redmine takes each field once, through its own workflow), yet the history
is how a team reads what happened to a ticket: who accepted it, when its
milestone moved.  With ``history: {render: compact}`` the plan keeps that
record as text, under the source's field names and with the source's values,
because it documents the old tracker, not the new one.

The changes of one edit (same time, same author) travel together: appended to
the comment written in that edit when there is one, else as a journal of their
own.  Such a journal's key depends only on the ticket's history, never on the
field filter or on which edits carry comments, so every re-plan of the same
data yields the same keys and the loader creates nothing twice.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from migrator.mapping.provenance import attribution
from migrator.mapping.references import neutralize_mentions
from migrator.mapping.rules import Mapping
from migrator.model import Change, Ticket, parse_iso

# Fields holding running text: an edit is named, not shown twice in full.
TEXT_FIELDS = ("description",)
# A value longer than this, or on several lines, counts as running text too.
MAX_VALUE = 200
EMPTY = "(empty)"
# Where a source records the comment of an edit as a change, it is already a comment.
COMMENT_FIELDS = ("comment",)

UserMap = Callable[[str | None, str], str | None]


def change_line(change: Change, *, neutralize: bool = True) -> str:
    """One change as a list item: ``* status: new → assigned``."""
    old, new = change.old or "", change.new or ""
    if change.field in TEXT_FIELDS or any(_long(v) for v in (old, new)):
        return f"* {change.field}: changed"
    line = f"* {change.field}: {old.strip() or EMPTY} → {new.strip() or EMPTY}"
    # A login in an old value must notify nobody in the new tracker.
    return neutralize_mentions(line, {}) if neutralize else line


def with_history(
    mapping: Mapping, ticket: Ticket, comments: list[dict[str, Any]], user: UserMap
) -> list[dict[str, Any]]:
    """``comments`` (the payload comments of ``ticket.comments``, in that order) with the
    ticket's field changes merged in, in chronological order."""
    rule = mapping.history
    edits: dict[tuple[str, str], list[Change]] = {}
    for change in ticket.history:
        edits.setdefault((change.time, change.author), []).append(change)
    # The number in a journal's key: its author's place among everyone who edited
    # the ticket at that instant, counted before any filtering.
    authors_at: dict[str, list[str]] = {}
    for time, author in sorted(edits):
        authors_at.setdefault(time, []).append(author)

    merged = [dict(c) for c in comments]
    commented: dict[tuple[str, str], int] = {}
    # comments[n] was planned from ticket.comments[n]; zip checks that they pair up.
    for n, (source, _planned) in enumerate(zip(ticket.comments, comments, strict=True)):
        commented.setdefault((source.time, source.author), n)  # an edit's first comment

    journals: list[dict[str, Any]] = []
    for time, author in sorted(edits, key=lambda e: (_moment(e[0]), e)):
        lines = [
            change_line(ch, neutralize=mapping.neutralize_mentions)
            for ch in edits[(time, author)]
            if ch.field not in COMMENT_FIELDS and rule.shows(ch.field)
        ]
        if not lines:
            continue
        listing = "\n".join(lines)
        at = commented.get((time, author))
        if at is not None:
            merged[at]["body"] = f"{merged[at]['body']}\n\n{listing}"
            continue
        journals.append(
            {
                "key": f"{ticket.origin}/history/{time}/{authors_at[time].index(author)}",
                "author": user(author, "change author"),
                "time": time,
                "body": f"{attribution(None, author, time or None)}\n\n{listing}",
            }
        )
    # Comments keep the source's order (oldest first); on a tie the comment comes first.
    return list(heapq.merge(merged, journals, key=lambda c: _moment(c["time"])))


def _long(value: str) -> bool:
    return len(value) > MAX_VALUE or "\n" in value or "\r" in value


def _moment(iso_time: str | None) -> datetime:
    """Times sort as instants (``…00Z`` and ``…00.5Z`` do not sort as text); unknown first."""
    try:
        moment = parse_iso(iso_time or None)
    except ValueError:
        moment = None
    return moment or datetime.min.replace(tzinfo=UTC)
