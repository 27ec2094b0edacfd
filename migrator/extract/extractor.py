"""Copy tickets from a source into staging: incrementally, partially, resumably.

Each page is committed together with the checkpoint after it, so a killed
extract resumes at the first page it had not committed and refetches nothing.
A checkpoint is resumed only by an extract of the same source with the same
filters; any other extract starts afresh (and says so).

After a complete extract that read every ticket changed since the stored
cursor (or everything), the cursor moves on (see :mod:`migrator.extract.state`),
so the next plain ``migrator extract`` reads only what changed since.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.config import Config
from migrator.errors import ConfigError, StagingError
from migrator.extract.state import (
    CHECKPOINT,
    CURSOR,
    Checkpoint,
    Cursor,
    Scope,
    next_cursor,
)
from migrator.model import Ticket, iso, parse_iso
from migrator.progress import Meter, Progress, as_meter
from migrator.staging import Staging
from migrator.staging.blobs import BlobStore
from migrator.trackers import IdSet, make_source
from migrator.trackers.protocols import Source

REPLACEMENT = "\ufffd"
SHOWN = 10  # origins named in a summary warning; the events table has them all
FUTURE = timedelta(days=1)


@dataclass
class ExtractSummary:
    tickets: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    comments: int = 0
    attachments: int = 0
    bytes: int = 0
    seconds: float = 0.0
    resumed_from: str | None = None  # the source checkpoint this run started after
    source: str | None = None  # kind:name
    scope: str = "every ticket"
    since: str | None = None
    cursor: str | None = None  # where the next incremental extract starts, if moved
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"extracted {self.tickets} tickets ({self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged), {self.comments} comments, {self.attachments} "
            f"attachments ({self.bytes:,} bytes) in {self.seconds:.1f} s"
        )


def source_key(source: Source) -> str:
    """``kind:name``, the prefix of the source's origin keys."""
    name = getattr(source, "name", None)
    return f"{source.kind}:{name}" if name else source.kind


def activity(ticket: Ticket) -> datetime | None:
    """The newest time anything happened to a ticket, by the source's clock."""
    times = [ticket.updated, ticket.created]
    times += [c.time for c in ticket.comments]
    times += [h.time for h in ticket.history]
    times += [a.time for a in ticket.attachments]
    newest: datetime | None = None
    for text in times:
        if not text:
            continue
        try:
            t = parse_iso(text)
        except ValueError:
            continue
        if t is None:
            continue
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        if newest is None or t > newest:
            newest = t
    return newest


