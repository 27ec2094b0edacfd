"""What extract keeps between runs, in staging's ``meta`` table, as versioned JSON.

``extract.checkpoint``
    An extract in progress: the source and filters it runs with, the source's
    checkpoint after the last committed page, when its first attempt started
    and the newest activity it has committed.  Written in the same transaction
    as each page; removed when the extract completes.
``extract.cursor``
    After a complete extract: the newest source time seen (``updated``) and
    where the next incremental extract starts (``since``).

Why ``since`` is earlier than ``updated``: pages are read in id order, so a
ticket changed while the extract runs may be read before its change while a
later ticket is read after a change of its own; the newest time seen is then
later than the missed change.  Every change made after the extract started
has a source time at or after the source's clock at that start, which is at
least ``updated`` minus the run's duration (and at least the previous
cursor's ``updated``).  A few minutes more allow for transactions committed
after the time they stamp, and for times truncated to the second or minute.
Reading a ticket twice costs little: it keeps its content hash and counts as
unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.errors import StagingError
from migrator.model import iso, parse_iso
from migrator.trackers import IdSet

CHECKPOINT = "extract.checkpoint"
CURSOR = "extract.cursor"
VERSION = 1
MARGIN = timedelta(minutes=5)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_iso(value)
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _load(key: str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise StagingError(
            f"meta {key} is not JSON: {text[:80]!r}",
            remedy=f"delete the {key} row from the meta table, then run `migrator extract --full`",
        )
    if data.get("v") != VERSION:
        raise StagingError(
            f"meta {key} has format version {data.get('v')!r}; this migrator reads {VERSION}",
            remedy="use the migrator version that wrote it, or run `migrator extract --full`",
        )
    return data


@dataclass(frozen=True)
class Scope:
    """What one extract reads: everything, or what ``--since``/``--ids``/``--project`` select."""

    since: datetime | None = None
    ids: IdSet | None = None
    project: str | None = None

    @property
    def partial(self) -> bool:
        """Some tickets by id or project: says nothing about the others, so no cursor."""
        return self.ids is not None or self.project is not None

    def key(self) -> dict[str, str | None]:
        return {
            "since": iso(self.since),
            "ids": None if self.ids is None else str(self.ids),
            "project": self.project,
        }

    def describe(self) -> str:
        parts = []
        if self.since is not None:
            parts.append(f"updated since {iso(self.since)}")
        if self.project is not None:
            parts.append(f"project {self.project}")
        if self.ids is not None:
            parts.append(f"ids {self.ids}")
        return ", ".join(parts) or "every ticket"


@dataclass(frozen=True)
class Checkpoint:
    source: str | None  # None: written by a migrator that did not record it
    scope: dict[str, str | None]
    page: str  # the source's own checkpoint
    started: datetime  # this machine's clock, when the first attempt started
    max_seen: datetime | None
    tickets: int  # committed by every attempt so far

    def matches(self, source: str, scope: Scope) -> bool:
        return self.source in (None, source) and self.scope == scope.key()

    def describe_scope(self) -> str:
        parts = [f"{k} {v}" for k, v in sorted(self.scope.items()) if v]
        return ", ".join(parts) or "every ticket"

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "source": self.source,
                "scope": self.scope,
                "page": self.page,
                "started": iso(self.started),
                "max_seen": iso(self.max_seen),
                "tickets": self.tickets,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str, now: datetime) -> Checkpoint:
        if not text.startswith("{"):
            # The bare page checkpoint of earlier versions: an unfiltered extract.
            return cls(None, Scope().key(), text, now, None, 0)
        data = _load(CHECKPOINT, text)
        scope = data.get("scope")
        return cls(
            source=data.get("source"),
            scope=scope if isinstance(scope, dict) else {},
            page=str(data.get("page", "")),
            started=_time(data.get("started")) or now,
            max_seen=_time(data.get("max_seen")),
            tickets=int(data.get("tickets") or 0),
        )


@dataclass(frozen=True)
class Cursor:
    source: str
    updated: datetime  # the newest source time seen by complete extracts
    since: datetime  # where the next incremental extract starts

    def dumps(self) -> str:
        data = {"source": self.source, "updated": iso(self.updated), "since": iso(self.since)}
        return json.dumps({"v": VERSION, **data}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> Cursor:
        data = _load(CURSOR, text)
        updated = _time(data.get("updated"))
        if not isinstance(data.get("source"), str) or updated is None:
            raise StagingError(
                f"meta {CURSOR} lacks its source or updated time: {text[:120]!r}",
                remedy="run `migrator extract --full` to read everything and store a new cursor",
            )
        # A cursor holding only ``updated`` (the highest time seen) starts there, less the margin.
        since = _time(data.get("since")) or updated - MARGIN
        return cls(data["source"], updated, since)


def next_cursor(
    previous: Cursor | None,
    source: str,
    scope: Scope,
    *,
    started: datetime,
    finished: datetime,
    max_seen: datetime | None,
) -> Cursor | None:
    """The cursor after a complete extract, or None to leave the stored one as it is.

    A partial extract (ids, project) moves nothing; nor does one whose
    ``since`` is later than the stored cursor's (the changes in between were
    not read).  ``max_seen`` is capped at this machine's clock, so a ticket
    dated in the future cannot push the cursor past changes yet to come.
    """
    if scope.partial:
        return None
    same = previous if previous is not None and previous.source == source else None
    if scope.since is not None and same is not None and scope.since > same.since:
        return None
    floor = same.updated if same is not None else None
    seen = min(max_seen, finished) if max_seen is not None else None
    updated = max((t for t in (floor, seen) if t is not None), default=None)
    if updated is None:
        return None  # nothing seen, ever: the next extract reads everything
    starts = [t for t in (floor, seen - (finished - started) if seen else None) if t is not None]
    return Cursor(source, updated, max(starts) - MARGIN)
