"""The one orchestrator: sources -> plan -> refuse -> apply -> exit code, over N >= 1 portals.

One portal is a fleet of one. Whatever the user typed (a file, several, a folder, a glob,
saved plans), ``expand_sources`` turns it into a list of paths, ``plan_runs`` into one
``PortalRun`` each (spec loaded and target resolved by ``prepare_one``, portal read, plan),
``apply_runs`` applies the ones with changes, and ``exit_code`` says how the whole run
ended. For one portal the CLI prepares the run first (``prepare_runs``) to know its
target: the embedded sandbox means the inline runtime, with no event loop
(``reconciler.api.runtime``); a fleet loads each spec inside its portal's job instead, so
loading overlaps the other portals' network waits. Every refusal is decided here, once:

- a disruptive change without ``allow_disruptive``: ``refuse_disruptive`` (apply.py, also
  re-checked by ``apply_plan`` itself);
- two runs writing one portal: ``check_distinct_portals``;
- a saved plan for another target: ``check_plan_target``;
- a stale plan (an ETag or a file hash moved): ``apply.check_etags`` / ``apply.check_files``;
- a saved plan whose desired state or files would not pass ``validate``: ``load_saved_plan``;
- a base found in a fleet folder, planned as if it were a portal: ``refuse_bases``.

The CLI hands in the ``ApiSession`` (it alone knows how to reach the embedded sandbox) and a
``on_done`` callback for progress; nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reconciler.errors import ExitCode, InternalError, ReconcilerError, UsageError
from reconciler.logs import get_logger
from reconciler.model import Diagnostic, Secret, Target, TargetSpec
from reconciler.sources import Shard, Sources, expand_sources, shard_of

__all__ = [
    "Connection",
    "PortalRun",
    "Shard",
    "Sources",
    "apply_runs",
    "exit_code",
    "expand_sources",
    "plan_runs",
    "prepare_one",
    "prepare_runs",
    "refuse",
    "runtime_of",
    "shard_of",
]

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.api.runtime import Runtime
    from reconciler.apply import ApplyResult, WriteStep
    from reconciler.model import DesiredState, LiveState
    from reconciler.plan import Plan

log = get_logger(__name__)

T = TypeVar("T")


# --- the record of one portal's run --------------------------------------------------------------


@dataclass(frozen=True)
class PortalRun:
    """Everything one portal's run produced, in the order it is learnt.

    ``source`` is the spec or saved plan it came from; ``target`` is None while unresolved
    (e.g. an invalid spec); ``live`` is None for a saved plan (apply re-reads it); ``error``
    is an expected failure (``ReconcilerError``) or a bug met on this portal only
    (``InternalError``); ``applied`` is set once apply wrote and verified.
    """

    source: Path
    target: Target | None = None
    desired: DesiredState | None = None
    live: LiveState | None = None
    plan: Plan | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    error: ReconcilerError | InternalError | None = None
    applied: ApplyResult | None = None

    @property
    def state(self) -> str:
        """``failed``, ``applied`` (apply wrote changes), ``changes`` or ``in-sync``."""
        if self.error is not None:
            return "failed"
        if self.plan is not None and self.plan.has_changes:
            return "applied" if self.applied is not None else "changes"
        return "in-sync"

    @property
    def has_changes(self) -> bool:
        return self.plan is not None and self.plan.has_changes

    def failed(self, error: ReconcilerError | InternalError) -> PortalRun:
        return replace(self, error=error)


# --- where the portals are -----------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """How to reach the portal: flags and environment (never the key itself)."""

    api_url: str | None = None
    insecure: bool = False
    env: Mapping[str, str] | None = None
    #: False for commands that must not silently use the embedded sandbox in CI
    #: (apply, drift, export): ``targets.refuse_implicit_sandbox_in_ci``.
    implicit_sandbox_in_ci: bool = True

    def resolve(self, spec_target: TargetSpec | None = None) -> Target:
        """The target: --api-url > the spec's target > PORTAL_API_URL > embedded sandbox."""
        from reconciler.targets import refuse_implicit_sandbox_in_ci, resolve_target

        # os.environ itself, not a copy: a fleet resolves once per portal, and copying an
        # environment holding one key per portal made resolving quadratic.
        env = os.environ if self.env is None else self.env
        target = resolve_target(
            spec_target=spec_target, api_url=self.api_url, insecure=self.insecure, env=env
        )
        if not self.implicit_sandbox_in_ci:
            refuse_implicit_sandbox_in_ci(target, env)
        return target


