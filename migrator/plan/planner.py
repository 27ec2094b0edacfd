"""Dry run: apply the mapping to every staged ticket and store the payloads.

A plan is written in one transaction: when any value is unmapped, nothing is
stored and the user gets the complete list (value, count, an example ticket)
to take back to the teams, instead of a half-made plan.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from migrator.errors import PlanError
from migrator.mapping import Mapping, Planned, apply, load_mapping
from migrator.mapping.engine import field_value, present_fields
from migrator.model import Ticket
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import chunks, now, payload_hash

CHUNK = 200  # tickets per unit of work sent to a planning process
PARALLEL_FROM = 2000  # below this, starting processes costs more than it saves


class UnmappedValuesError(PlanError):
    def __init__(self, unmapped: list[tuple[str, str, int, str]], mapping: Mapping):
        self.unmapped = unmapped
        super().__init__(
            f"{len(unmapped)} source value(s) have no mapping",
            where=str(mapping.path),
            remedy="add them to the mapping (a map entry, a rule or a default) and run "
            "`migrator plan` again",
        )

    def __str__(self) -> str:
        lines = [super().__str__()]
        for fld, value, count, example in self.unmapped:
            lines.append(f"  {fld}: {value or '(empty)'!r} — {count} ticket(s), e.g. {example}")
        return "\n".join(lines)


@dataclass
class PlanSummary:
    plan_id: int
    tickets: int
    comments: int
    digest: str
    mapping_digest: str
    warnings: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)  # target names the plan uses

    def line(self) -> str:
        return (
            f"plan {self.plan_id}: {self.tickets} tickets, {self.comments} comments, "
            f"{sum(self.warnings.values())} warnings, digest {self.digest[:12]}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets,
            "comments": self.comments,
            "warnings": self.warnings,
            "dropped": self.dropped,
            "values": self.values,
            "names": self.names,
        }


def _warning_kind(text: str) -> str:
    return text.split(":", 1)[0]


@dataclass
class _Result:
    """One ticket planned, with what the summary needs from its source."""

    origin: str
    planned: Planned
    not_accounted: set[str]
    sources: dict[str, str]  # target field -> source value label


def _plan_one(mapping: Mapping, ticket: Ticket) -> _Result:
    accounted = mapping.accounted_fields()
    return _Result(
        origin=ticket.origin,
        planned=apply(mapping, ticket),
        not_accounted=present_fields(ticket) - accounted,
        sources={
            tfield: (field_value(ticket, vm.source) if vm.source else None) or "(empty)"
            for tfield, vm in mapping.values.items()
        },
    )


# Each worker process loads the mapping itself (a hook module cannot be pickled).
_worker_mapping: Mapping | None = None


def _init_worker(path: str, digest: str) -> None:
    global _worker_mapping
    _worker_mapping = load_mapping(Path(path))
    if _worker_mapping.digest != digest:
        raise PlanError("the mapping changed while planning", remedy="run `migrator plan` again")


def _plan_chunk(chunk: list[dict[str, Any]]) -> list[_Result]:
    assert _worker_mapping is not None
    return [_plan_one(_worker_mapping, Ticket.from_dict(t)) for t in chunk]


def _results(staging: Staging, mapping: Mapping, workers: int) -> Iterator[_Result]:
    """Planned tickets in origin order; CPU-bound work spread over processes when it pays."""
    if workers <= 1 or staging.count_tickets() < PARALLEL_FROM:
        for ticket in staging.iter_tickets():
            yield _plan_one(mapping, ticket)
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(mapping.path), mapping.digest),
    ) as pool:
        # A bounded window of chunks in flight keeps memory flat and the order stable.
        pending: deque[Future[list[_Result]]] = deque()
        for chunk in chunks(staging.iter_canonical(), CHUNK):
            pending.append(pool.submit(_plan_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def plan(
    staging: Staging, mapping: Mapping, progress: Progress, *, workers: int | None = None
) -> PlanSummary:
    """Plan every staged ticket; ``workers`` processes (default: one per core) share the work."""
    unmapped: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    warnings: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    values: dict[str, Counter[str]] = {}
    names: dict[str, set[str]] = {"project": set(), "user": set()}
    statuses: dict[str, str | None] = {}  # origin -> planned status, for the parent rule
    parents: dict[str, str] = {}  # child origin -> parent origin
    referenced: set[str] = set()  # origins the texts refer to
    digest = hashlib.sha256()
    tickets = comments = 0
    progress.start("plan", staging.count_tickets())
    run_id = staging.start_run("plan")
    try:
        with staging.begin() as conn:
            plan_id = conn.execute(
                s.plans.insert().values(
                    created_at=now(),
                    mapping_path=str(mapping.path),
                    mapping_digest=mapping.digest,
                    digest="",
                    tickets=0,
                    summary={},
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            batch: list[dict[str, Any]] = []
            for result in _results(staging, mapping, workers or os.cpu_count() or 1):
                planned, origin = result.planned, result.origin
                for key in planned.unmapped:
                    unmapped[key] += 1
                    examples.setdefault(key, origin)
                for kind in {_warning_kind(w) for w in planned.warnings}:
                    warnings[kind] += 1  # tickets with this kind of warning
                for name in result.not_accounted:
                    dropped[name] += 1
                for tfield, src in result.sources.items():
                    values.setdefault(tfield, Counter())[f"{src} -> {planned.payload[tfield]}"] += 1
                _collect_names(names, planned.payload, mapping)
                statuses[origin] = planned.payload.get("status")
                if planned.payload.get("parent"):
                    parents[origin] = planned.payload["parent"]
                referenced.update(ref["origin"] for ref in planned.payload.get("refs", ()))
                phash = payload_hash(planned.payload)
                tickets += 1
                comments += len(planned.payload["comments"])
                batch.append(
                    dict(
                        plan_id=plan_id,
                        origin=origin,
                        payload=planned.payload,
                        payload_hash=phash,
                        warnings=planned.warnings,
                    )
                )
                if len(batch) >= 500:
                    conn.execute(s.planned_tickets.insert(), batch)
                    batch.clear()
                progress.advance()
            if batch:
                conn.execute(s.planned_tickets.insert(), batch)
                batch.clear()
            if parents:
                _untangle_parents(conn, int(plan_id), parents, statuses, mapping, warnings)
            missing = referenced - statuses.keys()
            if missing:
                _dangling_references(conn, int(plan_id), missing, warnings)
            if unmapped:
                # Raising inside the transaction rolls the whole plan back.
                raise UnmappedValuesError(
                    [(f, v, n, examples[(f, v)]) for (f, v), n in sorted(unmapped.items())],
                    mapping,
                )
            # The digest covers the final payloads, in origin order.  Streamed (a server-side
            # cursor on PostgreSQL), so memory does not grow with the plan.
            for o, h in conn.execute(
                select(s.planned_tickets.c.origin, s.planned_tickets.c.payload_hash)
                .where(s.planned_tickets.c.plan_id == plan_id)
                .order_by(s.planned_tickets.c.origin)
                .execution_options(yield_per=5000)
            ):
                digest.update(f"{o}\0{h}\n".encode())
            summary = PlanSummary(
                plan_id=int(plan_id),
                tickets=tickets,
                comments=comments,
                digest=digest.hexdigest(),
                mapping_digest=mapping.digest,
                warnings=dict(sorted(warnings.items())),
                dropped=dict(sorted(dropped.items())),
                values={k: dict(sorted(v.items())) for k, v in values.items()},
                names={k: sorted(v) for k, v in names.items()},
            )
            conn.execute(
                s.plans.update()
                .where(s.plans.c.id == plan_id)
                .values(digest=summary.digest, tickets=tickets, summary=summary.as_dict())
            )
            Staging.event(conn, "plan", detail={"plan_id": int(plan_id), "tickets": tickets})
    except BaseException:
        staging.finish_run(run_id, "failed", {"tickets": tickets})
        raise
    finally:
        progress.finish()
    staging.finish_run(run_id, "done", {"plan_id": summary.plan_id, "tickets": tickets})
    return summary


def _untangle_parents(
    conn: Any,
    plan_id: int,
    parents: dict[str, str],
    statuses: dict[str, str | None],
    mapping: Mapping,
    warnings: Counter[str],
) -> None:
    """An open ticket cannot sit under a closed parent in the target (Redmine refuses it).

    Keep both statuses, and keep the link as a ``relates`` relation plus a line
    in the text, rather than silently reopening the parent or losing the link.
    """
    closed = set(mapping.closed_statuses)
    pt = s.planned_tickets
    for child, parent in sorted(parents.items()):
        if statuses.get(parent) not in closed or statuses.get(child) in closed:
            continue
        row = conn.execute(
            select(pt.c.payload, pt.c.warnings).where(pt.c.plan_id == plan_id, pt.c.origin == child)
        ).one()
        payload, notes = dict(row.payload), list(row.warnings)
        del payload["parent"]
        payload["links"] = [*payload.get("links", []), {"kind": "relates", "other": parent}]
        payload["description"] += f"\n\nParent in the old tracker: {parent} (closed there)."
        notes.append(
            f"parent-closed: parent {parent} is {statuses[parent]} and this ticket is open; "
            "linked as related instead"
        )
        warnings["parent-closed"] += 1
        conn.execute(
            pt.update()
            .where(pt.c.plan_id == plan_id, pt.c.origin == child)
            .values(payload=payload, payload_hash=payload_hash(payload), warnings=notes)
        )


def _dangling_references(
    conn: Any, plan_id: int, missing: set[str], warnings: Counter[str]
) -> None:
    """References to tickets that are not in the plan stay as written: say so, per ticket.

    Rare enough (a partial extract, a deleted ticket) to look for them with a second
    read of the plan rather than hold every reference in memory during the first.
    """
    pt = s.planned_tickets
    last = ""
    while True:
        rows = conn.execute(
            select(pt.c.origin, pt.c.payload, pt.c.warnings)
            .where(pt.c.plan_id == plan_id, pt.c.origin > last)
            .order_by(pt.c.origin)
            .limit(500)
        ).all()
        if not rows:
            return
        last = rows[-1].origin
        for row in rows:
            notes = [
                f"unresolved-ticket: {ref['text']} ({ref['origin']} is not in staging; "
                "kept as written)"
                for ref in row.payload.get("refs", ())
                if ref["origin"] in missing
            ]
            if not notes:
                continue
            warnings["unresolved-ticket"] += 1
            conn.execute(
                pt.update()
                .where(pt.c.plan_id == plan_id, pt.c.origin == row.origin)
                .values(warnings=[*row.warnings, *notes])
            )


def _collect_names(names: dict[str, set[str]], payload: dict[str, Any], mapping: Mapping) -> None:
    names["project"].add(payload["project"])
    for tfield in mapping.values:
        if payload.get(tfield):
            names.setdefault(tfield, set()).add(payload[tfield])
    if payload.get("custom_fields"):
        names.setdefault("custom_field", set()).update(payload["custom_fields"])
    people = [payload.get("author"), payload.get("assignee"), *payload.get("watchers", [])]
    people += [c.get("author") for c in payload["comments"]]
    names["user"].update(p for p in people if p)
