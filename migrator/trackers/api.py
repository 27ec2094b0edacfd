"""What every tracker's API client does the same way, whatever the tracker.

Each tracker's ``api.py`` says where its server is, which headers and secret
every request carries and what a refusal means there; the client it sends
through, counting requests, picking the side's error and closing are the same
for all, so they live here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import requests

from migrator.errors import MigratorError, SourceError, TargetError
from migrator.http import HttpClient
from migrator.secrets import Redactor, Secret
from migrator.trackers.registry import Side
from migrator.trackers.settings import Transport


class TrackerApi:
    """A tracker's API client: one :class:`HttpClient`, which redacts ``secret`` and
    words a refused request with :meth:`refusal`.

    ``what`` names the server in messages ("Redmine at https://..."); ``throttled``
    recognises a rate-limit refusal that is not a 429 (see :class:`HttpClient`).
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        secret: Secret,
        net: Transport,
        *,
        what: str,
        side: Side = "target",
        throttled: Callable[[requests.Response], bool] | None = None,
    ):
        self.http = HttpClient(
            url,
            headers,
            Redactor(secret),
            what=what,
            timeout=net.timeout,
            attempts=net.attempts,
            governor=net.governor,
            throttled=throttled,
            explain=self.refusal,
            side=side,
        )
        # The client's own: any answer below 400 or in ``accept``, else the typed error.
        self.send = self.http.send

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def refusal(self, method: str, path: str, response: requests.Response) -> MigratorError:
        """What a refused request means on this tracker, and what to do about it."""
        return self.http.error_for(method, path, response)

    def error(
        self, message: str, *, remedy: str, where: str | None = None
    ) -> SourceError | TargetError:
        """This side's error: the tracker could not be read (source) or written (target)."""
        kind = SourceError if self.http.side == "source" else TargetError
        return kind(message, where=where, remedy=remedy)

    def close(self) -> None:
        self.http.session.close()
