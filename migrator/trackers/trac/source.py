"""Trac source: reads a Trac >= 0.12 environment's database directly, read-only.

The XML-RPC plugin does not load under Trac 1.6, and Trac's own web pages hide
history and custom fields, so the database is the one complete and fast view.
It is opened through SQLAlchemy with the URL from ``trac.ini`` (SQLite opened
read-only; PostgreSQL and MySQL URLs are translated, their drivers are the
user's to install).
"""

from __future__ import annotations

import configparser
import hashlib
import mimetypes
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, Result, bindparam, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from migrator.errors import ConfigError, SourceError
from migrator.model import Attachment, Change, Comment, Link, Ticket, iso
from migrator.staging.blobs import BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, IdSet
from migrator.trackers.protocols import Page
from migrator.trackers.settings import required

# Trac 0.12 (database_version 26) moved times to microseconds; older is unsupported.
MIN_DB_VERSION = 26
# Trac 1.0 (database_version 28) moved attachments to files/attachments/, hashed names.
HASHED_ATTACHMENTS_DB_VERSION = 28
_EXTENSION = re.compile(r"\.[A-Za-z0-9]+\Z")
PAGE_SIZE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TICKET_COLUMNS = (
    "id, type, time, changetime, component, severity, priority, owner, reporter, cc, "
    "version, milestone, status, resolution, summary, description, keywords"
)


def _utime(us: int | None) -> str | None:
    if us is None:
        return None
    return iso(datetime.fromtimestamp(us / 1_000_000, tz=UTC))


def _us(t: datetime) -> int:
    """A time as Trac stores it: microseconds since the epoch."""
    return (t - _EPOCH) // timedelta(microseconds=1)


def _split(value: str | None) -> list[str]:
    return [v for v in re.split(r"[,\s]+", value or "") if v]


def _for_ids(conn: Connection, sql: str, ids: Sequence[object]) -> Result[*tuple[Any, ...]]:
    """Run ``sql``, whose ``IN :ids`` stands for the list ``ids``, one parameter per id."""
    return conn.execute(text(sql).bindparams(bindparam("ids", expanding=True)), {"ids": ids})


def _replace_bad_utf8(dbapi_conn: Any, _record: Any) -> None:
    # Old Trac databases hold bytes that are not UTF-8; keep going and mark them.
    dbapi_conn.text_factory = lambda b: b.decode("utf-8", "replace")


def database_url(env: Path, trac_db: str) -> str:
    """Translate Trac's ``[trac] database`` setting into an SQLAlchemy URL."""
    scheme, _, rest = trac_db.partition(":")
    if scheme == "sqlite":
        path = Path(rest)
        if not path.is_absolute():
            path = env / path
        if not path.exists():
            raise SourceError(
                f"Trac database {path} not found",
                where=str(env / "conf" / "trac.ini"),
                remedy="check [trac] database in trac.ini, or copy the environment whole",
            )
        return f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"
    if scheme in ("postgres", "postgresql"):
        return "postgresql://" + rest.removeprefix("//").split("?", 1)[0]
    if scheme == "mysql":
        return "mysql+pymysql://" + rest.removeprefix("//")
    raise SourceError(
        f"unsupported Trac database scheme {scheme!r}",
        remedy="Trac environments on sqlite, postgres or mysql are supported",
    )


