"""Fixtures for the client tests: the real sandbox app behind an injectable failure wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from reconciler.api import RetryPolicy
from reconciler.sandbox import create_app
from tests.helpers.api import Flaky, Sleeps, run  # noqa: F401 - fixtures use them


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy(sleeps: Sleeps) -> RetryPolicy:
    """Fast policy: records waits instead of sleeping; backoff = its ceiling."""
    return RetryPolicy(
        max_attempts=3, base_delay=0.1, retry_after_cap=1.5, sleep=sleeps, random=lambda: 1.0
    )


@pytest.fixture
def sandbox_app(tmp_path: Path) -> Iterator[Starlette]:
    app = create_app(tmp_path / "sandbox.db", any_key=True)
    yield app
    app.state.sandbox.store.close()
