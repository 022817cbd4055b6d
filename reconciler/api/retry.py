"""Retry policy: which failures are retried, how long to wait, when to give up.

Retried: statuses 429/502/503/504 (honouring ``Retry-After`` up to a cap), 500 as well on
reads (idempotent, so a server failure is retried like a dropped connection), and transport
failures of requests that are safe to resend. Waits use exponential backoff with full
jitter. ``sleep``, ``random`` and ``clock`` are injectable so tests never really wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries. All times in seconds.

    - ``max_attempts``: attempts per request, the first included.
    - ``base_delay``/``max_delay``: backoff ``random() * min(max_delay, base * 2**(n-1))``.
    - ``retry_after_cap``: the longest ``Retry-After`` honoured; longer waits are capped.
    - ``deadline``: no retry starts once this much time has passed since the first attempt.
    - ``retry_statuses``: retried for every request; ``read_retry_statuses`` for reads.
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0
    retry_after_cap: float = 30.0
    deadline: float = 90.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    read_retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    #: how to wait between attempts; None: the runtime's (``asyncio.sleep`` or ``time.sleep``)
    sleep: Callable[[float], Awaitable[None]] | None = field(default=None, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")

    def backoff(self, attempt: int) -> float:
        """Full-jitter wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return float(self.random() * ceiling)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.backoff(attempt)

    def may_retry(self, attempt: int, started: float, delay: float) -> bool:
        """Another attempt is allowed after waiting ``delay``."""
        if attempt >= self.max_attempts:
            return False
        return (self.clock() - started) + delay <= self.deadline


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # email is a big package; dates are rare

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
