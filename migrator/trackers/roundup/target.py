"""Roundup target over its REST API (``/NAME/rest/data/<class>``).

Where a payload goes in a Roundup classic tracker:

* the ticket is an ``issue``: ``title``, ``status`` and ``priority`` (by
  name), ``assignedto``, ``nosy`` (the watchers and the author), ``files``;
  the origin marker is an issue property the tracker's ``schema.py`` must
  declare (``legacy_id = String()``), because find-by-origin is what makes
  crash recovery possible;
* the description is the issue's first message and every comment a later
  one, each ``msg`` written with its original author and date (a message's
  ``author`` and ``date`` can be set; an issue's ``creator`` and
  ``creation`` cannot);
* attachments are uploaded as ``file`` items first and linked by the same
  request that creates the issue, so an issue never exists without them;
* links are written in the second pass into issue properties: ``duplicates``
  into ``superseder`` (the only relation Roundup classic has), any other kind
  into a ``Multilink("issue")`` named after it (``blocks``...) and the parent
  into a ``parent`` link, where the tracker's schema declares them;
* there is no tracker (ticket type) and no project: every ticket is an
  ``issue`` of the one tracker at ``url``, so the plan's tracker must be
  ``issue``.

Rules of Roundup's REST API handled here: writes need an ``Origin`` equal to
the tracker's own web address (learnt from the links it answers, so a proxy
in between does not matter) and ``X-Requested-With``; updates need
``If-Match`` with the item's current etag; a message needs an ``author``.
Four failed logins lock a user out of REST for ten minutes, so a 401, 403 or
lock is never retried: the first one stops the run with the remedy.

Writing into a live tracker would mail the nosy list for every message
migrated.  Each message is therefore created with the nosy list already in
its ``recipients``, which Roundup reads as "these people have it": nobody is
mailed about history.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from migrator.errors import ConfigError, PermanentTargetError, TargetError
from migrator.http import RateGovernor
from migrator.mapping.references import later_references
from migrator.mapping.rules import ATTRIBUTE_VALUES
from migrator.model import parse_iso
from migrator.secrets import Secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.protocols import Capabilities, ReadBack, Texts
from migrator.trackers.roundup.api import NOT_TEXT, RoundupApi, label_of, link_ids
from migrator.trackers.settings import Transport, login, transport

ISSUE = "issue"  # the class every ticket becomes, and so the only "tracker" a plan may name
LEGACY_PROPERTY = "legacy_id"
CLOSED_STATUS = "resolved"  # where a rolled-back copy is put, as Roundup classic closes issues
MSG_CHUNK = 100  # message ids per filtered request: keeps URLs short
ETAG_ATTEMPTS = 3  # updates refused because the issue changed in between, then given up
# The issue property that holds each (forward) link kind.  Roundup classic has
# superseder only ("superseded by X" is "duplicates X"); a tracker's schema may add
# a Multilink("issue") named after any other kind, and a parent Link("issue").
LINK_PROPERTIES = {
    "duplicates": "superseder",
    "blocks": "blocks",
    "precedes": "precedes",
    "relates": "relates",
    "copied-to": "copied_to",
}
PARENT = "parent"
# Issue properties with their own place in the payload; any other is a custom field.
STANDARD = frozenset(
    {"title", "status", "priority", "assignedto", "nosy", "messages", "files", PARENT}
    | {"keyword", "id", "creation", "creator", "activity", "actor"}
    | set(LINK_PROPERTIES.values())
)
# The time in the provenance line the plan starts every text with (to the minute).
_ATTRIBUTED = re.compile(r"originally by .* on (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


def roundup_date(iso_time: str | None, text: str = "") -> str | None:
    """A message ``date`` for Roundup, in UTC whatever the REST user's time zone.

    The payload's own time when it has one; otherwise the time of the
    "originally by ... on ..." line the plan puts at the head of every text
    (to the minute); otherwise None (Roundup leaves the date empty).
    """
    when = parse_iso(iso_time) if iso_time else None
    if when is None:
        first = text.lstrip().split("\n", 1)[0]
        m = _ATTRIBUTED.search(first)
        if m:
            when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M")
    if when is None:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%d.%H:%M:%S+0000")  # an explicit zone overrides the user's


def requests_for(payload: dict[str, Any], planned: Collection[str] = ()) -> int:
    """Writes and reads this target sends for a ticket (for estimates): the description
    message, each non-empty file and the issue; three per comment (read the etag,
    create the message, link it); two per link stored on this ticket, and for a parent.
    Texts naming tickets of ``planned`` loaded after it are read back (two requests) and
    edited: three for the description (find its message, its etag, the edit), two for
    a comment."""
    n = 2 + sum(1 for a in payload.get("attachments", []) if a.get("size"))
    description, comments = later_references(payload, planned)
    if description or comments:
        n += 2 + 3 * description + 2 * comments
    n += 3 * len(payload.get("comments", []))
    n += 2 * sum(1 for link in payload.get("links", []) if link.get("kind") in LINK_PROPERTIES)
    n += 2 * bool(payload.get("parent"))
    return n


def _links(attributes: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, other issue id) of the links an issue's attributes hold."""
    return {
        (kind, other)
        for kind, prop in LINK_PROPERTIES.items()
        for other in link_ids(attributes.get(prop))
    }


