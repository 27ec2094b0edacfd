"""Staged batches: a pilot first, then the rest, each a named, reviewable selection.

A batch is fixed when it is created (the ticket list is stored), so "the
pilot" means the same tickets on every run and in every report, even after
more tickets are extracted.  A ticket belongs to one batch at most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from migrator.errors import ConfigError, StagingError
from migrator.selection import parse_where
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


@dataclass
class BatchInfo:
    name: str
    created_at: str
    selection: dict[str, Any]
    tickets: int
    states: dict[str, int]


def _read_ids(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"cannot read --ids file {path}: {exc.strerror}",
            remedy="give a text file with one ticket id or origin key per line",
        ) from None
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def create_batch(
    staging: Staging,
    name: str,
    *,
    where: str | None = None,
    ids_file: Path | None = None,
    limit: int | None = None,
) -> BatchInfo:
    """Select staged tickets not yet in any batch, in origin order, and store the batch."""
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"batch name {name!r} is not allowed",
            remedy="use letters, digits, '-', '_' or '.', e.g. pilot or wave-2",
        )
    predicate = parse_where(where) if where else None
    wanted = _read_ids(ids_file) if ids_file else None
    with staging.begin() as conn:
        if conn.scalar(select(s.batches.c.name).where(s.batches.c.name == name)):
            raise ConfigError(
                f"batch {name!r} already exists",
                remedy="pick another name, or `migrator rollback --batch NAME` and recreate it",
            )
        taken = set(conn.scalars(select(s.batch_tickets.c.origin)))
    matches: list[tuple[str, int, str, str]] = []
    found: set[str] = set()
    for ticket in staging.iter_tickets():
        if wanted is not None:
            key = ticket.origin if ticket.origin in wanted else ticket.source_id
            if key not in wanted:
                continue
            found.add(key)
        if ticket.origin in taken or (predicate and not predicate(ticket)):
            continue
        sid = ticket.source_id
        matches.append((ticket.project, int(sid) if sid.isdigit() else 0, sid, ticket.origin))
    # Ticket order as people read it (#2 before #12), so --limit takes the oldest first.
    chosen = [m[-1] for m in sorted(matches)][:limit]
    if wanted is not None and limit is None and wanted - found:
        missing = sorted(wanted - found)
        raise StagingError(
            f"{len(missing)} id(s) from {ids_file} are not in staging: {', '.join(missing[:10])}",
            remedy="check the ids (source ids or origin keys), or run `migrator extract` first",
        )
    if not chosen:
        raise StagingError(
            "the selection matches no ticket that is not already in a batch",
            remedy="check --where / --ids with `migrator batch list`, or extract first",
        )
    selection = {"where": where, "ids_file": str(ids_file) if ids_file else None, "limit": limit}
    with staging.begin() as conn:
        conn.execute(
            s.batches.insert().values(
                name=name, created_at=now(), selection=selection, tickets=len(chosen)
            )
        )
        conn.execute(s.batch_tickets.insert(), [{"origin": o, "batch": name} for o in chosen])
        Staging.event(conn, "batch-created", detail={"batch": name, "tickets": len(chosen)})
    return show_batch(staging, name)


def batch_origins(staging: Staging, name: str) -> set[str]:
    show_batch(staging, name)  # raises when unknown
    with staging.begin() as conn:
        return set(
            conn.scalars(select(s.batch_tickets.c.origin).where(s.batch_tickets.c.batch == name))
        )


def _states(conn: Any, name: str | None) -> dict[str, int]:
    ls, bt = s.load_state, s.batch_tickets
    q = select(ls.c.state, func.count()).where(ls.c.kind == "ticket")
    if name is not None:
        q = q.join(bt, bt.c.origin == ls.c.key).where(bt.c.batch == name)
    return {state: int(n) for state, n in conn.execute(q.group_by(ls.c.state))}


def show_batch(staging: Staging, name: str) -> BatchInfo:
    with staging.begin() as conn:
        row = conn.execute(select(s.batches).where(s.batches.c.name == name)).first()
        if row is None:
            known = list(conn.scalars(select(s.batches.c.name).order_by(s.batches.c.name)))
            raise ConfigError(
                f"no batch named {name!r}",
                remedy=f"known batches: {', '.join(known) or 'none'} "
                "(create one with `migrator batch create NAME`)",
            )
        states = _states(conn, name)
    states["pending"] = row.tickets - sum(v for k, v in states.items() if k != "pending")
    return BatchInfo(row.name, row.created_at.isoformat(), row.selection, row.tickets, states)


def list_batches(staging: Staging) -> list[BatchInfo]:
    with staging.begin() as conn:
        names = list(conn.scalars(select(s.batches.c.name).order_by(s.batches.c.created_at)))
    return [show_batch(staging, n) for n in names]
