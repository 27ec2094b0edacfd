"""Access to the staging database.

Every write that records progress happens in the same transaction as the data
it describes, so a checkpoint never runs ahead of the data: a crash at any
instant leaves staging consistent, and the next run continues from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from migrator.errors import StagingError
from migrator.model import Ticket, canonical_json, content_hash
from migrator.staging import schema as s

CHUNK = 500


def now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL survives a killed process with every committed transaction intact.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Staging:
    """The staging database of one migration."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            s.metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                version = conn.scalar(select(s.meta.c.value).where(s.meta.c.key == "schema"))
                if version is None:
                    conn.execute(s.meta.insert().values(key="schema", value=str(s.SCHEMA_VERSION)))
                elif int(version) != s.SCHEMA_VERSION:
                    raise StagingError(
                        f"staging schema version {version}, this migrator needs {s.SCHEMA_VERSION}",
                        where=self.safe_url,
                        remedy="use the migrator version that created it, or a new staging URL",
                    )
        except OperationalError as exc:
            raise StagingError(
                f"cannot open the staging database: {exc.orig}",
                where=self.safe_url,
                remedy="check [staging] url in migration.toml and that its folder is writable",
            ) from None

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StagingError(
                f"staging database error: {exc.__class__.__name__}: {getattr(exc, 'orig', exc)}",
                where=self.safe_url,
                remedy="nothing from this step was committed; fix the cause and run it again",
            ) from exc

    # -- key/value state (checkpoints) ------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.begin() as conn:
            return conn.scalar(select(s.meta.c.value).where(s.meta.c.key == key))

    @staticmethod
    def set_meta(conn: Connection, key: str, value: str | None) -> None:
        conn.execute(s.meta.delete().where(s.meta.c.key == key))
        if value is not None:
            conn.execute(s.meta.insert().values(key=key, value=value))

    # -- runs and events -------------------------------------------------
    def start_run(self, command: str) -> int:
        with self.begin() as conn:
            rid = conn.execute(
                s.runs.insert().values(command=command, started_at=now(), status="started")
            ).inserted_primary_key
            assert rid is not None
            return int(rid[0])

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.begin() as conn:
            conn.execute(
                update(s.runs)
                .where(s.runs.c.id == run_id)
                .values(finished_at=now(), status=status, summary=summary)
            )

    @staticmethod
    def event(
        conn: Connection,
        kind: str,
        *,
        run_id: int | None = None,
        origin: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            s.events.insert().values(
                at=now(), run_id=run_id, kind=kind, origin=origin, detail=detail or {}
            )
        )

    # -- source tickets --------------------------------------------------
    @staticmethod
    def upsert_ticket(conn: Connection, ticket: Ticket, raw: Any, run_id: int) -> str:
        """Store one extracted ticket; returns ``new``, ``changed`` or ``unchanged``."""
        canonical = ticket.to_dict()
        digest = content_hash(canonical)
        old = conn.scalar(
            select(s.source_tickets.c.content_hash).where(
                s.source_tickets.c.origin == ticket.origin
            )
        )
        if old == digest:
            return "unchanged"
        values = dict(
            source_id=ticket.source_id,
            project=ticket.project,
            raw=raw,
            canonical=canonical,
            content_hash=digest,
            source_updated=ticket.updated,
            extracted_at=now(),
            run_id=run_id,
        )
        if old is None:
            conn.execute(s.source_tickets.insert().values(origin=ticket.origin, **values))
            return "new"
        conn.execute(
            update(s.source_tickets)
            .where(s.source_tickets.c.origin == ticket.origin)
            .values(**values)
        )
        return "changed"

    def count_tickets(self) -> int:
        with self.begin() as conn:
            return int(conn.scalar(select(func.count()).select_from(s.source_tickets)) or 0)

    def iter_tickets(self, chunk: int = CHUNK) -> Iterator[Ticket]:
        """Stream staged tickets in origin order, one short read transaction per chunk."""
        for canonical in self.iter_canonical(chunk):
            yield Ticket.from_dict(canonical)

    def iter_canonical(self, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
        """The canonical JSON of staged tickets, in origin order, as plain dicts."""
        last = ""
        while True:
            with self.begin() as conn:
                rows = conn.execute(
                    select(s.source_tickets.c.origin, s.source_tickets.c.canonical)
                    .where(s.source_tickets.c.origin > last)
                    .order_by(s.source_tickets.c.origin)
                    .limit(chunk)
                ).all()
            if not rows:
                return
            for row in rows:
                yield row.canonical
            last = rows[-1].origin

    # -- plans -----------------------------------------------------------
    def latest_plan(self) -> Any:
        with self.begin() as conn:
            row = conn.execute(select(s.plans).order_by(s.plans.c.id.desc()).limit(1)).first()
        if row is None:
            raise StagingError(
                "no plan in staging yet",
                remedy="run `migrator plan` first (after `migrator extract`)",
            )
        return row

    def iter_planned(
        self, plan_id: int, chunk: int = CHUNK, *, batch: str | None = None
    ) -> Iterator[Any]:
        """Planned tickets in origin order; with BATCH only its tickets, chosen by the database."""
        last = ""
        pt, bt = s.planned_tickets, s.batch_tickets
        where = [pt.c.plan_id == plan_id]
        if batch is not None:
            where.append(pt.c.origin.in_(select(bt.c.origin).where(bt.c.batch == batch)))
        while True:
            with self.begin() as conn:
                rows = conn.execute(
                    select(pt).where(*where, pt.c.origin > last).order_by(pt.c.origin).limit(chunk)
                ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].origin

    # -- load state ------------------------------------------------------
    def id_map(self) -> dict[str, str]:
        """Origin -> target id of every ticket loaded so far."""
        ls = s.load_state
        with self.begin() as conn:
            rows = conn.execute(
                select(ls.c.key, ls.c.target_id).where(ls.c.kind == "ticket", ls.c.state == "done")
            ).all()
        return {r.key: r.target_id for r in rows}

    def state_counts(self) -> dict[str, dict[str, int]]:
        ls = s.load_state
        with self.begin() as conn:
            rows = conn.execute(
                select(ls.c.kind, ls.c.state, func.count()).group_by(ls.c.kind, ls.c.state)
            ).all()
        out: dict[str, dict[str, int]] = {}
        for kind, state, n in rows:
            out.setdefault(kind, {})[state] = int(n)
        return out


def payload_hash(payload: Any) -> str:
    return content_hash(payload)


__all__ = ["Staging", "canonical_json", "now", "payload_hash"]
