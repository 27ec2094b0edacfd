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

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from migrator.errors import ConfigError, SourceError, TargetError
from migrator.http import HttpClient
from migrator.model import Attachment, Change, Comment, Link, Ticket, iso
from migrator.secrets import Redactor, Secret
from migrator.staging.blobs import CHUNK, BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, IdSet, no_projects
from migrator.trackers.protocols import Page
from migrator.trackers.settings import login

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
# What REST answers for message content that is not UTF-8, instead of the content.
_NOT_TEXT = re.compile(r"^(msg|file)\d+ is not text, retrieve using binary_content property")
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


def _ids(links: Any) -> list[str]:
    """Ids of a Link (dict or None) or Multilink (list) value as REST gives it."""
    if links is None:
        return []
    if isinstance(links, dict):
        return [str(links["id"])]
    return [str(item["id"]) if isinstance(item, dict) else str(item) for item in links]


def _label(value: Any) -> str | None:
    """The human label of a REST value: a link's name/username, or the value itself."""
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, list):
        labels = [_label(v) for v in value]
        return ", ".join(label for label in labels if label) or None
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "link"):
                return str(item)
        return str(value.get("id"))
    return str(value)


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
    status = _label(issue.get("status"))
    closed = None
    if status in set(closed_statuses):
        changes = [h.time for h in history if h.field == "status" and h.new == status]
        closed = changes[-1] if changes else None
    custom = {
        prop: text
        for prop, value in sorted(issue.items())
        if prop not in MAPPED and prop != "link" and (text := _label(value)) is not None
    }
    return Ticket(
        origin=f"roundup:{name}#{issue['id']}",
        source_id=str(issue["id"]),
        project=name,
        title=issue.get("title") or "",
        description=description,
        markup="plain",
        status=status,
        priority=_label(issue.get("priority")),
        reporter=username(issue.get("creator")),
        assignee=username(issue.get("assignedto")) if issue.get("assignedto") else None,
        watchers=[u for u in (username(n) for n in issue.get("nosy") or []) if u],
        created=iso(created),
        updated=iso(parse_date(issue.get("activity"))),
        closed=closed,
        labels=[k for k in (_label(v) for v in issue.get("keyword") or []) if k],
        custom=custom,
        comments=comments,
        history=list(history),
        attachments=list(attachments),
        links=[Link("duplicates", f"roundup:{name}#{i}") for i in _ids(issue.get("superseder"))],
    )


