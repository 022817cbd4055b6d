"""Test clients of the sandbox: ``Api``, synchronous requests to the Starlette app (ASGI, in
process); and ``drive``/``portal_request`` to call ``SandboxPortal.handle`` directly, with no
event loop at all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette

from reconciler.sandbox import SANDBOX_KEY
from reconciler.sandbox.portal import PortalRequest, Upload

MERGE = "application/merge-patch+json"


class Api:
    """Synchronous requests to an in-process sandbox app (real ASGI, no network)."""

    def __init__(self, app: Starlette, key: str | None = SANDBOX_KEY) -> None:
        self.app = app
        self.key = key

    @property
    def state(self) -> Any:
        return self.app.state.sandbox

    def request(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {}
        use_key = self.key if key is None else key
        if use_key:
            headers["X-Api-Key"] = use_key
        headers.update(kwargs.pop("headers", {}))

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
                return await c.request(method, path, headers=headers, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def patch_settings(self, patch: Any, *, if_match: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Content-Type": MERGE, **kwargs.pop("headers", {})}
        if if_match is not None:
            headers["If-Match"] = if_match
        import json

        return self.request(
            "PATCH", "/v1/portal/settings", content=json.dumps(patch), headers=headers, **kwargs
        )

    def settings_etag(self, **kwargs: Any) -> str:
        return self.get("/v1/portal/settings", **kwargs).headers["ETag"]


# --- the portal core, driven without an event loop ------------------------------------------


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that must never suspend: one ``send(None)``, then its result."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("the coroutine suspended: it needed an event loop")


class BlockingSleep(list[float]):
    """The latency fault's ``sleep`` for a caller with no event loop: records, then blocks."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)
        time.sleep(delay)


def portal_request(
    method: str,
    path: str,
    *,
    key: str | None = SANDBOX_KEY,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    files: Mapping[str, Upload] | None = None,
    base_url: str = "http://sandbox.test",
    query: str = "",
) -> PortalRequest:
    """A ``PortalRequest`` as a front end builds it (header names lower-case); ``files``
    become a form callable that never suspends."""
    sent = {name.lower(): value for name, value in (headers or {}).items()}
    if key:
        sent.setdefault("x-api-key", key)
    form = None
    if files is not None:
        parts = dict(files)

        async def parsed() -> Mapping[str, Upload]:
            return parts

        form = parsed
    return PortalRequest(method, path, sent, body, form, base_url, query)
