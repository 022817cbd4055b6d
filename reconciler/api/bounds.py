"""Limits on what the client accepts from a server: size, time, JSON nesting.

The API is remote; a buggy, overloaded or hostile server must not make portalctl hang or
exhaust memory. Every answer is read as a stream and abandoned past ``max_bytes`` (a declared
``Content-Length`` over the cap is refused before reading a byte); every attempt, from sending
the request to the last byte of the answer, must finish within ``deadline`` seconds (httpx's
own timeout is per read, so a server trickling one byte every half second would never trip
it); and JSON nested deeper than ``max_depth`` is refused before ``json.loads`` sees it (the
decoder recurses, and a 100k-deep array would raise ``RecursionError``).

``PORTAL_API_DEADLINE`` (seconds) overrides the deadline, e.g. for a slow link or a test.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from reconciler.errors import UsageError

DEADLINE_ENV = "PORTAL_API_DEADLINE"


@dataclass(frozen=True)
class Bounds:
    """What one answer may cost. ``max_bytes`` counts the decoded body."""

    max_bytes: int = 2 * 1024 * 1024
    deadline: float = 30.0
    max_depth: int = 32

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Bounds:
        environ: Mapping[str, str] = os.environ if env is None else env
        raw = environ.get(DEADLINE_ENV, "").strip()
        if not raw:
            return cls()
        try:
            deadline = float(raw)
        except ValueError:
            deadline = -1.0
        if not 0 < deadline <= 3600:
            raise UsageError(
                f"{DEADLINE_ENV} must be a number of seconds between 0 and 3600, got {raw[:20]!r}",
                hint=f"unset {DEADLINE_ENV} to use the default of {cls.deadline:g} s",
            )
        return cls(deadline=deadline)


class TooDeep(ValueError):
    """The JSON text nests arrays/objects deeper than allowed."""


class NotJson(ValueError):
    """The body is not JSON text (or not UTF-8)."""


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str) -> int:
    """How deeply ``text`` (JSON) nests arrays and objects, ignoring brackets in strings.

    Runs in linear time without recursion; malformed text gives some number, and
    ``json.loads`` reports the real syntax error afterwards."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(_DEPTH_STEP[ord(c)] for c in brackets))


def load_json(data: bytes, *, max_depth: int) -> Any:
    """Parse a JSON body safely: UTF-8 only, nesting bounded; raises ``TooDeep``/``NotJson``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotJson(f"the body is not UTF-8 text (byte {exc.start})") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise TooDeep(f"its JSON nests {depth} levels deep (the limit is {max_depth})")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise NotJson(f"the body is not valid JSON ({reason})") from None


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them by default.
    raise ValueError(f"{name} is not a JSON value")
