"""A small issue tracker on loopback, for the fake tracker that tests adding a tracker.

It has no vendor description to hold requests to (it is nobody's product), so
it is strict on its own terms: every request needs the token, every body is
checked against the handful of shapes below, and anything else is answered
400 and recorded in :attr:`FakeTracker.violations`.  Tickets, comments,
attachments and links live in memory.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

NAMES = {
    "project": ["alpha"],
    "tracker": ["Bug", "Task"],
    "status": ["Open", "Closed"],
    "priority": ["Low", "High"],
    "user": ["tanaka", "suzuki"],
    "custom_field": ["Customer"],
}
# The body each write takes: key -> type (a missing key is allowed, an unknown one is not).
BODIES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "issue": {
        "origin": (str, type(None)),
        "project": str,
        "tracker": str,
        "status": str,
        "priority": str,
        "subject": str,
        "description": str,
        "assignee": (str, type(None)),
        "fields": dict,
        "parent": (int, type(None)),
    },
    "comment": {"body": str, "author": (str, type(None))},
    "link": {"kind": str, "to": int},
}


@dataclass
class Issue:
    id: int
    data: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    links: set[tuple[str, int]] = field(default_factory=set)


class FakeTracker:
    """The server; ``url`` is its address, ``token`` the one key it accepts."""

    def __init__(self, token: str):
        self.token = token
        self.issues: dict[int, Issue] = {}
        self.files: dict[int, bytes] = {}
        self.violations: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with double._lock:
                    status, answer = double._answer(self, body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                kind = "application/octet-stream" if isinstance(answer, bytes) else "json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ requests

    def _refuse(self, status: int, text: str) -> tuple[int, Any]:
        self.violations.append(text)
        return status, {"error": text}

    def _body(self, kind: str, raw: bytes) -> dict[str, Any] | str:
        try:
            data = json.loads(raw)
        except ValueError:
            return f"{kind}: not JSON"
        if not isinstance(data, dict):
            return f"{kind}: not an object"
        shape = BODIES[kind]
        for key, value in data.items():
            if key not in shape:
                return f"{kind}: unknown key {key!r}"
            if not isinstance(value, shape[key]):
                return f"{kind}: {key} has the wrong type"
        return data

    def _answer(self, handler: BaseHTTPRequestHandler, raw: bytes) -> tuple[int, Any]:
        if handler.headers.get("X-Fake-Token") != self.token:
            return 401, {"error": "token required"}  # a wrong key is the caller's, not a bug
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        path = [p for p in parts.path.split("/") if p]
        method = handler.command
        if path == ["names"] and method == "GET":
            return 200, NAMES
        if path == ["issues"] and method == "GET":
            found = [
                self._json(i)
                for i in self.issues.values()
                if i.data.get("project") == query.get("project")
                and ("origin" not in query or i.data.get("origin") == query["origin"])
            ]
            return 200, found
        if path == ["issues"] and method == "POST":
            body = self._body("issue", raw)
            if isinstance(body, str):
                return self._refuse(400, body)
            unknown = [
                f"{kind} {body[kind]!r}"
                for kind in ("project", "tracker", "status", "priority")
                if body.get(kind) not in NAMES[kind]
            ]
            if unknown:
                return 422, {"error": f"unknown {', '.join(unknown)}"}
            issue = Issue(next(self._ids), body)
            self.issues[issue.id] = issue
            return 201, self._json(issue)
        if path[:1] == ["files"] and len(path) == 2 and method == "GET":
            data = self.files.get(int(path[1]))
            return (200, data) if data is not None else (404, {"error": "no such file"})
        if len(path) < 2 or path[0] != "issues" or not path[1].isdigit():
            return self._refuse(404, f"{method} {parts.path}: no such endpoint")
        issue = self.issues.get(int(path[1]))
        if issue is None:
            return 404, {"error": "no such issue"}
        rest = path[2:]
        if not rest and method == "GET":
            return 200, self._json(issue)
        if not rest and method == "PATCH":
            body = self._body("issue", raw)
            if isinstance(body, str):
                return self._refuse(400, body)
            issue.data.update(body)
            return 200, self._json(issue)
        if not rest and method == "DELETE":
            del self.issues[issue.id]
            return 204, b""
        if rest == ["comments"] and method == "POST":
            body = self._body("comment", raw)
            if isinstance(body, str):
                return self._refuse(400, body)
            issue.comments.append({"id": next(self._ids), **body})
            return 201, issue.comments[-1]
        if len(rest) == 2 and rest[0] == "comments" and method == "PATCH":
            body = self._body("comment", raw)
            if isinstance(body, str):
                return self._refuse(400, body)
            for comment in issue.comments:
                if str(comment["id"]) == rest[1]:
                    comment.update(body)
                    return 200, comment
            return 404, {"error": "no such comment"}
        if rest == ["files"] and method == "POST" and query.get("name"):
            file_id = next(self._ids)
            self.files[file_id] = raw
            issue.files.append({"id": file_id, "name": query["name"], "size": len(raw)})
            return 201, issue.files[-1]
        if rest == ["links"] and method == "POST":
            body = self._body("link", raw)
            if isinstance(body, str):
                return self._refuse(400, body)
            if body.get("kind") not in ("relates", "blocks") or body.get("to") not in self.issues:
                return 422, {"error": "links are relates or blocks, to an existing issue"}
            issue.links.add((body["kind"], body["to"]))
            return 201, {}
        return self._refuse(404, f"{method} {parts.path}: no such endpoint")

    def _json(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": issue.id,
            **issue.data,
            "comments": issue.comments,
            "files": issue.files,
            "links": sorted([kind, to] for kind, to in issue.links),
        }
