"""Throughput, ETA and the projected duration of what remains, for the master schedule.

Everything comes from staging: the requests each remaining ticket needs
(counted from its planned payload, per the target's known costs), and the
request rate the target actually sustained in earlier loads (the pilot).
Without a measured load, the target's configured rate limit is used, and
without that an assumed rate, said as such.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from migrator.load.links import planned_links
from migrator.mapping.references import later_references
from migrator.staging import Staging
from migrator.staging import schema as s

ASSUMED_RATE = 20.0  # requests/s: a single-threaded Redmine on a small server (docs/performance.md)


def requests_for(payload: dict[str, Any], planned: Collection[str] = ()) -> int:
    """Requests the Redmine target needs for a ticket: create, uploads, status, comments,
    links, and an edit per text naming a ticket of ``planned`` that is loaded after it."""
    n = 1 + len(payload.get("attachments", [])) + len(payload.get("comments", []))
    n += sum(later_references(payload, planned))
    n += payload.get("status") not in (None, "New")  # a second step unless the default status
    # A relation named on both of its tickets is created once, from its source.
    n += sum(1 for link in planned_links(payload) if link.source == payload.get("origin"))
    return n


@dataclass
class BatchEstimate:
    name: str
    tickets: int
    remaining_tickets: int
    remaining_requests: int
    seconds: float


@dataclass
class Estimate:
    remaining_tickets: int
    remaining_requests: int
    requests_per_ticket: float
    rate: float  # requests/s used for the projection
    rate_source: str  # "measured", "rate_limit" or "assumed"
    measured_tickets_per_second: float | None
    seconds: float
    batches: list[BatchEstimate] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"remaining: {self.remaining_tickets} tickets, {self.remaining_requests} requests "
            f"({self.requests_per_ticket:.1f} per ticket)",
            f"rate: {self.rate:.1f} requests/s ({self.rate_source})",
            f"projected: {_duration(self.seconds)}",
        ]
        for b in self.batches:
            out.append(
                f"  batch {b.name}: {b.remaining_tickets}/{b.tickets} tickets to go, "
                f"{_duration(b.seconds)}"
            )
        return out


def _duration(seconds: float) -> str:
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {sec:02d} s"


def measured_rate(staging: Staging) -> tuple[float | None, float | None]:
    """(requests/s, tickets/s) over the completed loads that did real work."""
    requests = tickets = 0
    seconds = 0.0
    for run in staging.runs("load", "done"):
        started, finished, summary = run.started_at, run.finished_at, run.summary
        if not summary or not summary.get("requests"):
            continue
        requests += summary["requests"]
        tickets += summary.get("tickets_created", 0) + summary.get("tickets_found", 0)
        seconds += summary.get("seconds") or _seconds(started, finished)
    if not requests or seconds <= 0:
        return None, None
    return requests / seconds, tickets / seconds


def _seconds(started: datetime, finished: datetime | None) -> float:
    return (finished - started).total_seconds() if finished else 0.0


def estimate(staging: Staging, rate_limit: float | None = None) -> Estimate:
    bt = s.batch_tickets
    plan = staging.latest_plan()
    done = set(staging.id_map())
    planned = staging.planned_origins(plan.id)
    with staging.begin() as conn:
        batch_of: dict[str, str] = {
            o: b for o, b in conn.execute(select(bt.c.origin, bt.c.batch)).all()
        }
        sizes: dict[str, int] = {
            b: int(n)
            for b, n in conn.execute(select(bt.c.batch, func.count()).group_by(bt.c.batch)).all()
        }
    per_batch: dict[str, list[int]] = {}
    remaining_tickets = remaining_requests = all_requests = 0
    for row in staging.iter_planned(plan.id):
        cost = requests_for(row.payload, planned)
        all_requests += cost
        if row.origin in done:
            continue
        remaining_tickets += 1
        remaining_requests += cost
        b = batch_of.get(row.origin, "(no batch)")
        acc = per_batch.setdefault(b, [0, 0])
        acc[0] += 1
        acc[1] += cost
    measured, tps = measured_rate(staging)
    if measured:
        rate, source = measured, "measured"
    elif rate_limit:
        rate, source = rate_limit, "rate_limit"
    else:
        rate, source = ASSUMED_RATE, "assumed"
    return Estimate(
        remaining_tickets=remaining_tickets,
        remaining_requests=remaining_requests,
        requests_per_ticket=all_requests / plan.tickets if plan.tickets else 0.0,
        rate=rate,
        rate_source=source,
        measured_tickets_per_second=tps,
        seconds=remaining_requests / rate,
        batches=[
            BatchEstimate(name, sizes.get(name, n), n, req, req / rate)
            for name, (n, req) in sorted(per_batch.items())
        ],
    )