class _Journal:
    """Issue journals read through Roundup's Python API from the tracker home.

    The tracker is opened without a user, which Roundup makes read-only.
    Opening runs the tracker's own ``schema.py`` and detectors, as every
    Roundup tool does, so the Roundup package must be installed here (ideally
    the server's version).
    """

    def __init__(self, home: Path):
        if not (home / "config.ini").is_file():
            raise ConfigError(
                f"{home} is not a Roundup tracker home (no config.ini)",
                where="[source] tracker_dir",
                remedy="point tracker_dir at the folder made by `roundup-admin install`",
            )
        try:
            from roundup import instance  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigError(
                "reading history from tracker_dir needs Roundup's Python package",
                where="[source] tracker_dir",
                remedy="pip install roundup (the server's version), or remove tracker_dir "
                "to extract without history",
            ) from None
        try:
            self.db: Any = instance.open(str(home)).open()
        except Exception as exc:  # the tracker's own code runs here: anything can fail
            raise SourceError(
                f"cannot open the Roundup tracker at {home}: {exc}",
                where="[source] tracker_dir",
                remedy="check that this machine can read the tracker home and its database",
            ) from None
        self.home = home
        self.web = str(self.db.config["TRACKER_WEB"])
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, classname: str, itemid: str) -> str:
        key = (classname, itemid)
        if key not in self._labels:
            try:
                cl = self.db.getclass(classname)
                self._labels[key] = str(cl.get(itemid, cl.labelprop()))
            except (KeyError, IndexError):  # a class or item the schema no longer has
                self._labels[key] = f"{classname}{itemid}"
        return self._labels[key]

    def _user(self, tag: str) -> str:
        # Journals of very old trackers name the user; newer ones hold its id.
        return self.label("user", tag) if tag.isdigit() else tag

    def _text(self, prop: Any, value: Any) -> str | None:
        if value is None or value == [] or value == "":
            return None
        linked = getattr(prop, "classname", None)
        if isinstance(value, list):
            ids = sorted((str(v) for v in value), key=lambda i: (len(i), i))
            return ", ".join(self.label(linked, i) for i in ids) if linked else None
        if linked:
            return self.label(linked, str(value))
        return str(value)

    def changes(self, issue_id: str) -> tuple[list[Change], list[list[Any]]]:
        """Field changes (oldest first) and the journal as JSON-able rows."""
        cl = self.db.getclass("issue")
        props = cl.getprops()
        try:
            entries = self.db.getjournal("issue", issue_id)
        except IndexError:
            raise SourceError(
                f"issue {issue_id} is served over REST but missing from {self.home}",
                where="[source] tracker_dir",
                remedy="point tracker_dir at the home of the tracker that url serves",
            ) from None
        rows = [[str(d), tag, action, _jsonable(params)] for _, d, tag, action, params in entries]
        sets = sorted(
            (e for e in entries if e[3] == "set" and isinstance(e[4], dict)),
            key=lambda e: e[1].get_tuple()[:6],
        )
        current: dict[str, Any] = {}
        changes: list[Change] = []
        # Roundup journals the value *before* each set: walk back from today's values.
        for _, when, tag, _action, params in reversed(sets):
            stamp = iso(_journal_time(when)) or ""
            author = self._user(str(tag))
            for field in sorted(params):
                if field in ("messages", "files"):
                    continue  # comments and attachments, not field changes
                prop = props.get(field)
                if type(prop).__name__ == "Password":
                    continue  # never copy a hash, even an old one
                if field not in current:
                    current[field] = cl.get(issue_id, field) if prop is not None else None
                after = current[field]
                before = params[field]
                if isinstance(after, list) or isinstance(before, tuple):
                    after = list(after or [])
                    added, removed = _multilink_delta(before)
                    before = [i for i in after if i not in added] + removed
                changes.append(
                    Change(stamp, author, field, self._text(prop, before), self._text(prop, after))
                )
                current[field] = before
        changes.reverse()
        return changes, rows

    def close(self) -> None:
        self.db.close()


def _multilink_delta(value: Any) -> tuple[list[str], list[str]]:
    """``(('+', ids), ('-', ids))`` as Roundup journals a multilink change."""
    added: list[str] = []
    removed: list[str] = []
    for part in value or ():
        if isinstance(part, tuple | list) and len(part) == 2:
            (added if part[0] == "+" else removed).extend(str(i) for i in part[1])
    return added, removed


