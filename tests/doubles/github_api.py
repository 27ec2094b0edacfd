"""A GitHub REST API double on loopback that holds every request to GitHub's own description.

GitHub cannot run here, so the GitHub target is tested against this server.
What makes it worth testing against is that it is strict where GitHub is
documented to be, using GitHub's published OpenAPI description (pinned by
``fixtures.apis.github``), not the double author's idea of it:

* every request must name an operation of the description (method and path
  template); anything else is answered 404 and recorded as a violation;
* path and query parameters and the JSON body are validated against that
  operation's schema (openapi-core); a mismatch is answered 422 and recorded.
  Body properties the schema does not describe are recorded too: GitHub
  ignores them silently, so a misspelt field would be lost without an error;
* the token, ``Accept`` and ``X-GitHub-Api-Version`` headers are checked;
* answers are built from the description's own examples with the double's
  data, and a sample of them is validated against the described response
  schema (so the target is tested against bodies GitHub can really send);
* lists are paged as GitHub pages them (``per_page`` up to 100, ``Link``
  headers), every answer carries the ``x-ratelimit-*`` headers, and the
  hourly budget can be made to run out (403 with ``x-ratelimit-remaining: 0``).

Faults are injected by operation id, like ``tests/faultproxy.py`` does by path:
an answer of the server's choosing before the operation runs (``status:502``,
``secondary-limit``: GitHub's 403 with ``retry-after``), or a lost answer after
it committed (``drop-after``; ``call-after`` first runs a callback, e.g. to kill
the client).

Tests end with ``assert double.violations == []``.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import ImmutableMultiDict

from fixtures.apis import github as github_description

API_VERSIONS = ("2022-11-28",)  # the REST API versions GitHub answers
HOST = "https://api.github.com"  # the server the description names: requests are matched on it
SAMPLE_EVERY = 5  # beyond the first answers of each operation, one in this many is validated
SAMPLE_FIRST = 3


# --------------------------------------------------------------------------- the description


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    operation: dict[str, Any]
    multi: tuple[str, ...]  # path parameters that may span several segments

    @property
    def operation_id(self) -> str:
        return str(self.operation["operationId"])


class Description:
    """GitHub's OpenAPI description: routes, validators and examples."""

    def __init__(self, path: Path):
        started = time.monotonic()
        self.spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.version = str(self.spec["info"]["version"])
        # The description is GitHub's own: checking it as a document would take
        # seconds and prove nothing about the target.
        # The validators get a copy of their own, where a nullable enum admits null
        # (see _admit_null), and one small description per path: openapi-core looks
        # an operation up by trying every path, of which GitHub has about 800.
        self._validated = copy.deepcopy(self.spec)
        self.null_enums = _admit_null(self._validated)
        self._apis: dict[str, OpenAPI] = {}
        self._apis_lock = threading.Lock()
        self.routes: list[Route] = []
        for template, item in self.spec["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                params = [self.resolve(p) for p in operation.get("parameters", [])]
                multi = tuple(p["name"] for p in params if p.get("x-multi-segment"))
                regex = re.sub(
                    r"\\\{(\w+)\\\}",
                    functools.partial(_group, multi=multi),
                    re.escape(template),
                )
                self.routes.append(
                    Route(method.upper(), template, re.compile(regex + "$"), operation, multi)
                )
        # Literal segments win over parameters (/issues/comments before /issues/{number}).
        self.routes.sort(key=lambda r: (-len(re.sub(r"\{\w+\}", "", r.template)), r.template))
        self.load_seconds = time.monotonic() - started

    def api(self, route: Route) -> OpenAPI:
        """Request and response validators for the operations of ROUTE's path."""
        with self._apis_lock:
            if route.template not in self._apis:
                spec = {
                    **self._validated,
                    "paths": {route.template: self._validated["paths"][route.template]},
                }
                # GitHub's description is GitHub's own: checking it as a document
                # would take seconds and prove nothing about the target.
                self._apis[route.template] = OpenAPI.from_dict(
                    spec, config=Config(spec_validator_cls=None)
                )
            return self._apis[route.template]

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method:
                m = route.pattern.match(path)
                if m:
                    return route, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def example(self, route: Route, status: int) -> Any:
        """The description's own example answer of ROUTE with STATUS (a fresh copy)."""
        response = self.resolve(route.operation["responses"][str(status)])
        media = response["content"]["application/json"]
        examples = media.get("examples") or {}
        if not examples:
            return None
        # Both the example and its value may be references.
        return copy.deepcopy(self.resolve(self.resolve(next(iter(examples.values())))["value"]))

    def body_properties(self, route: Route) -> set[str] | None:
        """The top-level properties the JSON request body may have (None: any)."""
        body = self.resolve(route.operation.get("requestBody"))
        if not body:
            return None
        schema = self.resolve(body["content"].get("application/json", {}).get("schema"))
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return None
        if schema.get("additionalProperties") not in (None, False):
            return None
        return set(schema.get("properties", {}))


@functools.cache
def description() -> Description:
    """The pinned description, loaded once per process (about a second with its validators)."""
    return Description(github_description.path())


# --------------------------------------------------------------------------- the data


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    state: str = "open"
    state_reason: str | None = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    parent: int | None = None  # number of the parent issue
    blocked_by: list[int] = field(default_factory=list)  # numbers of the issues blocking it


@dataclass
class Comment:
    id: int
    issue: int
    body: str
    user: str
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)


