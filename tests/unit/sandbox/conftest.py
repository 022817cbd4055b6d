"""Fixtures for the sandbox unit tests: the app in-process, driven synchronously."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from reconciler.sandbox import SANDBOX_KEY, Faults, create_app
from tests.helpers.sandbox_api import Api


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
