"""RetryPolicy arithmetic and Retry-After parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from reconciler.api.retry import RetryPolicy, parse_retry_after


def test_full_jitter_backoff_is_bounded_by_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, random=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(random=lambda: 0.0).backoff(4) == 0.0


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(retry_after_cap=30.0, random=lambda: 1.0)
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, 120.0) == 30.0
    assert policy.delay(2, None) == policy.backoff(2)


def test_attempts_and_deadline_limit_retries() -> None:
    now = [0.0]
    policy = RetryPolicy(max_attempts=3, deadline=10.0, clock=lambda: now[0])
    assert policy.may_retry(1, 0.0, 1.0)
    assert not policy.may_retry(3, 0.0, 0.0)
    now[0] = 9.5
    assert not policy.may_retry(1, 0.0, 1.0)
    assert policy.may_retry(1, 0.0, 0.5)


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
    now = datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(format_datetime(when, usegmt=True), now=now) == 10.0
