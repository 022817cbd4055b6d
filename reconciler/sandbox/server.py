"""Serve the sandbox over real HTTP with uvicorn (``portalctl sandbox serve``).

The socket is bound here (port 0 picks a free port) so the ready line can name the real
address. The HTTP protocol is uvicorn's h11 one, extended so the ``drop_rate`` fault can
reset a connection without sending any response.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconciler import logs
from reconciler.errors import UsageError
from reconciler.model import SANDBOX_KEY
from reconciler.sandbox.app import DROP_EXTENSION
from reconciler.targets import is_loopback


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a ``portalctl.drop`` scope extension: abort with RST."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self.drop_connection
            await inner(scope, receive, send)

        self.app = app

    def drop_connection(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER 0: the close sends RST, like a crashed server or proxy would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(app: Starlette, *, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run until SIGINT/SIGTERM; call ``on_ready(url)`` once the server accepts requests."""
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}"
    config = uvicorn.Config(
        app,
        http=DroppableH11Protocol,
        ws="none",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                break
            await asyncio.sleep(0.01)
        if server.started:
            on_ready(url)
        await task

    try:
        asyncio.run(main())
    finally:
        sock.close()


def accepted_keys(api_keys: tuple[str, ...], *, any_key: bool) -> str:
    """What the ready line says about keys: the public sandbox key by name, never a key the
    user passed (it may be a real secret pasted by mistake): those are counted, not shown."""
    parts: list[str] = []
    if api_keys:
        distinct = len(set(api_keys))
        parts.append(
            "key: the one given with --api-key"
            if distinct == 1
            else f"keys: the {distinct} given with --api-key"
        )
    elif not any_key:
        parts.append(f"key {SANDBOX_KEY}")
    if any_key:
        parts.append("any sk_test_/sk_live_ key")
    return "; ".join(parts)


def run(
    db_path: Path,
    *,
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    any_key: bool,
    public: bool,
    faults: dict[str, Any],
    on_ready: Callable[[str], None],
) -> None:
    """``portalctl sandbox serve``: open ``db_path`` and serve it until interrupted, telling
    ``on_ready`` the ready line (the real address, the database and which key it takes)."""
    from reconciler.sandbox import Faults, create_app

    if not public and not is_loopback(host):
        raise UsageError(
            f"refusing to serve the sandbox on non-loopback address {host}",
            hint="use --host 127.0.0.1, or pass --public to expose it on purpose",
        )
    try:
        app = create_app(
            db_path,
            api_keys=api_keys or None,
            any_key=any_key,
            faults=Faults(**faults),
            admin_needs_key=public,
        )
    except ValueError as exc:
        raise UsageError(f"sandbox serve: {exc}") from exc
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot open the sandbox database {db_path}: {exc}",
            hint="pick a writable path with --db",
        ) from exc
    accepts = accepted_keys(api_keys, any_key=any_key)
    logs.route_stdlib()  # uvicorn logs through stdlib logging
    try:
        serve(
            app,
            host=host,
            port=port,
            on_ready=lambda url: on_ready(f"sandbox listening on {url} (db {db_path}; {accepts})"),
        )
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port, or --port 0 for a free one",
        ) from exc
    finally:
        app.state.sandbox.store.close()
