"""The connection pool for a real API (``reconciler/api/pool.py``), against a real loopback
HTTP/1.1 server that counts the connections it accepts.

What a user of a fleet sees: no request is handed a connection that is already busy (no
``ConnectionNotAvailable`` re-queue), at most two connections per portal in flight, and
connections are kept alive between portals, so a second round opens none (on an HTTPS API
each new connection is a TLS handshake)."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import httpx
import pytest

from reconciler.api import ApiSession
from reconciler.api.pool import PooledTransport, PortalPool, ssl_context_for, supported
from reconciler.model import Secret, Target


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        server: Any = self.server
        with server.lock:
            server.accepted += 1

    def do_GET(self) -> None:
        time.sleep(0.005)  # keep requests in flight together (no assertion depends on it)
        body = b'{"data": []}' if self.path.endswith("templates") else b'{"data": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Any]:
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.accepted = 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def requeued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts requests httpcore hands back to the pool after ``ConnectionNotAvailable``."""
    count = [0]
    send = httpcore.AsyncHTTPConnection.handle_async_request

    async def counted(self: Any, request: Any) -> Any:
        try:
            return await send(self, request)
        except httpcore.ConnectionNotAvailable:
            count[0] += 1
            raise

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "handle_async_request", counted)
    return count


async def _read_fleet(client: httpx.AsyncClient, portals: int, parallelism: int) -> None:
    """Like a fleet plan: each portal sends its two GETs together."""
    gate = asyncio.Semaphore(parallelism)

    async def one() -> None:
        async with gate:
            answers = await asyncio.gather(client.get("/settings"), client.get("/templates"))
            assert [a.status_code for a in answers] == [200, 200]

    await asyncio.gather(*(one() for _ in range(portals)))


def test_a_fleet_never_races_for_a_connection_and_keeps_them_alive(
    server: Any, requeued: list[int]
) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    parallelism = 16

    async def main() -> tuple[int, int]:
        transport = PooledTransport(url, max_connections=2 * parallelism)
        async with httpx.AsyncClient(base_url=url, transport=transport) as client:
            await _read_fleet(client, 120, parallelism)
            first = server.accepted
            await _read_fleet(client, 120, parallelism)
            return first, server.accepted

    first, second = asyncio.run(main())
    assert requeued == [0]
    assert 1 <= first <= 2 * parallelism
    assert second == first  # every connection was kept alive and reused


def test_the_session_uses_the_portalctl_pool_sized_by_parallelism() -> None:
    assert supported()
    transport = PooledTransport("https://api.example.com", max_connections=64)
    pool: Any = transport._pool
    assert isinstance(pool, PortalPool)
    assert (pool._max_connections, pool._max_keepalive_connections) == (64, 64)
    session = ApiSession(parallelism=32)
    client: Any = session.client(Target(url="https://api.example.com", api_key=Secret("k")))
    assert isinstance(client._wire._http._transport, PooledTransport)
    assert client._wire._http._transport._pool._max_connections == 64
    asyncio.run(session.aclose())


def test_https_verifies_with_the_default_roots_and_plain_http_loads_none() -> None:
    secure = ssl_context_for("https://api.example.com")
    assert secure.verify_mode is ssl.CERT_REQUIRED and secure.check_hostname
    assert secure.cert_store_stats()["x509_ca"] > 0
    plain = ssl_context_for("http://127.0.0.1:8080")
    # Trusts nothing: a TLS connection through it could only fail verification.
    assert plain.verify_mode is ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
