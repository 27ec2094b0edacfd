"""Redmine source over its REST API (``X-Redmine-API-Key``), read-only.

How issues are read: the issue list is walked by id (``sort=id``, ``limit=100``,
``status_id=*`` so closed issues come too) with ``issue_id=>=N`` as a keyset
cursor instead of an offset, so issues created, closed or moved while the
extract runs never shift a page; the checkpoint is the last issue id of a
committed page.  Journals only come with one issue at a time
(``/issues/ID.json?include=journals,attachments,relations,watchers,children``),
so those requests, and the attachment downloads, run on a small thread pool
(``workers``), one HTTP session per worker; pages are still yielded in
ascending id order, and the next page is fetched while the caller commits the
current one.

What maps where:

* tracker -> ``type``, category -> ``components``, target version ->
  ``milestone``, author -> ``reporter``; people are logins (an admin key reads
  every user, locked ones included, from ``/users.json``; any other key looks
  up the people it meets with ``/users/ID.json`` and falls back to the display
  name where Redmine will not say).
* Journals with notes are the comments (private notes only with
  ``private_notes = "include"``: they were hidden from most readers).  Every
  journal detail is a history entry named after the canonical field it
  changed (``status_id`` -> ``status``, "New" -> "Closed"; a custom field ->
  ``custom.NAME``; an attachment -> ``attachments``; a relation -> ``links`` as
  "KIND ORIGIN").
* Custom fields -> ``custom`` by name (user, version and key/value values as
  names, multiple values joined with ", "); Redmine's core fields without a
  canonical home go there too: ``start_date``, ``due_date``, ``done_ratio``,
  ``estimated_hours``, ``is_private``.
* Relations -> links, from each issue's own side (A ``blocks`` B is
  ``blocked-by`` A on B), so both issues of a relation carry it; the parent ->
  ``parent``.
* Attachment bytes are streamed into the blob store and checked against
  Redmine's size (and its ``digest`` when the server sends one; Redmine 5's
  REST API does not, for issue attachments).  A file the server cannot serve
  (404/403) is left out of the ticket and named in :attr:`RedmineSource.warnings`.
* ``markup`` is Redmine's text formatting setting, which REST does not
  expose: "textile" (Redmine's default) unless configured.

Archived projects and the issues in them are invisible to REST and are not
extracted.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from migrator.errors import ConfigError, SourceError
from migrator.model import Attachment, Change, Comment, Link, Ticket, User, iso, parse_iso
from migrator.secrets import Secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.filters import EVERYTHING, Filters, OnlyIds
from migrator.trackers.protocols import Page
from migrator.trackers.redmine.api import PAGE, RedmineApi, redmine_since, root
from migrator.trackers.redmine.config import SOURCE, reach
from migrator.trackers.settings import Transport

T = TypeVar("T")

DEFAULT_WORKERS = 4
DOWNLOAD_ATTEMPTS = 3
# Download read size.  1 MiB reads on several threads fragment glibc's
# per-thread heaps: RSS crept up by about 4 MB per 1,000 issues (flat with one
# malloc arena); with 64 KiB reads it stays flat.
DOWNLOAD_CHUNK = 64 * 1024
INCLUDE = "journals,attachments,relations,watchers,children"

# Redmine's text_formatting setting (or a canonical name) -> the migrator's markup names.
MARKUPS = {
    "textile": "textile",
    "markdown": "markdown",
    "common_mark": "markdown",
    "commonmark": "markdown",
    "plain": "plain",
    "none": "plain",
    "": "plain",
}

SECTION_KEYS = SOURCE.names  # the name older callers import

# Journal detail names (property "attr") -> canonical ticket fields.
ATTR_FIELDS = {
    "status_id": "status",
    "tracker_id": "type",
    "priority_id": "priority",
    "assigned_to_id": "assignee",
    "author_id": "reporter",
    "category_id": "components",
    "fixed_version_id": "milestone",
    "parent_id": "parent",
    "project_id": "project",
    "subject": "title",
    "description": "description",
}
# Core fields with no canonical home: kept in ``custom`` under these names.
EXTRA_FIELDS = ("start_date", "due_date", "done_ratio", "estimated_hours", "is_private")

# A relation type as seen from one issue -> the canonical Link kind, and the
# type the other issue sees.  Redmine stores the forward types; the reverse
# ones appear in journal details and in relations read from the other side.
LINK_KINDS = {
    "relates": "relates",
    "duplicates": "duplicates",
    "duplicated": "duplicated-by",
    "blocks": "blocks",
    "blocked": "blocked-by",
    "precedes": "precedes",
    "follows": "follows",
    "copied_to": "copied-to",
    "copied_from": "copied-from",
}
OPPOSITE = {
    "relates": "relates",
    "duplicates": "duplicated",
    "duplicated": "duplicates",
    "blocks": "blocked",
    "blocked": "blocks",
    "precedes": "follows",
    "follows": "precedes",
    "copied_to": "copied_from",
    "copied_from": "copied_to",
}


def _time(value: Any) -> str | None:
    return iso(parse_iso(value)) if isinstance(value, str) and value else None


def _str(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RedmineSource:
    """Issues of a Redmine (or of one project and its subprojects), in ascending id order."""

    kind = "redmine"

    def __init__(
        self,
        url: str,
        api_key: Secret,
        *,
        project: str | None = None,
        name: str | None = None,
        workers: int = DEFAULT_WORKERS,
        since: str | None = None,
        markup: str = "textile",
        private_notes: bool = False,
        page_size: int = PAGE,
        attempts: int = 5,
        timeout: float = 30.0,
    ):
        self.url = root(url, "source")
        if markup not in MARKUPS:
            raise ConfigError(
                f"unknown markup {markup!r}",
                where="[source] markup",
                remedy="use Redmine's text formatting setting: textile, markdown or common_mark",
            )
        if workers < 1 or not 1 <= page_size <= PAGE:
            raise ConfigError(
                "workers must be >= 1 and page_size between 1 and 100",
                where="[source]",
                remedy="e.g. workers = 4",
            )
        self.project = project or None
        self.name = name or urlsplit(self.url).hostname or "redmine"
        self.workers = workers
        self.since = redmine_since(since) if since else None
        self.markup = MARKUPS[markup]
        self.private_notes = private_notes
        self.page_size = page_size
        self.warnings: list[str] = []  # things the user should know about this extract
        self._key = api_key
        self._net = Transport(timeout, attempts=attempts)
        self._what = f"Redmine at {self.url}"
        # One HTTP session per concurrent user of the pool; reused across pages().
        self._clients: queue.LifoQueue[RedmineApi] = queue.LifoQueue()
        self._all_clients: list[RedmineApi] = []
        self._lock = threading.RLock()  # guards the caches below on a miss
        self._ready = False
        self.admin = False
        self._statuses: dict[int, tuple[str, bool]] = {}
        self._trackers: dict[int, str] = {}
        self._priorities: dict[int, str] = {}
        self._projects: dict[int, dict[str, Any]] = {}
        self._versions: dict[int, str | None] = {}
        self._categories: dict[int, str | None] = {}
        self._users: dict[int, User] = {}
        self._fields: dict[int, dict[str, Any]] = {}
        self._hidden_watchers: set[str] = set()

    def describe(self) -> str:
        scope = f" project {self.project!r} and its subprojects" if self.project else ""
        since = f", updated since {self.since}" if self.since else ""
        return f"Redmine at {self.url}{scope}{since}"

    def origin(self, issue_id: int | str) -> str:
        return f"redmine:{self.name}#{issue_id}"

    # -- HTTP --------------------------------------------------------------
    @contextlib.contextmanager
    def _http(self) -> Iterator[RedmineApi]:
        try:
            client = self._clients.get_nowait()
        except queue.Empty:
            client = RedmineApi(self.url, self._key, self._net, side="source")
            with self._lock:
                self._all_clients.append(client)
        try:
            yield client
        finally:
            self._clients.put(client)

    # -- metadata ----------------------------------------------------------
    def preflight(self) -> None:
        """Check URL and key, and read the metadata every issue refers to (once)."""
        if self._ready:
            return
        with self._lock, self._http() as http:
            if self._ready:
                return
            me = http.json("/users/current.json").get("user") or {}
            self.admin = bool(me.get("admin"))
            for s in http.json("/issue_statuses.json").get("issue_statuses", []):
                self._statuses[int(s["id"])] = (str(s["name"]), bool(s.get("is_closed")))
            for t in http.json("/trackers.json").get("trackers", []):
                self._trackers[int(t["id"])] = str(t["name"])
            priorities = http.json("/enumerations/issue_priorities.json")
            for p in priorities.get("issue_priorities", []):
                self._priorities[int(p["id"])] = str(p["name"])
            if self.project:
                self._check_project(http)
            for p in http.collection("/projects.json", "projects"):
                self._projects[int(p["id"])] = p
            if self.admin:
                for u in http.collection("/users.json", "users", {"status": ""}):
                    self._users[int(u["id"])] = _user(u)
                for g in http.json("/groups.json").get("groups", []):
                    self._users[int(g["id"])] = User(login=str(g["name"]), name=str(g["name"]))
                for f in http.json("/custom_fields.json").get("custom_fields", []):
                    if f.get("customized_type") == "issue":
                        self._fields[int(f["id"])] = f
            else:
                self.warnings.append(
                    "not an administrator's key: users are looked up one by one as they are "
                    "met, and custom field values are read as stored (ids for user, version "
                    "and key/value fields)"
                )
            self._ready = True

    def _check_project(self, http: RedmineApi) -> None:
        found = http.send("GET", f"/projects/{self.project}.json", accept=(404,))
        found.close()
        if found.status_code == 404:
            raise SourceError(
                f"{self._what} has no project {self.project!r}, or this key cannot see it",
                where="[source] project",
                remedy="use the project's identifier (Settings > Identifier), not its name",
            )

    def _scope_projects(self) -> list[dict[str, Any]]:
        """The configured project and its descendants, or every visible project."""
        if not self.project:
            return sorted(self._projects.values(), key=lambda p: int(p["id"]))
        top = next((p for p in self._projects.values() if p["identifier"] == self.project), None)
        if top is None:
            return []
        ids = {int(top["id"])}
        grew = True
        while grew:
            grew = False
            for p in self._projects.values():
                parent = (p.get("parent") or {}).get("id")
                if parent in ids and int(p["id"]) not in ids:
                    ids.add(int(p["id"]))
                    grew = True
        return [self._projects[i] for i in sorted(ids)]

    def metadata(self) -> dict[str, Any]:
        """Projects in scope with their versions and categories, trackers, statuses,
        priorities, custom fields and users, by name: what a mapping has to cover."""
        self.preflight()
        projects = []
        with self._http() as http:
            for p in self._scope_projects():
                pid = int(p["id"])
                versions = http.json(f"/projects/{pid}/versions.json").get("versions", [])
                categories = http.json(f"/projects/{pid}/issue_categories.json").get(
                    "issue_categories", []
                )
                projects.append(
                    {
                        "identifier": p["identifier"],
                        "name": p["name"],
                        "parent": self._project_identifier((p.get("parent") or {}).get("id")),
                        "versions": [v["name"] for v in versions],
                        "categories": [c["name"] for c in categories],
                    }
                )
        return {
            "projects": projects,
            "trackers": [self._trackers[k] for k in sorted(self._trackers)],
            "statuses": [self._statuses[k][0] for k in sorted(self._statuses)],
            "closed_statuses": [n for k, (n, c) in sorted(self._statuses.items()) if c],
            "priorities": [self._priorities[k] for k in sorted(self._priorities)],
            "custom_fields": [
                {"name": f["name"], "format": f.get("field_format")}
                for _, f in sorted(self._fields.items())
            ],
            "users": self.users(),
        }

    def users(self) -> list[User]:
        """Every user (admin key), else the people met so far."""
        return sorted(self._users.values(), key=lambda u: u.login)

    def _cached(self, cache: dict[int, T], key: int, fetch: Callable[[], T]) -> T:
        """``cache[key]``, fetched once on a miss even when several workers miss together."""
        if key in cache:
            return cache[key]
        with self._lock:
            if key not in cache:
                cache[key] = fetch()
            return cache[key]

    def _project_identifier(self, pid: Any) -> str | None:
        if pid is None:
            return None

        def fetch() -> dict[str, Any]:
            with self._http() as http:
                data = http.json_or_none(f"/projects/{int(pid)}.json")
            project = (data or {}).get("project") or {"id": pid, "identifier": str(pid)}
            return dict(project)

        return str(self._cached(self._projects, int(pid), fetch)["identifier"])

    def _named(self, cache: dict[int, str | None], path: str, key: str, ident: Any) -> str | None:
        """Name of a version or category by id (details hold ids); the id if Redmine hides it."""
        if ident in (None, ""):
            return None

        def fetch() -> str | None:
            with self._http() as http:
                data = http.json_or_none(f"{path}/{int(ident)}.json")
            return str(data[key]["name"]) if data and key in data else None

        return self._cached(cache, int(ident), fetch) or str(ident)

    def _version(self, ident: Any) -> str | None:
        return self._named(self._versions, "/versions", "version", ident)

    def _category(self, ident: Any) -> str | None:
        return self._named(self._categories, "/issue_categories", "issue_category", ident)

    def _learn(self, cache: dict[int, str | None], ref: Any) -> None:
        """Remember an id -> name pair the issue JSON gave for free."""
        if isinstance(ref, dict) and "id" in ref and "name" in ref:
            cache.setdefault(int(ref["id"]), str(ref["name"]))

    def login(self, ident: Any, name: str | None = None) -> str | None:
        """The login of user ``ident``; the display name when Redmine will not tell."""
        if ident in (None, ""):
            return None
        uid = int(ident)

        def fetch() -> User:
            with self._http() as http:
                data = http.json_or_none(f"/users/{uid}.json")
            user = (data or {}).get("user")
            if user and user.get("login"):
                return _user(user)
            if name == "Anonymous":
                # Redmine's anonymous user (and users deleted since: their journals
                # were handed to it) has no login.
                return User(login="anonymous", name=name)
            stand_in = name or f"user{uid}"
            self.warnings.append(
                f"user {uid} ({stand_in}): this key may not read the login (a locked user, "
                f"or one outside its projects); {stand_in!r} stands in for it"
            )
            return User(login=stand_in, name=name)

        user: User = self._cached(self._users, uid, fetch)
        return user.login

    def _person(self, ref: Any) -> str | None:
        if not isinstance(ref, dict):
            return None
        return self.login(ref.get("id"), ref.get("name"))

    def _status(self, ident: Any) -> str | None:
        if ident in (None, ""):
            return None
        found = self._statuses.get(int(ident))
        return found[0] if found else str(ident)

    def _field(self, ident: Any, name: str | None = None) -> dict[str, Any]:
        """A custom field definition (admin key), else what the issue said about it."""
        fid = int(ident)
        found = self._fields.get(fid)
        if found is None:
            found = {"id": fid, "name": name or f"#{fid}"}
            with self._lock:
                self._fields.setdefault(fid, found)
        elif name and "field_format" not in found and found["name"].startswith("#"):
            found["name"] = name
        return found

    def _cf_value(self, cf: dict[str, Any], value: Any) -> str | None:
        """A custom field value as its name: users, versions and key/value items by name."""
        text = _str(value)
        if text is None:
            return None
        fmt = cf.get("field_format")
        if fmt == "user":
            return self.login(text) if text.isdigit() else text
        if fmt == "version":
            return self._version(text) if text.isdigit() else text
        if fmt == "enumeration":
            labels = {str(v.get("value")): v.get("label") for v in cf.get("possible_values", [])}
            return str(labels.get(text) or text)
        return text

    # -- issues ------------------------------------------------------------
    def _list_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"status_id": "*", "sort": "id"}
        if self.project:
            # Explicit, so Redmine's "display subprojects issues" setting does not decide.
            params.update(project_id=self.project, subproject_id="*")
        if self.since:
            params["updated_on"] = f">={self.since}"
        return params

    def count(self) -> int | None:
        self.preflight()
        with self._http() as http:
            data = http.json("/issues.json", {**self._list_params(), "limit": 1})
        total = data.get("total_count")
        return int(total) if isinstance(total, int) else None

    def _ids_after(self, last: int) -> list[int]:
        """The next page of issue ids above ``last``: a keyset query, immune to inserts."""
        params = {**self._list_params(), "limit": self.page_size, "offset": 0}
        if last > 0:
            params["issue_id"] = f">={last + 1}"
        with self._http() as http:
            data = http.json("/issues.json", params)
        ids = sorted(int(i["id"]) for i in data.get("issues", []) if int(i["id"]) > last)
        return ids

    def pages(self, checkpoint: str | None, blobs: BlobStore) -> Iterator[Page]:
        self.preflight()
        last = int(checkpoint or 0)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="redmine-source")
        # At most two pages in flight: the one being yielded and the next one, so
        # memory stays flat however many issues there are.
        inflight: deque[tuple[int, list[Future[tuple[Ticket, Any] | None]]]] = deque()
        listed_all = False
        try:
            while True:
                while not listed_all and len(inflight) < 2:
                    ids = self._ids_after(last)
                    if ids:
                        futures = [pool.submit(self._fetch, i, blobs) for i in ids]
                        inflight.append((ids[-1], futures))
                        last = ids[-1]
                    listed_all = len(ids) < self.page_size
                if not inflight:
                    return
                page_last, futures = inflight.popleft()
                items = [r for f in futures if (r := f.result()) is not None]
                yield Page(items, str(page_last))
        finally:
            for _, futures in inflight:
                for f in futures:
                    f.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetch(self, issue_id: int, blobs: BlobStore) -> tuple[Ticket, Any] | None:
        """One issue with its journals, as (ticket, raw); None if it vanished since listed."""
        with self._http() as http:
            data = http.json_or_none(f"/issues/{issue_id}.json", {"include": INCLUDE})
            issue = (data or {}).get("issue")
            if not isinstance(issue, dict):
                return None
            attachments = [
                a
                for a in (
                    self._attachment(http, issue_id, a, blobs) for a in _list(issue, "attachments")
                )
                if a
            ]
        return self._ticket(issue, attachments), issue

    def _attachment(
        self, http: RedmineApi, issue_id: int, att: dict[str, Any], blobs: BlobStore
    ) -> Attachment | None:
        downloaded = self._download(http, issue_id, att, blobs)
        if downloaded is None:
            return None
        sha, size = downloaded
        return Attachment(
            id=str(att["id"]),
            name=str(att.get("filename") or f"attachment{att['id']}"),
            size=size,
            sha256=sha,
            content_type=att.get("content_type") or None,
            author=self._person(att.get("author")),
            time=_time(att.get("created_on")),
            description=str(att.get("description") or ""),
        )

    def _download(
        self, http: RedmineApi, issue_id: int, att: dict[str, Any], blobs: BlobStore
    ) -> tuple[str, int] | None:
        """Stream one attachment into the blob store and check it; None if the server lost it.

        The path is built from the id under the configured URL rather than taken
        from ``content_url``, whose host is whatever the request's Host header
        said: behind a proxy it can name another host, and the key must not go there.
        """
        path = f"/attachments/download/{int(att['id'])}"
        label = f"attachment {att['id']} ({att.get('filename')}) of {self.origin(issue_id)}"
        expected = att.get("filesize")
        digest = str(att.get("digest") or "").lower()
        problem = ""
        for _attempt in range(DOWNLOAD_ATTEMPTS):
            response = http.get_or_none(path, stream=True)
            if response is None:
                with self._lock:
                    self.warnings.append(
                        f"{label}: not downloadable (missing on the server, or hidden from "
                        "this key), left out"
                    )
                return None
            md5 = hashlib.md5(usedforsecurity=False) if len(digest) == 32 else None

            def chunks(r: requests.Response = response, h: Any = md5) -> Iterator[bytes]:
                for chunk in r.iter_content(DOWNLOAD_CHUNK):
                    if h is not None:
                        h.update(chunk)
                    yield chunk

            try:
                sha, size = blobs.put_chunks(chunks())
            except requests.RequestException as exc:  # cut off mid-body: try again
                problem = f"the download kept breaking off ({http.redact(str(exc))[:200]})"
                continue
            finally:
                response.close()
            if isinstance(expected, int) and size != expected:
                problem = f"downloaded {size} bytes, Redmine records {expected}"
            elif len(digest) == 64 and sha != digest:
                problem = f"sha256 {sha} differs from Redmine's digest {digest}"
            elif md5 is not None and md5.hexdigest() != digest:
                problem = f"md5 {md5.hexdigest()} differs from Redmine's digest {digest}"
            else:
                return sha, size
        raise SourceError(
            f"{self._what}: {label}: {problem}",
            remedy="check the file under the server's files/ folder, then rerun "
            "`migrator extract` (it resumes)",
        )

    def _ticket(self, issue: dict[str, Any], attachments: list[Attachment]) -> Ticket:
        iid = int(issue["id"])
        for key, cache in (
            ("fixed_version", self._versions),
            ("category", self._categories),
        ):
            self._learn(cache, issue.get(key))
        status = issue.get("status") or {}
        is_closed = bool(status.get("is_closed"))
        if not is_closed and status.get("id") in self._statuses:
            is_closed = self._statuses[int(status["id"])][1]
        project = self._project_identifier((issue.get("project") or {}).get("id")) or ""
        if "watchers" not in issue and project not in self._hidden_watchers:
            # Redmine leaves the list out, rather than empty, without "View watchers list".
            with self._lock:
                if project not in self._hidden_watchers:
                    self._hidden_watchers.add(project)
                    self.warnings.append(
                        f"this key may not view watchers in project {project!r}: "
                        "its tickets are extracted without watchers"
                    )
        custom = self._custom(issue)
        comments: list[Comment] = []
        history: list[Change] = []
        journals = sorted(
            _list(issue, "journals"), key=lambda j: (str(j.get("created_on")), int(j["id"]))
        )
        for journal in journals:
            author = self._person(journal.get("user")) or "anonymous"
            when = _time(journal.get("created_on")) or ""
            notes = journal.get("notes") or ""
            if notes.strip() and (self.private_notes or not journal.get("private_notes")):
                comments.append(
                    Comment(id=str(journal["id"]), author=author, time=when, body=notes)
                )
            for detail in journal.get("details") or []:
                change = self._change(issue, detail)
                if change is not None:
                    name, old, new = change
                    history.append(Change(when, author, name, old, new))
        parent = (issue.get("parent") or {}).get("id")
        return Ticket(
            origin=self.origin(iid),
            source_id=str(iid),
            project=project,
            title=str(issue.get("subject") or ""),
            description=str(issue.get("description") or ""),
            markup=self.markup,
            type=(issue.get("tracker") or {}).get("name"),
            status=status.get("name"),
            priority=(issue.get("priority") or {}).get("name"),
            reporter=self._person(issue.get("author")),
            assignee=self._person(issue.get("assigned_to")),
            watchers=sorted(login for w in _list(issue, "watchers") if (login := self._person(w))),
            created=_time(issue.get("created_on")),
            updated=_time(issue.get("updated_on")),
            closed=_time(issue.get("closed_on")) if is_closed else None,
            milestone=(issue.get("fixed_version") or {}).get("name"),
            components=[c] if (c := (issue.get("category") or {}).get("name")) else [],
            custom=custom,
            parent=self.origin(parent) if parent else None,
            comments=comments,
            history=history,
            attachments=attachments,
            links=self._links(iid, _list(issue, "relations")),
        )

    def _custom(self, issue: dict[str, Any]) -> dict[str, str]:
        custom: dict[str, str] = {}
        for name in EXTRA_FIELDS:
            value = issue.get(name)
            if (name == "done_ratio" and value == 0) or (name == "is_private" and not value):
                continue
            text = _str(value)
            if text is not None:
                custom[name] = text
        for cf in _list(issue, "custom_fields"):
            field = self._field(cf["id"], cf.get("name"))
            raw = cf.get("value")
            values = raw if isinstance(raw, list) else [raw]
            names = [v for v in (self._cf_value(field, x) for x in values) if v]
            if names:
                custom[str(cf.get("name") or field["name"])] = ", ".join(names)
        return dict(sorted(custom.items()))

    def _links(self, iid: int, relations: list[dict[str, Any]]) -> list[Link]:
        links = []
        for r in relations:
            kind = str(r.get("relation_type"))
            if int(r["issue_id"]) == iid:
                other = int(r["issue_to_id"])
            else:
                other, kind = int(r["issue_id"]), OPPOSITE.get(kind, kind)
            links.append(Link(LINK_KINDS.get(kind, kind), self.origin(other)))
        return sorted(links, key=lambda link: (link.kind, link.other))

    def _change(
        self, issue: dict[str, Any], detail: dict[str, Any]
    ) -> tuple[str, str | None, str | None] | None:
        """One journal detail as (canonical field, old, new), ids turned into names."""
        prop, key = detail.get("property"), str(detail.get("name"))
        old, new = detail.get("old_value"), detail.get("new_value")
        if prop == "attr":
            field = ATTR_FIELDS.get(key)
            if field is None:
                field = f"custom.{key}" if key in EXTRA_FIELDS else key
                return field, _str(old), _str(new)
            return field, self._attr(key, old), self._attr(key, new)
        if prop == "cf":
            if not key.isdigit():
                return f"custom.{key}", _str(old), _str(new)
            names = {int(cf["id"]): cf.get("name") for cf in _list(issue, "custom_fields")}
            cf = self._field(key, names.get(int(key)))
            return f"custom.{cf['name']}", self._cf_value(cf, old), self._cf_value(cf, new)
        if prop == "attachment":
            return "attachments", _str(old), _str(new)
        if prop == "relation":
            kind = LINK_KINDS.get(key, key)
            before, after = _str(old), _str(new)
            return (
                "links",
                f"{kind} {self.origin(before)}" if before else None,
                f"{kind} {self.origin(after)}" if after else None,
            )
        return str(prop), _str(old), _str(new)  # e.g. a plugin's own property

    def _attr(self, key: str, value: Any) -> str | None:
        if _str(value) is None:
            return None
        if key == "status_id":
            return self._status(value)
        if key == "tracker_id":
            return self._trackers.get(int(value), str(value))
        if key == "priority_id":
            return self._priorities.get(int(value), str(value))
        if key in ("assigned_to_id", "author_id"):
            return self.login(value)
        if key == "category_id":
            return self._category(value)
        if key == "fixed_version_id":
            return self._version(value)
        if key == "parent_id":
            return self.origin(value)
        if key == "project_id":
            return self._project_identifier(value)
        return _str(value)

    def close(self) -> None:
        with self._lock:
            for client in self._all_clients:
                client.close()


def _list(issue: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = issue.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _user(u: dict[str, Any]) -> User:
    name = " ".join(p for p in (u.get("firstname"), u.get("lastname")) if p) or None
    return User(login=str(u["login"]), name=name, email=u.get("mail") or None)


def from_config(
    section: dict[str, Any],
    base: Path,
    filters: Filters = EVERYTHING,
) -> RedmineSource | OnlyIds:
    """``[source]`` with ``type = "redmine"``: url, api_key (a secret reference), and
    optionally project, name, workers, markup, private_notes.

    ``--project`` overrides the section's ``project``: that project and its
    subprojects.  Redmine's issue list cannot select ids, so ``--ids`` filters
    what is read.
    """
    if filters.project is not None:
        section = {**section, "project": filters.project}
    SOURCE.refuse_unknown(section)
    url, key = reach(section, base, "source")
    workers = section.get("workers", DEFAULT_WORKERS)
    if not isinstance(workers, int) or isinstance(workers, bool):
        raise ConfigError("[source] workers must be a whole number", remedy="e.g. workers = 4")
    private = section.get("private_notes", "skip")
    if private not in ("skip", "include"):
        raise ConfigError(
            '[source] private_notes must be "skip" or "include"',
            remedy="private notes are skipped unless you say include",
        )
    project, name, markup = section.get("project"), section.get("name"), section.get("markup")
    source = RedmineSource(
        url,
        key,
        project=str(project) if project else None,
        name=str(name) if name else None,
        workers=workers,
        since=iso(filters.since),
        markup=str(markup) if markup is not None else "textile",
        private_notes=private == "include",
    )
    return source if filters.ids is None else OnlyIds(source, filters.ids)
