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
"""

from __future__ import annotations

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
)

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("command", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # started | done | failed
    Column("summary", JSON),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("kind", String(32), nullable=False),
    Column("origin", String(255)),
    Column("detail", JSON),
)

source_tickets = Table(
    "source_tickets",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("source_id", String(64), nullable=False),
    Column("project", String(255), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("canonical", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("source_updated", String(40)),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mapping_path", Text, nullable=False),
    Column("mapping_digest", String(64), nullable=False),
    Column("digest", String(64), nullable=False),  # over every payload, in origin order
    Column("tickets", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
)

planned_tickets = Table(
    "planned_tickets",
    metadata,
    Column("plan_id", Integer, ForeignKey("plans.id"), primary_key=True),
    Column("origin", String(255), primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("warnings", JSON, nullable=False),
)

load_state = Table(
    "load_state",
    metadata,
    Column("key", String(300), primary_key=True),  # ticket origin, or origin/comment/ID
    Column("kind", String(16), nullable=False),  # ticket | comment
    Column("ticket_origin", String(255), nullable=False),
    Column("seq", Integer, nullable=False, default=0),  # order of comments in a ticket
    Column("state", String(16), nullable=False),  # pending | in-flight | done | failed
    Column("target_id", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("plan_id", Integer, ForeignKey("plans.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_load_state_ticket", "ticket_origin", "kind", "seq"),
    Index("ix_load_state_state", "kind", "state"),
)

batches = Table(
    "batches",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("selection", JSON, nullable=False),  # where / ids file / limit, as given
    Column("tickets", Integer, nullable=False),
)

batch_tickets = Table(
    "batch_tickets",
    metadata,
    # A ticket belongs to one batch at most: the primary key says so.
    Column("origin", String(255), primary_key=True),
    Column("batch", String(64), ForeignKey("batches.name"), nullable=False),
    Index("ix_batch_tickets_batch", "batch", "origin"),
)

verifications = Table(
    "verifications",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("target_id", String(64)),
    Column("ok", Boolean, nullable=False),
    Column("differences", JSON, nullable=False),
    Column("actual", JSON),  # the fields as read back, for the report's cross tables
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("verified_at", DateTime(timezone=True), nullable=False),
)
