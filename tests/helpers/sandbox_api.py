"""A synchronous test client of the sandbox app (ASGI, in process), for the sandbox tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette

from reconciler.sandbox import SANDBOX_KEY

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
