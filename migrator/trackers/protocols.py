"""The two small protocols every connector implements.

A Source pages canonical tickets from a checkpoint; a Target creates, finds by
origin, reads back and declares what it can do.  The pipeline knows nothing
else about a tracker, so adding one is one module plus the contract tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from migrator.model import Ticket

if TYPE_CHECKING:
    from migrator.staging.blobs import BlobStore


@dataclass
class Page:
    """Tickets fetched together, and the checkpoint to resume after them."""

    items: list[tuple[Ticket, Any]]  # (canonical ticket, raw record as fetched)
    checkpoint: str


class Source(Protocol):
    kind: str
    warnings: list[str]  # what could not be read completely; reported, never silent

    def describe(self) -> str:
        """Where the tickets come from, safe to print (no secrets)."""
        ...

    def count(self) -> int | None: ...

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        """Tickets in a stable order, starting after ``checkpoint``.

        Attachment bytes are written to ``blobs`` before their page is yielded,
        so a committed page never refers to a missing blob.
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Capabilities:
    set_author: bool  # can create objects in another user's name
    set_timestamps: bool  # can set created/updated times
    set_status_on_create: bool


@dataclass
class ReadBack:
    """A target ticket as read back, in the payload's vocabulary (names, not ids)."""

    target_id: str
    origin: str | None
    fields: dict[str, Any]
    comments: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # name, size, url


@dataclass
class Texts:
    """A target ticket's texts as stored, with the handles that edit them."""

    description: str
    comments: list[tuple[str, str]]  # (handle, body), oldest first


class Target(Protocol):
    kind: str
    capabilities: Capabilities

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (estimates and benchmarks use it)."""
        ...

    def describe(self) -> str: ...

    def preflight(self, payload_sample: dict[str, Any] | None = None) -> None:
        """Check credentials, project and metadata before the first write."""
        ...

    def check_plan(self, names: dict[str, set[str]]) -> list[str]:
        """Problems with the names (project, tracker, status, user...) a plan uses."""
        ...

    def find_by_origin(self, origin: str) -> str | None: ...

    def marked(self, projects: set[str]) -> Iterator[tuple[str, str]]:
        """(target id, origin) of every ticket in these projects that carries an origin marker."""
        ...

    def create_ticket(self, payload: dict[str, Any]) -> str: ...

    def reconcile(self, target_id: str, payload: dict[str, Any]) -> None:
        """Complete a ticket found by origin after a crash (steps after the create)."""
        ...

    def texts(self, target_id: str) -> Texts:
        """The description and every comment as stored (crash recovery, text rewriting)."""
        ...

    def add_comment(self, target_id: str, comment: dict[str, Any]) -> None: ...

    def reference(self, target_id: str) -> str:
        """How ticket text refers to a ticket of this tracker ("#456")."""
        ...

    def inert_reference(self, written: str) -> str:
        """A source reference as written ("#12"), made so that this tracker does not link it
        to its own ticket of that number."""
        ...

    def set_description(self, target_id: str, text: str) -> None: ...

    def edit_comment(self, target_id: str, handle: str, body: str) -> None:
        """Replace the text of one comment (a handle from :meth:`texts`)."""
        ...

    def read_back(self, target_id: str) -> ReadBack: ...

    def attachment_sha256(self, url: str) -> str:
        """Download one attachment and return the sha256 of its bytes."""
        ...

    def holds(self, kind: str) -> bool:
        """Whether this target can store a link of this kind (or "parent")."""
        ...

    def add_link(self, target_id: str, kind: str, other_id: str) -> None:
        """Create a relation (a forward kind: blocks, precedes, duplicates, relates, copied-to)."""
        ...

    def links(self, target_id: str) -> set[tuple[str, str]]:
        """(kind, other target id) of the forward relations this ticket is the source of."""
        ...

    def set_parent(self, target_id: str, parent_id: str) -> None: ...

    def delete_ticket(self, target_id: str) -> None:
        """Remove a ticket this migration created; already gone is fine."""
        ...

    def retire_ticket(self, target_id: str, origin: str) -> None:
        """Close a created ticket, label it rolled back and clear its origin marker."""
        ...

    def ticket_url(self, target_id: str) -> str: ...

    def close(self) -> None: ...
