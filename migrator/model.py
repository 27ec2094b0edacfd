"""The tracker-neutral ticket.

Sources produce it, the mapping consumes it, staging stores it as canonical
JSON.  The canonical form is deterministic (sorted keys, UTC ISO times) so its
hash changes exactly when the ticket's content changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(t: datetime | None) -> str | None:
    """UTC ISO-8601 with microseconds dropped when zero: stable across sources."""
    if t is None:
        return None
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(s: str | None) -> datetime | None:
    if s is None:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@dataclass
class Comment:
    id: str
    author: str
    time: str  # ISO UTC
    body: str


@dataclass
class Change:
    time: str
    author: str
    field: str
    old: str | None
    new: str | None


@dataclass
class Attachment:
    """A file on a ticket; its bytes live in staging's blob store under ``sha256``."""

    id: str
    name: str
    size: int
    sha256: str
    content_type: str | None = None
    author: str | None = None
    time: str | None = None
    description: str = ""


@dataclass
class Link:
    """A relation to another ticket, by origin key so it survives renumbering."""

    kind: str  # relates | duplicates | duplicated-by | blocks | blocked-by | precedes | follows
    other: str  # origin key of the other ticket


@dataclass
class User:
    login: str
    name: str | None = None
    email: str | None = None


@dataclass
class Ticket:
    origin: str  # e.g. "trac:myenv#123" — unique across all sources of a migration
    source_id: str
    project: str
    title: str
    description: str = ""
    markup: str = "plain"
    type: str | None = None
    status: str | None = None
    resolution: str | None = None
    priority: str | None = None
    severity: str | None = None
    reporter: str | None = None
    assignee: str | None = None
    watchers: list[str] = field(default_factory=list)
    created: str | None = None
    updated: str | None = None
    closed: str | None = None
    milestone: str | None = None
    version: str | None = None
    components: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    comments: list[Comment] = field(default_factory=list)
    history: list[Change] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; written out by hand because ``dataclasses.asdict`` deep-copies slowly."""
        d = dict(self.__dict__)
        for name in ("watchers", "components", "labels"):
            d[name] = list(d[name])
        d["custom"] = dict(self.custom)
        for name in ("comments", "history", "attachments", "links"):
            d[name] = [dict(x.__dict__) for x in d[name]]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        data = dict(data)
        data["comments"] = [Comment(**c) for c in data.get("comments", [])]
        data["history"] = [Change(**h) for h in data.get("history", [])]
        data["attachments"] = [Attachment(**a) for a in data.get("attachments", [])]
        data["links"] = [Link(**link) for link in data.get("links", [])]
        return cls(**data)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def normalize_text(text: str | None) -> str:
    """Line endings and outer whitespace are rendering, not data (Redmine stores CRLF)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
