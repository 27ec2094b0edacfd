"""Redmine's REST API as both sides of a migration reach it.

The source reads an old Redmine and the target writes a new one through the
same calls, so the key, the paging, the JSON check and what a refusal means
live here once.  ``side`` decides only whose error a refusal is: a
:class:`SourceError` stops an extract (which resumes), a :class:`TargetError`
stops a load, and a :class:`PermanentTargetError` fails the one ticket whose
write Redmine rejected, so the load goes on without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import requests

from migrator.errors import (
    ConfigError,
    MigratorError,
    PermanentTargetError,
    SourceError,
)
from migrator.http import base_url, server_message
from migrator.secrets import Secret
from migrator.trackers.api import TrackerApi
from migrator.trackers.filters import parse_since
from migrator.trackers.registry import Side
from migrator.trackers.settings import Transport

PAGE = 100  # Redmine's largest page

# What the user of each side can do when Redmine refuses: the source's key only
# has to read, the target's writes and, as an administrator's, switches authors.
FORBIDDEN = {
    "source": "use a key of a user who may view the issues; an administrator's key also "
    "reads every user and the custom field definitions",
    "target": "check the API key and that its user may do this (REST API enabled, admin for "
    "author switching)",
}
MISSING = {
    "source": "url must be the Redmine root (e.g. https://host/redmine), with the REST API enabled",
    "target": "check the URL and the project identifier in migration.toml",
}


def root(url: object, side: Side) -> str:
    """The Redmine root ``url`` names, without a trailing slash; refused unless http(s)."""
    if not isinstance(url, str) or not url:
        raise ConfigError(
            f"[{side}] url is required for a Redmine {side}",
            remedy=f'add url = "https://redmine.example.com" under [{side}]',
        )
    return base_url(url, f"[{side}] url", "https://redmine.example.com")


def redmine_since(value: str) -> str:
    """A time as Redmine's ``updated_on`` filter accepts it: a date, or UTC with ``Z``.

    Redmine rejects offsets such as ``+00:00`` ("Updated is invalid").
    """
    when = parse_since(value)
    if len(value.strip()) == 10:  # a date stays a date: Redmine compares it as a day
        return when.strftime("%Y-%m-%d")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RedmineApi(TrackerApi):
    """One HTTP session to a Redmine, for one side of the migration.

    A session is not shared between threads: the source gives each of its
    workers one of these.
    """

    def __init__(self, url: str, key: Secret, net: Transport, *, side: Side):
        self.url = root(url, side)
        self.side = side
        self.what = f"Redmine at {self.url}"
        super().__init__(
            self.url, {"Accept": "application/json"}, key, net, what=self.what, side=side
        )
        self.redact = self.http.redact
        # On the session, not in the headers the client's repr shows.
        self.http.session.headers["X-Redmine-API-Key"] = key.reveal()

    def __repr__(self) -> str:
        return f"RedmineApi({self.url!r}, side={self.side!r})"

    def get_or_none(
        self, path: str, params: dict[str, Any] | None = None, *, stream: bool = False
    ) -> requests.Response | None:
        """GET what may be gone, or hidden from this key: None for a 403 or 404."""
        response = self.send("GET", path, params=params, stream=stream, accept=(403, 404))
        if response.status_code in (403, 404):
            response.close()
            return None
        return response

    def json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.decode("GET", path, self.send("GET", path, params=params))

    def json_or_none(
        self, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        response = self.get_or_none(path, params)
        return None if response is None else self.decode("GET", path, response)

    def decode(self, method: str, path: str, response: requests.Response) -> dict[str, Any]:
        """The JSON object of an answer; anything else means ``url`` is not a Redmine's root."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self.error(
                f"{self.what} did not answer JSON to {method} {path}",
                where=f"[{self.side}] url",
                remedy="url must be the Redmine root, with the REST API enabled "
                "(Administration > Settings > API)",
            )
        return data

    def collection(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged Redmine list (``limit``/``offset``/``total_count``)."""
        offset = 0
        while True:
            data = self.json(path, {**(params or {}), "limit": PAGE, "offset": offset})
            items: list[dict[str, Any]] = data.get(key) or []
            yield from items
            offset += len(items)
            total = data.get("total_count")
            if not items or not isinstance(total, int) or offset >= total:
                return

    def refusal(self, method: str, path: str, response: requests.Response) -> MigratorError:
        """What a 4xx answer means on this side, and what to do about it."""
        status = response.status_code
        detail = self.redact(server_message(response))
        if status == 401:
            return self.error(
                f"{self.what} rejected the API key (HTTP 401)",
                where=f"[{self.side}] api_key",
                remedy="check the API key (the one shown under My account > API access key) "
                "and that the REST API is enabled (Administration > Settings > API)",
            )
        if status == 403:
            return self.error(
                f"{self.what} refused {method} {path} to this key's user (HTTP 403: {detail})",
                where=f"[{self.side}] api_key",
                remedy=FORBIDDEN[self.side],
            )
        if status == 404:
            return self.error(
                f"{self.what} has no {path} (HTTP 404)",
                where="[source] url" if self.side == "source" else None,
                remedy=MISSING[self.side],
            )
        if self.side == "target":
            return PermanentTargetError(
                f"{self.what} rejected {method} {path} (HTTP {status}: {detail})",
                remedy="fix the mapping or the target's configuration for this ticket, then "
                "`migrator load --retry-failed`",
            )
        if status == 422:
            return SourceError(
                f"{self.what} refused the issue query ({detail})",
                remedy="check [source] project and the --since time",
            )
        return SourceError(
            f"{self.what} answered HTTP {status} to {method} {path}: {detail}",
            remedy="check the server's log; rerun `migrator extract` to resume",
        )