class TracSource:
    kind = "trac"

    def __init__(
        self,
        env: Path,
        name: str | None = None,
        *,
        page_size: int = PAGE_SIZE,
        since: datetime | None = None,
        ids: IdSet | None = None,
        project: str | None = None,
    ):
        """Read the environment at ``env``; optionally only tickets changed at or
        after ``since`` (a field, a comment or an attachment) and with an id in ``ids``.

        One environment is one project, named ``name`` (the folder's name by
        default): ``project``, when given, must be that name.
        """
        self.env = env
        self.page_size = page_size
        self.since = since
        self.ids = ids
        if ids is not None and not ids.numeric_only:
            raise ConfigError(
                f"--ids {ids}: Trac ticket ids are numbers",
                remedy="write numbers and ranges, e.g. --ids 1,2,5-9",
            )
        if project is not None and project != (name or env.name):
            raise ConfigError(
                f"--project {project}: this Trac environment is the one project "
                f"{name or env.name!r}",
                where=str(env),
                remedy=f"use --project {name or env.name}, or leave --project out",
            )
        ini = env / "conf" / "trac.ini"
        if not ini.is_file():
            raise SourceError(
                f"no Trac environment at {env} (conf/trac.ini missing)",
                remedy="set [source] env to the folder made by `trac-admin initenv`",
            )
        cfg = configparser.RawConfigParser(strict=False)
        cfg.read(ini, encoding="utf-8")
        self.name = name or env.name
        db = cfg.get("trac", "database", fallback="sqlite:db/trac.db")
        url = database_url(env, db)
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _replace_bad_utf8)
        self._safe_url = make_url(url).render_as_string(hide_password=True)
        self.db_version = self._check_version()
        self.warnings: list[str] = []
        self._tables = set(inspect(self.engine).get_table_names())

    def describe(self) -> str:
        text = f"Trac environment {self.env} ({self._safe_url})"
        if self.since is not None:
            text += f", changed since {iso(self.since)}"
        if self.ids is not None:
            text += f", ids {self.ids}"
        return text

    def _check_version(self) -> int:
        try:
            with self.engine.connect() as conn:
                value = conn.scalar(
                    text("SELECT value FROM system WHERE name = 'database_version'")
                )
        except SQLAlchemyError as exc:
            raise SourceError(
                f"cannot read the Trac database: {getattr(exc, 'orig', exc)}",
                where=self._safe_url,
                remedy="check that the environment is a Trac environment and readable",
            ) from None
        if value is None or int(value) < MIN_DB_VERSION:
            raise SourceError(
                f"Trac database version {value} is older than 0.12 (version {MIN_DB_VERSION})",
                where=str(self.env),
                remedy="upgrade the environment first: `trac-admin ENV upgrade` with Trac >= 0.12",
            )
        return int(value)

    def attachment_path(self, ticket_id: int, filename: str) -> Path:
        """Where Trac keeps an attachment's bytes (layout depends on the schema version)."""
        if self.db_version < HASHED_ATTACHMENTS_DB_VERSION:
            return self.env / "attachments" / "ticket" / str(ticket_id) / quote(filename)
        parent = hashlib.sha1(str(ticket_id).encode("utf-8")).hexdigest()
        name = hashlib.sha1(filename.encode("utf-8")).hexdigest()
        ext = _EXTENSION.search(filename)
        folder = self.env / "files" / "attachments" / "ticket" / parent[:3] / parent
        return folder / (name + (ext.group(0) if ext else ""))

    def count(self) -> int | None:
        with self.engine.connect() as conn:
            selected = self._selected(conn)
            if selected is not None:
                return len(selected)
            return int(conn.scalar(text("SELECT COUNT(*) FROM ticket")) or 0)

    def _selected(self, conn: Any) -> list[int] | None:
        """Ids of the tickets the filters select, ascending; None without filters.

        A ticket counts as changed when its ``changetime`` is at or after
        ``since``, or one of its attachments was added then: Trac does not
        touch ``changetime`` when a file is attached.
        """
        if self.since is None and self.ids is None:
            return None
        if self.since is None:
            ids = set(conn.scalars(text("SELECT id FROM ticket")))
        else:
            us = _us(self.since)
            ids = set(
                conn.scalars(text("SELECT id FROM ticket WHERE changetime >= :us"), {"us": us})
            )
            attached = conn.scalars(
                text("SELECT DISTINCT id FROM attachment WHERE type = 'ticket' AND time >= :us"),
                {"us": us},
            )
            ids |= {int(a) for a in attached if str(a).isdigit()}
        if self.ids is not None:
            ids = {i for i in ids if i in self.ids}
        return sorted(ids)

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        last = int(checkpoint or 0)
        with self.engine.connect() as conn:
            # Chosen once per run: a ticket changed while the run goes on has a
            # changetime after the run started, and the next run's cursor allows for that.
            selected = self._selected(conn)
        if selected is None:
            yield from self._all_pages(last, blobs)
            return
        todo = [i for i in selected if i > last]
        for start in range(0, len(todo), self.page_size):
            chunk = todo[start : start + self.page_size]
            with self.engine.connect() as conn:
                rows = _for_ids(
                    conn, f"SELECT {TICKET_COLUMNS} FROM ticket WHERE id IN :ids ORDER BY id", chunk
                ).mappings()
                items = self._items(conn, list(rows), blobs)
            # The checkpoint is the chunk's last id even if that ticket was deleted meanwhile.
            yield Page(items, str(chunk[-1]))

    def _all_pages(self, last: int, blobs: BlobStore) -> Iterator[Page]:
        """Every ticket after id ``last``, keyset-paged by id."""
        while True:
            with self.engine.connect() as conn:
                rows = list(
                    conn.execute(
                        text(
                            f"SELECT {TICKET_COLUMNS} FROM ticket WHERE id > :last "
                            "ORDER BY id LIMIT :n"
                        ),
                        {"last": last, "n": self.page_size},
                    ).mappings()
                )
                if not rows:
                    return
                items = self._items(conn, rows, blobs)
            last = rows[-1]["id"]
            yield Page(items, str(last))

    def _items(self, conn: Any, rows: list[Any], blobs: BlobStore) -> list[tuple[Ticket, Any]]:
        """The tickets of ``rows`` with their custom fields, changes and attachments."""
        ticket_ids = [r["id"] for r in rows]
        if not ticket_ids:
            return []
        custom: dict[int, dict[str, str]] = defaultdict(dict)
        for t, name, value in _for_ids(
            conn,
            "SELECT ticket, name, value FROM ticket_custom "
            "WHERE ticket IN :ids ORDER BY ticket, name",
            ticket_ids,
        ):
            custom[t][name] = value
        changes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for ch in _for_ids(
            conn,
            "SELECT ticket, time, author, field, oldvalue, newvalue FROM ticket_change "
            "WHERE ticket IN :ids ORDER BY ticket, time, field",
            ticket_ids,
        ).mappings():
            changes[ch["ticket"]].append(dict(ch))
        files: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for att in _for_ids(
            conn,
            "SELECT id, filename, size, time, description, author FROM attachment "
            "WHERE type = 'ticket' AND id IN :ids ORDER BY id, time, filename",
            [str(i) for i in ticket_ids],  # attachment.id is text: it names any resource
        ).mappings():
            files[int(att["id"])].append(dict(att))
        links = self._links(conn, ticket_ids)
        items: list[tuple[Ticket, Any]] = []
        for row in rows:
            tid = row["id"]
            raw = {
                "ticket": dict(row),
                "custom": custom[tid],
                "changes": changes[tid],
                "attachments": files[tid],
                "links": links[tid],
            }
            ticket = self._ticket(raw)
            ticket.attachments = [self._attachment(tid, a, blobs) for a in files[tid]]
            for kind, other in links[tid]:
                if kind == "parent":
                    ticket.parent = self._origin(other)
                else:
                    ticket.links.append(Link(kind, self._origin(other)))
            items.append((ticket, raw))
        return items

    def _origin(self, ticket_id: int) -> str:
        return f"trac:{self.name}#{ticket_id}"

    def _links(self, conn: Any, ticket_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
        """Relations from the two plugins most Trac sites use for them, when installed.

        MasterTickets keeps ``mastertickets(source, dest)``: source is blocked by
        dest.  TracSubtickets keeps ``subtickets(parent, child)``.  Plain Trac has
        no relations; its tickets simply have none.
        """
        out: dict[int, list[tuple[str, int]]] = defaultdict(list)
        if "mastertickets" in self._tables:
            for source, dest in _for_ids(
                conn,
                "SELECT source, dest FROM mastertickets "
                "WHERE source IN :ids OR dest IN :ids ORDER BY source, dest",
                ticket_ids,
            ):
                if source in ticket_ids:
                    out[source].append(("blocked-by", int(dest)))
                if dest in ticket_ids:
                    out[dest].append(("blocks", int(source)))
        if "subtickets" in self._tables:
            for parent, child in _for_ids(
                conn,
                "SELECT parent, child FROM subtickets WHERE child IN :ids ORDER BY child",
                ticket_ids,
            ):
                out[int(child)].append(("parent", int(parent)))
        return out

    def _attachment(self, ticket_id: int, row: dict[str, Any], blobs: BlobStore) -> Attachment:
        path = self.attachment_path(ticket_id, row["filename"])
        try:
            with path.open("rb") as f:
                sha, size = blobs.put_file(f)
        except OSError:
            self.warnings.append(
                f"ticket {ticket_id}: attachment {row['filename']!r} is in the database but "
                f"its file {path} is missing"
            )
            sha, size = "", int(row["size"] or 0)
        return Attachment(
            id=row["filename"],
            name=row["filename"],
            size=size,
            sha256=sha,
            content_type=mimetypes.guess_type(row["filename"])[0],
            author=row["author"] or None,
            time=_utime(row["time"]),
            description=row["description"] or "",
        )

    def _ticket(self, raw: dict[str, Any]) -> Ticket:
        row = raw["ticket"]
        comments: list[Comment] = []
        history: list[Change] = []
        closed = None
        for n, ch in enumerate(raw["changes"], 1):
            field, when = ch["field"], _utime(ch["time"])
            author = ch["author"] or "anonymous"
            if field == "comment":
                if ch["newvalue"]:
                    cid = (ch["oldvalue"] or str(n)).rsplit(".", 1)[-1]
                    comments.append(
                        Comment(id=cid, author=author, time=when or "", body=ch["newvalue"])
                    )
            elif not field.startswith("_"):  # _comment0.. are edit records of comments
                history.append(Change(when or "", author, field, ch["oldvalue"], ch["newvalue"]))
                if field == "status" and ch["newvalue"] == "closed":
                    closed = when
        status = row["status"] or None
        return Ticket(
            origin=f"trac:{self.name}#{row['id']}",
            source_id=str(row["id"]),
            project=self.name,
            title=row["summary"] or "",
            description=row["description"] or "",
            markup="trac",
            type=row["type"] or None,
            status=status,
            resolution=row["resolution"] or None,
            priority=row["priority"] or None,
            severity=row["severity"] or None,
            reporter=row["reporter"] or None,
            assignee=row["owner"] or None,
            watchers=_split(row["cc"]),
            created=_utime(row["time"]),
            updated=_utime(row["changetime"]),
            closed=closed if status == "closed" else None,
            milestone=row["milestone"] or None,
            version=row["version"] or None,
            components=[row["component"]] if row["component"] else [],
            labels=_split(row["keywords"]),
            custom={k: v for k, v in sorted(raw["custom"].items()) if v},
            comments=comments,
            history=history,
        )

    def close(self) -> None:
        self.engine.dispose()


def from_config(
    section: dict[str, Any],
    base: Path,
    filters: Filters = EVERYTHING,
) -> TracSource:
    """``[source]`` with ``type = "trac"``: env, and optionally name (the project and
    origin prefix) and page_size (tickets per committed page)."""
    env = required(section, "env", "source", "Trac", "path/to/trac/env")
    page_size = section.get("page_size", PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise ConfigError(
            f"[source] page_size must be a positive whole number, not {page_size!r}",
            remedy=f"e.g. page_size = {PAGE_SIZE} (tickets fetched and committed together)",
        )
    name = section.get("name")
    path = Path(env).expanduser()
    return TracSource(
        path if path.is_absolute() else base / path,
        name=str(name) if name else None,
        page_size=page_size,
        since=filters.since,
        ids=filters.ids,
        project=filters.project,
    )