# --- running many portals at once ----------------------------------------------------------------


async def for_each(
    runs: Sequence[PortalRun],
    job: Callable[[PortalRun], Awaitable[PortalRun]],
    *,
    parallelism: int,
    on_done: Callable[[PortalRun], None] | None,
    runtime: Runtime | None = None,
) -> list[PortalRun]:
    """``job(run)`` for every run, at most ``parallelism`` at once, results in input order.

    ``job`` raises ReconcilerError for expected failures; anything else is a bug met on that
    portal only: it becomes the run's ``InternalError`` (traceback in the debug log), so one
    bad spec or one unexpected answer never stops the other portals. ``runtime``: asyncio
    (default) or inline (one portal after the other; ``reconciler.api.runtime``).
    """
    if parallelism < 1:
        raise UsageError(f"--parallelism must be at least 1, not {parallelism}")
    if runtime is None:
        from reconciler.api.runtime import ASYNCIO

        runtime = ASYNCIO
    results: list[PortalRun] = list(runs)

    async def one(index: int) -> None:
        run = results[index]
        try:
            results[index] = await job(run)
        except ReconcilerError as err:
            results[index] = run.failed(err)
        except Exception as exc:
            results[index] = _bug(run, exc)
        if on_done is not None:
            on_done(results[index])

    await runtime.each(len(results), one, parallelism=parallelism)
    return results


def _bug(run: PortalRun, exc: Exception) -> PortalRun:
    """``run`` failed by a bug met on this portal only (traceback in the debug log)."""
    import traceback

    log.debug(
        "fleet.internal_error",
        spec=str(run.source),
        traceback="".join(traceback.format_exception(exc)),
    )
    return run.failed(InternalError(exc))


# --- plan ----------------------------------------------------------------------------------------


def load(spec: Path) -> tuple[DesiredState, list[Diagnostic]]:
    """Load, validate and lint ``spec`` (SpecError, exit 3, on any error)."""
    from reconciler.spec import load_spec

    return load_spec(spec)


def prepare_one(path: Path, conn: Connection, *, saved: bool) -> PortalRun:
    """One source before its portal is read: the spec loaded, validated and linted and its
    target resolved, or (``saved``) the saved plan loaded and checked against the current
    target. A failure is the run's ``error``."""
    run = PortalRun(source=path)
    try:
        if saved:
            return load_saved_plan(path, conn)
        desired, diagnostics = load(path)
        run = replace(run, desired=desired, diagnostics=tuple(diagnostics))
        return replace(run, target=conn.resolve(desired.target))
    except ReconcilerError as err:
        return run.failed(err)
    except Exception as exc:
        return _bug(run, exc)


def prepare_runs(sources: Sources, conn: Connection) -> list[PortalRun]:
    """``prepare_one`` for every source: every target known before the first read, so the
    caller can pick the runtime (``runtime_of``)."""
    return [prepare_one(path, conn, saved=sources.saved_plans) for path in sources.paths]


def runtime_of(prepared: Sequence[PortalRun] | None) -> Runtime:
    """Inline when every portal to be read is the embedded sandbox, else asyncio (also when
    the runs are not prepared, so their targets are not known yet)."""
    from reconciler.api.runtime import ASYNCIO, runtime_for

    if prepared is None:
        return ASYNCIO
    return runtime_for([run.target.url for run in prepared if run.target is not None])


