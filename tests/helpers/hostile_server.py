"""A hostile HTTP server on 127.0.0.1 for testing the client's defences (not a fake portal).

Each route answers with scripted behaviour: raw bytes, an endless body, one byte every half
second, a declared 16 GB body, silence... Routes not scripted answer what a well-behaved
portal would (``SETTINGS``, ``TEMPLATES``), so a test changes one thing at a time.

Bounded in time: a raw socket server in daemon threads; every connection is closed after
``MAX_CONNECTION_SECONDS`` whatever it is doing; ``close()`` (fixture teardown) stops the
listener and every connection and joins the threads. The ``hostile_server`` fixture also
arms a watchdog (``faulthandler``) that kills a test still running after ``TEST_TIMEOUT``.

    def test_x(hostile_server):
        hostile_server.script("GET", "/v1/portal/settings", Trickle())
        hostile_server.url  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import copy
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.model import EVENTS

MAX_CONNECTION_SECONDS = 20.0
TEST_TIMEOUT = 90.0

SETTINGS: dict[str, Any] = {
    "enabled": False,
    "branding": {"company_name": None, "primary_color": "#1662dd", "logo": None},
    "permissions": {
        "update_payment_methods": True,
        "view_payment_history": True,
        "download_invoices": True,
        "cancel_subscription": False,
    },
    "portal_url": None,
    "updated_at": "2026-01-01T00:00:00Z",
}
TEMPLATES: dict[str, Any] = {
    "data": [
        {
            "event": event,
            "subject": f"Default {event}",
            "body": "<p>{{customer_portal_link}}</p>",
            "is_default": True,
            "updated_at": "2026-01-01T00:00:00Z",
            "etag": f'"t-{event}"',
        }
        for event in EVENTS
    ]
}


def settings(**changes: Any) -> dict[str, Any]:
    """A copy of ``SETTINGS`` with top-level keys replaced."""
    body = copy.deepcopy(SETTINGS)
    body.update(changes)
    return body


def templates() -> dict[str, Any]:
    return copy.deepcopy(TEMPLATES)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Stop(Protocol):
    """Set when the server stops or the connection's time is up."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> bool: ...


class Behaviour:
    """How to answer one request: write to ``conn`` (a connected socket)."""

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        raise NotImplementedError


def head(status: int = 200, headers: dict[str, str] | None = None, reason: str = "OK") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Raw(Behaviour):
    """Exactly these bytes, then close."""

    data: bytes

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        conn.sendall(self.data)


@dataclass
class Answer(Behaviour):
    """A well-formed answer: JSON of ``body`` (or ``body`` itself if bytes), any headers."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    etag: str | bytes | None = '"e-1"'

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        data = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        lines = [f"HTTP/1.1 {self.status} X".encode()]
        headers: dict[str, str | bytes] = {
            "Content-Type": self.content_type,
            "Content-Length": str(len(data)),
            "Request-Id": "req_hostile",
            "Connection": "close",
        }
        if self.etag is not None:
            headers["ETag"] = self.etag
        headers.update(self.headers)
        for name, value in headers.items():
            raw = value if isinstance(value, bytes) else value.encode("latin-1")
            lines.append(name.encode() + b": " + raw)
        conn.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + data)


def problem(status: int, detail: str, request_id: str = "req_hostile", **more: Any) -> Answer:
    body = {
        "type": "about:blank",
        "title": "x",
        "status": status,
        "detail": detail,
        "code": "hostile",
        "param": None,
        "request_id": request_id,
        **more,
    }
    return Answer(body, status=status, content_type="application/problem+json", etag=None)


@dataclass
class Trickle(Behaviour):
    """A valid head, then one byte of body every ``interval`` seconds, forever."""

    interval: float = 0.5

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        conn.sendall(head(200, {"Content-Type": "application/json", "Content-Length": "1000000"}))
        while not stop.wait(self.interval):
            conn.sendall(b" ")


@dataclass
class Endless(Behaviour):
    """A head without a length, then 64 KiB chunks of ``[`` until the client hangs up."""

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        conn.sendall(head(200, {"Content-Type": "application/json", "Connection": "close"}))
        chunk = b"[" * 65536
        while not stop.is_set():
            conn.sendall(chunk)


@dataclass
class Silent(Behaviour):
    """Read the request, never answer."""

    def serve(self, conn: socket.socket, stop: Stop) -> None:
        stop.wait(MAX_CONNECTION_SECONDS)


def gzip_bomb(size: int = 64 * 1024 * 1024) -> Answer:
    """64 MiB of spaces in ~64 KiB, sent with ``Content-Encoding: gzip``."""
    data = gzip.compress(b" " * size, compresslevel=9)
    return Answer(data, headers={"Content-Encoding": "gzip"})


class HostileServer:
    """The server; ``script(method, path, behaviour)`` sets a route (a list: one per request,
    the last one repeats)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[Request] = []
        self._routes: dict[tuple[str, str], list[Behaviour]] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def script(self, method: str, path: str, *behaviours: Behaviour) -> None:
        with self._lock:
            self._routes[(method, path)] = list(behaviours)

    def _default(self, request: Request) -> Behaviour:
        if request.method == "GET" and request.path == "/v1/portal/settings":
            return Answer(SETTINGS)
        if request.method == "GET" and request.path == "/v1/notifications/templates":
            return Answer(TEMPLATES)
        return problem(404, "no such route")

    def _behaviour(self, request: Request) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get((request.method, request.path))
            if not queue:
                return self._default(request)
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._connection, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _connection(self, conn: socket.socket) -> None:
        done = threading.Event()
        # Whatever the behaviour does, the connection ends after MAX_CONNECTION_SECONDS.
        timer = threading.Timer(MAX_CONNECTION_SECONDS, done.set)
        timer.daemon = True
        timer.start()
        stop = _Either(self._stop, done)
        try:
            conn.settimeout(MAX_CONNECTION_SECONDS)
            request = _read_request(conn)
            if request is not None:
                self._behaviour(request).serve(conn, stop)
        except OSError:
            pass  # the client hung up: what a defended client does
        finally:
            timer.cancel()
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._accept.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


class _Either:
    """``wait``/``is_set`` over two events (server stopping, connection time up)."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self._a, self._b = a, b

    def is_set(self) -> bool:
        return self._a.is_set() or self._b.is_set()

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not self.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._a.wait(min(left, 0.05))
        return True


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1024 * 1024:
            return None
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target.split("?", 1)[0], headers, body)


def watchdog(seconds: float = TEST_TIMEOUT) -> Callable[[], None]:
    """Kill the test process (with every thread's traceback) if still running after
    ``seconds``: a per-test timeout without a plugin. Returns the function that disarms it."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(seconds, exit=True, file=sys.__stderr__)
    return faulthandler.cancel_dump_traceback_later
