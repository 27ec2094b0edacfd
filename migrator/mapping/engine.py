"""Turn one canonical ticket into the payload the loader will send.

The payload is target-neutral data (names, not ids) so that a plan can be
reviewed and compared without the target, and stays valid when the target's
ids differ between a rehearsal and the real run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from migrator.errors import PlanError
from migrator.mapping.history import with_history
from migrator.mapping.provenance import attribution, when
from migrator.mapping.references import reference_token, rewrite_references
from migrator.mapping.rules import CARRIED_FIELDS, SOURCE_FIELDS, Mapping, render_template
from migrator.model import Ticket, parse_iso

MAX_SUBJECT = 255
_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f", ""}
# Source fields the reports show next to what they became.
REPORTED = ("type", "status", "resolution", "priority")


@dataclass
class Planned:
    payload: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # "kind: detail"
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (field, value)


def _private(value: str) -> str | None:
    v = value.strip().lower()
    return "yes" if v in _TRUE else "no" if v in _FALSE else None


def _date(value: str) -> str | None:
    t = parse_iso(value.strip()) if len(value.strip()) > 10 else None
    if t is not None:
        return (t.astimezone(UTC) if t.tzinfo else t).date().isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _percent(value: str) -> str | None:
    try:
        n = float(value.strip().rstrip("%"))
    except ValueError:
        return None
    return str(int(n)) if 0 <= n <= 100 else None


def _hours(value: str) -> str | None:
    try:
        n = float(value.strip())
    except ValueError:
        return None
    return f"{n:g}" if n >= 0 else None


# Issue attributes: one spelling per value, so a plan compares equal to what the target
# reads back ("yes"/"no", YYYY-MM-DD, whole percent, hours without trailing zeros).
ATTRIBUTES: dict[str, tuple[Callable[[str], str | None], str]] = {
    "private": (_private, "yes or no"),
    "start_date": (_date, "a date (YYYY-MM-DD)"),
    "due_date": (_date, "a date (YYYY-MM-DD)"),
    "done_ratio": (_percent, "a percentage from 0 to 100"),
    "estimated_hours": (_hours, "a number of hours"),
}


def field_value(ticket: Ticket, name: str) -> str | None:
    """A source field as one string, for rules, templates and the preserved-fields block."""
    if name.startswith("custom."):
        return ticket.custom.get(name[len("custom.") :])
    if name == "id":
        return ticket.source_id
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


class _Text:
    """Reference placeholders, markup conversion and mention neutralisation, with their
    warnings.  References are replaced before conversion: they are written in the
    source's markup, and a placeholder survives any converter."""

    def __init__(self, mapping: Mapping, ticket: Ticket, planned: Planned):
        self.mapping = mapping
        self.source = ticket.markup
        self.planned = planned
        self.kind = ticket.origin.split(":", 1)[0]
        self.prefix = ticket.origin.rsplit("#", 1)[0] if "#" in ticket.origin else None
        self.refs: list[dict[str, str]] = []
        self._index: dict[str, int] = {}

    def _token(self, source_id: str) -> str | None:
        if self.prefix is None:
            return None
        origin = f"{self.prefix}#{source_id}"
        if origin not in self._index:
            written = f"issue{source_id}" if self.kind == "roundup" else f"#{source_id}"
            self._index[origin] = len(self.refs)
            self.refs.append({"origin": origin, "text": written})
        return reference_token(self._index[origin])

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self.mapping.rewrite_references:
            text, unresolved = rewrite_references(
                text,
                self.source,
                self._token,
                source_kind=self.kind,
                old_urls=self.mapping.old_urls,
            )
            self.planned.warnings.extend(unresolved)
        syntax = self.source
        target = self.mapping.markup_to
        if target and target != self.source:
            from migrator.markup import convert

            converted = convert(text, self.source, target)
            text, syntax = converted.text, target
            self.planned.warnings.extend(converted.warnings)
        if self.mapping.neutralize_mentions and "@" in text:
            from migrator.mapping.references import neutralize_mentions

            # Code stays as written: `@Override` in a code block is not a person.
            text = neutralize_mentions(
                text, self.mapping.users, syntax=syntax, live=self.mapping.live_mentions
            )
        return text