def _journal_time(when: Any) -> datetime:
    # Date.timestamp() counts the fraction of a second twice in Roundup 2.6:
    # build the time from its fields, to whole seconds like REST.
    y, mo, d, h, mi, s = when.get_tuple()[:6]
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _batched(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _CollectionPages:
    """Roundup's collection paging: ``@page_size``/``@page_index``, ``@total_size``."""

    def __init__(self, size: int):
        self.size = size
        self.index = 1
        self.seen = 0
        self.total: int | None = None
        self.has_next = True

    def params(self) -> dict[str, str]:
        return {"@page_size": str(self.size), "@page_index": str(self.index)}

    def update(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = data.get("collection", [])
        total = data.get("@total_size")
        self.total = int(total) if isinstance(total, int) and total >= 0 else None
        self.seen += len(items)
        self.index += 1
        self.has_next = len(items) == self.size and (self.total is None or self.seen < self.total)
        return items


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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{url!r} is not an http(s) URL",
                where="[source] url",
                remedy='write the tracker URL, e.g. url = "https://bugs.example.com/demo/"',
            )
        self.url = url.rstrip("/") + "/"
        self.user = user
        self.name = name or parts.path.strip("/").rsplit("/", 1)[-1] or "roundup"
        self.page_size = page_size
        self.since = since
        self.ids = ids
        self.closed_statuses = tuple(closed_statuses)
        self.warnings: list[str] = []
        self.http = HttpClient(
            self.url, {}, Redactor(password), what=f"Roundup at {self.url}", attempts=attempts
        )
        # Credentials on the session, not in the headers the client's repr shows.
        # UTF-8, as Roundup decodes it (requests would encode a str as Latin-1).
        self.http.session.auth = HTTPBasicAuth(
            user.encode("utf-8"), password.reveal().encode("utf-8")
        )
        self.http.session.hooks["response"].append(self._refuse_lockout)
        self._checked = False
        self._usernames: dict[str, str] = {}
        self._issue_fields: list[str] | None = None
        self._journal: _Journal | None = None
        if tracker_dir is not None:
            self._journal = _Journal(tracker_dir)
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
    def _refuse_lockout(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Turn Roundup's failed-login lock into an error the client does not retry.

        Roundup answers a locked login with a plain-text 429 whose Retry-After
        is minutes long; only a corrected password helps, so waiting it out in
        the client's retry loop would stall the run for nothing.  (Its API rate
        limiter answers JSON, and that one is worth retrying.)  Raised from the
        session's response hook because the client retries every 429 itself.
        """
        content_type = response.headers.get("Content-Type", "")
        if response.status_code == 429 and "json" not in content_type:
            raise SourceError(
                f"Roundup at {self.url} has locked REST logins for user {self.user!r} "
                f"after failed logins ({response.text.strip()[:200]})",
                remedy="fix the password, then wait for the lock to expire "
                "(4 failures per api_failed_login_interval_in_sec, 10 minutes by default)",
            )

    def _get(
        self,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        stream: bool = False,
        missing_ok: bool = False,
    ) -> requests.Response | None:
        """GET with the client's retries; a 4xx is a typed error, or None if ``missing_ok``.

        Roundup answers 400 (with an HTML page) when an item's content file is
        gone from its disk, and 404 for an item that is gone.
        """
        try:
            response = self.http.request(
                "GET", path, params=list(params), stream=stream, ok=lambda r: True
            )
        except TargetError as exc:  # the client speaks of targets; here the tracker is a source
            raise SourceError(exc.message, where=exc.where, remedy=exc.remedy) from None
        if missing_ok and response.status_code in (400, 404, 410):
            response.close()
            return None
        if response.status_code >= 400:
            error = self._error(path, response)
            response.close()
            raise error
        return response

    def _error(self, path: str, response: requests.Response) -> SourceError:
        status = response.status_code
        detail = self.http.redact(_message(response))
        if status == 401:
            return SourceError(
                f"Roundup at {self.url} rejected the login of user {self.user!r} (HTTP 401)",
                remedy="check [source] user and the password secret; after 4 failures Roundup "
                "locks REST logins for 10 minutes, so fix the password before trying again",
            )
        if status == 403:
            return SourceError(
                f"Roundup at {self.url} refused {path} to user {self.user!r} (HTTP 403: {detail})",
                remedy="the user needs the 'Rest Access' permission and View on issues, "
                "messages, files and users (the Admin role has them)",
            )
        if status == 404 and path == "/rest/data":
            return SourceError(
                f"no Roundup tracker at {self.url} (HTTP 404 for its REST API)",
                remedy="url must be the tracker's own address, ending in its name "
                "(http://HOST:PORT/NAME/); the server's root lists its trackers",
            )
        return SourceError(
            f"Roundup at {self.url} answered HTTP {status} to GET {path}: {detail}",
            remedy="check the server's log; rerun `migrator extract` to resume",
        )

    def _json(self, path: str, params: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        response = self._get(path, params)
        assert response is not None  # only missing_ok answers None
        try:
            # Replace rather than fail: some trackers hold bytes that are not UTF-8.
            data = json.loads(response.content.decode("utf-8", "replace"))
        except ValueError:
            raise SourceError(
                f"{self.url.rstrip('/')}{path} did not answer JSON",
                remedy="check that url is a Roundup (>= 2.0) tracker with REST enabled",
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise SourceError(
                f"{self.url.rstrip('/')}{path} answered JSON without a 'data' object",
                remedy="check that url is a Roundup (>= 2.0) tracker with REST enabled",
            )
        result: dict[str, Any] = data["data"]
        return result

    # -- protocol ----------------------------------------------------------
    def preflight(self) -> None:
        """Check URL, credentials and classes with one request (never retried on 401/403)."""
        if self._checked:
            return
        classes = self._json("/rest/data")
        missing = [c for c in ("issue", "msg", "file", "user") if c not in classes]
        if missing:
            raise SourceError(
                f"Roundup at {self.url} has no {', '.join(missing)} class, or user "
                f"{self.user!r} may not see it",
                remedy="use a user with the Admin role, or a tracker with an issue schema",
            )
        self._checked = True

    def count(self) -> int | None:
        self.preflight()
        if self.since is not None or self.ids is not None:
            return len(self._issue_ids())  # with the date filter's surplus day: progress only
        total = self._json("/rest/data/issue", [("@page_size", "1")]).get("@total_size")
        return total if isinstance(total, int) and total >= 0 else None

    def _filters(self) -> list[tuple[str, str]]:
        if self.since is None:
            return []
        start = (self.since - ZONE_SLACK).astimezone(UTC)
        return [("activity", start.strftime("%Y-%m-%d.%H:%M:%S") + ";")]  # "from;" = from on

    def _issue_ids(self) -> list[int]:
        """Visible issue ids the filters select, ascending (ids only: the server formats
        nothing).  The date filter is the server's, widened by a day; ``ids`` is applied here."""
        pager = _CollectionPages(ID_PAGE)
        ids: list[int] = []
        while pager.has_next:
            data = self._json(
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
            attributes = self._json(f"/rest/data/issue/{sample_id}").get("attributes", {})
            self._issue_fields = sorted(set(attributes) | set(META))
        return self._issue_fields

    def _collection(
        self, classname: str, ids: Iterable[str], fields: Sequence[str], verbose: int
    ) -> dict[str, dict[str, Any]]:
        """Items of CLASSNAME by id, several ids per request."""
        out: dict[str, dict[str, Any]] = {}
        wanted = sorted(set(ids), key=int)
        for chunk in _batched(wanted, FETCH_CHUNK):
            params = [("id", i) for i in chunk]
            params += [("@fields", ",".join(fields)), ("@verbose", str(verbose))]
            for item in self._json(f"/rest/data/{classname}", params).get("collection", []):
                out[str(item["id"])] = item
        return out

    def username(self, link: Any) -> str | None:
        """Login of a user link; REST labels it, a bare id costs one cached request."""
        if not isinstance(link, dict) or "id" not in link:
            return None
        uid = str(link["id"])
        if isinstance(link.get("username"), str):
            self._usernames[uid] = link["username"]
        if uid not in self._usernames:
            attributes = self._json(f"/rest/data/user/{uid}").get("attributes", {})
            self._usernames[uid] = str(attributes.get("username") or f"user{uid}")
        return self._usernames[uid]

    def _message_text(self, msg: dict[str, Any]) -> None:
        """Make ``content`` the message text, fetching bytes REST would not show as text."""
        content = msg.get("content")
        if isinstance(content, str) and _UNREADABLE.match(content):
            self._missing(f"msg{msg['id']}", "its text is empty here")
            msg["content"] = ""
            return
        if isinstance(content, str) and not _NOT_TEXT.match(content):
            return
        response = self._get(f"/rest/data/msg/{msg['id']}/binary_content", missing_ok=True)
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
            response = self._get(path, stream=True, missing_ok=True)
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
        for chunk in _batched([str(i) for i in todo], self.page_size):
            issues = self._collection("issue", chunk, fields, verbose=2)
            # Drop the surplus day the server was asked for, before fetching its messages.
            issues = {k: v for k, v in issues.items() if self._wanted(v)}
            msgs = self._collection(
                "msg", (m for i in issues.values() for m in _ids(i.get("messages"))), MSG_FIELDS, 3
            )
            for msg in msgs.values():
                self._message_text(msg)
            files = self._collection(
                "file", (f for i in issues.values() for f in _ids(i.get("files"))), FILE_FIELDS, 2
            )
            items: list[tuple[Ticket, Any]] = []
            for issue_id in chunk:
                issue = issues.get(issue_id)
                if issue is None:
                    continue  # retired since it was listed
                raw: dict[str, Any] = {
                    "issue": issue,
                    "messages": [msgs[m] for m in _ids(issue.get("messages")) if m in msgs],
                    "files": [files[f] for f in _ids(issue.get("files")) if f in files],
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
        self.http.session.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _message(response: requests.Response) -> str:
    """The server's own words: Roundup's JSON error, or the start of its text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and "msg" in error:
        return str(error["msg"])
    return str(data)[:300]


def from_config(
    section: dict[str, Any],
    base: Path,
    filters: Filters = EVERYTHING,
) -> RoundupSource:
    """``[source]`` with ``type = "roundup"``: url, user, password (a secret reference),
    and optionally tracker_dir (for history), name (origin prefix), closed_statuses."""
    if filters.project is not None:
        raise no_projects("Roundup", filters.project)
    url = section.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(
            "[source] url is required for a Roundup source",
            remedy='add url = "https://HOST/NAME/" (the tracker\'s address) under [source]',
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