def replaced_text(ticket: Ticket) -> list[str]:
    """Fields holding U+FFFD: where bytes that were not valid UTF-8 were replaced."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            if REPLACEMENT in value and path not in found:
                found.append(path)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif hasattr(value, "__dict__"):
            for key, item in vars(value).items():
                walk(item, f"{path}.{key}" if path else key)

    walk(ticket, "")
    return found


def _now() -> datetime:
    return datetime.now(UTC)


def extract(
    staging: Staging,
    source: Source,
    blobs: BlobStore,
    progress: Progress | Meter,
    *,
    scope: Scope | None = None,
) -> ExtractSummary:
    """Read ``source`` into ``staging``; ``scope`` says which filters the source was built
    with (default: none, every ticket), for the checkpoint and the cursor."""
    scope = scope or Scope()
    meter = as_meter(progress)
    started = time.monotonic()
    wall = _now()
    key = source_key(source)
    summary = ExtractSummary(source=key, scope=scope.describe(), since=iso(scope.since))
    stored = staging.get_meta(CHECKPOINT)
    previous = Checkpoint.loads(stored, wall) if stored else None
    resume = previous if previous is not None and previous.matches(key, scope) else None
    notes: list[str] = []
    if previous is not None and resume is None:
        notes.append(
            f"an interrupted extract of {previous.source or 'another source'} "
            f"({previous.describe_scope()}) is abandoned: this one reads "
            f"{key} ({scope.describe()}) from the start"
        )
    cursor_text = staging.get_meta(CURSOR)
    try:
        cursor = Cursor.loads(cursor_text) if cursor_text else None
    except StagingError as exc:
        # Only a plain rerun needs it (extract_configured refuses one); this run replaces it.
        notes.append(f"the stored cursor could not be read and is replaced: {exc.message}")
        cursor = None
    summary.resumed_from = resume.page if resume else None
    first_started = resume.started if resume else wall
    max_seen = resume.max_seen if resume else None
    newest_origin: str | None = None
    done = resume.tickets if resume else 0
    replaced: list[str] = []
    taken = 0  # source warnings already recorded
    run_id = staging.start_run("extract")
    try:
        meter.begin(source.count(), done)
        for page in source.pages(summary.resumed_from, blobs):
            comments = attachments = nbytes = 0
            with staging.begin() as conn:
                for ticket, raw in page.items:
                    outcome = staging.upsert_ticket(conn, ticket, raw, run_id)
                    setattr(summary, outcome, getattr(summary, outcome) + 1)
                    comments += len(ticket.comments)
                    attachments += len(ticket.attachments)
                    nbytes += sum(a.size for a in ticket.attachments)
                    seen = activity(ticket)
                    if seen is not None and (max_seen is None or seen > max_seen):
                        max_seen, newest_origin = seen, ticket.origin
                    bad = replaced_text(ticket) if outcome != "unchanged" else []
                    if bad:
                        replaced.append(f"{ticket.origin} ({', '.join(bad)})")
                        Staging.event(
                            conn,
                            "extract-replaced-bytes",
                            run_id=run_id,
                            origin=ticket.origin,
                            detail={"fields": bad},
                        )
                for warning in source.warnings[taken:]:
                    Staging.event(conn, "extract-warning", run_id=run_id, detail={"text": warning})
                    summary.warnings.append(warning)
                taken = len(source.warnings)
                done += len(page.items)
                checkpoint = Checkpoint(
                    key, scope.key(), page.checkpoint, first_started, max_seen, done
                )
                staging.set_meta(conn, CHECKPOINT, checkpoint.dumps())
            summary.tickets += len(page.items)
            summary.comments += comments
            summary.attachments += attachments
            summary.bytes += nbytes
            meter.page(len(page.items), comments, attachments, nbytes)
        finished = _now()
        if max_seen is not None and max_seen > finished + FUTURE:
            notes.append(
                f"{newest_origin or 'a ticket'} was updated at {iso(max_seen)}, in the future "
                "by this machine's clock: the cursor is capped at now, and that ticket is read "
                "again by every incremental extract until then"
            )
        moved = next_cursor(
            cursor, key, scope, started=first_started, finished=finished, max_seen=max_seen
        )
        if replaced:
            more = f" and {len(replaced) - SHOWN} more" if len(replaced) > SHOWN else ""
            notes.append(
                f"{len(replaced)} ticket(s) hold U+FFFD, the replacement character: bytes that "
                f"were not valid UTF-8 were replaced: {'; '.join(replaced[:SHOWN])}{more}"
            )
        with staging.begin() as conn:
            for warning in source.warnings[taken:]:
                Staging.event(conn, "extract-warning", run_id=run_id, detail={"text": warning})
                summary.warnings.append(warning)
            for note in notes:
                Staging.event(conn, "extract-warning", run_id=run_id, detail={"text": note})
            staging.set_meta(conn, CHECKPOINT, None)
            if moved is not None:
                staging.set_meta(conn, CURSOR, moved.dumps())
                summary.cursor = iso(moved.since)
        summary.warnings += notes
    except BaseException:
        summary.warnings += notes
        summary.seconds = time.monotonic() - started
        staging.finish_run(run_id, "failed", asdict(summary))
        raise
    finally:
        meter.end()
    summary.seconds = time.monotonic() - started
    staging.finish_run(run_id, "done", asdict(summary))
    return summary


def extract_configured(
    config: Config,
    staging: Staging,
    progress: Progress | Meter,
    *,
    since: datetime | None = None,
    full: bool = False,
    ids: IdSet | None = None,
    project: str | None = None,
) -> ExtractSummary:
    """``migrator extract``: the configured source into staging.

    Without filters, and unless ``full``, only tickets changed since the
    stored cursor are read.  ``since``, ``ids`` and ``project`` select
    explicitly; with ``ids`` or ``project`` the cursor is neither used nor moved.
    """
    if full and since is not None:
        raise ConfigError(
            "--full and --since contradict each other",
            remedy="--full reads every ticket; --since reads those updated since a time",
        )
    partial = ids is not None or project is not None
    text = staging.get_meta(CURSOR) if since is None and not full and not partial else None
    cursor = Cursor.loads(text) if text else None  # unreadable: refused, --full replaces it
    auto = cursor.since if cursor else None
    source = make_source(config, since=since or auto, ids=ids, project=project)
    try:
        if auto is not None and cursor is not None and cursor.source != source_key(source):
            # The cursor is another source's (the config changed): read everything.
            source.close()
            auto = None
            source = make_source(config, ids=ids, project=project)
        scope = Scope(since=since or auto, ids=ids, project=project)
        return extract(staging, source, BlobStore(config.blobs_dir), progress, scope=scope)
    finally:
        source.close()
