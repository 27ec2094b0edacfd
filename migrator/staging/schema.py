"""The staging schema: the single source of truth for a migration's progress.

Tables, in pipeline order:
- ``runs`` and ``events``: who ran what, when; events are append-only.
- ``source_tickets``: raw (as fetched) and canonical JSON, content hash.
- ``plans`` / ``planned_tickets``: the payloads the loader will send, with
  the digest of the mapping that produced them.
- ``batches`` / ``batch_tickets``: named selections (pilot, then the rest);
  a ticket belongs to one batch at most.
- ``load_state``: one row per target object (ticket, comment) with its state
  (pending, in-flight, done, failed), target id, attempts and last error.
  Its ``done`` rows are the id map.
- ``verifications``: the read-back comparison per ticket.

The same tables serve SQLite and PostgreSQL.  Strings compare and sort by code
point on both, as Python's ``<`` does: keyset paging (``origin > last``), the
plan digest (origin order) and the plan comparison's merge join depend on it.
SQLite's default collation already is; on PostgreSQL every string column is
declared ``COLLATE "C"`` (byte order of UTF-8, which is code point order), so
its indexes serve those ``ORDER BY`` clauses whatever the database's locale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

SCHEMA_VERSION = 1


def Str(length: int) -> String:
    """A string column in code point order on every database (see the module docstring).

    The length documents the expected size; SQLite does not enforce it, so neither
    does PostgreSQL (unbounded ``varchar``): a long origin or link key must not fail
    on one database and pass on the other.
    """
    return String(length).with_variant(String(collation="C"), "postgresql")


class NulFreeText(TypeDecorator[str]):
    """Free text from the outside (a server's error message) that may hold NUL characters.

    PostgreSQL text cannot store NUL; it becomes U+FFFD there, and stays as is in SQLite.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return value.replace("\x00", "\ufffd")
        return value


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Str(64), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("command", Str(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", Str(16), nullable=False),  # started | done | failed
    Column("summary", JSON),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("kind", Str(32), nullable=False),
    Column("origin", Str(255)),
    Column("detail", JSON),
)

source_tickets = Table(
    "source_tickets",
    metadata,
    Column("origin", Str(255), primary_key=True),
    Column("source_id", Str(64), nullable=False),
    Column("project", Str(255), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("canonical", JSON, nullable=False),
    Column("content_hash", Str(64), nullable=False),
    Column("source_updated", Str(40)),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mapping_path", Text, nullable=False),
    Column("mapping_digest", Str(64), nullable=False),
    Column("digest", Str(64), nullable=False),  # over every payload, in origin order
    Column("tickets", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
)

planned_tickets = Table(
    "planned_tickets",
    metadata,
    Column("plan_id", Integer, ForeignKey("plans.id"), primary_key=True),
    Column("origin", Str(255), primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("payload_hash", Str(64), nullable=False),
    Column("warnings", JSON, nullable=False),
)

load_state = Table(
    "load_state",
    metadata,
    Column("key", Str(300), primary_key=True),  # ticket origin, or origin/comment/ID
    Column("kind", Str(16), nullable=False),  # ticket | comment
    Column("ticket_origin", Str(255), nullable=False),
    Column("seq", Integer, nullable=False, default=0),  # order of comments in a ticket
    Column("state", Str(16), nullable=False),  # pending | in-flight | done | failed
    Column("target_id", Str(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", NulFreeText),
    Column("plan_id", Integer, ForeignKey("plans.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_load_state_ticket", "ticket_origin", "kind", "seq"),
    Index("ix_load_state_state", "kind", "state"),
)

batches = Table(
    "batches",
    metadata,
    Column("name", Str(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("selection", JSON, nullable=False),  # where / ids file / limit, as given
    Column("tickets", Integer, nullable=False),
)

batch_tickets = Table(
    "batch_tickets",
    metadata,
    # A ticket belongs to one batch at most: the primary key says so.
    Column("origin", Str(255), primary_key=True),
    Column("batch", Str(64), ForeignKey("batches.name"), nullable=False),
    Index("ix_batch_tickets_batch", "batch", "origin"),
)

verifications = Table(
    "verifications",
    metadata,
    Column("origin", Str(255), primary_key=True),
    Column("target_id", Str(64)),
    Column("ok", Boolean, nullable=False),
    Column("differences", JSON, nullable=False),
    Column("actual", JSON),  # the fields as read back, for the report's cross tables
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("verified_at", DateTime(timezone=True), nullable=False),
)
