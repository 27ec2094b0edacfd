"""References between tickets, rendered with the id map: at create time, and in a later pass.

The plan holds placeholders where a text refers to another ticket (see
:mod:`migrator.mapping.references`).  A ticket is created with every
reference the id map already knows (most references point back in time, to
tickets created before it); the others are shown as written, made inert.  Once
the tickets they name exist, possibly in a later batch, this pass edits the
description or the comment in place: the text ends as if every ticket had
existed from the start, and nobody is notified twice.

Each ticket with references has one ``refs`` row in ``load_state``: pending
until its texts are known to be final, waiting while a ticket they name is
not loaded yet, done when final.  Its ``seq`` holds how many of the named
tickets were loaded when the texts were last written, so a waiting ticket is
read again only when that number changes (a rollback sets it to -1: the
tickets it removed may come back under other numbers).  Every step is an idempotent edit,
recorded after it is made: a crash repeats at most one edit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from migrator.errors import PermanentTargetError
from migrator.mapping.references import (
    has_references,
    render_references,
    rendering_pattern,
)
from migrator.model import normalize_text
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now
from migrator.trackers.protocols import Target

ls = s.load_state
CHUNK = 200


def refs_key(origin: str) -> str:
    return f"{origin}/refs"


def has_refs(payload: Mapping[str, Any]) -> bool:
    return bool(payload.get("refs")) and (
        has_references(payload.get("description"))
        or any(has_references(c["body"]) for c in payload["comments"])
    )


class Renderer:
    """Placeholders of one ticket's texts rendered with a given id map."""

    def __init__(
        self,
        payload: Mapping[str, Any],
        id_map: Mapping[str, str],
        planned: Collection[str],
        target: Target,
    ):
        self.refs: list[dict[str, str]] = list(payload.get("refs") or ())
        self.id_map = id_map
        self.target = target
        origins = {r["origin"] for r in self.refs}
        self.resolved = sum(1 for o in origins if o in id_map)
        # Final: every ticket named is loaded, or will never be (it is not in the plan).
        self.final = all(o in id_map or o not in planned for o in origins)

    def resolve(self, origin: str) -> str | None:
        target_id = self.id_map.get(origin)
        return None if target_id is None else self.target.reference(target_id)

    def __call__(self, text: str) -> str:
        return render_references(text, self.refs, self.resolve, self.target.inert_reference)

    def pattern(self, text: str) -> re.Pattern[str]:
        """Every rendering of ``text`` the target may hold (for finding it after a crash)."""
        return rendering_pattern(
            normalize_text(text),
            self.refs,
            self.resolve,
            self.target.inert_reference,
            any_reference(self.target),
        )


def any_reference(target: Target) -> str:
    """A regex for any of the target's references, from how it writes one ("#\\d+")."""
    sample = "9081726354"
    return re.escape(target.reference(sample)).replace(sample, r"\d+")


def render_payload(payload: dict[str, Any], render: Renderer) -> dict[str, Any]:
    """The payload with its texts as they are written to the target now."""
    if not payload.get("refs"):
        return payload
    return {
        **payload,
        "description": render(payload["description"]),
        "comments": [{**c, "body": render(c["body"])} for c in payload["comments"]],
    }


def lookup(
    staging: Staging, plan_id: int, payload: Mapping[str, Any]
) -> tuple[dict[str, str], set[str]]:
    """The id map and the planned origins, for the tickets one payload names only."""
    origins = [r["origin"] for r in payload.get("refs") or ()]
    if not origins:
        return {}, set()
    pt = s.planned_tickets
    with staging.begin() as conn:
        ids = dict(
            conn.execute(
                select(ls.c.key, ls.c.target_id).where(
                    ls.c.key.in_(origins), ls.c.kind == "ticket", ls.c.state == "done"
                )
            ).all()
        )
        planned = set(
            conn.scalars(
                select(pt.c.origin).where(pt.c.plan_id == plan_id, pt.c.origin.in_(origins))
            )
        )
    return ids, planned


