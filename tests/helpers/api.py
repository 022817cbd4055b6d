"""Test doubles around the real sandbox app: the HTTP transport to it, a flaky ASGI wrapper,
recorded sleeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send


class SandboxTransport(httpx.ASGITransport):
    """The sandbox app (or a wrapper of it) over HTTP semantics, in-process: what the client's
    HTTP wire does against a real server. A dropped connection simulated by the app
    (``ConnectionResetError``) becomes the ``httpx.ReadError`` a real socket would give."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc


class Flaky:
    """Wraps the sandbox app; each matching request consumes the next action:

    - ``"ok"``: pass through;
    - ``"lose"``: the sandbox handles (applies) it, then the connection "resets";
    - ``"reset"``: the connection resets before the sandbox sees the request;
    - ``"applied-504"``: the sandbox applies it, the client gets a 504;
    - ``"503"`` / ``"429"`` / ``"502"``: answered with that status (``Retry-After: 2``).

    ``meanwhile`` runs after a ``lose`` (another writer acting before the re-read).
    """

    def __init__(self, app: Starlette, actions: list[str], methods: set[str] | None = None) -> None:
        self.app = app
        self.actions = list(actions)
        self.methods = methods
        self.meanwhile: Callable[[], None] | None = None
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matches = scope["type"] == "http" and (
            self.methods is None or scope["method"] in self.methods
        )
        action = self.actions.pop(0) if matches and self.actions else "ok"
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"], action))

        async def swallow(message: Message) -> None:
            return None

        if action == "ok":
            await self.app(scope, receive, send)
        elif action == "lose":
            await self.app(scope, receive, swallow)
            if self.meanwhile:
                self.meanwhile()
            raise ConnectionResetError("answer lost")
        elif action == "reset":
            raise ConnectionResetError("reset before the request was read")
        elif action == "applied-504":
            await self.app(scope, receive, swallow)
            await self._status(send, 504)
        else:
            await self._status(send, int(action))

    @staticmethod
    async def _status(send: Send, status: int) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "x",
                "status": status,
                "detail": "injected",
                "code": "injected",
                "param": None,
                "request_id": "req_injected",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"retry-after", b"2"),
                    (b"request-id", b"req_injected"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class Sleeps(list[float]):
    async def __call__(self, delay: float) -> None:
        self.append(delay)


def run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)
