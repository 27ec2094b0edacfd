"""Dry run: apply the mapping to every staged ticket and store the payloads.

A plan is written in one transaction: when any value is unmapped, nothing is
stored and the user gets the complete list (value, count, an example ticket)
to take back to the teams, instead of a half-made plan.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from migrator.errors import PlanError
from migrator.mapping import Mapping, apply
from migrator.mapping.engine import field_value, present_fields
from migrator.progress import Progress
from migrator.staging import Staging
from migrator.staging import schema as s
from migrator.staging.store import now, payload_hash


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


def plan(staging: Staging, mapping: Mapping, progress: Progress) -> PlanSummary:
    unmapped: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    warnings: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    values: dict[str, Counter[str]] = {}
    names: dict[str, set[str]] = {"project": set(), "user": set()}
    accounted = mapping.accounted_fields()
    digest = hashlib.sha256()
    tickets = comments = 0
    progress.start("plan", staging.count_tickets())
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
            for ticket in staging.iter_tickets():
                planned = apply(mapping, ticket)
                for key in planned.unmapped:
                    unmapped[key] += 1
                    examples.setdefault(key, ticket.origin)
                for kind in {_warning_kind(w) for w in planned.warnings}:
                    warnings[kind] += 1  # tickets with this kind of warning
                for name in present_fields(ticket) - accounted:
                    dropped[name] += 1
                for tfield, vm in mapping.values.items():
                    src = (field_value(ticket, vm.source) if vm.source else None) or "(empty)"
                    pair = f"{src} -> {planned.payload[tfield]}"
                    values.setdefault(tfield, Counter())[pair] += 1
                _collect_names(names, planned.payload, mapping)
                phash = payload_hash(planned.payload)
                digest.update(f"{ticket.origin}\0{phash}\n".encode())
                tickets += 1
                comments += len(planned.payload["comments"])
                batch.append(
                    dict(
                        plan_id=plan_id,
                        origin=ticket.origin,
                        payload=planned.payload,
                        payload_hash=phash,
                        warnings=planned.warnings,
                    )
                )
                if len(batch) >= 500:
                    conn.execute(s.planned_tickets.insert(), batch)
                    batch.clear()
                progress.advance()
            if unmapped:
                # Raising inside the transaction rolls the whole plan back.
                raise UnmappedValuesError(
                    [(f, v, n, examples[(f, v)]) for (f, v), n in sorted(unmapped.items())],
                    mapping,
                )
            if batch:
                conn.execute(s.planned_tickets.insert(), batch)
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
    finally:
        progress.finish()
    return summary


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