@dataclass
class ReferenceSummary:
    rewritten: int = 0  # tickets whose texts were edited by this pass
    checked: int = 0  # tickets read back and found final already
    waiting: int = 0  # tickets naming tickets not loaded yet
    failed: int = 0


def reference_pass(
    staging: Staging, target: Target, plan_id: int, *, retry_failed: bool = False
) -> ReferenceSummary:
    """Rewrite the texts of every loaded ticket whose references can now resolve further."""
    summary = ReferenceSummary()
    states = ("pending", "waiting", "failed") if retry_failed else ("pending", "waiting")
    with staging.begin() as conn:
        rows = conn.execute(
            select(ls.c.key, ls.c.ticket_origin, ls.c.state, ls.c.seq, ls.c.attempts)
            .where(ls.c.kind == "refs", ls.c.state.in_(states))
            .order_by(ls.c.key)
        ).all()
    if not rows:
        return summary
    id_map = staging.id_map()
    pt = s.planned_tickets
    with staging.begin() as conn:
        planned = set(conn.scalars(select(pt.c.origin).where(pt.c.plan_id == plan_id)))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        origins = [r.ticket_origin for r in chunk]
        with staging.begin() as conn:
            payloads = dict(
                conn.execute(
                    select(pt.c.origin, pt.c.payload).where(
                        pt.c.plan_id == plan_id, pt.c.origin.in_(origins)
                    )
                ).all()
            )
            unfinished = set(
                conn.scalars(
                    select(ls.c.ticket_origin).where(
                        ls.c.ticket_origin.in_(origins),
                        ls.c.kind.in_(("ticket", "comment")),
                        ls.c.state != "done",
                    )
                )
            )
        for row in chunk:
            origin = row.ticket_origin
            target_id = id_map.get(origin)
            payload = payloads.get(origin)
            if target_id is None or payload is None or origin in unfinished:
                continue  # its own load comes first
            render = Renderer(payload, id_map, planned, target)
            if row.state == "waiting" and row.seq == render.resolved:
                summary.waiting += 1  # nothing it names has been loaded since
                continue
            try:
                edited = _rewrite(target, target_id, payload, render)
            except PermanentTargetError as exc:
                _record(staging, row.key, "failed", row.seq, row.attempts, str(exc))
                summary.failed += 1
                continue
            state = "done" if render.final else "waiting"
            _record(staging, row.key, state, render.resolved, row.attempts, None)
            summary.rewritten += edited
            summary.checked += not edited
            summary.waiting += state == "waiting"
    return summary


def _rewrite(target: Target, target_id: str, payload: dict[str, Any], render: Renderer) -> bool:
    """Make the ticket's texts the current rendering; True if anything was edited."""
    texts = target.texts(target_id)
    edited = False
    if has_references(payload["description"]):
        want = render(payload["description"])
        if normalize_text(want) != normalize_text(texts.description):
            target.set_description(target_id, want)
            edited = True
    stored = list(texts.comments)
    for comment in payload["comments"]:
        body = comment["body"]
        pattern = render.pattern(body)
        index = next(
            (i for i, (_, got) in enumerate(stored) if pattern.fullmatch(normalize_text(got))),
            None,
        )
        if index is None:
            raise PermanentTargetError(
                f"comment {comment['key']} is not on ticket {target_id} as it was written",
                remedy="it was edited or deleted in the target; restore it, or accept the "
                "references in it as they are, then `migrator load --retry-failed`",
            )
        handle, got = stored.pop(index)
        if not has_references(body):
            continue
        want = render(body)
        if normalize_text(want) != normalize_text(got):
            target.edit_comment(target_id, handle, want)
            edited = True
    return edited


def _record(
    staging: Staging, key: str, state: str, resolved: int, attempts: int, error: str | None
) -> None:
    with staging.begin() as conn:
        conn.execute(
            ls.update()
            .where(ls.c.key == key)
            .values(
                state=state,
                seq=resolved,
                attempts=attempts + 1,
                last_error=error,
                updated_at=now(),
            )
        )
        if state == "done":
            Staging.event(conn, "refs-done", origin=key.removesuffix("/refs"))
