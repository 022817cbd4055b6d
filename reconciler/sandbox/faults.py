"""Fault injection for the sandbox: latency, 500s, dropped connections, 429s, 412 races.

``Faults`` is the configuration (set by ``sandbox serve`` flags, or at run time with
``PUT /_sandbox/faults``); ``FaultState`` is what the running portal keeps: the seeded random
source, the per-key token buckets and the per-tenant write counters.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Requests per second per key when no ``rate_limit`` fault is set (reported in the
#: ``X-RateLimit-*`` headers and enforced, so the headers never lie).
DEFAULT_RATE_LIMIT = 1000.0


@dataclass(frozen=True)
class Faults:
    """What the sandbox should get wrong, on purpose.

    - ``latency_ms``: delay before every API request is handled.
    - ``error_rate``: share (0..1) of API requests answered with a 500 (nothing applied).
    - ``drop_rate``: share (0..1) of API requests whose connection is dropped without any
      response (before the request is handled, so nothing is applied).
    - ``rate_limit``: requests per second per key (token bucket, burst = one second's
      worth); beyond it, 429 with ``Retry-After``.
    - ``race_412``: the next write (of any tenant) finds its resource moved by a
      "concurrent writer" (the resource really changes) and gets 412. One-shot.
    - ``fail_write_numbers``: 1-based indices of write requests, counted per tenant since
      the faults were last set, that get a 500 without being applied.
    - ``seed``: seed of the random source, for reproducible error/drop sequences.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    rate_limit: float | None = None
    race_412: bool = False
    fail_write_numbers: tuple[int, ...] = field(default_factory=tuple)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be > 0 requests per second")
        if any(n < 1 for n in self.fail_write_numbers):
            raise ValueError("fail_write_numbers are 1-based write indices (>= 1)")

    @classmethod
    def from_json(cls, data: Any) -> Faults:
        """Build from a JSON object; raises ``ValueError`` naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r} (known: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if value is None and name in {"rate_limit", "seed"}:
                kwargs[name] = None
            elif name == "race_412":
                if not isinstance(value, bool):
                    raise ValueError("race_412 must be true or false")
                kwargs[name] = value
            elif name == "fail_write_numbers":
                if not isinstance(value, list) or not all(
                    isinstance(n, int) and not isinstance(n, bool) for n in value
                ):
                    raise ValueError("fail_write_numbers must be a list of integers")
                kwargs[name] = tuple(value)
            elif name in {"latency_ms", "seed"}:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"{name} must be an integer")
                kwargs[name] = value
            else:
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"{name} must be a number")
                kwargs[name] = float(value)
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fail_write_numbers"] = list(self.fail_write_numbers)
        return data


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one rate-limit check; the numbers go into the ``X-RateLimit-*`` headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int


class FaultState:
    """Mutable fault bookkeeping of one running portal (one caller at a time: no locking)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self._buckets: dict[str, _Bucket] = {}
        self._writes: dict[str, int] = {}
        self._race_pending = faults.race_412

    def replace(self, faults: Faults) -> None:
        """New faults: reseed, reset the write counters and the buckets."""
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self._buckets.clear()
        self._writes.clear()
        self._race_pending = faults.race_412

    def rate(self, key: str, now: float) -> RateDecision:
        limit = self.faults.rate_limit or DEFAULT_RATE_LIMIT
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=limit, stamp=now)
        bucket.tokens = min(limit, bucket.tokens + (now - bucket.stamp) * limit)
        bucket.stamp = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - bucket.tokens) / limit))
        reset = math.ceil((limit - bucket.tokens) / limit) if bucket.tokens < limit else 0
        return RateDecision(
            allowed=allowed,
            limit=max(1, math.floor(limit)),
            remaining=max(0, math.floor(bucket.tokens)),
            reset=reset,
            retry_after=retry_after,
        )

    def should_drop(self) -> bool:
        return self.faults.drop_rate > 0 and self.rng.random() < self.faults.drop_rate

    def should_error(self) -> bool:
        return self.faults.error_rate > 0 and self.rng.random() < self.faults.error_rate

    def count_write(self, tenant: str) -> int:
        """Count one write request of ``tenant``; returns its 1-based index."""
        number = self._writes.get(tenant, 0) + 1
        self._writes[tenant] = number
        return number

    def take_race(self) -> bool:
        if self._race_pending:
            self._race_pending = False
            return True
        return False
