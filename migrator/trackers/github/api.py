"""GitHub's REST API as the target speaks it: one repository, one token.

Every request asks for one API version and media type, carries the token only
as it is sent, and reads lists page by page through ``Link`` headers that must
stay on the configured API.  GitHub's rate limits (a 403 or 429 with
``Retry-After`` or an exhausted budget) are retried like any 429, writes
included, since GitHub applied nothing; any other refusal is explained in
terms of the repository and the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from migrator.errors import PermanentTargetError, TargetError
from migrator.http import base_url
from migrator.secrets import Secret
from migrator.trackers.api import TrackerApi
from migrator.trackers.settings import Transport

API = "https://api.github.com"
API_VERSION = "2022-11-28"  # the REST API version every request asks for
MEDIA = "application/vnd.github+json"
RAW = "application/vnd.github.raw+json"
PAGE = 100  # GitHub's largest page


def _message(response: requests.Response) -> str:
    """GitHub's own words: ``message`` and the ``errors`` of a 422."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    if not isinstance(data, dict):
        return str(data)[:300]
    text = str(data.get("message") or "")
    details = []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            details.append(
                str(error.get("message") or "")
                or " ".join(str(error[k]) for k in ("resource", "field", "code") if error.get(k))
            )
        else:
            details.append(str(error))
    if details:
        text = f"{text}: {'; '.join(details)}" if text else "; ".join(details)
    return text[:500] or str(data)[:300]


def throttled(response: requests.Response) -> bool:
    """GitHub's rate limits answer 403 or 429, with ``Retry-After`` (secondary limits) or
    ``X-RateLimit-Remaining: 0`` (the hourly budget): retried, never reported as refused."""
    if response.status_code not in (403, 429):
        return False
    return "Retry-After" in response.headers or response.headers.get("X-RateLimit-Remaining") == "0"


class _Token(AuthBase):
    """``Authorization: Bearer``, added as each request is sent: never in a header dict or
    a repr that could be printed."""

    def __init__(self, token: Secret):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return request

    def __repr__(self) -> str:
        return "_Token(***)"


class GitHubApi(TrackerApi):
    """A session to one repository's API; ``base`` is the repository's path in it."""

    def __init__(self, url: str, repo: str, token: Secret, net: Transport):
        owner, _, name = repo.partition("/")
        # Left out, it is GitHub's; a GitHub Enterprise Server's API is https://HOST/api/v3.
        self.url = base_url(url, "[target] url", "https://github.example.com/api/v3")
        self.repo = repo
        self.base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        headers = {"Accept": MEDIA, "X-GitHub-Api-Version": API_VERSION}
        super().__init__(
            self.url, headers, token, net, what=f"GitHub at {self.url}", throttled=throttled
        )
        self.session = self.http.session
        self.session.auth = _Token(token)

    def __repr__(self) -> str:
        return f"GitHubApi({self.url!r}, {self.repo!r})"

    def refusal(self, method: str, path: str, response: requests.Response) -> TargetError:
        """What GitHub's refusal means for this repository and token."""
        status = response.status_code
        detail = self.http.redact(_message(response))
        if status == 401:
            return TargetError(
                f"GitHub at {self.url} rejected the token (HTTP 401: {detail})",
                remedy="check [target] token: it must name a valid token (fine-grained: "
                f"Issues and Contents read and write on {self.repo}; classic: repo scope)",
            )
        if status == 403:
            return TargetError(
                f"GitHub refused {method} {path} (HTTP 403: {detail})",
                remedy=f"give the token Issues and Contents write access to {self.repo}",
            )
        if status == 404 and path == self.base:
            return TargetError(
                f"GitHub at {self.url} has no repository {self.repo}, or the token cannot see it "
                "(HTTP 404)",
                remedy='check [target] repo ("owner/name") and that the token may read it',
            )
        if status == 404:
            return TargetError(
                f"GitHub at {self.url} has no {path} (HTTP 404: {detail})",
                remedy="it was removed or moved in the repository; check it on GitHub",
            )
        if status == 410:
            return TargetError(
                f"issues are disabled in {self.repo} (HTTP 410: {detail})",
                remedy="enable Issues in the repository's settings",
            )
        return PermanentTargetError(
            f"GitHub rejected {method} {path} (HTTP {status}: {detail})",
            remedy="fix the mapping for this ticket (or the repository), then "
            "`migrator load --retry-failed`",
        )

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise TargetError(
                f"{response.url} did not answer JSON",
                remedy="check that url is GitHub's REST API (https://api.github.com, or "
                "https://HOST/api/v3 for GitHub Enterprise Server)",
            ) from None

    def get(self, path: str, params: Any = None) -> Any:
        return self.json(self.send("GET", path, params=params))

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a listed collection, following the ``Link: rel="next"`` pages."""
        query: dict[str, Any] | None = {**(params or {}), "per_page": PAGE}
        next_path: str | None = path
        while next_path is not None:
            response = self.send("GET", next_path, params=query)
            items = self.json(response)
            if not isinstance(items, list):
                raise TargetError(
                    f"GitHub answered {path} with {type(items).__name__}, not a list",
                    remedy="check that url is GitHub's REST API",
                )
            yield from items
            link = response.links.get("next", {}).get("url")
            next_path, query = self._relative(link) if link else None, None

    def _relative(self, url: str) -> str:
        """A ``next`` link as a path of this API: the token is never sent elsewhere."""
        if not url.startswith(self.url + "/"):
            raise TargetError(
                f"GitHub's next page is at {url}, outside {self.url}",
                remedy="set [target] url to the API address GitHub answers with",
            )
        return url[len(self.url) :]
