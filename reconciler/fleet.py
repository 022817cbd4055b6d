"""Run one async job per portal spec, concurrently, and combine the outcomes.

A fleet is any number of spec files (``portals/*.yaml``): each is planned or applied on its
own, with at most ``parallelism`` in flight. A failure in one portal never stops or corrupts
the others; the combined exit code is the worst failure's code, else 2 when any portal has
changes (and the caller asked for that), else 0.
"""

from __future__ import annotations

import glob
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TextIO, TypeVar

from reconciler.errors import ExitCode, InternalError, ReconcilerError, UsageError
from reconciler.logs import get_logger

R = TypeVar("R")

SPEC_SUFFIXES = (".yaml", ".yml")


def expand_specs(args: Sequence[str]) -> list[Path]:
    """Spec files named by ``args``: files as given, directories' ``*.yaml``/``*.yml``
    (sorted, not recursive), and glob patterns the shell left unexpanded. Duplicates are
    dropped, order is kept. Raises UsageError for a name that matches nothing."""
    out: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)

    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                raise UsageError(f"{arg}: no .yaml or .yml files in this directory")
            for p in found:
                add(p)
        elif path.exists():
            add(path)
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg))
            if not matches:
                raise UsageError(f"{arg}: no file matches this pattern")
            for m in matches:
                add(Path(m))
        else:
            raise UsageError(f"{arg}: no such file", hint="check the path to your portal.yaml")
    if not out:
        raise UsageError("no spec given", hint="name a portal.yaml, several, or a directory")
    return out


@dataclass
class Outcome(Generic[R]):
    """One portal's result: ``value`` on success, ``error`` on an expected failure."""

    spec: Path
    value: R | None = None
    error: ReconcilerError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FleetResult(Generic[R]):
    outcomes: list[Outcome[R]] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome[R]]:
        return [o for o in self.outcomes if not o.ok]

    def exit_code(self, *, changed: Callable[[R], bool] | None = None) -> int:
        failures = self.failures
        if failures:
            return max(o.error.exit_code for o in failures if o.error is not None)
        if changed is not None and any(
            o.value is not None and changed(o.value) for o in self.outcomes
        ):
            return ExitCode.CHANGES
        return ExitCode.OK


class Progress:
    """A one-line progress bar on a terminal; silent when ``stream`` is not a tty."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = total > 1 and self.stream.isatty()
        self._last = 0.0

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


async def run_fleet(
    specs: Sequence[Path],
    job: Callable[[Path], Awaitable[R]],
    *,
    parallelism: int = 8,
    progress: Progress | None = None,
) -> FleetResult[R]:
    """Run ``job(spec)`` for every spec with at most ``parallelism`` at once.

    ``job`` raises ReconcilerError for expected failures. Anything else is a bug: it becomes
    that portal's ``InternalError`` (exit 1, traceback in the debug log) so one bad spec or
    one unexpected answer never stops the other portals. Outcomes come back in the order of
    ``specs``.
    """
    if parallelism < 1:
        raise UsageError(f"--parallelism must be at least 1, not {parallelism}")
    import asyncio  # here, not at the top: validate uses expand_specs and no event loop

    gate = asyncio.Semaphore(parallelism)
    outcomes: list[Outcome[R]] = [Outcome(spec=s) for s in specs]

    async def one(outcome: Outcome[R]) -> None:
        async with gate:
            try:
                outcome.value = await job(outcome.spec)
            except ReconcilerError as err:
                outcome.error = err
            except Exception as exc:
                outcome.error = InternalError(exc)
                get_logger(__name__).debug(
                    "fleet.internal_error",
                    spec=str(outcome.spec),
                    traceback="".join(traceback.format_exception(exc)),
                )
            if progress is not None:
                progress.advance(failed=outcome.error is not None)

    async with asyncio.TaskGroup() as group:
        for outcome in outcomes:
            group.create_task(one(outcome))
    return FleetResult(outcomes)