def apply(mapping: Mapping, ticket: Ticket) -> Planned:
    planned = Planned(payload={})
    names = set(REPORTED)
    for vm in mapping.all_value_maps():
        names |= vm.reads()
    values = {name: field_value(ticket, name) for name in sorted(names)}
    values.update(id=ticket.source_id, origin=ticket.origin, project=ticket.project)
    out: dict[str, Any] = {"origin": ticket.origin, "project": mapping.project}
    bad_values: list[str] = []
    # The source values the mapping read: the dry-run report and the cross tables show them.
    out["source"] = {k: v for k, v in sorted(values.items()) if v and k in names}
    for tfield, vm in mapping.values.items():
        if tfield == "project":
            out["project"] = vm.lookup(values) or mapping.project
            continue
        # A target with one category gets the first of several components.
        first = {"components": ticket.components[0]} if ticket.components[1:] else {}
        target = vm.lookup({**values, **first} if tfield == "category" else values)
        if target is None and not (vm.optional and not values.get(vm.source or "")):
            planned.unmapped.append((f"{tfield} <- {vm.source}", values.get(vm.source or "") or ""))
        if target == "" and tfield in ATTRIBUTES:
            target = None  # `default: ""`: leave the attribute unset
        if target is not None and tfield in ATTRIBUTES:
            normalise, expected = ATTRIBUTES[tfield]
            written, target = target, normalise(target)
            if target is None:
                # Not silently lost: said in the plan, and kept in the text.
                planned.warnings.append(f"bad-value: {tfield} {written!r} is not {expected}")
                bad_values.append(f"* {tfield}: {written}")
        out[tfield] = target
    if len(ticket.components) > 1 and "category" in mapping.values:
        planned.warnings.append(
            f"category-first: {len(ticket.components)} components, the first became the category"
        )
    custom: dict[str, str] = {}
    for name, vm in mapping.custom_fields.items():
        value = vm.lookup(values)
        if value is None and values.get(vm.source or ""):
            planned.unmapped.append((f"{name} <- {vm.source}", values.get(vm.source or "") or ""))
        if value:
            custom[name] = value
    out["custom_fields"] = custom

    def user(login: str | None, role: str) -> str | None:
        if not login:
            return None
        mapped = mapping.users.get(login)
        if mapped is None:
            if mapping.unmapped_users == "error":
                planned.unmapped.append((f"user ({role})", login))
            else:
                planned.warnings.append(f"unmapped-user: {login} ({role}), named in the text")
            if role != "assignee":  # nobody is assigned work in someone else's name
                return mapping.fallback_user
        return mapped

    out["created"] = ticket.created  # targets that can set times use it
    out["author"] = user(ticket.reporter, "reporter")
    out["assignee"] = user(ticket.assignee, "assignee")
    watchers = [mapping.users[w] for w in ticket.watchers if w in mapping.users]
    out["watchers"] = sorted(set(watchers))

    text = _Text(mapping, ticket, planned)
    title = ticket.title or "(no title)"
    if mapping.subject_template:
        title = render_template(mapping.subject_template, {**values, "title": title})
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
    preserved += bad_values
    body = [*head, "", text(ticket.description)] if ticket.description else head
    if preserved:
        body += ["", "---", "", "Fields of the original ticket:", "", *preserved]
    out["description"] = "\n".join(body)
    if mapping.markup_to is None and ticket.markup not in ("plain",) and ticket.description:
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
            "time": c.time,
            "body": f"{attribution(None, c.author, c.time)}\n\n{text(c.body)}",
        }
        for c in ticket.comments
    ]
    if mapping.history.render != "none":
        out["comments"] = with_history(mapping, ticket, out["comments"], user)
    if text.refs:
        out["refs"] = text.refs  # what the placeholders in the texts refer to
    out["links"] = [{"kind": link.kind, "other": link.other} for link in ticket.links]
    if ticket.parent:
        out["parent"] = ticket.parent
    if mapping.hook is not None:
        out = _run_hook(mapping, ticket, out)
    planned.payload = out
    return planned


def _run_hook(mapping: Mapping, ticket: Ticket, payload: dict[str, Any]) -> dict[str, Any]:
    """The escape hatch: the user's function sees copies, and its failures name the ticket."""
    assert mapping.hook is not None
    try:
        result = mapping.hook(ticket.to_dict(), copy.deepcopy(payload))
    except Exception as exc:  # the user's code: any error is theirs, with the ticket named
        raise PlanError(
            f"mapping hook failed on {ticket.origin}: {exc.__class__.__name__}: {exc}",
            where=str(mapping.path),
            remedy="fix the hook module; nothing was stored",
        ) from None
    if result is None:
        return payload
    if not isinstance(result, dict) or result.get("origin") != ticket.origin:
        raise PlanError(
            f"mapping hook returned {type(result).__name__} for {ticket.origin}, not the payload",
            where=str(mapping.path),
            remedy="return the payload dict (with its origin unchanged) or None",
        )
    return result


def _attachment_note(description: str, author: str | None, iso_time: str | None) -> str:
    """Attachment descriptions carry their provenance, like comments do."""
    origin = f"originally by {author or 'anonymous'} on {when(iso_time)}"
    return f"{description} ({origin})" if description else origin
