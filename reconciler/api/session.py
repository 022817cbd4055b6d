"""``ApiSession``: one wire (connection pool) per base URL, the retry policy and the runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.api.client import PortalClient
from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import ASYNCIO, Runtime
from reconciler.errors import UsageError
from reconciler.model import Target
from reconciler.targets import DEFAULT_SANDBOX_DB, check_url

if TYPE_CHECKING:
    from reconciler.api.httpwire import Transport
    from reconciler.api.wire import Wire

#: Opens the embedded portal kept in a SQLite file: (its in-process wire, close). The
#: composition root (the CLI) provides it; the core never imports the sandbox itself.
EmbeddedPortal = Callable[[Path, Runtime], tuple["Wire", Callable[[], None]]]

#: Base URL of the embedded sandbox (in-process; ``.localhost`` never leaves the machine).
SANDBOX_BASE_URL = "http://sandbox.localhost"


class ApiSession:
    """Owns the wires; use as ``async with ApiSession() as api``.

    One wire per base URL, shared by every portal on it. The embedded sandbox
    (``Target.url is None``) is reached through ``embedded``, one in-process wire per SQLite
    file. ``transport`` (an httpx transport) replaces the network and the embedded sandbox
    for every client: a test seam. ``parallelism``: portals served at once, which sizes each
    network pool (two connections per portal, all kept alive; see ``reconciler/api/pool.py``).
    ``runtime``: ``ASYNCIO`` (default), or ``INLINE`` when every portal is the embedded
    sandbox (``runtime.runtime_for``); network portals need ``ASYNCIO``.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
        embedded: EmbeddedPortal | None = None,
        parallelism: int = 8,
        runtime: Runtime = ASYNCIO,
    ) -> None:
        self.timeout = timeout
        #: two connections per portal in flight (a plan's two GETs go out together)
        self.max_connections = 2 * max(1, parallelism)
        self.retry = retry or RetryPolicy()
        self.runtime = runtime
        self._transport = transport
        self._embedded = embedded
        self._wires: dict[str, Wire] = {}
        self._closers: list[Callable[[], None]] = []

    async def __aenter__(self) -> ApiSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        wires, self._wires = list(self._wires.values()), {}
        for wire in wires:
            await wire.aclose()
        closers, self._closers = self._closers, []
        for close in closers:
            close()

    def client(self, target: Target) -> PortalClient:
        """The client of one portal (cheap; wires are shared)."""
        if target.url is None:
            db = Path(target.sandbox_db or DEFAULT_SANDBOX_DB).resolve()
            pool_key = f"sandbox:{db}"
            if pool_key not in self._wires:
                if self._transport is not None:
                    self._wires[pool_key] = self._http_wire(SANDBOX_BASE_URL, self._transport)
                elif self._embedded is None:
                    raise UsageError(
                        "no API URL is set and the embedded sandbox is not available here",
                        hint="set PORTAL_API_URL (or --api-url) to the portal's API",
                    )
                else:
                    wire, close = self._embedded(db, self.runtime)
                    self._closers.append(close)
                    self._wires[pool_key] = wire
        else:
            if self.runtime.inline:
                raise RuntimeError(f"{target.url} is reached over HTTP: use the asyncio runtime")
            pool_key = check_url(target.url, insecure=target.insecure)
            if pool_key not in self._wires:
                from reconciler.api.pool import PooledTransport  # httpcore: network only

                transport = self._transport or PooledTransport(
                    pool_key, max_connections=self.max_connections
                )
                self._wires[pool_key] = self._http_wire(pool_key, transport)
        return PortalClient(target, self._wires[pool_key], self.retry, self.runtime)

    def _http_wire(self, base_url: str, transport: Transport) -> Wire:
        from reconciler.api.httpwire import HttpxWire

        return HttpxWire(base_url, transport, timeout=self.timeout)
