"""Repo-wide pytest setup (beside tests/conftest.py, which holds the sandbox fixtures)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from reconciler import logs


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Every CLI run configures structlog for the process (level, renderer, stream); reset
    it after each test so a later test's ``capture_logs`` sees every level again."""
    yield
    logs.reset()
    structlog.reset_defaults()
