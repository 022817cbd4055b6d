"""What a running sandbox keeps (``SandboxPortal.state``; ``app.state.sandbox`` over HTTP),
shared by the portal and its handlers.

Its own module so that ``handlers`` and ``portal`` both import it and neither imports the
other inside a function (issue 10: no import circle).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox.faults import FaultState
from reconciler.sandbox.store import Store

KEY_RE = re.compile(r"^sk_(test|live)_[A-Za-z0-9_]{6,}$")
#: The request log keeps this many newest entries (a long demo must not grow without bound).
REQUEST_LOG_LIMIT = 100_000


def key_hash(key: str) -> str:
    """How a key is stored and logged: its sha256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class SandboxState:
    """Everything the running sandbox keeps; ``SandboxPortal.state``.

    ``admin_keys``: when not None, the ``/_sandbox/`` admin routes demand one of these keys
    (by hash). ``sandbox serve --public`` sets it to the keys given with ``--api-key``: not
    "any key" and not the public built-in key, since anyone who can reach the port could
    send those, and the admin routes rewrite faults for everyone and show every request.
    """

    store: Store
    faults: FaultState
    any_key: bool
    keys: dict[str, str]  # key hash -> mode (test | live)
    requests: list[dict[str, Any]] = field(default_factory=list)
    admin_keys: frozenset[str] | None = None

    def record(self, entry: dict[str, Any]) -> None:
        """Append to the request log, keeping the newest ``REQUEST_LOG_LIMIT`` entries."""
        self.requests.append(entry)
        if len(self.requests) > REQUEST_LOG_LIMIT:
            del self.requests[: len(self.requests) - REQUEST_LOG_LIMIT]

    def admin_allowed(self, key: str | None) -> bool:
        if self.admin_keys is None:
            return True
        return bool(key) and key_hash(str(key)) in self.admin_keys

    def tenant_for(self, key: str) -> tuple[str, str] | None:
        match = KEY_RE.match(key)
        if match is None:
            return None
        digest = key_hash(key)
        if self.any_key or digest in self.keys:
            return digest, match.group(1)
        return None