async def plan_runs(
    sources: Sources,
    conn: Connection,
    api: ApiSession,
    *,
    parallelism: int = 8,
    on_done: Callable[[PortalRun], None] | None = None,
    prepared: Sequence[PortalRun] | None = None,
) -> list[PortalRun]:
    """One run per source: loaded (``prepare_one``), its portal read (GETs only) and
    planned. A saved plan is only loaded and checked (apply re-reads the portal). A failure
    is that run's ``error``; the others go on.

    ``prepared``: the runs of ``prepare_runs``, when the caller loaded every spec first to
    pick the runtime; without it each spec is loaded inside its portal's job, overlapping
    the other portals' network waits (a fleet against a real API)."""

    async def job(run: PortalRun) -> PortalRun:
        if prepared is None:
            run = prepare_one(run.source, conn, saved=sources.saved_plans)
        if run.error is not None or sources.saved_plans:
            return run
        assert run.target is not None and run.desired is not None
        try:
            return await plan_one(run, run.target, run.desired, api)
        except ReconcilerError as err:
            return run.failed(err)  # with its spec and target, for the report

    runs = list(prepared) if prepared is not None else [PortalRun(p) for p in sources.paths]
    planned = await for_each(
        runs, job, parallelism=parallelism, on_done=on_done, runtime=api.runtime
    )
    return refuse_bases(planned, sources)


def refuse_bases(runs: Sequence[PortalRun], sources: Sources) -> list[PortalRun]:
    """A spec found by expanding a folder or a glob that another spec of the run
    ``extends`` is a base, not a portal: it fails (exit 3) instead of being planned as one.
    Bases live outside the fleet folder or in a subfolder (folders are not searched
    recursively); a spec named on its own is always a portal, base or not."""
    extended: dict[Path, Path] = {}
    for run in runs:
        for base in run.desired.sources[1:] if run.desired is not None else ():
            extended.setdefault(base.resolve(), run.source)
    out: list[PortalRun] = []
    for run in runs:
        user = extended.get(run.source.resolve())
        if user is not None and run.source in sources.found:
            run = replace(run, plan=None, live=None).failed(
                UsageError(
                    f"{run.source} is a base ({user} extends it), not a portal of this folder",
                    hint="keep bases outside the fleet folder or in a subfolder of it (e.g. "
                    f"{run.source.parent / 'bases'}/), or name the portals one by one",
                )
            )
        out.append(run)
    return out


async def plan_one(
    run: PortalRun, target: Target, desired: DesiredState, api: ApiSession
) -> PortalRun:
    """``run`` with the live state read from ``target`` and its plan against ``desired``."""
    from reconciler.plan import compute_plan

    live = await api.client(target).read_state()
    plan = compute_plan(
        desired,
        live,
        target=target.describe(),
        target_url=target.url,
        diagnostics=run.diagnostics,
    )
    log.info("plan.computed", changes=len(plan.changes), spec=plan.spec, target=plan.target)
    return replace(run, live=live, plan=plan)


def saved_runs(sources: Sources) -> list[PortalRun]:
    """Saved plans as runs, for rendering only (``show``): no target is resolved and the
    portal is not read."""
    from reconciler.planfile import load_plan

    if not sources.saved_plans:
        raise UsageError(
            f"{sources.paths[0]}: not a plan file",
            hint="show reads the files `portalctl plan --out` wrote",
        )
    runs = []
    for path in sources.paths:
        plan = load_plan(path)
        runs.append(
            PortalRun(
                Path(plan.spec), desired=plan.desired, plan=plan, diagnostics=plan.diagnostics
            )
        )
    return runs


def load_saved_plan(path: Path, conn: Connection) -> PortalRun:
    """A saved plan file as a run, with the portal it must be applied to (UsageError when
    the current target is another portal than the one it was made for)."""
    from reconciler.apply import check_present
    from reconciler.planfile import load_plan
    from reconciler.spec.saved import check_saved_state

    plan = load_plan(path)
    run = PortalRun(source=path, desired=plan.desired, plan=plan)
    try:
        # The same rules as validate: a plan file is input too (its files may have been
        # swapped for a FIFO or a link to /dev/zero since it was made).
        check_present(plan)
        diagnostics = check_saved_state(plan.desired, plan_file=str(path))
        run = replace(run, diagnostics=tuple(diagnostics), target=conn.resolve(plan.desired.target))
        assert run.target is not None
        check_plan_target(plan, run.target)
    except ReconcilerError as err:
        return run.failed(err)
    return run


