"""Serve the sandbox over real HTTP with uvicorn (``portalctl sandbox serve``).

The socket is bound here (port 0 picks a free port) so the ready line can name the real
address. The HTTP protocol is uvicorn's h11 one, extended so the ``drop_rate`` fault can
reset a connection without sending any response.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconciler.sandbox.app import DROP_EXTENSION


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
