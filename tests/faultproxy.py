"""A loopback HTTP proxy that sits between migrator and a real tracker and misbehaves on cue.

Each request is forwarded to the real server; a rule can act before forwarding
(answer 429/503 itself, reset the connection, delay) or after the server has
answered (drop the response it committed, run a callback such as killing the
client).  That is how the tests produce the failures that matter for
exactly-once loading: the create that happened but whose answer never arrived.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients killed mid-request are the point of these tests


@dataclass
class Rule:
    method: str
    path_prefix: str
    nth: int  # act on the nth matching request (1-based)
    action: str  # "status:CODE", "reset", "drop-after", "delay:SECONDS", "call-after"
    retry_after: str | None = None
    callback: Callable[[], None] | None = None
    seen: int = 0
    fired: bool = False

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.startswith(self.path_prefix)


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        target = urlsplit(self.upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = proxy._rule(self.command, self.path)
                if rule is not None and not rule.action.endswith("-after"):
                    if rule.action.startswith("status:"):
                        code = int(rule.action.split(":")[1])
                        self.send_response(code)
                        if rule.retry_after is not None:
                            self.send_header("Retry-After", rule.retry_after)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        proxy.log.append((self.command, self.path, code))
                        return
                    if rule.action == "reset":
                        self._reset()
                        return
                    if rule.action.startswith("delay:"):
                        time.sleep(float(rule.action.split(":")[1]))
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                proxy.log.append((self.command, self.path, response.status))
                if rule is not None and rule.action == "drop-after":
                    self._reset()  # the server committed; the client never hears of it
                    return
                if rule is not None and rule.action == "call-after" and rule.callback:
                    rule.callback()
                    self._reset()
                    return
                self.send_response(response.status)
                for k, v in response.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _reset(self) -> None:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _rule(self, method: str, path: str) -> Rule | None:
        with self._lock:
            return self._match(method, path)

    def _match(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(method, path) and not rule.fired:
                rule.seen += 1
                if rule.seen == rule.nth:
                    rule.fired = True
                    return rule
        return None

    def count(self, method: str, path_prefix: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and p.startswith(path_prefix))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
