"""Roundup source over its REST API (``/NAME/rest/data/<class>``), read-only.

What Roundup's REST API gives, and how it maps to the canonical ticket:

* An issue has no description field: its first message is the description
  when it was created with the issue (Roundup's web and mail interfaces create
  both in one request; the window is :data:`DESCRIPTION_WINDOW`), and every
  other message is a comment, ordered by date.
* ``superseder`` means "this issue is superseded by X" (closed in favour of
  X).  It becomes a ``duplicates`` link to X, the relation a target such as
  Redmine uses for "closing X closes this one too".  Only the issue holding
  the property gets the link; the other direction is the target's to derive.
* ``nosy`` becomes the watchers, ``keyword`` the labels, ``assignedto`` the
  assignee, ``creator`` the reporter.  Properties a customised schema adds
  (type, components, resolution...) land in ``custom`` as their labels.
* Field-change history is not in the REST API.  With ``tracker_dir`` (the
  tracker home, reachable from this machine) it is read from the issue
  journals through Roundup's Python API, read-only; without it every ticket's
  history is empty and :attr:`RoundupSource.warnings` says so.

Pitfalls handled here: a collection page formats every remaining row before
cutting the page, so issues are listed by id alone and then fetched by explicit
ids; message content that is not UTF-8 is replaced by a notice in the REST
answer and is fetched from ``binary_content`` instead; four failed logins in
ten minutes lock a user out of REST, so a 401, 403 or lockout is never retried.
Retired (deleted) issues are invisible to REST and are not extracted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from migrator.errors import ConfigError, SourceError
from migrator.model import Attachment, Change, Comment, Link, Ticket, iso
from migrator.secrets import Secret
from migrator.staging.blobs import CHUNK, BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, IdSet, no_projects
from migrator.trackers.protocols import Page
from migrator.trackers.roundup.api import (
    NOT_TEXT,
    CollectionPages,
    RoundupApi,
    batched,
    label_of,
    link_ids,
)
from migrator.trackers.roundup.history import Journal
from migrator.trackers.settings import Transport, login, required

PAGE_SIZE = 100
ID_PAGE = 1000  # ids listed per request; listing formats nothing, so pages can be big
FETCH_CHUNK = 200  # ids per filtered request: keeps URLs short and under SQLite's 999 variables
DESCRIPTION_WINDOW = timedelta(seconds=60)
DOWNLOAD_ATTEMPTS = 3
DEFAULT_CLOSED = ("resolved", "done-cbb", "closed")
# Roundup reads a date filter in the REST user's own time zone (-12 to +14 hours from
# UTC): the server is asked for a day more than wanted, and the surplus dropped here.
ZONE_SLACK = timedelta(days=1)

# Issue properties with a canonical home; anything else is a custom field.
MAPPED = frozenset(
    {"title", "status", "priority", "assignedto", "nosy", "keyword", "superseder"}
    | {"messages", "files", "creation", "creator", "activity", "actor", "id"}
)
META = ("creation", "creator", "activity", "actor")
MSG_FIELDS = ("author", "date", "creation", "content", "type")
FILE_FIELDS = ("name", "type", "creator", "creation")
# What REST answers when a message's content file is gone from the server's disk.
_UNREADABLE = re.compile(r"^ERROR reading file: (msg|file)\d+")
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\.(\d\d):(\d\d):(\d\d)")


def parse_date(value: str | None) -> datetime | None:
    """A Roundup date as REST prints it (``2016-02-07.09:10:55``, UTC) as a datetime."""
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def ticket_from_rest(
    raw: dict[str, Any],
    *,
    name: str,
    username: Callable[[Any], str | None],
    attachments: Sequence[Attachment] = (),
    history: Sequence[Change] = (),
    closed_statuses: Iterable[str] = DEFAULT_CLOSED,
) -> Ticket:
    """The canonical ticket for one issue as fetched (``raw``: issue, messages, files).

    ``username`` turns a user link (``{"id", "link", "username"?}``) into a
    login; ``attachments`` are the issue's files already stored as blobs.
    """
    issue = raw["issue"]
    created = parse_date(issue.get("creation"))
    messages = sorted(raw.get("messages", []), key=lambda m: int(m["id"]))
    description = ""
    if messages and created is not None:
        first = parse_date(messages[0].get("creation"))
        if first is not None and abs(first - created) <= DESCRIPTION_WINDOW:
            description = messages[0]["content"]
            messages = messages[1:]
    comments = [
        Comment(
            id=str(m["id"]),
            author=username(m.get("author")) or "anonymous",
            time=iso(parse_date(m.get("date")) or parse_date(m.get("creation"))) or "",
            body=m["content"],
        )
        for m in messages
    ]
    comments.sort(key=lambda c: (c.time, int(c.id)))
    status = label_of(issue.get("status"))
    closed = None
    if status in set(closed_statuses):
        changes = [h.time for h in history if h.field == "status" and h.new == status]
        closed = changes[-1] if changes else None
    custom = {
        prop: text
        for prop, value in sorted(issue.items())
        if prop not in MAPPED and prop != "link" and (text := label_of(value)) is not None
    }
    return Ticket(
        origin=f"roundup:{name}#{issue['id']}",
        source_id=str(issue["id"]),
        project=name,
        title=issue.get("title") or "",
        description=description,
        markup="plain",
        status=status,
        priority=label_of(issue.get("priority")),
        reporter=username(issue.get("creator")),
        assignee=username(issue.get("assignedto")) if issue.get("assignedto") else None,
        watchers=[u for u in (username(n) for n in issue.get("nosy") or []) if u],
        created=iso(created),
        updated=iso(parse_date(issue.get("activity"))),
        closed=closed,
        labels=[k for k in (label_of(v) for v in issue.get("keyword") or []) if k],
        custom=custom,
        comments=comments,
        history=list(history),
        attachments=list(attachments),
        links=[
            Link("duplicates", f"roundup:{name}#{i}") for i in link_ids(issue.get("superseder"))
        ],
    )


class RoundupSource:
    """Issues of one Roundup tracker, in ascending id order; checkpoint = last issue id."""

    kind = "roundup"

    def __init__(
        self,
        url: str,
        user: str,
        password: Secret,
        *,
        name: str | None = None,
        tracker_dir: Path | None = None,
        closed_statuses: Iterable[str] = DEFAULT_CLOSED,
        page_size: int = PAGE_SIZE,
        attempts: int = 5,
        since: datetime | None = None,
        ids: IdSet | None = None,
        project: str | None = None,
    ):
        if project is not None:
            raise no_projects("Roundup", project)
        if ids is not None and not ids.numeric_only:
            raise ConfigError(
                f"--ids {ids}: Roundup issue ids are numbers",
                remedy="write numbers and ranges, e.g. --ids 1,2,5-9",
            )
        self.api = RoundupApi(url, user, password, Transport(attempts=attempts), side="source")
        self.http = self.api.http
        self.url = self.api.address
        self.user = user
        self.name = name or self.api.name
        self.page_size = page_size
        self.since = since
        self.ids = ids
        self.closed_statuses = tuple(closed_statuses)
        self.warnings: list[str] = []
        self._checked = False
        self._usernames: dict[str, str] = {}
        self._issue_fields: list[str] | None = None
        self._journal: Journal | None = None
        if tracker_dir is not None:
            self._journal = Journal(tracker_dir)
            web = self._journal.web.rstrip("/") + "/"
            if web != self.url:
                self.warnings.append(
                    f"tracker_dir {tracker_dir} says its web address is {web}, not {self.url}: "
                    "check that both name the same tracker"
                )
        else:
            self.warnings.append(
                "history unavailable: Roundup's REST API does not expose field changes; "
                "set tracker_dir under [source] to the tracker home to read them"
            )

    def describe(self) -> str:
        history = f", history from {self._journal.home}" if self._journal else ""
        since = f", active since {iso(self.since)}" if self.since else ""
        ids = f", ids {self.ids}" if self.ids is not None else ""
        return f"Roundup tracker {self.name!r} at {self.url} as {self.user}{history}{since}{ids}"

    # -- HTTP --------------------------------------------------------------
    def _content(self, path: str, *, stream: bool = False) -> requests.Response | None:
        """An item's ``binary_content``, or None when the server has lost it.

        Roundup answers 400 (with an HTML page) when an item's content file is
        gone from its disk, and 404 for an item that is gone.
        """
        gone = (400, 404, 410)
        response = self.api.send("GET", path, stream=stream, accept=gone)
        if response.status_code in gone:
            response.close()
            return None
        return response

    # -- protocol ----------------------------------------------------------
    def preflight(self) -> None:
        """Check URL, credentials and classes with one request (never retried on 401/403)."""
        if self._checked:
            return
        self.api.classes(("issue", "msg", "file", "user"))
        self._checked = True

    def count(self) -> int | None:
        self.preflight()
        if self.since is not None or self.ids is not None:
            return len(self._issue_ids())  # with the date filter's surplus day: progress only
        total = self.api.get("/rest/data/issue", [("@page_size", "1")]).get("@total_size")
        return total if isinstance(total, int) and total >= 0 else None

    def _filters(self) -> list[tuple[str, str]]:
        if self.since is None:
            return []
        start = (self.since - ZONE_SLACK).astimezone(UTC)
        return [("activity", start.strftime("%Y-%m-%d.%H:%M:%S") + ";")]  # "from;" = from on

    def _issue_ids(self) -> list[int]:
        """Visible issue ids the filters select, ascending (ids only: the server formats
        nothing).  The date filter is the server's, widened by a day; ``ids`` is applied here."""
        pager = CollectionPages(ID_PAGE)
        ids: list[int] = []
        while pager.has_next:
            data = self.api.get(
                "/rest/data/issue", [("@sort", "id"), *self._filters(), *pager.params().items()]
            )
            ids.extend(int(item["id"]) for item in pager.update(data))
        return sorted(i for i in set(ids) if self.ids is None or i in self.ids)

    def _wanted(self, issue: dict[str, Any]) -> bool:
        """Whether an issue fetched is active at or after ``since`` (exactly, in UTC)."""
        if self.since is None:
            return True
        activity = parse_date(issue.get("activity"))
        return activity is None or activity >= self.since

    def _fields(self, sample_id: int) -> list[str]:
        """The issue properties this user may see, learnt from one issue."""
        if self._issue_fields is None:
            attributes = self.api.get(f"/rest/data/issue/{sample_id}").get("attributes", {})
            self._issue_fields = sorted(set(attributes) | set(META))
        return self._issue_fields

    def _linked(
        self,
        classname: str,
        issues: dict[str, dict[str, Any]],
        prop: str,
        fields: Sequence[str],
        *,
        verbose: int,
    ) -> dict[str, dict[str, Any]]:
        """The CLASSNAME items that these issues' ``prop`` links, by id, fetched together."""
        ids = (i for issue in issues.values() for i in link_ids(issue.get(prop)))
        return self.api.items(classname, ids, fields, verbose=verbose, chunk=FETCH_CHUNK)

    def username(self, link: Any) -> str | None:
        """Login of a user link; REST labels it, a bare id costs one cached request."""
        if not isinstance(link, dict) or "id" not in link:
            return None
        uid = str(link["id"])
        if isinstance(link.get("username"), str):
            self._usernames[uid] = link["username"]
        if uid not in self._usernames:
            attributes = self.api.get(f"/rest/data/user/{uid}").get("attributes", {})
            self._usernames[uid] = str(attributes.get("username") or f"user{uid}")
        return self._usernames[uid]

    def _message_text(self, msg: dict[str, Any]) -> None:
        """Make ``content`` the message text, fetching bytes REST would not show as text."""
        content = msg.get("content")
        if isinstance(content, str) and _UNREADABLE.match(content):
            self._missing(f"msg{msg['id']}", "its text is empty here")
            msg["content"] = ""
            return
        if isinstance(content, str) and not NOT_TEXT.match(content):
            return
        response = self._content(f"/rest/data/msg/{msg['id']}/binary_content")
        if response is None:
            self._missing(f"msg{msg['id']}", "its text is empty here")
            msg["content"] = ""
            return
        msg["content"] = response.content.decode("utf-8", "replace")

    def _missing(self, item: str, consequence: str) -> None:
        self.warnings.append(
            f"{item}: Roundup at {self.url} cannot read its content (file missing from the "
            f"tracker's db/files?); {consequence}"
        )

    def _download(self, file_id: str, blobs: BlobStore) -> tuple[str, int] | None:
        """(sha256, size) of a file's bytes, now in BLOBS; None if the server lost them."""
        path = f"/rest/data/file/{file_id}/binary_content"
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            response = self._content(path, stream=True)
            if response is None:
                return None
            try:
                return blobs.put_chunks(response.iter_content(CHUNK))
            except requests.RequestException as exc:  # cut off mid-body: the stream is lost
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise SourceError(
                        f"Roundup at {self.url}: download of file{file_id} kept breaking off "
                        f"({self.http.redact(str(exc))[:200]})",
                        remedy="check the server and network; rerun `migrator extract` to resume",
                    ) from None
            finally:
                response.close()
        raise AssertionError("unreachable")

    def _attachments(self, files: Iterable[dict[str, Any]], blobs: BlobStore) -> list[Attachment]:
        out = []
        for f in sorted(files, key=lambda f: int(f["id"])):
            stored = self._download(str(f["id"]), blobs)
            if stored is None:
                # Like the Trac source: keep the attachment, without bytes, and say so.
                self._missing(f"file{f['id']}", "its attachment has no bytes (sha256 empty)")
            sha, size = stored or ("", 0)
            out.append(
                Attachment(
                    id=str(f["id"]),
                    name=f.get("name") or f"file{f['id']}",
                    size=size,
                    sha256=sha,
                    content_type=f.get("type") or None,
                    author=self.username(f.get("creator")),
                    time=iso(parse_date(f.get("creation"))),
                )
            )
        return out

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        self.preflight()
        last = int(checkpoint or 0)
        todo = [i for i in self._issue_ids() if i > last]
        if not todo:
            return
        fields = self._fields(todo[0])
        for chunk in batched([str(i) for i in todo], self.page_size):
            issues = self.api.items("issue", chunk, fields, verbose=2, chunk=FETCH_CHUNK)
            # Drop the surplus day the server was asked for, before fetching its messages.
            issues = {k: v for k, v in issues.items() if self._wanted(v)}
            msgs = self._linked("msg", issues, "messages", MSG_FIELDS, verbose=3)
            for msg in msgs.values():
                self._message_text(msg)
            files = self._linked("file", issues, "files", FILE_FIELDS, verbose=2)
            items: list[tuple[Ticket, Any]] = []
            for issue_id in chunk:
                issue = issues.get(issue_id)
                if issue is None:
                    continue  # retired since it was listed
                raw: dict[str, Any] = {
                    "issue": issue,
                    "messages": [msgs[m] for m in link_ids(issue.get("messages")) if m in msgs],
                    "files": [files[f] for f in link_ids(issue.get("files")) if f in files],
                }
                history: list[Change] = []
                if self._journal is not None:
                    history, raw["journal"] = self._journal.changes(issue_id)
                ticket = ticket_from_rest(
                    raw,
                    name=self.name,
                    username=self.username,
                    attachments=self._attachments(raw["files"], blobs),
                    history=history,
                    closed_statuses=self.closed_statuses,
                )
                items.append((ticket, raw))
            yield Page(items, chunk[-1])

    def close(self) -> None:
        self.api.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def from_config(
    section: dict[str, Any],
    base: Path,
    filters: Filters = EVERYTHING,
) -> RoundupSource:
    """``[source]`` with ``type = "roundup"``: url, user, password (a secret reference),
    and optionally tracker_dir (for history), name (origin prefix), closed_statuses."""
    if filters.project is not None:
        raise no_projects("Roundup", filters.project)
    url = required(
        section, "url", "source", "Roundup", "https://HOST/NAME/", " (the tracker's address)"
    )
    user, password = login(section, base, "source", "Roundup")
    tracker_dir = None
    if section.get("tracker_dir"):
        path = Path(str(section["tracker_dir"])).expanduser()
        tracker_dir = path if path.is_absolute() else base / path
    closed = section.get("closed_statuses", DEFAULT_CLOSED)
    if not isinstance(closed, list | tuple) or not all(isinstance(s, str) for s in closed):
        raise ConfigError(
            "[source] closed_statuses must be a list of status names",
            remedy='e.g. closed_statuses = ["resolved", "done-cbb"]',
        )
    name = section.get("name")
    return RoundupSource(
        url,
        user,
        password,
        name=str(name) if name else None,
        tracker_dir=tracker_dir,
        closed_statuses=closed,
        since=filters.since,
        ids=filters.ids,
    )
