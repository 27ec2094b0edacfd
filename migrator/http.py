"""One way to talk HTTP: timeouts always, retries only where they can help.

Retries cover 429, 5xx, connection errors and timeouts, with exponential
back-off that a ``Retry-After`` header overrides.  Every other 4xx is final and
is raised with the server's own message, redacted, so the user can act on it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from migrator import __version__
from migrator.errors import (
    ConfigError,
    MigratorError,
    PermanentTargetError,
    SourceError,
    TargetError,
)
from migrator.secrets import Redactor

log = logging.getLogger(__name__)

RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class AmbiguousWriteError(TargetError):
    """A write may or may not have been applied (timeout or reset after sending).

    Blind retries of such a write are how migrations duplicate tickets; the
    caller must look in the target before trying again.
    """


class RetriableHTTPError(Exception):
    def __init__(self, response: requests.Response, *, throttled: bool = False):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.throttled = throttled  # refused by a rate limit: certainly not applied


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _is_retriable(exc: BaseException) -> bool:
    return isinstance(exc, RetriableHTTPError | requests.ConnectionError | requests.Timeout)


def _is_safe_to_resend(exc: BaseException) -> bool:
    """For writes: retry only what the server certainly did not apply."""
    if isinstance(exc, RetriableHTTPError):
        return exc.throttled or exc.response.status_code in (429, 503)
    return isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower()
    )


class RateGovernor:
    """A token bucket shared by every session to one target, plus the server's own word.

    ``rate`` requests per second on average (bursts up to ``burst``); when a
    response says ``X-RateLimit-Remaining: 0`` the governor waits until
    ``X-RateLimit-Reset`` (epoch seconds, or seconds from now) before the next
    request from any worker.
    """

    def __init__(self, rate: float | None = None, burst: int = 1):
        self.rate = rate
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.blocked_until = 0.0
        self.waited = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self.blocked_until - now)
            if self.rate:
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens < 1:
                    wait = max(wait, (1 - self.tokens) / self.rate)
                self.tokens -= 1
            self.waited += wait
        if wait > 0:
            time.sleep(wait)

    def observe(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            left, at = int(remaining), float(reset)
        except ValueError:
            return
        if left > 0:
            return
        # Reset is an epoch timestamp (GitHub, GitLab) or a delay in seconds (others).
        delay = at - time.time() if at > 1e9 else at
        with self._lock:
            self.blocked_until = max(self.blocked_until, time.monotonic() + min(max(delay, 0), 300))


@dataclass
class HttpClient:
    """A requests session bound to one base URL, with retries and redaction.

    ``what`` names the remote in error messages ("Redmine at http://...").
    ``throttled`` recognises a rate-limit refusal that is not a 429 (GitHub answers
    403 with ``Retry-After`` or ``X-RateLimit-Remaining: 0``): it is retried like a
    429, writes included, since the server applied nothing.
    ``explain`` turns a refused request into the tracker's own typed error (what
    its 401, 403, 404 or 409 mean there); the default is :meth:`error_for`.
    ``side`` is the part the remote plays: failures to reach a source are
    :class:`SourceError`, to reach a target :class:`TargetError`.
    """

    base_url: str
    headers: Mapping[str, str]
    redact: Redactor
    what: str
    timeout: float = 30.0
    attempts: int = 5
    max_wait: float = 30.0
    governor: RateGovernor | None = None
    throttled: Callable[[requests.Response], bool] | None = None
    explain: Callable[[str, str, requests.Response], MigratorError] | None = None
    side: str = "target"

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"migrator/{__version__}"
        self.session.headers.update(self.headers)
        self.base_url = self.base_url.rstrip("/")
        self.requests_sent = 0

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc.response) if isinstance(exc, RetriableHTTPError) else None
        if after is not None:
            return min(after, self.max_wait)
        return float(wait_exponential(multiplier=0.2, max=self.max_wait)(state))

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: Callable[[requests.Response], bool] | None = None,
        idempotent: bool = True,
        body: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; return the response when it is 2xx (or ``ok`` accepts it).

        A non-idempotent write is resent only when the server certainly did
        not apply it; otherwise :class:`AmbiguousWriteError` is raised.
        ``body`` makes a fresh request body for every attempt: a streamed file
        read by a failed attempt would otherwise be resent empty.
        """
        url = f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)

        @retry(
            retry=retry_if_exception(_is_retriable if idempotent else _is_safe_to_resend),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            reraise=True,
        )
        def send() -> requests.Response:
            if self.governor is not None:
                self.governor.acquire()
            self.requests_sent += 1
            if body is not None:
                kwargs["data"] = body()
            response = self.session.request(method, url, **kwargs)
            if self.governor is not None:
                self.governor.observe(response)
            if response.status_code in RETRIABLE_STATUS:
                log.info("%s %s -> %s, will retry", method, path, response.status_code)
                raise RetriableHTTPError(response)
            if self.throttled is not None and self.throttled(response):
                log.info(
                    "%s %s -> %s (rate limited), will retry", method, path, response.status_code
                )
                raise RetriableHTTPError(response, throttled=True)
            return response

        try:
            response = send()
        except (RetriableHTTPError, requests.ConnectionError, requests.Timeout) as exc:
            raise self._failure(method, path, exc, idempotent) from None
        if (ok or _is_2xx)(response):
            return response
        error = (self.explain or self.error_for)(method, path, response)
        response.close()
        raise error

    def _failure(self, method: str, path: str, exc: Exception, idempotent: bool) -> MigratorError:
        """The error for a request that never got a usable answer."""
        failed = SourceError if self.side == "source" else TargetError
        if not idempotent and not _is_safe_to_resend(exc):
            return AmbiguousWriteError(
                f"{self.what}: {method} {path} may or may not have been applied "
                f"({self.redact(_short(exc))})",
                remedy="migrator checks the target before writing again",
            )
        if isinstance(exc, RetriableHTTPError) and exc.throttled:
            return failed(
                f"{self.what} kept refusing {method} {path} for its rate limit "
                f"(HTTP {exc.response.status_code})",
                remedy="lower [target] rate_limit, or wait for the limit to reset and run again"
                if self.side == "target"
                else "wait for the limit to reset, then run the command again: it resumes",
            )
        if isinstance(exc, RetriableHTTPError):
            return failed(
                f"{self.what} kept answering HTTP {exc.response.status_code} to {method} {path}",
                remedy="the server is overloaded or failing; try again later",
            )
        if isinstance(exc, requests.Timeout):
            return failed(
                f"{self.what} did not answer {method} {path} within {self.timeout:.0f} s",
                remedy="check the server, or raise the timeout",
            )
        return failed(
            f"cannot reach {self.what}: {self.redact(_short(exc))}",
            remedy="check the URL in migration.toml and that the server is running",
        )

    def error_for(self, method: str, path: str, response: requests.Response) -> TargetError:
        detail = self.redact(server_message(response))
        status = response.status_code
        if status in (401, 403):
            return TargetError(
                f"{self.what} refused {method} {path} (HTTP {status}: {detail})",
                remedy="check the API key and that its user may do this (REST API enabled, "
                "admin for author switching)",
            )
        if status == 404:
            return TargetError(
                f"{self.what} has no {path} (HTTP 404)",
                remedy="check the URL and the project identifier in migration.toml",
            )
        return PermanentTargetError(
            f"{self.what} rejected {method} {path} (HTTP {status}: {detail})",
            remedy="fix the mapping or the target's configuration for this ticket, then "
            "`migrator load --retry-failed`",
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        accept: Collection[int] = (),
        idempotent: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """:meth:`request` taking any answer below 400 and the statuses in ``accept``
        (a 412 to compute again, a 404 that means gone); any other is a typed error."""
        return self.request(
            method,
            path,
            ok=lambda r: r.status_code < 400 or r.status_code in accept,
            idempotent=idempotent,
            **kwargs,
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def sha256(self, path: str, **kwargs: Any) -> str:
        """The sha256 of what ``GET path`` serves, streamed: attachments may be large."""
        digest = hashlib.sha256()
        with self.send("GET", path, stream=True, **kwargs) as response:
            for chunk in response.iter_content(1 << 16):
                digest.update(chunk)
        return digest.hexdigest()


def _is_2xx(response: requests.Response) -> bool:
    return 200 <= response.status_code < 300


def server_message(response: requests.Response) -> str:
    """The server's own words about a refusal: its JSON ``errors``, or the start of its text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    if isinstance(data, dict) and "errors" in data:
        errors = data["errors"]
        return "; ".join(map(str, errors)) if isinstance(errors, list) else str(errors)
    return str(data)[:300]


def base_url(url: object, where: str, example: str) -> str:
    """An ``http(s)://host...`` URL without its trailing slash, or the error saying what to write.

    Credentials inside the URL are refused: a URL is printed in messages and
    reports, so a password in it would leak.
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{url!r} is not an http(s) URL",
            where=where,
            remedy=f'write the address, e.g. url = "{example}"',
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "the URL holds a user name or password",
            where=where,
            remedy="remove them from the URL and give the credentials as the connector's "
            "secret setting (a $env: or $file: reference)",
        )
    return str(url).rstrip("/")


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return text[:200]
