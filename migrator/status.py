"""Where the migration stands, from staging alone (no tracker is contacted)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from migrator.staging import Staging
from migrator.staging import schema as s


def status(staging: Staging) -> dict[str, Any]:
    v = s.verifications
    counts = staging.state_counts()
    tickets = counts.get("ticket", {})
    comments = counts.get("comment", {})
    refs = counts.get("refs", {})
    with staging.begin() as conn:
        plan = conn.execute(select(s.plans).order_by(s.plans.c.id.desc()).limit(1)).first()
        planned = plan.tickets if plan else 0
        verified = conn.scalar(select(func.count()).select_from(v).where(v.c.ok.is_(True)))
        mismatched = conn.scalar(select(func.count()).select_from(v).where(v.c.ok.is_(False)))
    return {
        "tickets_extracted": staging.count_tickets(),
        "tickets_planned": planned,
        "tickets_loaded": tickets.get("done", 0),
        "tickets_verified": int(verified or 0),
        "tickets_mismatched": int(mismatched or 0),
        "tickets_failed": tickets.get("failed", 0),
        "tickets_in_flight": tickets.get("in-flight", 0),
        "tickets_pending": tickets.get("pending", 0) + max(0, planned - sum(tickets.values())),
        "comments_loaded": comments.get("done", 0),
        "comments_failed": comments.get("failed", 0),
        # Tickets whose texts name tickets not loaded yet (a later batch rewrites them).
        "references_waiting": sum(n for state, n in refs.items() if state != "done"),
        "plan_id": plan.id if plan else None,
        "plan_digest": plan.digest if plan else None,
        "mapping_digest": plan.mapping_digest if plan else None,
        "failures": [
            {"key": f.key, "error": f.last_error}
            for f in sorted(staging.failures(), key=lambda f: str(f.key))
        ],
        "batches": _batches(staging),
        **_pace(staging, tickets.get("pending", 0) + max(0, planned - sum(tickets.values()))),
    }


def _batches(staging: Staging) -> list[dict[str, Any]]:
    from migrator.load.batches import list_batches

    return [
        {
            "name": b.name,
            "tickets": b.tickets,
            "pending": b.states.get("pending", 0),
            "in_flight": b.states.get("in-flight", 0),
            "done": b.states.get("done", 0),
            "failed": b.states.get("failed", 0),
        }
        for b in list_batches(staging)
    ]


def _pace(staging: Staging, pending: int) -> dict[str, Any]:
    """Throughput of past loads and the time the pending tickets would take at that pace."""
    from migrator.estimate import measured_rate

    requests_per_s, tickets_per_s = measured_rate(staging)
    return {
        "throughput_tickets_per_s": round(tickets_per_s, 2) if tickets_per_s else None,
        "throughput_requests_per_s": round(requests_per_s, 2) if requests_per_s else None,
        "eta_seconds": round(pending / tickets_per_s) if tickets_per_s and pending else None,
    }


def status_lines(data: dict[str, Any]) -> list[str]:
    lines = [
        f"tickets: {data['tickets_extracted']} extracted, {data['tickets_planned']} planned, "
        f"{data['tickets_loaded']} loaded, {data['tickets_verified']} verified, "
        f"{data['tickets_failed']} failed, {data['tickets_mismatched']} differ",
        f"comments: {data['comments_loaded']} loaded, {data['comments_failed']} failed",
    ]
    if data.get("references_waiting"):
        lines.append(
            f"references: {data['references_waiting']} tickets name tickets not loaded yet; "
            "the load that brings those rewrites their texts"
        )
    if data["plan_id"]:
        lines.append(f"plan {data['plan_id']}: digest {data['plan_digest'][:12]}")
    for b in data["batches"]:
        lines.append(
            f"batch {b['name']}: {b['tickets']} tickets — {b['done']} done, {b['pending']} "
            f"pending, {b['in_flight']} in flight, {b['failed']} failed"
        )
    if data["throughput_tickets_per_s"]:
        eta = data["eta_seconds"]
        lines.append(
            f"throughput: {data['throughput_tickets_per_s']} tickets/s"
            + (f"; the pending tickets need about {eta // 60} min {eta % 60} s" if eta else "")
        )
    for f in data["failures"]:
        lines.append(f"failed {f['key']}: {f['error']}")
    return lines