class RoundupTarget:
    kind = "roundup"

    def __init__(
        self,
        url: str,
        user: str,
        password: Secret,
        *,
        blobs: BlobStore,
        legacy_property: str = LEGACY_PROPERTY,
        attempts: int = 5,
        timeout: float = 30.0,
        governor: RateGovernor | None = None,
    ):
        self.api = RoundupApi(
            url,
            user,
            password,
            Transport(timeout, governor, attempts),
            side="target",
            headers={"X-Requested-With": "migrator"},  # Roundup refuses writes without it
            fresh_connections=True,
        )
        self.http = self.api.http
        self.url = self.api.address.rstrip("/")
        self.name = self.api.name
        self.user = user
        self.blobs = blobs
        self.legacy = legacy_property
        self._meta: dict[str, dict[str, str]] | None = None  # kind -> name -> id
        self._me = ""
        self._properties: dict[str, bool] = {}
        # Attachments Roundup cannot store (it refuses empty files); verify lists them too.
        self.skipped: list[str] = []
        # Messages carry their author and date; an issue's creator and creation are
        # always the migrating user and the load time (see the module docstring).
        self.capabilities = Capabilities(
            set_author=True, set_timestamps=True, set_status_on_create=True
        )

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def describe(self) -> str:
        return f"Roundup tracker {self.name!r} at {self.url}/ as {self.user}"

    # -- metadata --------------------------------------------------------
    def preflight(self, payload_sample: dict[str, Any] | None = None) -> None:
        """Log in once, learn the web origin, check the origin property, learn which
        link properties issues have, and read the names.

        The first request is a GET, which Roundup serves without an Origin
        header; its links name the address Roundup expects as Origin on writes.
        """
        if self._meta is not None:
            return
        classes = self.api.classes((ISSUE, "msg", "file", "user", "status", "priority"))
        link = str(classes[ISSUE].get("link") or self.url)
        web = urlsplit(link)
        self.http.session.headers["Origin"] = f"{web.scheme}://{web.netloc}"
        if not self._has_property(self.legacy):
            raise TargetError(
                f"the issue class of Roundup at {self.url}/ has no {self.legacy!r} property "
                "(migrator marks every issue with its origin there, to find it after a crash)",
                remedy=f"add {self.legacy}=String() to the issue class in schema.py in the "
                f'tracker home (issue = IssueClass(db, "issue", ..., {self.legacy}=String())) '
                "and restart the tracker",
            )
        for prop in (*LINK_PROPERTIES.values(), PARENT):
            self._has_property(prop)  # which links this tracker can hold, asked once
        meta: dict[str, dict[str, str]] = {
            "status": {str(s["name"]): str(s["id"]) for s in self.api.every("status", "name")},
            "priority": {str(p["name"]): str(p["id"]) for p in self.api.every("priority", "name")},
            "user": {str(u["username"]): str(u["id"]) for u in self.api.every("user", "username")},
        }
        if self.user not in meta["user"]:
            raise TargetError(
                f"user {self.user!r} cannot see itself in Roundup at {self.url}/",
                remedy="use a user with the Admin role",
            )
        self._me = meta["user"][self.user]
        self._meta = meta

    def _has_property(self, name: str) -> bool:
        """Whether issues have property NAME (Roundup answers 400 for an unknown one)."""
        if name not in self._properties:
            response = self.api.send(
                "GET",
                f"/rest/data/{ISSUE}",
                params={"@fields": name, "@page_size": 1},
                accept=(400,),
            )
            response.close()
            self._properties[name] = response.status_code < 400
        return self._properties[name]

    def check_plan(self, names: dict[str, set[str]]) -> list[str]:
        """Names used by the plan that this tracker does not have."""
        self.preflight()
        assert self._meta is not None
        problems = []
        trackers = sorted(names.get("tracker", set()) - {ISSUE})
        if trackers:
            problems.append(
                f"tracker {', '.join(trackers)}: Roundup files every ticket as an {ISSUE}; "
                f"set values.tracker to {{template: {ISSUE}}} and preserve the type in the text"
            )
        for kind in ("status", "priority", "user"):
            missing = sorted(names.get(kind, set()) - set(self._meta[kind]))
            if missing:
                problems.append(f"{kind} not in Roundup: {', '.join(missing)}")
        for kind in ("category", "version", *ATTRIBUTE_VALUES):
            if names.get(kind):
                problems.append(
                    f"Roundup issues have no {kind}: remove values.{kind} from the mapping "
                    "and preserve the source field in the text instead"
                )
        unknown = sorted(n for n in names.get("custom_field", set()) if not self._has_property(n))
        if unknown:
            problems.append(
                f"custom fields that are not issue properties in Roundup: {', '.join(unknown)}"
            )
        return problems

    def _id(self, kind: str, name: str) -> str:
        assert self._meta is not None
        try:
            return self._meta[kind][name]
        except KeyError:
            raise TargetError(
                f"{kind} {name!r} does not exist in Roundup at {self.url}/",
                remedy=f"create it in Roundup or change the mapping's {kind} values",
            ) from None

    def _author(self, login: str | None) -> str:
        """A message's author: the mapped user, else the migrating user (the text names
        the original author either way)."""
        assert self._meta is not None
        return self._meta["user"].get(login or "", self._me)

    # -- writes ----------------------------------------------------------
    def find_by_origin(self, origin: str) -> str | None:
        self.preflight()
        # "prop:" is Roundup's exact match; without the colon it matches substrings.
        data = self.api.get(
            f"/rest/data/{ISSUE}",
            {f"{self.legacy}:": origin, "@fields": self.legacy, "@sort": "id"},
        )
        for item in data.get("collection", []):
            if item.get(self.legacy) == origin:
                return str(item["id"])
        return None

    def marked(self, projects: set[str]) -> Iterator[tuple[str, str]]:
        """(issue id, origin) of every issue that carries an origin marker.

        Roundup has no projects: the tracker is the project, so ``projects``
        selects nothing and every marked issue of the tracker is listed.
        Retired (deleted) issues are not.
        """
        self.preflight()
        for item in self.api.every(ISSUE, self.legacy):
            origin = item.get(self.legacy)
            if isinstance(origin, str) and origin:
                yield str(item["id"]), origin

    def create_ticket(self, payload: dict[str, Any]) -> str:
        """Messages and files first (unlinked, they are orphans nobody sees), then the
        issue that links them: one request, so it exists completely or not at all."""
        self.preflight()
        assert self._meta is not None
        reporter = payload.get("author")
        author = self._author(reporter)
        nosy = [self._id("user", w) for w in payload.get("watchers", [])]
        if reporter in self._meta["user"] and author not in nosy:
            nosy.insert(0, author)
        assignee = self._id("user", payload["assignee"]) if payload.get("assignee") else None
        # Roundup adds the assignee to nosy on its own; recipients include everyone on it.
        recipients = [*nosy, *([assignee] if assignee and assignee not in nosy else [])]
        description = self._post_msg(
            payload["description"], author, payload.get("created"), recipients
        )
        issue: dict[str, Any] = {
            "title": payload["subject"],
            "status": self._id("status", payload["status"]),
            "priority": self._id("priority", payload["priority"]),
            "messages": [description],
            self.legacy: payload["origin"],
        }
        # An empty list reaches Roundup's detectors as None, which they cannot iterate
        # (409): empty multilinks are left out.
        files = self._upload_all(payload["origin"], payload.get("attachments", []))
        for name, value in (("nosy", nosy), ("files", files), ("assignedto", assignee)):
            if value:
                issue[name] = value
        for name, value in payload.get("custom_fields", {}).items():
            issue[name] = value
        response = self.api.send("POST", f"/rest/data/{ISSUE}", json=issue, idempotent=False)
        return str(self.api.data(response)["id"])

    def _post_msg(
        self, content: str, author: str, iso_time: str | None, recipients: Iterable[str]
    ) -> str:
        """Create a message (not yet on any issue) and return its id.

        A message without an author cannot be linked (409).  Recipients are the
        issue's nosy list, so linking it mails nobody.
        """
        body: dict[str, Any] = {"content": content, "author": author}
        if recipients := sorted(set(recipients), key=int):
            body["recipients"] = recipients
        date = roundup_date(iso_time, content)
        if date is not None:
            body["date"] = date
        # A message lost in transit and sent again is an orphan, never a duplicate.
        response = self.api.send("POST", "/rest/data/msg", json=body)
        return str(self.api.data(response)["id"])

    def _upload_all(self, origin: str, attachments: Iterable[dict[str, Any]]) -> list[str]:
        ids = []
        for a in attachments:
            if not a["size"]:
                # Roundup 2.6 answers 405 to a file without content: it cannot hold one.
                self.skipped.append(f"{origin}: empty attachment {a['name']!r} not uploaded")
                continue
            ids.append(self._upload(a))
        return ids

    def _upload(self, attachment: dict[str, Any]) -> str:
        """Send the bytes as a ``file`` item (multipart) and return its id.

        The bytes are read first: a retry must send them again, which a
        half-read file object would not.
        """
        with self.blobs.open(attachment["sha256"]) as f:
            data = f.read()
        name = attachment["name"]
        content_type = attachment.get("content_type") or "application/octet-stream"
        response = self.api.send(
            "POST",
            "/rest/data/file",
            data={"name": name, "type": content_type},
            files={"content": (name, data, content_type)},
        )
        return str(self.api.data(response)["id"])

    def _issue(self, target_id: str) -> tuple[dict[str, Any], str]:
        """An issue's attributes (links labelled) and its etag, for an update."""
        data = self.api.get(f"/rest/data/{ISSUE}/{target_id}", {"@verbose": 2})
        return data.get("attributes", {}), str(data.get("@etag", ""))

    def _update(
        self, target_id: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> None:
        """PUT what ``change(attributes)`` returns, with the etag it was computed from.

        ``change`` returns whole values (every message id, not the new one) or
        None when there is nothing to do.  Such a PUT may be sent again after a
        timeout: applied twice it gives the same issue, and once the first has
        changed the etag the second is refused (412) and computed again, when
        ``change`` finds nothing left to do.
        """

        def compute() -> tuple[dict[str, Any] | None, str]:
            attributes, etag = self._issue(target_id)
            return change(attributes), etag

        self._put_if_match(f"/rest/data/{ISSUE}/{target_id}", f"issue {target_id}", compute)

    def _put_if_match(
        self, path: str, label: str, compute: Callable[[], tuple[dict[str, Any] | None, str]]
    ) -> None:
        """PUT the body ``compute`` returns with the etag it read, until no one else's
        change comes between (412 means: read and compute again)."""
        for _ in range(ETAG_ATTEMPTS):
            body, etag = compute()
            if body is None:
                return
            response = self.api.send(
                "PUT", path, json=body, headers={"If-Match": etag}, accept=(412,)
            )
            response.close()
            if response.status_code != 412:
                return
        raise PermanentTargetError(
            f"Roundup at {self.url}/ kept changing {label} while migrator updated it",
            remedy="stop other writers to the tracker, then `migrator load --retry-failed`",
        )

    def reconcile(self, target_id: str, payload: dict[str, Any]) -> None:
        """Finish an issue found after a crash: files and status are checked again.

        The create links every file in one request, so normally nothing is
        missing; a status changed by the tracker since is put back.
        """
        self.preflight()
        attributes, _ = self._issue(target_id)
        have = Counter(
            (str(f.get("name")), self._file_size(i))
            for f, i in zip(
                attributes.get("files") or [], link_ids(attributes.get("files")), strict=True
            )
        )
        missing = []
        for a in payload.get("attachments", []):
            if have[(a["name"], a["size"])] > 0:
                have[(a["name"], a["size"])] -= 1
            elif a["size"]:
                missing.append(a)
        new_files = self._upload_all(payload["origin"], missing)
        status = self._id("status", payload["status"])

        def change(attrs: dict[str, Any]) -> dict[str, Any] | None:
            body: dict[str, Any] = {}
            if new_files:
                body["files"] = sorted(set(link_ids(attrs.get("files"))) | set(new_files), key=int)
            if link_ids(attrs.get("status")) != [status]:
                body["status"] = status
            return body or None

        self._update(target_id, change)

    def texts(self, target_id: str) -> Texts:
        """The first message is the description; the others are the comments."""
        self.preflight()
        attributes, _ = self._issue(target_id)
        ids = sorted(link_ids(attributes.get("messages")), key=int)
        texts = self._texts(attributes)
        if not ids:
            return Texts("", [])
        return Texts(texts[0], list(zip(ids[1:], texts[1:], strict=True)))

    def reference(self, target_id: str) -> str:
        return f"issue{target_id}"

    def inert_reference(self, written: str) -> str:
        # Roundup links designators ("issue12"), not "#12"; it has no escape for them.
        return written

    def set_description(self, target_id: str, text: str) -> None:
        self.preflight()
        attributes, _ = self._issue(target_id)
        ids = sorted(link_ids(attributes.get("messages")), key=int)
        if not ids:
            raise PermanentTargetError(
                f"Roundup issue {target_id} at {self.url}/ has no message to hold its description",
                remedy="add a message to the issue by hand, then `migrator load` again",
            )
        self.edit_comment(target_id, ids[0], text)

    def edit_comment(self, target_id: str, handle: str, body: str) -> None:
        """Replace a message's content (with its etag, like every update here)."""
        path = f"/rest/data/msg/{handle}"

        def compute() -> tuple[dict[str, Any] | None, str]:
            etag = str(self.api.get(path, {"@fields": "id"}).get("@etag", ""))
            return {"content": body}, etag

        self._put_if_match(path, f"message {handle}", compute)

    def add_comment(self, target_id: str, comment: dict[str, Any]) -> None:
        """A message with its author and date, linked to the issue with the status it has.

        Roundup classic's status auditor turns an issue that is unread, resolved
        or done-cbb into "chatting" when a message arrives, unless the same
        update sets a status: the current one is sent along to keep it.
        """
        self.preflight()
        posted: list[str] = []

        def change(attrs: dict[str, Any]) -> dict[str, Any] | None:
            messages = link_ids(attrs.get("messages"))
            if not posted:
                recipients = [*link_ids(attrs.get("nosy")), *link_ids(attrs.get("assignedto"))]
                posted.append(
                    self._post_msg(
                        comment["body"],
                        self._author(comment.get("author")),
                        comment.get("time"),
                        recipients,
                    )
                )
            elif posted[0] in messages:
                return None  # linked by an earlier attempt
            body: dict[str, Any] = {"messages": [*messages, posted[0]]}
            if attrs.get("status"):
                body["status"] = link_ids(attrs["status"])[0]
            return body

        self._update(target_id, change)

    def holds(self, kind: str) -> bool:
        """Whether this tracker's issues can hold a link of KIND (or ``"parent"``)."""
        self.preflight()
        prop = PARENT if kind == PARENT else LINK_PROPERTIES.get(kind)
        return prop is not None and self._has_property(prop)

    def _not_held(self, kind: str, target_id: str, other_target_id: str) -> PermanentTargetError:
        prop = PARENT if kind == PARENT else LINK_PROPERTIES.get(kind, kind.replace("-", "_"))
        declaration = 'Link("issue")' if kind == PARENT else 'Multilink("issue")'
        return PermanentTargetError(
            f"Roundup issues have no {prop!r} property for the {kind} link from issue "
            f"{target_id} to {other_target_id}",
            remedy=f"add {prop}={declaration} to the issue class in the tracker's schema.py "
            f"and restart it, then `migrator load --retry-failed`; or preserve the source's "
            f"{'parent' if kind == PARENT else 'links'} in the text",
        )

    def add_link(self, target_id: str, kind: str, other_target_id: str) -> None:
        """Add ``other_target_id`` to the issue property that holds KIND links."""
        if not self.holds(kind):
            raise self._not_held(kind, target_id, other_target_id)
        prop = LINK_PROPERTIES[kind]

        def change(attrs: dict[str, Any]) -> dict[str, Any] | None:
            current = link_ids(attrs.get(prop))
            if other_target_id in current:
                return None  # already there: adding it again is a no-op, not a second link
            return {prop: [*current, other_target_id]}

        self._update(target_id, change)

    def links(self, target_id: str) -> set[tuple[str, str]]:
        """(kind, other target id) of the links the issue holds."""
        self.preflight()
        attributes, _ = self._issue(target_id)
        return _links(attributes)

    def set_parent(self, target_id: str, parent_target_id: str) -> None:
        if not self.holds(PARENT):
            raise self._not_held(PARENT, target_id, parent_target_id)

        def change(attrs: dict[str, Any]) -> dict[str, Any] | None:
            if link_ids(attrs.get(PARENT)) == [parent_target_id]:
                return None
            return {PARENT: parent_target_id}

        self._update(target_id, change)

    def delete_ticket(self, target_id: str) -> None:
        """Retire the issue: Roundup's delete, which also hides it from find-by-origin."""
        self.preflight()
        response = self.api.send("GET", f"/rest/data/{ISSUE}/{target_id}", accept=(404,))
        if response.status_code == 404:
            return
        etag = str(self.api.data(response).get("@etag", ""))
        self.api.send(
            "DELETE",
            f"/rest/data/{ISSUE}/{target_id}",
            headers={"If-Match": etag},
            accept=(404,),
        ).close()

    def retire_ticket(self, target_id: str, origin: str) -> None:
        """Where deleting is not allowed: close, say why, and free the origin for a reload."""
        self.preflight()
        assert self._meta is not None
        closed = self._meta["status"].get(CLOSED_STATUS)
        note: list[str] = []

        def change(attrs: dict[str, Any]) -> dict[str, Any] | None:
            messages = link_ids(attrs.get("messages"))
            if not note:
                note.append(
                    self._post_msg(
                        f"Rolled back by migrator: this copy of {origin} is not migrated.",
                        self._me,
                        datetime.now(UTC).isoformat(),
                        [*link_ids(attrs.get("nosy")), *link_ids(attrs.get("assignedto"))],
                    )
                )
            elif note[0] in messages:
                return None  # done by an earlier attempt
            body: dict[str, Any] = {
                "messages": [*messages, note[0]],
                self.legacy: f"rolled-back:{origin}",
            }
            if closed is not None:
                body["status"] = closed
            return body

        self._update(target_id, change)

    # -- reads -----------------------------------------------------------
    def _texts(self, attributes: dict[str, Any]) -> list[str]:
        """The issue's message texts, oldest first (the first is the description)."""
        ids = sorted(link_ids(attributes.get("messages")), key=int)
        texts: dict[str, str] = {}
        for msg_id, msg in self.api.items(
            "msg", ids, ["content"], verbose=3, chunk=MSG_CHUNK
        ).items():
            content = msg.get("content")
            if not isinstance(content, str) or NOT_TEXT.match(content):
                raw = self.api.send("GET", f"/rest/data/msg/{msg_id}/binary_content")
                content = raw.content.decode("utf-8", "replace")
            texts[msg_id] = content
        return [texts.get(i, "") for i in ids]

    def _file_path(self, file_id: str) -> str:
        return f"/rest/data/file/{file_id}/binary_content"

    def _file_size(self, file_id: str) -> int:
        """Bytes of a file, from the length Roundup announces (uncompressed) or by counting."""
        response = self.api.send(
            "GET", self._file_path(file_id), stream=True, headers={"Accept-Encoding": "identity"}
        )
        with response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit():
                return int(length)
            return sum(len(chunk) for chunk in response.iter_content(1 << 16))

    def read_back(self, target_id: str) -> ReadBack:
        self.preflight()
        attributes, _ = self._issue(target_id)
        texts = self._texts(attributes)
        description, comments = (texts[0], texts[1:]) if texts else ("", [])
        files = [
            {
                "name": str(f.get("name")),
                "size": self._file_size(i),
                "url": f"{self.url}{self._file_path(i)}",
            }
            for f, i in zip(
                attributes.get("files") or [], link_ids(attributes.get("files")), strict=True
            )
        ]
        assignee = attributes.get("assignedto")
        fields = {
            "project": self.name,
            "tracker": ISSUE,
            "status": label_of(attributes.get("status")),
            "priority": label_of(attributes.get("priority")),
            "subject": attributes.get("title") or "",
            "description": description,
            "assignee": label_of(assignee) if assignee else None,
            "watchers": sorted(
                label_of(n) or n["id"] for n in attributes.get("nosy") or [] if isinstance(n, dict)
            ),
            # Target ids, as the verifier expects them.
            "links": sorted(f"{kind} {other}" for kind, other in _links(attributes)),
            "parent": next(iter(link_ids(attributes.get(PARENT))), None),
            "custom_fields": {
                name: text
                for name, value in sorted(attributes.items())
                if name not in STANDARD and name != self.legacy
                if (text := label_of(value)) is not None
            },
        }
        origin = attributes.get(self.legacy)
        return ReadBack(
            target_id, origin if isinstance(origin, str) else None, fields, comments, files
        )

    def attachment_sha256(self, url: str) -> str:
        """Download a file's bytes (streamed) and hash them: the proof they arrived intact.

        Only the path of ``url`` is used, always sent to the configured server.
        """
        path = urlsplit(url).path
        prefix = urlsplit(self.url).path
        return self.api.http.sha256(path[len(prefix) :] if path.startswith(prefix) else path)

    def ticket_url(self, target_id: str) -> str:
        return f"{self.url}/{ISSUE}{target_id}"

    def close(self) -> None:
        self.api.close()


def from_config(
    section: dict[str, Any],
    base: Path,
    blobs: BlobStore,
    *,
    governor: RateGovernor | None = None,
) -> RoundupTarget:
    """``[target]`` with ``type = "roundup"``: url (the tracker's address, ending in its
    name), user, password (a secret reference), and optionally legacy_property,
    timeout (seconds) and rate_limit (requests per second)."""
    url = section.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"[target] url must be the Roundup tracker's address, not {url!r}",
            remedy='set url = "https://bugs.example.com/NAME/" under [target]',
        )
    user, password = login(section, base, "target", "Roundup")
    legacy = section.get("legacy_property", LEGACY_PROPERTY)
    if not isinstance(legacy, str) or not legacy.isidentifier():
        raise ConfigError(
            f"[target] legacy_property must be a property name, not {legacy!r}",
            remedy=f'leave it out (default "{LEGACY_PROPERTY}") or name a String property',
        )
    net = transport(section, "[target]", governor)
    return RoundupTarget(
        url,
        user,
        password,
        blobs=blobs,
        legacy_property=legacy,
        timeout=net.timeout,
        governor=net.governor,
    )
