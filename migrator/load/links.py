"""The second pass: relations and parents, once both ends exist in the target.

A link is stored on both of its tickets in the source (``blocks`` on one,
``blocked-by`` on the other); it is one object in the target.  Every link is
therefore normalised to a forward triple (from, kind, to) whose key is the
same from either side, and created once, from its ``from`` ticket, with the
same intent/look/create/record protocol as tickets and comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from migrator.errors import PermanentTargetError
from migrator.http import AmbiguousWriteError
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.trackers.protocols import Target

FORWARD = {"blocks", "precedes", "duplicates", "relates", "copied-to"}
INVERSE = {
    "blocked-by": "blocks",
    "follows": "precedes",
    "duplicated-by": "duplicates",
    "copied-from": "copied-to",
}
ls = s.load_state


@dataclass(frozen=True)
class PlannedLink:
    key: str
    kind: str  # "parent" or a forward relation kind
    source: str  # origin of the ticket the link is created from
    other: str  # origin of the other end (for a parent: the parent)


def planned_links(payload: dict[str, Any]) -> Iterator[PlannedLink]:
    origin = payload["origin"]
    for link in payload.get("links", []):
        kind, other = link["kind"], link["other"]
        if kind in INVERSE:
            kind, a, b = INVERSE[kind], other, origin
        elif kind in FORWARD:
            a, b = origin, other
        else:
            continue
        if kind == "relates" and a > b:
            a, b = b, a  # symmetric: one key whichever side names it
        yield PlannedLink(f"{a}/link/{kind}/{b}", kind, a, b)
    if payload.get("parent"):
        parent = payload["parent"]
        yield PlannedLink(f"{origin}/parent/{parent}", "parent", origin, parent)


@dataclass
class LinkSummary:
    created: int = 0
    found: int = 0
    waiting: int = 0  # an end is not loaded yet (a later batch)
    failed: int = 0
    unsupported: int = 0  # the target has no place for this kind of link


def link_pass(staging: Staging, target: Target, *, retry_failed: bool = False) -> LinkSummary:
    """Create every pending link whose two ends are loaded; the rest wait for a later load."""
    summary = LinkSummary()
    id_map = staging.id_map()
    with staging.begin() as conn:
        rows = conn.execute(
            select(ls.c.key, ls.c.state, ls.c.attempts, ls.c.ticket_origin)
            .where(ls.c.kind.in_(("link", "parent")), ls.c.state != "done")
            .order_by(ls.c.key)
        ).all()
    for key, state, attempts, source in rows:
        if state == "failed" and not retry_failed:
            continue
        kind, other = _parse(key, source)
        if not target.holds(kind):
            if state != "unsupported":
                with staging.begin() as conn:
                    reason = f"{target.describe()} cannot hold {kind!r} links"
                    conn.execute(
                        ls.update()
                        .where(ls.c.key == key)
                        .values(state="unsupported", last_error=reason)
                    )
            summary.unsupported += 1
            continue
        a, b = id_map.get(source), id_map.get(other)
        if a is None or b is None:
            summary.waiting += 1
            continue
        with staging.begin() as conn:
            conn.execute(
                ls.update().where(ls.c.key == key).values(state="in-flight", attempts=attempts + 1)
            )
        try:
            found = False
            if kind == "parent":
                target.set_parent(a, b)  # setting the same parent twice is harmless
            elif attempts > 0 and (kind, b) in target.links(a):
                found = True
            else:
                try:
                    target.add_link(a, kind, b)
                except AmbiguousWriteError:
                    if (kind, b) not in target.links(a):
                        raise
                    found = True
        except PermanentTargetError as exc:
            with staging.begin() as conn:
                conn.execute(
                    ls.update().where(ls.c.key == key).values(state="failed", last_error=str(exc))
                )
                Staging.event(conn, "failed", origin=key, detail={"error": str(exc)})
            summary.failed += 1
            continue
        with staging.begin() as conn:
            conn.execute(
                ls.update()
                .where(ls.c.key == key)
                .values(state="done", target_id=b, last_error=None)
            )
            Staging.event(conn, "link-done", origin=key, detail={"from": a, "to": b})
        summary.found += found
        summary.created += not found
    return summary


def _parse(key: str, source: str) -> tuple[str, str]:
    """(kind, other origin) from ``SOURCE/link/KIND/OTHER`` or ``SOURCE/parent/OTHER``."""
    rest = key[len(source) + 1 :]
    if rest.startswith("parent/"):
        return "parent", rest[len("parent/") :]
    _, kind, other = rest.split("/", 2)
    return kind, other
