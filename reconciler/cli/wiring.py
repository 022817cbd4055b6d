"""The composition root's parts: the API session (with the embedded sandbox wired in as a
transport) and the progress bar. Only the CLI imports the sandbox, and only here."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.api.transports import SandboxTransport
    from reconciler.reconcile import PortalRun


def embedded_portal(db: Path) -> tuple[SandboxTransport, Callable[[], None]]:
    """The sandbox app on ``db``, served in-process: (transport, close)."""
    import sqlite3

    from reconciler.api.transports import SandboxTransport
    from reconciler.errors import UsageError
    from reconciler.sandbox import create_app

    try:
        app = create_app(db, any_key=True)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot open the embedded sandbox database {db}: {exc}",
            hint="run from a writable folder or set PORTAL_SANDBOX_DB; set PORTAL_API_URL to "
            "use a real portal",
        ) from exc
    return SandboxTransport(app=app), app.state.sandbox.store.close


def api_session(**options: Any) -> ApiSession:
    """An ``ApiSession`` that can also reach the embedded sandbox."""
    from reconciler.api import ApiSession

    return ApiSession(embedded=embedded_portal, **options)


class Progress:
    """A one-line progress bar on a terminal, fed by the core's ``on_done`` callback;
    silent for a single portal or when ``stream`` is not a tty."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = total > 1 and self.stream.isatty()
        self._last = 0.0

    def __call__(self, run: PortalRun) -> None:
        self.advance(failed=run.error is not None)

    def advance(self, *, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.05 or self.done == self.total):
            self._last = now
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "." * (width - filled)
            tail = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}{tail}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
