"""``migrator check``: the mapping against the staged data, before any plan.

The migration lead's worklist: every distinct source value with its count and
what it becomes, what is unmapped, which people are missing (most active
first, since they matter most), what will not be migrated, and the target's
limits the data would hit.  Blocking findings make the command exit 1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from migrator.errors import MigratorError
from migrator.mapping.engine import MAX_SUBJECT, apply, field_value, present_fields
from migrator.mapping.rules import Mapping
from migrator.staging import Staging
from migrator.trackers.protocols import Target

TEXT_LIMIT = 65_535  # bytes: a MySQL TEXT column, Redmine's usual storage for descriptions
DEFAULT_MAX_ATTACHMENT = 5 * 1024 * 1024  # Redmine's default attachment_max_size


@dataclass
class CheckReport:
    tickets: int = 0
    values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)  # unmapped, most active first
    not_migrated: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    limits: list[dict[str, Any]] = field(default_factory=list)
    target: list[str] = field(default_factory=list)  # problems found in the live target
    target_checked: str = ""

    @property
    def blocking(self) -> list[str]:
        out = [f"unmapped {u['field']}: {u['value']!r} ({u['count']})" for u in self.unmapped]
        out += [f"target: {t}" for t in self.target]
        out += [f"limit: {lim['what']}" for lim in self.limits if lim["blocks"]]
        return out


def check(
    staging: Staging,
    mapping: Mapping,
    target: Target | None = None,
    *,
    max_attachment: int = DEFAULT_MAX_ATTACHMENT,
) -> CheckReport:
    report = CheckReport()
    pairs: dict[str, Counter[tuple[str, str]]] = {}
    unmapped: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    activity: Counter[str] = Counter()
    present: Counter[str] = Counter()
    names: dict[str, set[str]] = {"project": {mapping.project}, "user": set()}
    long_titles = big_texts = 0
    big_files: list[str] = []
    accounted = mapping.accounted_fields()
    for ticket in staging.iter_tickets():
        report.tickets += 1
        planned = apply(mapping, ticket)
        p = planned.payload
        for fld, vm in [*mapping.values.items(), *mapping.custom_fields.items()]:
            # Label by every field the value depends on: "closed / wontfix".
            reads = [vm.source] if vm.source else []
            reads += sorted(vm.reads() - set(reads))
            src = " / ".join(v for v in (field_value(ticket, r) for r in reads) if v) or "(empty)"
            got = p.get(fld) if fld in mapping.values else p["custom_fields"].get(fld)
            pairs.setdefault(fld, Counter())[(src, got or "(none)")] += 1
            if got and fld in mapping.values:
                # Every name the plan would use, routed projects included (as the load checks).
                names.setdefault(fld, set()).add(got)
        for cf in p["custom_fields"]:
            names.setdefault("custom_field", set()).add(cf)
        for key in planned.unmapped:
            unmapped[key] += 1
            examples.setdefault(key, ticket.origin)
        people = [ticket.reporter, ticket.assignee, *(c.author for c in ticket.comments)]
        if mapping.history.render != "none":
            # Their edits become journals in their name, or in the fallback's.
            people += [ch.author for ch in ticket.history if ch.field != "comment"]
        for login in people:
            if login and login not in mapping.users:
                activity[login] += 1
        names["user"].update(
            u for u in (p["author"], p["assignee"], *(c["author"] for c in p["comments"])) if u
        )
        for name in present_fields(ticket) - accounted:
            present[name] += 1
        for name in mapping.drop:
            if field_value(ticket, name):
                report.dropped[name] = report.dropped.get(name, 0) + 1
        long_titles += len(ticket.title) > MAX_SUBJECT
        texts = [p["description"], *(c["body"] for c in p["comments"])]
        big_texts += sum(len(t.encode("utf-8")) > TEXT_LIMIT for t in texts)
        big_files += [
            f"{ticket.origin}: {a.name} ({a.size:,} bytes)"
            for a in ticket.attachments
            if a.size > max_attachment
        ]
    report.values = {
        fld: [
            {"from": src, "to": tgt, "count": n}
            for (src, tgt), n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        for fld, counter in pairs.items()
    }
    report.unmapped = [
        {"field": f, "value": v, "count": n, "example": examples[(f, v)]}
        for (f, v), n in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    report.users = [{"login": u, "activity": n} for u, n in activity.most_common()]
    report.not_migrated = dict(sorted(present.items()))
    report.limits = [
        {
            "what": f"{long_titles} title(s) longer than {MAX_SUBJECT} characters "
            "(cut, full title kept in the text)",
            "blocks": False,
        },
        {"what": f"{big_texts} text(s) larger than {TEXT_LIMIT:,} bytes", "blocks": False},
        {
            "what": f"{len(big_files)} attachment(s) larger than {max_attachment:,} bytes"
            + (f", e.g. {big_files[0]}" if big_files else ""),
            "blocks": bool(big_files),
        },
    ]
    report.limits = [lim for lim in report.limits if not lim["what"].startswith("0 ")]
    if target is not None:
        try:
            report.target = target.check_plan(names)
            report.target_checked = target.describe()
        except MigratorError as exc:
            report.target_checked = f"not checked: {exc}"
    return report


def format_report(report: CheckReport) -> str:
    lines = [f"{report.tickets} staged tickets"]
    for fld, values in report.values.items():
        lines.append(f"\n{fld}:")
        for v in values:
            lines.append(f"  {v['from']} -> {v['to']}  ({v['count']})")
    if report.unmapped:
        lines.append("\nunmapped values (block the plan):")
        for u in report.unmapped:
            value = u["value"] or "(empty)"
            lines.append(f"  {u['field']}: {value!r} — {u['count']} ticket(s), e.g. {u['example']}")
    if report.users:
        lines.append("\nusers not in users.map (most active first; named in the text):")
        lines += [f"  {u['login']}: {u['activity']}" for u in report.users]
    if report.not_migrated:
        lines.append("\nfields neither mapped, preserved nor dropped (will be lost):")
        lines += [f"  {k}: {n} ticket(s)" for k, n in report.not_migrated.items()]
    if report.dropped:
        lines.append("\ndropped on purpose:")
        lines += [f"  {k}: {n} ticket(s)" for k, n in report.dropped.items()]
    if report.limits:
        lines.append("\ntarget limits:")
        lines += [f"  {'BLOCKS ' if lim['blocks'] else ''}{lim['what']}" for lim in report.limits]
    if report.target_checked:
        lines.append(f"\ntarget: {report.target_checked}")
        lines += [f"  {t}" for t in report.target]
    blocking = report.blocking
    lines.append(
        f"\n{len(blocking)} blocking problem(s)" if blocking else "\nnothing blocks the plan"
    )
    return "\n".join(lines) + "\n"
