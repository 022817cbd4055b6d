"""``ApiSession``: the connection pools (one per base URL) and the retry policy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler import __version__
from reconciler.api.client import PortalClient
from reconciler.api.retry import RetryPolicy
from reconciler.errors import UsageError
from reconciler.model import Target
from reconciler.targets import DEFAULT_SANDBOX_DB, check_url

T = TypeVar("T")

#: Opens the embedded portal kept in a SQLite file: (transport to it, close). The
#: composition root (the CLI) provides it; the core never imports the sandbox itself.
EmbeddedPortal = Callable[[Path], tuple[httpx.AsyncBaseTransport, Callable[[], None]]]

#: Base URL of the embedded sandbox (in-process; ``.localhost`` never leaves the machine).
SANDBOX_BASE_URL = "http://sandbox.localhost"


class ApiSession:
    """Owns the HTTP connection pools; use as ``async with ApiSession() as api``.

    One ``httpx.AsyncClient`` per base URL, shared by every portal on it. The embedded
    sandbox (``Target.url is None``) is reached through ``embedded``, one transport per
    SQLite file. ``transport`` replaces the network for every client (a test seam).
    ``parallelism``: portals served at once, which sizes each network pool (two
    connections per portal, all kept alive; see ``reconciler/api/pool.py``).
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        embedded: EmbeddedPortal | None = None,
        parallelism: int = 8,
    ) -> None:
        self.timeout = timeout
        #: two connections per portal in flight (a plan's two GETs go out together)
        self.max_connections = 2 * max(1, parallelism)
        self.retry = retry or RetryPolicy()
        self._transport = transport
        self._embedded = embedded
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closers: list[Callable[[], None]] = []

    async def __aenter__(self) -> ApiSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        closers, self._closers = self._closers, []
        for close in closers:
            close()

    def client(self, target: Target) -> PortalClient:
        """The client of one portal (cheap; pools are shared)."""
        if target.url is None:
            db = Path(target.sandbox_db or DEFAULT_SANDBOX_DB).resolve()
            pool_key = f"sandbox:{db}"
            if pool_key not in self._clients:
                transport = self._transport
                if transport is None:
                    if self._embedded is None:
                        raise UsageError(
                            "no API URL is set and the embedded sandbox is not available here",
                            hint="set PORTAL_API_URL (or --api-url) to the portal's API",
                        )
                    transport, close = self._embedded(db)
                    self._closers.append(close)
                self._clients[pool_key] = self._new_client(SANDBOX_BASE_URL, transport)
        else:
            pool_key = check_url(target.url, insecure=target.insecure)
            if pool_key not in self._clients:
                from reconciler.api.pool import PooledTransport  # httpcore: network only

                transport = self._transport or PooledTransport(
                    pool_key, max_connections=self.max_connections
                )
                self._clients[pool_key] = self._new_client(pool_key, transport)
        return PortalClient(target, self._clients[pool_key], self.retry, self.timeout)

    def _new_client(
        self, base_url: str, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": f"portalctl/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code (the CLI): ``run_sync(main())``."""
    return asyncio.run(coro)
