"""The composition root's parts: the API session (with the embedded sandbox wired in as an
in-process wire) and the progress bar. Only the CLI imports the sandbox, and only here."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.api.runtime import Runtime
    from reconciler.reconcile import PortalRun
    from reconciler.sandbox.wire import InProcessWire

T = TypeVar("T")


def embedded_portal(db: Path, runtime: Runtime) -> tuple[InProcessWire, Callable[[], None]]:
    """The sandbox portal on ``db``, called in-process: (its wire, close)."""
    import sqlite3

    from reconciler.errors import UsageError
    from reconciler.sandbox.portal import open_portal
    from reconciler.sandbox.wire import InProcessWire

    try:
        portal = open_portal(db, any_key=True, sleep=runtime.sleep)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot open the embedded sandbox database {db}: {exc}",
            hint="run from a writable folder or set PORTAL_SANDBOX_DB; set PORTAL_API_URL to "
            "use a real portal",
        ) from exc
    return InProcessWire(portal), portal.close


def api_session(**options: Any) -> ApiSession:
    """An ``ApiSession`` that can also reach the embedded sandbox."""
    from reconciler.api import ApiSession

    return ApiSession(embedded=embedded_portal, **options)


def with_session(
    runtime: Runtime, body: Callable[[ApiSession], Awaitable[T]], *, parallelism: int = 8
) -> T:
    """``body(api)`` run to the end on ``runtime`` with a session that is closed after."""

    async def go() -> T:
        async with api_session(parallelism=parallelism, runtime=runtime) as api:
            return await body(api)

    return runtime.run(go())


class Progress:
    """A one-line progress bar on a terminal, fed by the core's ``on_done`` callback;
    silent for a single portal or when ``stream`` is not a tty."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None) -> None:
        self.total, self.done, self.failed, self.label = total, 0, 0, label
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
            filled = 30 * self.done // self.total
            bar = "#" * filled + "." * (30 - filled)
            tail = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}{tail}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
