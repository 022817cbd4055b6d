"""Transports: real HTTP for a URL, httpx's ASGI transport for the embedded sandbox."""

from __future__ import annotations

import httpx


class SandboxTransport(httpx.ASGITransport):
    """In-process transport to the embedded sandbox app.

    A dropped connection simulated by the app (``ConnectionResetError``) becomes the
    ``httpx.ReadError`` a real socket would give, so retry logic is the same everywhere.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
