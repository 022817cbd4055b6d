"""Fixtures for the sandbox unit tests: the app in-process, driven synchronously."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.sandbox import SANDBOX_KEY, Faults, create_app

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


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """``make_api(api_keys=None, any_key=False, faults=None, key=SANDBOX_KEY)``."""
    apps: list[Starlette] = []

    def make(
        *,
        api_keys: list[str] | None = None,
        any_key: bool = False,
        faults: Faults | None = None,
        key: str | None = SANDBOX_KEY,
        db: Path | None = None,
    ) -> Api:
        app = create_app(
            db or tmp_path / "sandbox.db", api_keys=api_keys, any_key=any_key, faults=faults
        )
        apps.append(app)
        return Api(app, key)

    yield make
    for app in apps:
        app.state.sandbox.store.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
