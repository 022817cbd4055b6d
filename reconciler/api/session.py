"""``ApiSession``: the connection pools (one per base URL) and the retry policy."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler import __version__
from reconciler.api.client import PortalClient
from reconciler.api.retry import RetryPolicy
from reconciler.api.transports import SandboxTransport
from reconciler.errors import UsageError
from reconciler.model import Target
from reconciler.targets import DEFAULT_SANDBOX_DB, check_url

T = TypeVar("T")

#: Base URL of the embedded sandbox (in-process; ``.localhost`` never leaves the machine).
SANDBOX_BASE_URL = "http://sandbox.localhost"


class ApiSession:
    """Owns the HTTP connection pools; use as ``async with ApiSession() as api``.

    One ``httpx.AsyncClient`` per base URL, shared by every portal on it; the embedded
    sandbox (``Target.url is None``) is served in-process per SQLite file. ``transport``
    replaces the network for every client (a test seam). ``parallelism``: portals served at
    once, which sizes each pool (two connections per portal, all kept alive).
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
    ) -> None:
        self.timeout = timeout
        #: two connections per portal in flight (a plan's two GETs go out together)
        self.max_connections = 2 * max(1, parallelism)
        self.retry = retry or RetryPolicy()
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._apps: list[Any] = []

    async def __aenter__(self) -> ApiSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        for app in self._apps:
            app.state.sandbox.store.close()
        self._apps.clear()

    def client(self, target: Target) -> PortalClient:
        """The client of one portal (cheap; pools are shared)."""
        if target.url is None:
            db = Path(target.sandbox_db or DEFAULT_SANDBOX_DB).resolve()
            pool_key = f"sandbox:{db}"
            if pool_key not in self._clients:
                from reconciler.sandbox import create_app

                try:
                    app = create_app(db, any_key=True)
                except (OSError, sqlite3.Error) as exc:
                    raise UsageError(
                        f"cannot open the embedded sandbox database {db}: {exc}",
                        hint="run from a writable folder or set PORTAL_SANDBOX_DB; set "
                        "PORTAL_API_URL to use a real portal",
                    ) from exc
                self._apps.append(app)
                self._clients[pool_key] = self._new_client(
                    SANDBOX_BASE_URL, self._transport or SandboxTransport(app=app)
                )
        else:
            pool_key = check_url(target.url, insecure=target.insecure)
            if pool_key not in self._clients:
                from reconciler.api.pool import PooledTransport  # httpcore: network only

                transport = self._transport or PooledTransport(
                    pool_key, max_connections=self.max_connections
                )
                self._clients[pool_key] = self._new_client(pool_key, transport)
        return PortalClient(self, target, self._clients[pool_key])

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
