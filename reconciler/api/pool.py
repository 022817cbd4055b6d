"""The HTTP connection pool for a real portal API (``http(s)://``), and the transport over it.

Why not httpx's default pool: httpcore 1.0.x assigns queued requests to connections in one
pass that does not remember what it just handed out, so the two GETs a portal sends together
(``read_state``) are both given the same idle connection; the loser gets
``ConnectionNotAvailable`` and runs a whole new pass, in which every idle connection's socket
is polled again. And its keep-alive limit counts every connection, not the idle ones, so once
more than ``max_keepalive_connections`` (20) exist it closes every connection that goes idle:
at parallelism 32 each request paid a new connection (a TLS handshake on a real API) and
retries grew to about six per request (``benchmarks/pool.py`` counts both).

``PortalPool`` is httpcore's pool with one method rewritten: a connection is handed to one
request at a time (HTTP/1.1; the pool never speaks HTTP/2), only idle connections count
against the keep-alive limit, and only a connection about to be reused is polled for a
server-side close. It relies on httpcore's private pool structure, which is why
``pyproject.toml`` pins ``httpcore<1.1``; ``supported()`` checks the structure and the
transport falls back to httpcore's own pool (sized so its keep-alive bug never fires) if a
future release changes it. ``tests/unit/api/test_pool.py`` holds the pool to this against a
real loopback server.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpcore
import httpx

#: httpx's default seconds an idle connection is kept.
KEEPALIVE_EXPIRY = 5.0


@functools.cache
def supported() -> bool:
    """True when the installed httpcore has the pool structure ``PortalPool`` rewrites."""
    pool = httpcore.AsyncConnectionPool
    probe = httpcore.AsyncConnectionPool(max_connections=1)
    return all(
        hasattr(pool, name) for name in ("_assign_requests_to_connections", "create_connection")
    ) and all(
        hasattr(probe, name)
        for name in ("_requests", "_connections", "_max_connections", "_max_keepalive_connections")
    )


class PortalPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool, assigning each connection to one request at a time."""

    def _assign_requests_to_connections(self) -> list[Any]:
        # Called under the pool's lock whenever a request arrives or a response is closed.
        closing: list[Any] = []
        connections: list[Any] = self._connections
        taken = {id(r.connection) for r in self._requests if r.connection is not None}

        # Drop closed connections; close idle ones beyond the keep-alive limit (oldest
        # first: the list is in creation order). Neither check does I/O.
        idle: list[Any] = []
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif id(connection) not in taken and connection.is_idle():
                idle.append(connection)
        for connection in idle[: max(0, len(idle) - self._max_keepalive_connections)]:
            connections.remove(connection)
            closing.append(connection)

        for pool_request in [r for r in self._requests if r.is_queued()]:
            origin = pool_request.request.url.origin
            chosen = None
            for connection in connections[::-1]:  # the most recently created first
                if (
                    id(connection) in taken
                    or not connection.can_handle_request(origin)
                    or not connection.is_available()
                ):
                    continue
                if connection.has_expired():  # polls the socket: only for a candidate
                    connections.remove(connection)
                    closing.append(connection)
                    continue
                chosen = connection
                break
            if chosen is None and len(connections) >= self._max_connections:
                spare = next((c for c in connections if id(c) not in taken and c.is_idle()), None)
                if spare is None:
                    continue  # wait: a response closing re-runs this pass
                connections.remove(spare)
                closing.append(spare)
            if chosen is None:
                chosen = self.create_connection(origin)
                connections.append(chosen)
            taken.add(id(chosen))
            pool_request.assign_to_connection(chosen)
        return closing


def ssl_context_for(base_url: str) -> ssl.SSLContext:
    """The TLS context of a pool: httpx's default (certifi, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``) for ``https://``; for a plain ``http://`` base, a context that trusts
    nothing, so the ~20 ms of loading CA certificates is skipped and a stray https request
    (there is none: redirects are not followed) would fail verification, never pass it."""
    if base_url.startswith("https://"):
        return httpx.create_ssl_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``PortalPool``, with ``max_connections`` kept alive.

    ``max_connections`` should be the number of requests that can be in flight (two per
    portal being planned), so no request waits for a connection and none is ever closed
    only to be reopened."""

    def __init__(self, base_url: str, *, max_connections: int) -> None:
        context = ssl_context_for(base_url)
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY,
        )
        super().__init__(verify=context, limits=limits)
        if supported():
            self._pool = PortalPool(
                ssl_context=context,
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=KEEPALIVE_EXPIRY,
                http1=True,
                http2=False,
            )
