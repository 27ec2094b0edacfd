"""Access to the staging database.

Every write that records progress happens in the same transaction as the data
it describes, so a checkpoint never runs ahead of the data: a crash at any
instant leaves staging consistent, and the next run continues from it.

SQLite (the default, a file beside the config) and PostgreSQL (``postgresql://``
URLs, through psycopg 3) behave alike here: strings sort by code point
(``schema.Str``), times come back in UTC, and every transaction reads one
snapshot (SQLite in WAL mode does; PostgreSQL runs ``REPEATABLE READ``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError

from migrator.errors import StagingError
from migrator.model import Ticket, canonical_json, content_hash
from migrator.secrets import Redactor, Secret
from migrator.staging import schema as s

CHUNK = 500
# Rows fetched at a time by a query that reads a whole table in one go: on PostgreSQL
# that is a server-side cursor, where a plain query would hold every row in memory.
STREAM = 5000
PG_DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT = 10  # seconds; libpq would otherwise wait for an unreachable host forever
# Any constant: held while the tables are created, so two processes opening a new
# PostgreSQL staging database at once do not both create them.
_SCHEMA_LOCK = 0x6D696772  # "migr"
# Held by the one command that writes a migration's progress (extract, plan, load,
# rollback) for as long as it runs.
_WRITER_LOCK = 0x6D696773
T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


def chunks(rows: Iterable[T], n: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``n`` (the last one shorter): a stage reads staging as a
    stream but works, and commits, a list at a time."""
    rest = iter(rows)
    while chunk := list(islice(rest, n)):
        yield chunk


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL survives a killed process with every committed transaction intact.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _remember_pid(_dbapi_conn: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()


def _refuse_forked(_dbapi_conn: Any, record: Any, proxy: Any) -> None:
    # A connection inherited through fork() (the planner's worker processes) shares its
    # socket with the parent: never use it in the child, make the pool open a new one.
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise DisconnectionError("connection belongs to another process")


def engine_url(url: str, password: Secret | None = None) -> URL:
    """The SQLAlchemy URL of a ``[staging] url``: ``postgresql://`` and ``postgres://`` mean
    psycopg 3 (SQLAlchemy alone would pick psycopg2), as Trac's database URLs are translated
    in ``trackers/trac/source.py``.  PASSWORD, resolved from a secret reference, is added here.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The message of ArgumentError repeats the URL, password included: not shown.
        raise StagingError(
            "[staging] url is not a database URL",
            remedy='write e.g. "sqlite:///staging.sqlite" or "postgresql://user@host/database"',
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=PG_DRIVER)
    if password:
        parsed = parsed.set(password=password.reveal())
    return parsed


def _is_file_path(database: str | None) -> bool:
    """An SQLite database given as a path (not in memory, not a ``file:`` URI)."""
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


class Staging:
    """The staging database of one migration."""

    def __init__(self, url: str, *, password: Secret | None = None):
        target = engine_url(url, password)
        self.url = target.render_as_string(hide_password=True)
        secret = target.password
        # The password in every spelling an error message might carry it.
        self._redact = Redactor(
            *(Secret(v) for v in {str(secret), quote(str(secret), safe="")} if secret)
        )
        if target.get_backend_name() == "sqlite" and _is_file_path(target.database):
            Path(str(target.database)).parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = (
            Path(f"{target.database}.lock")
            if target.get_backend_name() == "sqlite" and _is_file_path(target.database)
            else None
        )
        self._release: list[Callable[[], None]] = []
        self.engine: Engine = self._create_engine(target)
        try:
            self._prepare()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StagingError(
                f"cannot open the staging database: {self._reason(exc)}",
                where=self.safe_url,
                remedy=self._open_remedy(),
            ) from None
        except BaseException:
            self.engine.dispose()
            raise

    def _create_engine(self, target: URL) -> Engine:
        backend = target.get_backend_name()
        kwargs: dict[str, Any] = {}
        if backend == "postgresql":
            # Snapshot reads, as SQLite in WAL mode gives; the loader's rows each have one
            # writer, so no transaction of ours waits on or aborts another.
            kwargs["isolation_level"] = "REPEATABLE READ"
            if "connect_timeout" not in target.query:
                kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
            # Up to 32 load workers, each with a connection, and the main thread.
            kwargs["max_overflow"] = 40
        try:
            engine = create_engine(target, **kwargs)
        except ImportError:
            psycopg = target.drivername == PG_DRIVER
            raise StagingError(
                "the PostgreSQL driver psycopg 3 is not installed"
                if psycopg
                else f"the database driver for {target.drivername} is not installed",
                where=self.url,
                remedy="pip install 'migrator[postgres]'"
                if psycopg
                else "install it, or write postgresql://... to use psycopg 3 "
                "(pip install 'migrator[postgres]')",
            ) from None
        except ArgumentError:
            raise StagingError(
                f"unsupported staging database {target.drivername!r}",
                where=self.url,
                remedy='use "sqlite:///PATH" or "postgresql://user@host/database"',
            ) from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _pg_session)
            event.listen(engine, "connect", _remember_pid)
            event.listen(engine, "checkout", _refuse_forked)
        return engine

    def _prepare(self) -> None:
        """Create the tables of a new staging database; refuse one of another schema version.

        The version is read before anything is created, so a database written by a
        newer migrator (or not by migrator at all) is left untouched.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            if inspect(conn).has_table(s.meta.name):
                self._check_version(conn)
            s.metadata.create_all(conn)
            if conn.scalar(select(s.meta.c.value).where(s.meta.c.key == "schema")) is None:
                conn.execute(s.meta.insert().values(key="schema", value=str(s.SCHEMA_VERSION)))

    def _check_version(self, conn: Connection) -> None:
        try:
            version = conn.scalar(select(s.meta.c.value).where(s.meta.c.key == "schema"))
        except SQLAlchemyError:
            version = "unknown"
        if version is not None and version != str(s.SCHEMA_VERSION):
            raise StagingError(
                f"staging schema version {version}, this migrator needs {s.SCHEMA_VERSION}",
                where=self.safe_url,
                remedy="use the migrator version that created it, or a new staging URL",
            )

    def _reason(self, exc: BaseException) -> str:
        """The driver's message on one line, with any password taken out."""
        orig = getattr(exc, "orig", None) or exc
        return self._redact(" ".join(str(orig).split()))

    def _open_remedy(self) -> str:
        if self.engine.dialect.name == "postgresql":
            return (
                "check [staging] url (host, port, database, user), the password it is given "
                "([staging] password), and that the server is running"
            )
        return "check [staging] url in migration.toml and that its folder is writable"

    @property
    def safe_url(self) -> str:
        """The URL for messages: any password is shown as ``***``."""
        return self.url

    def close(self) -> None:
        self.release()
        self.engine.dispose()

    def claim(self, command: str) -> None:
        """Make this process the migration's only writer until :meth:`release` (or its end).

        Two loads at once would each look for a ticket, find it missing and create
        it: a duplicate.  The claim is an OS file lock beside an SQLite file and an
        advisory lock on PostgreSQL; both vanish with the process, so a crash (even
        kill -9) never leaves a stale claim behind.
        """
        if self._release:
            return

        def busy(holder: str) -> StagingError:
            return StagingError(
                f"another migrator command is writing to this staging database ({holder}), "
                f"so `migrator {command}` did not start",
                where=self.safe_url,
                remedy="wait for it to finish (`migrator status` shows progress), then run "
                "this again; read-only commands (status, report, estimate) can run meanwhile",
            )

        if self._lock_path is not None:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise busy(holder) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"migrator {command}, pid {os.getpid()}".encode(), 0)

            def unlock() -> None:
                os.ftruncate(fd, 0)
                os.close(fd)  # closing the last descriptor releases the lock

            self._release.append(unlock)
        elif self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _WRITER_LOCK})
            conn.commit()
            if not got:
                conn.close()
                raise busy("another session holds the writer lock")

            def unlock() -> None:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _WRITER_LOCK})
                conn.close()

            self._release.append(unlock)

    def release(self) -> None:
        while self._release:
            self._release.pop()()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StagingError(
                f"staging database error: {exc.__class__.__name__}: {self._reason(exc)}",
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

    def planned_origins(self, plan_id: int) -> set[str]:
        """Every ticket a plan holds (by origin)."""
        pt = s.planned_tickets
        with self.begin() as conn:
            return set(conn.scalars(select(pt.c.origin).where(pt.c.plan_id == plan_id)))

    # -- runs ------------------------------------------------------------
    def runs(self, command: str | None = None, status: str | None = None) -> list[Any]:
        """Runs in the order they started (of one command, in one status, if given)."""
        r = s.runs
        query = select(r).order_by(r.c.started_at, r.c.id)
        if command is not None:
            query = query.where(r.c.command == command)
        if status is not None:
            query = query.where(r.c.status == status)
        with self.begin() as conn:
            return list(conn.execute(query).all())

    # -- load state ------------------------------------------------------
    def failures(self) -> list[Any]:
        """Every object whose load failed: key, kind, ticket_origin, attempts, last_error."""
        ls = s.load_state
        with self.begin() as conn:
            return list(
                conn.execute(
                    select(ls.c.key, ls.c.kind, ls.c.ticket_origin, ls.c.attempts, ls.c.last_error)
                    .where(ls.c.state == "failed")
                    .order_by(ls.c.ticket_origin, ls.c.seq, ls.c.key)
                ).all()
            )

    def id_map(self) -> dict[str, str]:
        """Origin -> target id of every ticket loaded so far."""
        ls = s.load_state
        with self.begin() as conn:
            rows = conn.execute(
                select(ls.c.key, ls.c.target_id)
                .where(ls.c.kind == "ticket", ls.c.state == "done")
                .execution_options(yield_per=STREAM)
            )
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


def _pg_session(dbapi_conn: Any, _record: Any) -> None:
    # Times come back in UTC whatever the server's zone, as they were written.
    with dbapi_conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


def payload_hash(payload: Any) -> str:
    return content_hash(payload)


__all__ = ["Staging", "canonical_json", "now", "payload_hash"]
