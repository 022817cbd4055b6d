"""The core functions behind ``plan``, ``apply``, ``drift`` and ``export``.

The CLI parses flags, calls these, renders and maps results to exit codes; everything that
talks to the portal runs here, inside one ``ApiSession`` per call. Each function handles ONE
portal, so a fleet runner can call it once per spec.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import UsageError
from reconciler.logs import get_logger
from reconciler.model import Diagnostic, LiveState, Target, TargetSpec

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.apply import ApplyResult, WriteStep
    from reconciler.model import DesiredState
    from reconciler.plan import Plan

log = get_logger(__name__)


@dataclass
class Planned:
    """A plan and what it was made from (the live state is reused by apply SPEC)."""

    plan: Plan
    live: LiveState
    target: Target
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class Connection:
    """How to reach the portal: flags and environment (never the key itself)."""

    api_url: str | None = None
    insecure: bool = False
    env: Mapping[str, str] | None = None

    def resolve(self, spec_target: TargetSpec | None = None) -> Target:
        """The target: --api-url > the spec's target > PORTAL_API_URL > embedded sandbox."""
        from reconciler.targets import resolve_target

        return resolve_target(
            spec_target=spec_target,
            api_url=self.api_url,
            insecure=self.insecure,
            env=dict(os.environ) if self.env is None else self.env,
        )


def load(spec: Path) -> tuple[DesiredState, list[Diagnostic]]:
    """Load, validate and lint ``spec`` (SpecError, exit 3, on any error)."""
    from reconciler.spec import load_spec

    return load_spec(spec)


async def plan_spec(
    desired: DesiredState,
    target: Target,
    *,
    diagnostics: list[Diagnostic] | None = None,
    session: ApiSession | None = None,
) -> Planned:
    """Read the portal (GETs only) and compare it with ``desired``.

    ``session``: share one ``ApiSession`` (connection pools) across many portals, e.g. a
    fleet run; by default a session is opened and closed for this call.
    """
    from reconciler.plan import compute_plan

    async with _session(session) as api:
        live = await api.client(target).read_state()
    plan = compute_plan(desired, live, target=target.describe(), target_url=target.url)
    log.info("plan.computed", changes=len(plan.changes), spec=plan.spec, target=plan.target)
    return Planned(plan, live, target, list(diagnostics or []))


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


async def apply(
    plan: Plan,
    target: Target,
    *,
    allow_disruptive: bool = False,
    live: LiveState | None = None,
    on_write: Callable[[WriteStep], None] | None = None,
    session: ApiSession | None = None,
) -> ApplyResult:
    """Apply ``plan`` to ``target`` (see ``reconciler.apply.apply_plan`` for the rules)."""
    from reconciler.apply import apply_plan

    async with _session(session) as api:
        return await apply_plan(
            plan,
            api.client(target),
            allow_disruptive=allow_disruptive,
            live=live,
            on_write=on_write,
        )


async def export(
    target: Target, out_dir: Path, *, force: bool = False, session: ApiSession | None = None
) -> list[Path]:
    """Write the live portal as ``out_dir/portal.yaml`` (+ templates, logo); return the files."""
    from reconciler.export import export_portal

    async with _session(session) as api:
        return await export_portal(api.client(target), out_dir, force=force)


@asynccontextmanager
async def _session(shared: ApiSession | None) -> AsyncIterator[ApiSession]:
    """The caller's session (left open), or a new one closed on exit."""
    if shared is not None:
        yield shared
        return
    from reconciler.api import ApiSession

    async with ApiSession() as session:
        yield session


# --- plan files -------------------------------------------------------------------------------


def save_plan(plan: Plan, path: Path) -> None:
    """Write the plan file (JSON of ``Plan.to_dict()``), atomically."""
    import json
    import os

    text = json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the plan file: {exc.strerror}") from exc


def load_plan(path: Path) -> Plan:
    """Read and check a plan file written by ``save_plan``."""
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the plan file: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a portalctl plan file (invalid JSON: {exc})") from exc
    from reconciler.plan import Plan

    return Plan.from_dict(data, source=str(path))


def looks_like_plan_file(path: Path) -> bool:
    """True when ``path`` holds a JSON plan (as opposed to a portal.yaml spec)."""
    import json

    try:
        head = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not head.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(head)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and "format_version" in data and "desired" in data
