"""Helpers shared by the test modules (imported as ``tests.helpers``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import reconcile
from reconciler.api import ApiSession
from reconciler.apply import ApplyResult
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.model import DesiredState, Diagnostic, Secret, Target
from reconciler.plan import Plan
from reconciler.reconcile import PortalRun


def embedded_session(**options: Any) -> ApiSession:
    """An ``ApiSession`` wired like the CLI's: it can reach the embedded sandbox."""
    from reconciler.cli.wiring import api_session

    return api_session(**options)


# --- the one-portal and fleet calls of 0.1.0, as thin layers over ``reconciler.reconcile`` -----
# The tests written against them keep their assertions; what runs is the one orchestrator.


async def plan_spec(
    desired: DesiredState,
    target: Target,
    *,
    diagnostics: Sequence[Diagnostic] = (),
    session: ApiSession | None = None,
) -> PortalRun:
    """Plan one portal (a run with ``plan`` and ``live``)."""
    run = PortalRun(desired.spec_path, target, desired, diagnostics=tuple(diagnostics))
    if session is not None:
        return await reconcile.plan_one(run, target, desired, session)
    async with embedded_session() as api:
        return await reconcile.plan_one(run, target, desired, api)


async def apply(plan: Plan, target: Target, **options: Any) -> ApplyResult:
    """Apply one plan through a fresh session (``reconciler.apply.apply_plan``)."""
    from reconciler.apply import apply_plan

    session = options.pop("session", None)
    if session is not None:
        return await apply_plan(plan, session.client(target), **options)
    async with embedded_session() as api:
        return await apply_plan(plan, api.client(target), **options)


def load(spec: Path) -> tuple[DesiredState, list[Diagnostic]]:
    return reconcile.load(spec)


def expand_specs(args: Sequence[str]) -> list[Path]:
    return list(reconcile.expand_sources(args).paths)


@dataclass
class Outcome:
    spec: Path
    value: Any = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FleetResult:
    outcomes: list[Outcome] = field(default_factory=list)
    runs: list[PortalRun] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def exit_code(self, *, changed: Callable[[Any], bool] | None = None) -> int:
        code = reconcile.exit_code(self.runs)
        if code or changed is None:
            return code
        return ExitCode.CHANGES if any(changed(o.value) for o in self.outcomes if o.ok) else code


async def run_fleet(
    specs: Sequence[Path], job: Callable[[Path], Awaitable[Any]], *, parallelism: int = 8
) -> FleetResult:
    """``job(spec)`` per spec through ``reconcile.for_each`` (bounds, isolation, order)."""
    values: dict[Path, Any] = {}

    async def one(run: PortalRun) -> PortalRun:
        values[run.source] = await job(run.source)
        return run

    runs = await reconcile.for_each(
        [PortalRun(s) for s in specs], one, parallelism=parallelism, on_done=None
    )
    outcomes = [Outcome(r.source, values.get(r.source), r.error) for r in runs]
    return FleetResult(outcomes, runs)


def FleetEntry(
    spec: str,
    target: str | None,
    plan: Plan | None = None,
    error: ReconcilerError | None = None,
) -> PortalRun:
    return PortalRun(
        Path(spec),
        Target(target, Secret("")) if target else None,
        plan=plan,
        error=error,
    )
