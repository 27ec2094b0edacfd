"""Roundup's REST API (``/NAME/rest/data/<class>``), as the source and the target both speak it.

Rules of the API met on either side:

* credentials are HTTP basic auth, which Roundup decodes as UTF-8;
* four failed logins in ten minutes lock a user out of REST, so a 401, 403
  or lockout is never retried: the first one stops the run with its remedy;
* an answer is JSON, ``{"data": {...}}``; a link is ``{"id", "link", label}``
  (the label, ``name`` or ``username``, at ``@verbose=2``);
* a collection page formats every row from its start to the end of the
  collection before cutting the page, so big reads list ids or one property
  and fetch the rest by explicit ids.

Each side raises its own errors (:class:`SourceError` for a source,
:class:`TargetError` for a target) and names its own section in remedies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth

from migrator.errors import (
    MigratorError,
    PermanentTargetError,
    SourceError,
    TargetError,
)
from migrator.http import base_url
from migrator.secrets import Secret
from migrator.trackers.api import TrackerApi
from migrator.trackers.registry import Side
from migrator.trackers.settings import Transport

# What REST answers for message content that is not UTF-8, instead of the content.
NOT_TEXT = re.compile(r"^(msg|file)\d+ is not text, retrieve using binary_content property")
# What a 403 means on each side: the permissions the user is missing.
_PERMISSIONS = {
    "source": "the user needs the 'Rest Access' permission and View on issues, "
    "messages, files and users (the Admin role has them)",
    "target": "use a user with the Admin role (it may set message authors, "
    "create issues, messages and files, and use REST)",
}


def link_ids(value: Any) -> list[str]:
    """Ids of a Link (dict or None) or Multilink (list) value as REST gives it."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(value["id"])]
    return [str(v["id"]) if isinstance(v, dict) else str(v) for v in value]


def label_of(value: Any) -> str | None:
    """The human label of a REST value: a link's name/username, or the value itself."""
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        labels = [label_of(v) for v in value]
        return ", ".join(label for label in labels if label) or None
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "link"):
                return str(item)
        return str(value.get("id"))
    return str(value)


