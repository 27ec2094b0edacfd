"""Compare two plans: what a mapping edit (or a fresh extract) changes, before anything is loaded.

The migration lead edits the mapping in rounds with both teams; each round is a
new plan, and this answers "what exactly did that edit change?" ticket by
ticket.  Plans can hold 100,000 tickets, so the comparison streams: both plans
are walked in origin order as a merge join on ``(origin, payload_hash)``, and
only tickets whose hashes differ have their payloads loaded, a batch at a time.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from migrator.errors import StagingError
from migrator.mapping.references import display_payload
from migrator.staging import Staging
from migrator.staging import schema as s

CHUNK = 5000  # (origin, hash) pairs read per query
BATCH = 200  # changed tickets whose payloads are fetched together
MAX_DIFF_LINES = 12  # of a long text's unified diff, per field
SHORT = 80  # longer values, or any with a line break, are shown as a diff

# Payload fields in the order a reviewer reads them; any other field follows, sorted.
FIELD_ORDER = ("subject", "tracker", "status", "priority", "author", "assignee", "project")
# Payload lists whose items carry a ``key``: list -> (one item, the item field shown).
KEYED_LISTS = {"comments": ("comment", "body"), "attachments": ("attachment", "name")}


@dataclass(frozen=True)
class PlanInfo:
    id: int
    digest: str
    mapping_digest: str
    tickets: int
    created_at: str


@dataclass(frozen=True)
class FieldChange:
    """One field of one ticket: ``value`` (old -> new), ``text`` (a diff), ``added``/``removed``."""

    field: str
    kind: str
    old: Any = None
    new: Any = None
    diff: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "kind": self.kind}
        if self.kind == "text":
            out["diff"] = list(self.diff)
        else:
            out["old"], out["new"] = self.old, self.new
        return out


@dataclass
class TicketDiff:
    origin: str
    changes: list[FieldChange]


@dataclass
class Comparison:
    old: PlanInfo
    new: PlanInfo
    changed: int = 0
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    differences: list[TicketDiff] = field(default_factory=list)
    added_origins: list[str] = field(default_factory=list)
    removed_origins: list[str] = field(default_factory=list)
    # field -> "old -> new" (or "added", "body changed", ...) -> how many changes
    by_field: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def has_differences(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.__dict__,
            "new": self.new.__dict__,
            "has_differences": self.has_differences,
            "changed": self.changed,
            "added": self.added,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "by_field": {f: dict(sorted(n.items())) for f, n in sorted(self.by_field.items())},
            "added_origins": self.added_origins,
            "removed_origins": self.removed_origins,
            "differences": [
                {"origin": d.origin, "changes": [c.as_dict() for c in d.changes]}
                for d in self.differences
            ],
        }


def find_plan(staging: Staging, plan_id: int) -> Any:
    """The ``plans`` row, or a clear error naming the plans that do exist."""
    with staging.begin() as conn:
        row = conn.execute(select(s.plans).where(s.plans.c.id == plan_id)).first()
        ids = [] if row is not None else list(conn.scalars(select(s.plans.c.id)))
    if row is None:
        known = f"plans in staging: {_ranges(ids)}" if ids else "there is no plan in staging yet"
        raise StagingError(
            f"no plan {plan_id}", where=staging.safe_url, remedy=f"{known}; run `migrator plan`"
        )
    return row


def _ranges(ids: list[int]) -> str:
    """``1-4, 7``: plan ids are mostly consecutive."""
    parts: list[str] = []
    for i in sorted(ids):
        if parts and parts[-1].split("-")[-1] == str(i - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{i}"
        else:
            parts.append(str(i))
    return ", ".join(parts)


def utc(moment: datetime | None, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    """A stored time in UTC (SQLite hands it back without its zone; it was written in UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(fmt)


def _info(row: Any) -> PlanInfo:
    created = utc(row.created_at)
    return PlanInfo(int(row.id), row.digest, row.mapping_digest, int(row.tickets), created)


def _bytewise(staging: Staging, column: Any) -> ColumnElement[Any]:
    """Order by code point, as Python compares strings; the merge join depends on it.

    SQLite's default collation already is; PostgreSQL's is the locale's, so ask for "C".
    """
    if staging.engine.dialect.name == "postgresql":
        return column.collate("C")  # type: ignore[no-any-return]
    return column  # type: ignore[no-any-return]


def _hashes(staging: Staging, plan_id: int) -> Iterator[tuple[str, str]]:
    """(origin, payload_hash) of every planned ticket, in origin order, without payloads."""
    pt = s.planned_tickets
    origin = _bytewise(staging, pt.c.origin)
    last = ""
    while True:
        with staging.begin() as conn:
            rows = conn.execute(
                select(pt.c.origin, pt.c.payload_hash)
                .where(pt.c.plan_id == plan_id, origin > last)
                .order_by(origin)
                .limit(CHUNK)
            ).all()
        if not rows:
            return
        for row in rows:
            if row.origin <= last:  # a collation other than code point order
                raise StagingError(
                    f"planned tickets of plan {plan_id} do not come back in code point order",
                    where=staging.safe_url,
                    remedy="use SQLite or PostgreSQL for staging",
                )
            last = row.origin
            yield row.origin, row.payload_hash


def compare_plans(staging: Staging, old_id: int, new_id: int | None = None) -> Comparison:
    """What changed from plan ``old_id`` to plan ``new_id`` (default: the latest plan)."""
    old = _info(find_plan(staging, old_id))
    new = _info(find_plan(staging, new_id) if new_id is not None else staging.latest_plan())
    result = Comparison(old, new)
    if old.digest and old.digest == new.digest:
        # The digest covers every (origin, payload hash) in order: equal digests, equal plans.
        result.unchanged = new.tickets
        return result

    pending: list[str] = []
    olds, news = _hashes(staging, old.id), _hashes(staging, new.id)
    a, b = next(olds, None), next(news, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            result.removed += 1
            result.removed_origins.append(a[0])
            a = next(olds, None)
        elif a is None or b[0] < a[0]:
            result.added += 1
            result.added_origins.append(b[0])
            b = next(news, None)
        else:
            if a[1] == b[1]:
                result.unchanged += 1
            else:
                pending.append(a[0])
                if len(pending) >= BATCH:
                    _diff_batch(staging, result, pending)
                    pending = []
            a, b = next(olds, None), next(news, None)
    _diff_batch(staging, result, pending)
    return result


def _diff_batch(staging: Staging, result: Comparison, origins: list[str]) -> None:
    if not origins:
        return
    pt = s.planned_tickets
    with staging.begin() as conn:
        rows = conn.execute(
            select(pt.c.plan_id, pt.c.origin, pt.c.payload).where(
                pt.c.plan_id.in_([result.old.id, result.new.id]), pt.c.origin.in_(origins)
            )
        ).all()
    payloads = {(r.plan_id, r.origin): r.payload for r in rows}
    for origin in origins:
        changes = diff_payloads(
            payloads[(result.old.id, origin)], payloads[(result.new.id, origin)]
        )
        if not changes:
            # Same fields, different hash: only key order or JSON types differ.
            changes = [FieldChange("payload", "value", "(encoding)", "(encoding)")]
        result.changed += 1
        result.differences.append(TicketDiff(origin, changes))
        for c in changes:
            group, label = _summary_label(c)
            result.by_field.setdefault(group, Counter())[label] += 1


def _summary_label(c: FieldChange) -> tuple[str, str]:
    head, _, rest = c.field.partition(" ")
    for group, (singular, _shown) in KEYED_LISTS.items():
        if head == singular and rest:
            aspect = rest.rsplit(" ", 1)[-1]
            if c.kind in ("added", "removed"):
                return group, c.kind
            if c.kind == "text":
                return group, f"{aspect} changed"
            return group, f"{aspect}: {_show(c.old)} -> {_show(c.new)}"
    if c.kind == "text":
        return c.field, "text changed"
    return c.field, f"{_show(c.old)} -> {_show(c.new)}"


def diff_payloads(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Field by field; comments and attachments matched by key, so an edit is not add + remove."""
    old, new = display_payload(old), display_payload(new)
    a, b = _flat(old), _flat(new)
    names = [f for f in FIELD_ORDER if f in a or f in b]
    names += sorted((a.keys() | b.keys()) - set(names))
    changes = [_change(n, a.get(n), b.get(n)) for n in names if a.get(n) != b.get(n)]
    for name in KEYED_LISTS:
        changes += _keyed_changes(name, old.get(name) or [], new.get(name) or [])
    return changes


def _flat(payload: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in KEYED_LISTS:
            continue
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def _keyed_changes(
    name: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[FieldChange]:
    singular, shown = KEYED_LISTS[name]
    before = {item.get("key"): item for item in old}
    after = {item.get("key"): item for item in new}
    changes: list[FieldChange] = []
    for key, item in after.items():
        if key not in before:
            changes.append(FieldChange(f"{singular} {key}", "added", None, item.get(shown)))
            continue
        for aspect in sorted(set(item) | set(before[key])):
            if aspect != "key" and item.get(aspect) != before[key].get(aspect):
                old_value, new_value = before[key].get(aspect), item.get(aspect)
                changes.append(_change(f"{singular} {key} {aspect}", old_value, new_value))
    changes += [
        FieldChange(f"{singular} {key}", "removed", item.get(shown), None)
        for key, item in before.items()
        if key not in after
    ]
    common_before = [k for k in before if k in after]
    common_after = [k for k in after if k in before]
    if common_before != common_after:
        changes.append(FieldChange(f"{name} order", "value", common_before, common_after))
    return changes


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or "\r" in value or len(value) > SHORT)


def _change(name: str, old: Any, new: Any) -> FieldChange:
    if not (_is_long(old) or _is_long(new)):
        return FieldChange(name, "value", old, new)
    return FieldChange(name, "text", diff=text_diff(old or "", new or ""))


def text_diff(old: str, new: str, limit: int = MAX_DIFF_LINES) -> tuple[str, ...]:
    """A short unified diff (one line of context), cut after ``limit`` lines."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), n=1, lineterm=""))[2:]
    if not lines:
        return ("(line endings or trailing whitespace only)",)
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more diff line(s)"]
    return tuple(lines)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value.strip() == value and value else json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _field_rank(name: str) -> tuple[int, str]:
    """Reading order: the value fields, then the others by name, comments and attachments last."""
    if name in FIELD_ORDER:
        return FIELD_ORDER.index(name), ""
    return (len(FIELD_ORDER) + (name in KEYED_LISTS), name)


def format_comparison(c: Comparison) -> str:
    """The comparison as text for a terminal or a review e-mail."""
    head = f"plan {c.old.id} -> plan {c.new.id}: "
    lines = [
        head
        + (
            f"{c.changed} changed, {c.added} added, {c.removed} removed, {c.unchanged} unchanged"
            if c.has_differences
            else f"no differences ({c.unchanged} tickets unchanged)"
        )
    ]
    for label, p in (("before", c.old), ("after", c.new)):
        lines.append(
            f"  {label}: plan {p.id}, {p.tickets} tickets, digest {p.digest[:12]}, "
            f"mapping digest {p.mapping_digest[:12]}"
        )
    if c.by_field:
        lines += ["", "Changes by field:"]
        for group in sorted(c.by_field, key=_field_rank):
            counts = c.by_field[group]
            unit = f"{KEYED_LISTS[group][0]}(s)" if group in KEYED_LISTS else "ticket(s)"
            for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {group}: {label} — {n} {unit}")
    if c.differences:
        lines += ["", "Changed tickets:"]
        for d in c.differences:
            lines.append(d.origin)
            for ch in d.changes:
                if ch.kind == "text":
                    lines.append(f"  {ch.field}:")
                    lines += [f"    {line}" for line in ch.diff]
                elif ch.kind in ("added", "removed"):
                    lines.append(f"  {ch.field}: {ch.kind}")
                else:
                    lines.append(f"  {ch.field}: {_show(ch.old)} -> {_show(ch.new)}")
    for title, origins in (
        ("Added tickets:", c.added_origins),
        ("Removed tickets:", c.removed_origins),
    ):
        if origins:
            lines += ["", title, *(f"  {o}" for o in origins)]
    return "\n".join(lines) + "\n"
