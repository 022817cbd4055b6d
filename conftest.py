"""Repo-wide pytest setup (beside tests/conftest.py, which holds the sandbox fixtures)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

from reconciler import logs

# CI runs every property test on the same examples (derandomised: a red build is always
# reproducible and never a matter of luck); locally the examples vary from run to run.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Every CLI run configures structlog for the process (level, renderer, stream); reset
    it after each test so a later test's ``capture_logs`` sees every level again."""
    yield
    logs.reset()
    structlog.reset_defaults()