@dataclass
class Fault:
    """Misbehave on the ``nth`` request of operation ``operation`` (an operationId)."""

    operation: str
    nth: int
    action: str  # status:CODE, secondary-limit, reset, drop-after, call-after
    retry_after: str | None = None
    callback: Callable[[], None] | None = None
    seen: int = 0
    fired: bool = False


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class GitHubError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.answer = Answer(
            status,
            {
                "message": message,
                **({"errors": errors} if errors else {}),
                "documentation_url": "https://docs.github.com/rest",
                "status": str(status),
            },
        )


# --------------------------------------------------------------------------- the server


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients killed mid-request are the point of some tests


class GitHubDouble:
    """One repository, ``owner/repo``, served on loopback as GitHub's REST API serves it."""

    def __init__(
        self,
        *,
        owner: str = "example",
        repo: str = "tracker",
        token: str = "ghp-test-token",
        login: str = "migrator-bot",
        assignable: tuple[str, ...] = (),
        push: bool = True,
        rate_limit: int = 5000,
        page_cap: int = 100,
    ):
        self.spec = description()
        self.owner, self.repo, self.token, self.login = owner, repo, token, login
        self.assignable = {login, *assignable}
        self.push = push
        self.page_cap = page_cap  # GitHub's largest page is 100; lower makes tests page
        self.limit = rate_limit
        self.remaining = rate_limit
        self.reset_at = int(time.time()) + 3600
        self.reset_after: int | None = None
        self.faults: list[Fault] = []
        self.violations: list[str] = []
        self.log: list[tuple[str, str, int]] = []  # (operationId or method path, status)
        self.queries: list[tuple[str, dict[str, str]]] = []  # (operationId, query) of each
        self.validated = 0  # answers checked against the described response schema
        self._answered: dict[tuple[str, int], int] = {}
        self.issues: dict[int, Issue] = {}
        self.comments: dict[int, Comment] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.milestones: dict[int, dict[str, Any]] = {}
        self.files: dict[tuple[str, str], bytes] = {}  # (branch, path) -> bytes
        self.refs: dict[str, str] = {"heads/main": hashlib.sha1(b"initial").hexdigest()}
        self.trees: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Status, headers and body leave in one write: in two, the client's delayed
            # ACK holds the second back for 40 ms.
            wbufsize = 1 << 16

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                double._serve(self, data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, operation: str) -> int:
        return sum(1 for op, _, _ in self.log if op == operation)

    def writes(self) -> list[str]:
        return [op for op, method, _ in self.log if method != "GET"]

    # -- one request ------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        split = urlsplit(handler.path)
        method = handler.command
        found = self.spec.route(method, split.path)
        if found is None:
            self._violation(f"{method} {split.path}: no such operation in GitHub's description")
            self._write(handler, method, "", GitHubError(404, "Not Found").answer)
            return
        route, params = found
        fault = self._fault(route.operation_id)
        if fault is not None and fault.action == "reset":
            self._reset(handler)
            return
        if fault is not None and fault.action.startswith("status:"):
            answer = GitHubError(int(fault.action.split(":")[1]), "Server Error").answer
            if fault.retry_after is not None:
                answer.headers["Retry-After"] = fault.retry_after
            self._write(handler, method, route.operation_id, answer)
            return
        if fault is not None and fault.action == "secondary-limit":
            answer = GitHubError(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
            ).answer
            answer.headers["Retry-After"] = fault.retry_after or "1"
            self._write(handler, method, route.operation_id, answer)
            return
        with self._lock:
            answer = self._answer(handler, route, params, split.query, data)
        if fault is not None and fault.action in ("drop-after", "call-after"):
            self.log.append((route.operation_id, method, answer.status))
            if fault.action == "call-after" and fault.callback is not None:
                fault.callback()
            self._reset(handler)  # committed; the client never hears of it
            return
        self._write(handler, method, route.operation_id, answer)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        route: Route,
        params: dict[str, str],
        query: str,
        data: bytes,
    ) -> Answer:
        where = f"{route.method} {route.template}"
        auth = handler.headers.get("Authorization")
        if auth is None:
            self._violation(f"{where}: no Authorization header")
            return GitHubError(401, "Requires authentication").answer
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return GitHubError(401, "Bad credentials").answer
        accept = handler.headers.get("Accept", "")
        if not accept.startswith(("application/vnd.github", "application/json")):
            self._violation(f"{where}: Accept {accept!r} is not a GitHub media type")
        version = handler.headers.get("X-GitHub-Api-Version")
        if version not in API_VERSIONS:
            self._violation(f"{where}: X-GitHub-Api-Version {version!r}")
            return GitHubError(400, f"API version {version} is not supported.").answer
        if self.remaining <= 0:
            if self.reset_after is not None:  # the window starts with the first refusal
                self.reset_at, self.reset_after = int(time.time()) + self.reset_after, None
            if time.time() < self.reset_at:
                answer = GitHubError(403, "API rate limit exceeded for user ID 1.").answer
                return answer
            self.remaining, self.reset_at = self.limit, int(time.time()) + 3600
        self.remaining -= 1
        problems = self._validate_request(handler, route, params, query, data)
        if problems:
            for problem in problems:
                self._violation(f"{where}: {problem}")
            return GitHubError(422, "Validation Failed", [{"message": p} for p in problems]).answer
        body = json.loads(data) if data else None
        args = dict(parse_qsl(query, keep_blank_values=True))
        self.queries.append((route.operation_id, args))
        try:
            operation = getattr(self, "op_" + re.sub(r"\W", "_", route.operation_id))
        except AttributeError:
            self._violation(f"{where}: {route.operation_id} is described but this double lacks it")
            return GitHubError(501, "Not implemented by the test double").answer
        try:
            answer: Answer = operation(params, args, body, handler)
        except GitHubError as exc:
            answer = exc.answer
        self._check_response(route, params, query, answer)
        return answer

    def _validate_request(
        self,
        handler: BaseHTTPRequestHandler,
        route: Route,
        params: dict[str, str],
        query: str,
        data: bytes,
    ) -> list[str]:
        path = self._described_path(route, params)
        content_type = (handler.headers.get("Content-Type") or "application/json").split(";")[0]
        request = MockRequest(
            HOST,
            route.method.lower(),
            path,
            args=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
            headers=dict(handler.headers.items()),
            data=data or None,
            content_type=content_type,
        )
        problems = [_describe(e) for e in self.spec.api(route).iter_request_errors(request)]
        if data:
            try:
                body = json.loads(data)
            except ValueError:
                return [*problems, "the body is not JSON"]
            allowed = self.spec.body_properties(route)
            if allowed is not None and isinstance(body, dict):
                problems += [
                    f"body property {k!r} is not described" for k in body if k not in allowed
                ]
        return problems

    def _described_path(self, route: Route, params: dict[str, str]) -> str:
        """The path as the validator matches it: a multi-segment parameter's slashes encoded."""
        path = route.template
        for name, value in params.items():
            safe = "" if name in route.multi else "/"
            path = path.replace("{" + name + "}", quote(value, safe=safe))
        return path

    def _check_response(
        self, route: Route, params: dict[str, str], query: str, answer: Answer
    ) -> None:
        """Validate the first answers of each operation and status, then one in SAMPLE_EVERY."""
        key = (route.operation_id, answer.status)
        n = self._answered.get(key, 0)
        self._answered[key] = n + 1
        if n >= SAMPLE_FIRST and n % SAMPLE_EVERY:
            return
        if isinstance(answer.body, bytes) or answer.status >= 400:
            return  # raw media types and errors: the description names no schema for them
        request = MockRequest(
            HOST,
            route.method.lower(),
            self._described_path(route, params),
            args=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
        )
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        response = MockResponse(
            data,
            status_code=answer.status,
            headers=answer.headers,
            content_type=answer.content_type.split(";")[0] if data else "",
        )
        self.validated += 1
        for error in self.spec.api(route).iter_response_errors(request, response):
            self._violation(
                f"answer {answer.status} to {route.method} {route.template} does not match the "
                f"description: {_describe(error)}"
            )

    def _write(
        self, handler: BaseHTTPRequestHandler, method: str, operation: str, answer: Answer
    ) -> None:
        self.log.append((operation or handler.path, method, answer.status))
        if isinstance(answer.body, bytes):
            payload = answer.body
        else:
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset_at if self.remaining > 0 else int(time.time()) + 1),
            "X-RateLimit-Used": str(self.limit - max(self.remaining, 0)),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Api-Version-Selected": API_VERSIONS[0],
            **answer.headers,
        }
        if payload:
            headers["Content-Type"] = answer.content_type
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _reset(self, handler: BaseHTTPRequestHandler) -> None:
        handler.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        handler.close_connection = True

    def _fault(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.operation == operation and not fault.fired:
                    fault.seen += 1
                    if fault.seen == fault.nth:
                        fault.fired = True
                        return fault
        return None

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def exhaust_rate_limit(self, seconds: int = 1) -> None:
        """The hourly budget is spent: the next request is refused, and the budget comes
        back ``seconds`` after that refusal (not after this call: a busy machine may take
        longer than that to send it, and the refusal would never be seen)."""
        with self._lock:
            self.remaining, self.reset_after = 0, seconds

    # -- representations ----------------------------------------------------
    @property
    def api(self) -> str:
        return f"{self.url}/repos/{self.owner}/{self.repo}"

    @property
    def html(self) -> str:
        return f"https://github.example/{self.owner}/{self.repo}"

    def _user(self, login: str) -> dict[str, Any]:
        uid = 1 + sorted(self.assignable | {login}).index(login)
        base = f"{self.url}/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
            "avatar_url": f"https://avatars.github.example/u/{uid}",
            "gravatar_id": "",
            "url": base,
            "html_url": f"https://github.example/{login}",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        label = self.labels[name]
        return {
            "id": label["id"],
            "node_id": base64.b64encode(f"08:Label{label['id']}".encode()).decode(),
            "url": f"{self.api}/labels/{quote(name, safe='')}",
            "name": name,
            "description": label.get("description"),
            "color": label["color"],
            "default": False,
        }

    def _milestone_json(self, number: int) -> dict[str, Any]:
        m = self.milestones[number]
        issues = [i for i in self.issues.values() if i.milestone == number]
        return {
            "url": f"{self.api}/milestones/{number}",
            "html_url": f"{self.html}/milestone/{number}",
            "labels_url": f"{self.api}/milestones/{number}/labels",
            "id": m["id"],
            "node_id": base64.b64encode(f"09:Milestone{m['id']}".encode()).decode(),
            "number": number,
            "state": m["state"],
            "title": m["title"],
            "description": m.get("description"),
            "creator": self._user(self.login),
            "open_issues": sum(1 for i in issues if i.state == "open"),
            "closed_issues": sum(1 for i in issues if i.state == "closed"),
            "created_at": m["created_at"],
            "updated_at": m["created_at"],
            "closed_at": None,
            "due_on": None,
        }

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        """GitHub's example issue with this issue's data (the example shows every field)."""
        route, _ = self.spec.route("GET", "/repos/o/r/issues/1") or (None, {})
        assert route is not None
        out: dict[str, Any] = self.spec.example(route, 200)
        url = f"{self.api}/issues/{issue.number}"
        blocking = [i.number for i in self.issues.values() if issue.number in i.blocked_by]
        children = [i for i in self.issues.values() if i.parent == issue.number]
        done = sum(1 for i in children if i.state == "closed")
        out.update(
            id=issue.id,
            node_id=base64.b64encode(f"05:Issue{issue.id}".encode()).decode(),
            url=url,
            repository_url=self.api,
            labels_url=f"{url}/labels{{/name}}",
            comments_url=f"{url}/comments",
            events_url=f"{url}/events",
            timeline_url=f"{url}/timeline",
            html_url=f"{self.html}/issues/{issue.number}",
            number=issue.number,
            state=issue.state,
            state_reason=issue.state_reason,
            title=issue.title,
            body=issue.body,
            user=self._user(issue.user),
            labels=[self._label_json(n) for n in issue.labels],
            assignee=self._user(issue.assignees[0]) if issue.assignees else None,
            assignees=[self._user(a) for a in issue.assignees],
            milestone=self._milestone_json(issue.milestone) if issue.milestone else None,
            locked=False,
            active_lock_reason=None,
            comments=sum(1 for c in self.comments.values() if c.issue == issue.number),
            closed_at=issue.closed_at,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_by=self._user(self.login) if issue.state == "closed" else None,
            author_association="OWNER",
            parent_issue_url=f"{self.api}/issues/{issue.parent}" if issue.parent else None,
            sub_issues_summary={
                "total": len(children),
                "completed": done,
                "percent_completed": 100 * done // len(children) if children else 0,
            },
            issue_dependencies_summary={
                "blocked_by": sum(1 for n in issue.blocked_by if self.issues[n].state == "open"),
                "blocking": sum(1 for n in blocking if self.issues[n].state == "open"),
                "total_blocked_by": len(issue.blocked_by),
                "total_blocking": len(blocking),
            },
            pinned_comment=None,
            type=None,
        )
        for gone in ("pull_request", "repository", "body_html", "body_text", "draft"):
            out.pop(gone, None)
        return out

    def _comment_json(self, comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "node_id": base64.b64encode(f"012:IssueComment{comment.id}".encode()).decode(),
            "url": f"{self.api}/issues/comments/{comment.id}",
            "html_url": f"{self.html}/issues/{comment.issue}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/issues/{comment.issue}",
            "body": comment.body,
            "user": self._user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "OWNER",
        }

    def _file_json(self, branch: str, path: str) -> dict[str, Any]:
        data = self.files[(branch, path)]
        sha = git_blob_sha(data)
        url = f"{self.api}/contents/{quote(path)}?ref={quote(branch, safe='')}"
        html = f"{self.html}/blob/{quote(branch)}/{quote(path)}"
        git = f"{self.api}/git/blobs/{sha}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.encodebytes(data).decode("ascii"),
            "sha": sha,
            "url": url,
            "git_url": git,
            "html_url": html,
            "download_url": f"https://raw.github.example/{self.owner}/{self.repo}/{quote(branch)}/"
            f"{quote(path)}",
            "_links": {"self": url, "git": git, "html": html},
        }

    def _page(self, items: list[Any], args: dict[str, str], path: str) -> Answer:
        """One page of ITEMS, with GitHub's Link header."""
        per_page = min(int(args.get("per_page", "30")), 100, self.page_cap)
        page = max(int(args.get("page", "1")), 1)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def href(n: int) -> str:
            return f"{self.url}{path}?{urlencode({**args, 'per_page': per_page, 'page': n})}"

        if page < last:
            links += [f'<{href(page + 1)}>; rel="next"', f'<{href(last)}>; rel="last"']
        if page > 1:
            links += [f'<{href(1)}>; rel="first"', f'<{href(page - 1)}>; rel="prev"']
        return Answer(200, chunk, {"Link": ", ".join(links)} if links else {})

    def _issue(self, params: dict[str, str]) -> Issue:
        self._repo(params)
        issue = self.issues.get(int(params["issue_number"]))
        if issue is None:
            raise GitHubError(404, "Not Found")
        return issue

    def _repo(self, params: dict[str, str]) -> None:
        if (params.get("owner"), params.get("repo")) != (self.owner, self.repo):
            raise GitHubError(404, "Not Found")

    def _touch(self, issue: Issue) -> None:
        issue.updated_at = _now()

    # -- operations (named after their operationId) ---------------------------
    def op_repos_get(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        route, _ = self.spec.route("GET", "/repos/o/r") or (None, {})
        assert route is not None
        out = self.spec.example(route, 200)
        out.update(
            name=self.repo,
            full_name=f"{self.owner}/{self.repo}",
            url=self.api,
            html_url=self.html,
            has_issues=True,
            default_branch="main",
            language=None,
            open_issues_count=sum(1 for i in self.issues.values() if i.state == "open"),
            permissions={
                "admin": False,
                "maintain": False,
                "push": self.push,
                "triage": self.push,
                "pull": True,
            },
        )
        for fork_only in ("parent", "source", "template_repository"):
            out.pop(fork_only, None)  # not a fork (the example's are not even valid)
        return Answer(200, out)

    def op_issues_list_labels_for_repo(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        return self._page([self._label_json(n) for n in self.labels], args, urlsplit(h.path).path)

    def op_issues_create_label(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        name = body["name"]
        if name in self.labels:
            raise GitHubError(
                422,
                "Validation Failed",
                [{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        if len(name) > 50:
            raise GitHubError(
                422,
                "Validation Failed",
                [{"resource": "Label", "code": "invalid", "field": "name"}],
            )
        self.labels[name] = {
            "id": next(self._ids),
            "color": body.get("color", "ededed"),
            "description": body.get("description"),
        }
        return Answer(201, self._label_json(name))

    def op_issues_list_milestones(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        state = args.get("state", "open")
        numbers = [n for n, m in self.milestones.items() if state in ("all", m["state"])]
        return self._page([self._milestone_json(n) for n in numbers], args, urlsplit(h.path).path)

    def op_issues_create_milestone(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        if any(m["title"] == body["title"] for m in self.milestones.values()):
            raise GitHubError(
                422,
                "Validation Failed",
                [{"resource": "Milestone", "code": "already_exists", "field": "title"}],
            )
        number = len(self.milestones) + 1
        self.milestones[number] = {
            "id": next(self._ids),
            "title": body["title"],
            "state": body.get("state", "open"),
            "description": body.get("description"),
            "created_at": _now(),
        }
        return Answer(201, self._milestone_json(number))

    def op_issues_check_user_can_be_assigned(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        if params["assignee"] in self.assignable:
            return Answer(204)
        raise GitHubError(404, "Not Found")

    def op_issues_list_for_repo(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        state = args.get("state", "open")
        issues = [i for i in self.issues.values() if state in ("all", i.state)]
        if "since" in args:
            issues = [i for i in issues if i.updated_at >= args["since"]]
        key = {"created": "created_at", "updated": "updated_at"}.get(args.get("sort", "created"))
        issues.sort(
            key=lambda i: (getattr(i, key or "created_at"), i.number),
            reverse=args.get("direction", "desc") == "desc",
        )
        return self._page([self._issue_json(i) for i in issues], args, urlsplit(h.path).path)

    def _set_fields(self, issue: Issue, body: dict[str, Any]) -> None:
        """What issues/create and issues/update share: labels, milestone, assignees."""
        if "labels" in body and body["labels"] is not None:
            names = [v if isinstance(v, str) else v["name"] for v in body["labels"]]
            for name in names:
                if name not in self.labels:  # GitHub creates labels an issue names
                    self.labels[name] = {"id": next(self._ids), "color": "ededed"}
            issue.labels = list(dict.fromkeys(names))
        if "milestone" in body:
            number = body["milestone"]
            if number is not None and int(number) not in self.milestones:
                raise GitHubError(
                    422,
                    "Validation Failed",
                    [{"resource": "Issue", "code": "invalid", "field": "milestone"}],
                )
            issue.milestone = None if number is None else int(number)
        if "assignees" in body and body["assignees"] is not None:
            # GitHub drops people it cannot assign, silently.
            logins = [v if isinstance(v, str) else v["login"] for v in body["assignees"]]
            issue.assignees = [a for a in logins if a in self.assignable]

    def op_issues_create(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        if len(body.get("body") or "") > 65536:
            raise GitHubError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ],
            )
        number = max([*self.issues, 0]) + 1
        issue = Issue(number, next(self._ids), str(body["title"]), body.get("body"), self.login)
        self._set_fields(issue, body)
        self.issues[number] = issue
        return Answer(201, self._issue_json(issue), {"Location": f"{self.api}/issues/{number}"})

    def op_issues_get(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        return Answer(200, self._issue_json(self._issue(params)))

    def op_issues_update(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        body = body or {}
        if "title" in body and body["title"] is not None:
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = body["body"]
        self._set_fields(issue, body)
        state = body.get("state")
        if state is not None and state != issue.state:
            issue.state = state
            if state == "closed":
                issue.state_reason = body.get("state_reason") or "completed"
                issue.closed_at = _now()
            else:
                issue.state_reason, issue.closed_at = "reopened", None
        self._touch(issue)
        return Answer(200, self._issue_json(issue))

    def op_issues_list_comments(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        comments = sorted(
            (c for c in self.comments.values() if c.issue == issue.number), key=lambda c: c.id
        )
        return self._page([self._comment_json(c) for c in comments], args, urlsplit(h.path).path)

    def op_issues_create_comment(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        if len(body["body"]) > 65536:
            raise GitHubError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "IssueComment",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long",
                    }
                ],
            )
        comment = Comment(next(self._ids), issue.number, body["body"], self.login)
        self.comments[comment.id] = comment
        self._touch(issue)
        return Answer(
            201,
            self._comment_json(comment),
            {"Location": f"{self.api}/issues/comments/{comment.id}"},
        )

    def op_issues_update_comment(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        comment = self.comments.get(int(params["comment_id"]))
        if comment is None:
            raise GitHubError(404, "Not Found")
        comment.body, comment.updated_at = body["body"], _now()
        self._touch(self.issues[comment.issue])
        return Answer(200, self._comment_json(comment))

    def _by_id(self, issue_id: int) -> Issue:
        for issue in self.issues.values():
            if issue.id == issue_id:
                return issue
        raise GitHubError(
            422,
            "Validation Failed",
            [{"resource": "Issue", "code": "invalid", "field": "issue_id"}],
        )

    def op_issues_add_sub_issue(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        parent = self._issue(params)
        child = self._by_id(int(body["sub_issue_id"]))
        if child.parent is not None and not body.get("replace_parent"):
            raise GitHubError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "field": "sub_issue_id",
                        "message": "Issue may not contain duplicate sub-issues and "
                        "Sub issue may only have one parent",
                    }
                ],
            )
        if child.number == parent.number:
            raise GitHubError(422, "Validation Failed")
        child.parent = parent.number
        self._touch(child)
        self._touch(parent)
        return Answer(
            201,
            self._issue_json(parent),
            {"Location": f"{self.api}/issues/{parent.number}/sub_issues"},
        )

    def op_issues_get_parent(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        if issue.parent is None:
            raise GitHubError(404, "Not Found")
        return Answer(200, self._issue_json(self.issues[issue.parent]))

    def op_issues_list_sub_issues(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        children = [self._issue_json(i) for i in self.issues.values() if i.parent == issue.number]
        return self._page(children, args, urlsplit(h.path).path)

    def op_issues_add_blocked_by_dependency(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        blocked = self._issue(params)
        blocker = self._by_id(int(body["issue_id"]))
        if blocker.number in blocked.blocked_by or blocker.number == blocked.number:
            raise GitHubError(
                422,
                "Validation Failed",
                [{"resource": "IssueDependency", "code": "already_exists", "field": "issue_id"}],
            )
        blocked.blocked_by.append(blocker.number)
        self._touch(blocked)
        return Answer(
            201,
            self._issue_json(blocker),
            {"Location": f"{self.api}/issues/{blocked.number}/dependencies/blocked_by"},
        )

    def op_issues_list_dependencies_blocking(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        blocking = [
            self._issue_json(i) for i in self.issues.values() if issue.number in i.blocked_by
        ]
        return self._page(blocking, args, urlsplit(h.path).path)

    def op_issues_list_dependencies_blocked_by(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        issue = self._issue(params)
        return self._page(
            [self._issue_json(self.issues[n]) for n in issue.blocked_by],
            args,
            urlsplit(h.path).path,
        )

    def op_repos_get_content(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        branch = args.get("ref", "main")
        key = (branch, params["path"])
        if key not in self.files:
            raise GitHubError(404, "Not Found")
        if h.headers.get("Accept", "").startswith("application/vnd.github.raw"):
            return Answer(200, self.files[key], content_type="application/vnd.github.raw")
        return Answer(200, self._file_json(*key))

    def op_repos_create_or_update_file_contents(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        branch = body.get("branch", "main")
        if f"heads/{branch}" not in self.refs:
            raise GitHubError(404, f"Branch {branch} not found")
        path = params["path"]
        key = (branch, path)
        if key in self.files and body.get("sha") != git_blob_sha(self.files[key]):
            raise GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        try:
            data = base64.b64decode(body["content"], validate=True)
        except ValueError:
            raise GitHubError(422, "content is not valid Base64") from None
        status = 200 if key in self.files else 201
        self.files[key] = data
        commit = hashlib.sha1(f"{self.refs[f'heads/{branch}']}{path}".encode()).hexdigest()
        self.refs[f"heads/{branch}"] = commit
        route, _ = self.spec.route("PUT", "/repos/o/r/contents/x") or (None, {})
        assert route is not None
        out = self.spec.example(route, 201)
        out["content"] = {
            k: v
            for k, v in self._file_json(branch, path).items()
            if k not in ("content", "encoding")
        }
        out["commit"].update(sha=commit, message=body["message"])
        return Answer(status, out)

    def op_git_get_ref(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        ref = params["ref"]
        if ref not in self.refs:
            raise GitHubError(404, "Not Found")
        return Answer(200, self._ref_json(ref))

    def _ref_json(self, ref: str) -> dict[str, Any]:
        sha = self.refs[ref]
        return {
            "ref": f"refs/{ref}",
            "node_id": base64.b64encode(f"03:Ref{ref}".encode()).decode(),
            "url": f"{self.api}/git/refs/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.api}/git/commits/{sha}"},
        }

    def op_git_create_tree(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        entries = []
        for entry in body["tree"]:
            content = str(entry.get("content", "")).encode()
            entries.append(
                {
                    "path": entry["path"],
                    "mode": entry["mode"],
                    "type": entry["type"],
                    "sha": git_blob_sha(content),
                    "size": len(content),
                    "url": f"{self.api}/git/blobs/{git_blob_sha(content)}",
                }
            )
        sha = hashlib.sha1(json.dumps(entries).encode()).hexdigest()
        self.trees[sha] = entries
        return Answer(
            201,
            {"sha": sha, "url": f"{self.api}/git/trees/{sha}", "tree": entries, "truncated": False},
        )

    def op_git_create_commit(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        if body["tree"] not in self.trees:
            raise GitHubError(422, "Tree SHA does not exist")
        sha = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        who = {
            "name": self.login,
            "email": f"{self.login}@users.noreply.github.example",
            "date": _now(),
        }
        return Answer(
            201,
            {
                "sha": sha,
                "node_id": base64.b64encode(f"06:Commit{sha}".encode()).decode(),
                "url": f"{self.api}/git/commits/{sha}",
                "html_url": f"{self.html}/commit/{sha}",
                "author": who,
                "committer": who,
                "message": body["message"],
                "tree": {"sha": body["tree"], "url": f"{self.api}/git/trees/{body['tree']}"},
                "parents": [],
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
        )

    def op_git_create_ref(
        self, params: dict[str, str], args: dict[str, str], body: Any, h: Any
    ) -> Answer:
        self._repo(params)
        ref = str(body["ref"]).removeprefix("refs/")
        if ref in self.refs:
            raise GitHubError(422, "Reference already exists")
        self.refs[ref] = body["sha"]
        return Answer(201, self._ref_json(ref), {"Location": f"{self.api}/git/refs/{ref}"})

    # -- looking behind the target's back ------------------------------------
    def by_origin(self) -> dict[str, list[int]]:
        """Issue numbers by the origin marker in their bodies."""
        out: dict[str, list[int]] = {}
        for issue in self.issues.values():
            m = re.search(r"^<!-- migrator-origin: (.*?) -->$", issue.body or "", re.M)
            if m:
                out.setdefault(m.group(1), []).append(issue.number)
        return out

    def comments_of(self, number: int) -> list[str]:
        return [
            c.body for c in sorted(self.comments.values(), key=lambda c: c.id) if c.issue == number
        ]

    def iter_files(self, branch: str) -> Iterator[tuple[str, bytes]]:
        for (b, path), data in sorted(self.files.items()):
            if b == branch:
                yield path, data


def _admit_null(node: Any) -> int:
    """Add null to every enum of a ``nullable`` schema; return how many were changed.

    GitHub's description marks fields such as an issue's ``state_reason`` as
    ``nullable`` with an enum that does not list null, and GitHub sends null
    there.  OpenAPI 3.0.3 says that ``nullable`` does not extend an enum, so a
    strict validator refuses GitHub's real answers: the description, not the
    answer, is imprecise, and the intent of ``nullable`` is applied here.
    """
    changed = 0
    if isinstance(node, dict):
        enum = node.get("enum")
        if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
            changed += 1
        for value in node.values():
            changed += _admit_null(value)
    elif isinstance(node, list):
        for value in node:
            changed += _admit_null(value)
    return changed


def _group(m: re.Match[str], multi: tuple[str, ...]) -> str:
    """A path template's parameter as a named group (several segments if it may span them)."""
    return f"(?P<{m.group(1)}>{'.+' if m.group(1) in multi else '[^/]+'})"


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _describe(error: BaseException) -> str:
    """An openapi-core error with the schema errors behind it, on one line."""
    parts = []
    cause = error.__cause__ or error.__context__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    for detail in details or ():
        where = "/".join(str(p) for p in getattr(detail, "absolute_path", ()))
        parts.append(f"{where}: {getattr(detail, 'message', str(detail))[:200]}")
    parts.append(str(error)[:200])
    return " | ".join(" ".join(p.split()) for p in parts)[:800]
