"""Turn one canonical ticket into the payload the loader will send.

The payload is target-neutral data (names, not ids) so that a plan can be
reviewed and compared without the target, and stays valid when the target's
ids differ between a rehearsal and the real run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrator.mapping.rules import CARRIED_FIELDS, SOURCE_FIELDS, Mapping
from migrator.model import Ticket, parse_iso

MAX_SUBJECT = 255


@dataclass
class Planned:
    payload: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # "kind: detail"
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (field, value)


def field_value(ticket: Ticket, name: str) -> str | None:
    """A source field as one string, for rules and the preserved-fields block."""
    if name.startswith("custom."):
        return ticket.custom.get(name[len("custom.") :])
    value = getattr(ticket, name, None)
    if isinstance(value, list):
        if name in ("history", "comments", "attachments", "links"):
            return str(len(value)) if value else None
        return ", ".join(value) if value else None
    return value if value is None else str(value)


def present_fields(ticket: Ticket) -> set[str]:
    """The source fields that carry a value in this ticket."""
    names = {f for f in SOURCE_FIELDS + CARRIED_FIELDS if field_value(ticket, f)}
    return names | {f"custom.{k}" for k, v in ticket.custom.items() if v}


def when(iso_time: str | None) -> str:
    t = parse_iso(iso_time)
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else "an unknown date"


def attribution(origin: str | None, author: str | None, iso_time: str | None) -> str:
    """Provenance: the original author and date survive where the target cannot set them."""
    who = author or "anonymous"
    prefix = f"Migrated from {origin} · " if origin else ""
    return f"_{prefix}originally by {who} on {when(iso_time)}_"


def apply(mapping: Mapping, ticket: Ticket) -> Planned:
    planned = Planned(payload={})
    values = {
        name: field_value(ticket, name)
        for name in _rule_inputs(mapping) | {"type", "status", "resolution", "priority"}
    }
    out: dict[str, Any] = {"origin": ticket.origin, "project": mapping.project}
    # The source values the mapping read: the dry-run report and the cross tables show them.
    out["source"] = {k: v for k, v in sorted(values.items()) if v}
    for tfield, vm in mapping.values.items():
        target = vm.lookup(values)
        if target is None:
            planned.unmapped.append((f"{tfield} <- {vm.source}", values.get(vm.source) or ""))
        out[tfield] = target

    def user(login: str | None, role: str) -> str | None:
        if not login:
            return None
        mapped = mapping.users.get(login)
        if mapped is None:
            if mapping.unmapped_users == "error":
                planned.unmapped.append((f"user ({role})", login))
            else:
                planned.warnings.append(f"unmapped-user: {login} ({role}), named in the text")
        return mapped

    out["author"] = user(ticket.reporter, "reporter")
    out["assignee"] = user(ticket.assignee, "assignee")

    title = ticket.title or "(no title)"
    head = [attribution(ticket.origin, ticket.reporter, ticket.created)]
    if len(title) > MAX_SUBJECT:
        planned.warnings.append(
            f"title-truncated: {len(title)} to {MAX_SUBJECT} characters, full title in the text"
        )
        head.append(f"Full title: {title}")
        title = title[: MAX_SUBJECT - 1] + "…"
    out["subject"] = title

    preserved = []
    for name in mapping.preserve:
        value = field_value(ticket, name)
        if value:
            preserved.append(f"* {name}: {value}")
    if ticket.assignee and out["assignee"] is None:
        preserved.append(f"* assignee: {ticket.assignee}")
    body = [*head, "", ticket.description] if ticket.description else head
    if preserved:
        body += ["", "---", "", "Fields of the original ticket:", "", *preserved]
    out["description"] = "\n".join(body)
    if ticket.markup not in ("plain", "textile") and ticket.description:
        planned.warnings.append(f"markup-kept: {ticket.markup} markup kept as written")

    out["attachments"] = []
    for a in ticket.attachments:
        if not a.sha256:
            planned.warnings.append(f"attachment-missing: {a.name} has no bytes in staging")
            continue
        out["attachments"].append(
            {
                "key": f"{ticket.origin}/attachment/{a.id}",
                "name": a.name,
                "sha256": a.sha256,
                "size": a.size,
                "content_type": a.content_type,
                "description": _attachment_note(a.description, a.author, a.time),
            }
        )

    out["comments"] = [
        {
            "key": f"{ticket.origin}/comment/{c.id}",
            "author": user(c.author, "comment author"),
            "body": f"{attribution(None, c.author, c.time)}\n\n{c.body}",
        }
        for c in ticket.comments
    ]
    planned.payload = out
    return planned


def _attachment_note(description: str, author: str | None, iso_time: str | None) -> str:
    """Attachment descriptions carry their provenance, like comments do."""
    origin = f"originally by {author or 'anonymous'} on {when(iso_time)}"
    return f"{description} ({origin})" if description else origin


def _rule_inputs(mapping: Mapping) -> set[str]:
    names: set[str] = set()
    for vm in mapping.values.values():
        names |= vm.reads()
    return names