def check_plan_target(plan: Plan, target: Target) -> None:
    """UsageError when a saved plan was made for another portal than ``target``."""
    same = (
        plan.target_url is None and target.url is None and plan.target == target.describe()
    ) or (
        plan.target_url is not None
        and target.url is not None
        and plan.target_url.rstrip("/") == target.url.rstrip("/")
    )
    if not same:
        raise UsageError(
            f"the plan was made for {plan.target} but the target is {target.describe()}",
            hint="apply it with the same PORTAL_API_URL / --api-url it was planned with, "
            "or make a new plan for this target",
        )


# --- refusals ------------------------------------------------------------------------------------


def refuse(runs: Sequence[PortalRun], *, allow_disruptive: bool) -> list[PortalRun]:
    """Runs with changes that may be applied; a disruptive one (without ``allow_disruptive``)
    becomes a failed run. Two runs that would write one portal refuse the whole apply."""
    from reconciler.apply import refuse_disruptive

    out: list[PortalRun] = []
    for run in runs:
        if run.error is None and run.plan is not None and not allow_disruptive:
            try:
                refuse_disruptive(run.plan)
            except ReconcilerError as err:
                run = run.failed(err)
        out.append(run)
    check_distinct_portals([r for r in out if r.error is None and r.has_changes])
    return out


def portal_identity(target: Target) -> tuple[str, Secret]:
    """What makes two targets the same portal: where (URL or sandbox file) and the key."""
    where = target.url or f"sandbox:{Path(target.sandbox_db or '').resolve()}"
    return (where.rstrip("/"), target.api_key)


def check_distinct_portals(runs: Sequence[PortalRun]) -> None:
    """UsageError when two runs would write to the same portal (same URL or sandbox file
    and same key): their writes would fight, and the second would undo the first."""
    owner: dict[tuple[str, Secret], Path] = {}
    for run in runs:
        if run.target is None:
            continue
        key = portal_identity(run.target)
        other = owner.get(key)
        if other is not None and other != run.source:
            raise UsageError(
                f"{other} and {run.source} both target the same portal "
                f"({run.target.describe()}, same API key); applying both would make their "
                "writes fight",
                hint="give each spec its own target.api_key_env, or apply them one at a time",
            )
        owner[key] = run.source


# --- apply ---------------------------------------------------------------------------------------


async def apply_runs(
    runs: Sequence[PortalRun],
    api: ApiSession,
    *,
    allow_disruptive: bool = False,
    parallelism: int = 8,
    on_write: Callable[[PortalRun, WriteStep], None] | None = None,
    on_done: Callable[[PortalRun], None] | None = None,
) -> list[PortalRun]:
    """Apply every run that has changes and no error; the others come back as they were.

    Each portal gets ordered conditional writes then a verification read
    (``apply.apply_plan``); a failure stops that portal only. ``on_write(run, step)`` is
    called after every successful write.
    """
    from reconciler.apply import apply_plan

    async def job(run: PortalRun) -> PortalRun:
        if run.error is not None or run.plan is None or run.target is None:
            return run
        if not run.has_changes and run.live is not None:
            return run
        plan, target = run.plan, run.target

        def wrote(step: WriteStep) -> None:
            if on_write is not None:
                on_write(run, step)

        result = await apply_plan(
            plan,
            api.client(target),
            allow_disruptive=allow_disruptive,
            live=run.live,
            on_write=wrote,
        )
        return replace(run, applied=result)

    return await for_each(runs, job, parallelism=parallelism, on_done=on_done, runtime=api.runtime)


# --- the outcome ---------------------------------------------------------------------------------


def exit_code(runs: Sequence[PortalRun], *, changes: bool = False) -> int:
    """The worst failure's exit code, else 2 when ``changes`` and a portal has changes not
    applied, else 0."""
    codes = [run.error.exit_code for run in runs if run.error is not None]
    if codes:
        return max(codes)
    if changes and any(run.state == "changes" for run in runs):
        return ExitCode.CHANGES
    return ExitCode.OK


async def export(api: ApiSession, target: Target, out_dir: Path, *, force: bool) -> list[Path]:
    """Write the live portal as ``out_dir/portal.yaml`` (+ templates, logo); return the files."""
    from reconciler.export import export_portal

    return await export_portal(api.client(target), out_dir, force=force)