def server_message(response: requests.Response) -> str:
    """The server's own words: Roundup's JSON error, or the start of its text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and "msg" in error:
        return str(error["msg"])
    return str(data)[:300]


def batched(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CollectionPages:
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


class FreshConnections(HTTPAdapter):
    """A new TCP connection for every request.

    Roundup's server writes a response in several small pieces, so on a
    kept-alive connection every request waits out the client's delayed ACK
    (about 40 ms): five times what a new connection costs.
    """

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.poolmanager.clear()  # closes idle connections; one still being read stays open
        return super().send(request, *args, **kwargs)


class RoundupApi(TrackerApi):
    """One Roundup tracker's REST API, logged in as one user, for one side of a migration.

    ``side`` ("source" or "target") picks the errors raised and the section
    remedies name.  ``headers`` go on every request (a target adds
    ``X-Requested-With``, which Roundup requires of writes);
    ``fresh_connections`` opens a connection per request (see
    :class:`FreshConnections`).
    """

    def __init__(
        self,
        url: str,
        user: str,
        password: Secret,
        net: Transport,
        *,
        side: Side,
        headers: Mapping[str, str] | None = None,
        fresh_connections: bool = False,
    ):
        self.address = base_url(url, f"[{side}] url", "https://bugs.example.com/demo/") + "/"
        self.name = urlsplit(url).path.strip("/").rsplit("/", 1)[-1] or "roundup"
        self.user = user
        self.side = side
        super().__init__(
            self.address,
            dict(headers or {}),
            password,
            net,
            what=f"Roundup at {self.address}",
            side=side,
        )
        # Credentials on the session, not in the headers the client's repr shows;
        # UTF-8, as Roundup decodes them (requests would send a str as Latin-1).
        self.http.session.auth = HTTPBasicAuth(
            user.encode("utf-8"), password.reveal().encode("utf-8")
        )
        self.http.session.hooks["response"].append(self._refuse_lockout)
        if fresh_connections:
            for scheme in ("http://", "https://"):
                self.http.session.mount(scheme, FreshConnections())

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
            raise self.error(
                f"Roundup at {self.address} has locked REST logins for user {self.user!r} "
                f"after failed logins ({response.text.strip()[:200]})",
                remedy="fix the password, then wait for the lock to expire "
                "(4 failures per api_failed_login_interval_in_sec, 10 minutes by default)",
            )

    def refusal(self, method: str, path: str, response: requests.Response) -> MigratorError:
        """What a refused request means, and what to do about it."""
        status = response.status_code
        detail = self.http.redact(server_message(response))
        where = f"Roundup at {self.address}"
        if status == 401:
            return self.error(
                f"{where} rejected the login of user {self.user!r} (HTTP 401)",
                remedy=f"check [{self.side}] user and the password secret; after 4 failed "
                "logins Roundup locks REST for that user for 10 minutes, so fix the password "
                "before trying again",
            )
        if status == 403:
            return self.error(
                f"{where} refused {method} {path} to user {self.user!r} (HTTP 403: {detail})",
                remedy=_PERMISSIONS[self.side],
            )
        if status == 404 and path == "/rest/data":
            return self.error(
                f"no Roundup tracker at {self.address} (HTTP 404 for its REST API)",
                remedy="url must be the tracker's own address, ending in its name "
                "(http://HOST:PORT/NAME/); the server's root lists its trackers",
            )
        if status == 400 and ("Rest Interface" in detail or "Origin" in detail):
            return self.error(
                f"{where} refused the request's origin ({detail})",
                remedy="the tracker compares Origin with its own web address (tracker_web "
                "in config.ini); make that address reachable or list it in "
                "allowed_api_origins",
            )
        if self.side == "source":
            return SourceError(
                f"{where} answered HTTP {status} to {method} {path}: {detail}",
                remedy="check the server's log; rerun `migrator extract` to resume",
            )
        if status == 404:
            return TargetError(
                f"{where} has no {path} (HTTP 404: {detail})",
                remedy="the item was removed from the tracker; check it in the web interface",
            )
        return PermanentTargetError(
            f"{where} rejected {method} {path} (HTTP {status}: {detail})",
            remedy="fix the mapping or the tracker's schema for this ticket, then "
            "`migrator load --retry-failed`",
        )

    def data(self, response: requests.Response) -> dict[str, Any]:
        """The ``data`` object of an answer."""
        where = response.url.split("?", 1)[0]
        try:
            # Replace rather than fail: some trackers hold bytes that are not UTF-8.
            decoded = json.loads(response.content.decode("utf-8", "replace"))
        except ValueError:
            raise self.error(
                f"{where} did not answer JSON",
                remedy="check that url is a Roundup (>= 2.0) tracker with REST enabled",
            ) from None
        if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), dict):
            raise self.error(
                f"{where} answered JSON without a 'data' object",
                remedy="check that url is a Roundup (>= 2.0) tracker with REST enabled",
            )
        result: dict[str, Any] = decoded["data"]
        return result

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        return self.data(self.send("GET", path, params=params))

    def classes(self, needed: Sequence[str]) -> dict[str, Any]:
        """The classes this user may see (``/rest/data``), which must include ``needed``."""
        classes = self.get("/rest/data")
        missing = [c for c in needed if c not in classes]
        if missing:
            raise self.error(
                f"Roundup at {self.address} has no {', '.join(missing)} class, or user "
                f"{self.user!r} may not see it",
                remedy="use a user with the Admin role, on a tracker whose schema has "
                f"the {', '.join(needed)} classes",
            )
        return classes

    def items(
        self,
        classname: str,
        ids: Iterable[str],
        fields: Sequence[str],
        *,
        verbose: int,
        chunk: int,
    ) -> dict[str, dict[str, Any]]:
        """Items of CLASSNAME by id, ``chunk`` ids per request (to keep URLs short)."""
        out: dict[str, dict[str, Any]] = {}
        for some in batched(sorted(set(ids), key=int), chunk):
            params = [("id", i) for i in some]
            params += [("@fields", ",".join(fields)), ("@verbose", str(verbose))]
            for item in self.get(f"/rest/data/{classname}", params).get("collection", []):
                out[str(item["id"])] = item
        return out

    def every(self, classname: str, field: str) -> list[dict[str, Any]]:
        """Every item of CLASSNAME with one property, in one unpaged request.

        Roundup formats every row from a page's start to the end of the
        collection before it cuts the page, so paging through n items formats
        about n²/(2 × page size) rows; one request formats each row once.
        """
        params = {"@fields": field, "@sort": "id"}
        items: list[dict[str, Any]] = self.get(f"/rest/data/{classname}", params).get(
            "collection", []
        )
        return items
