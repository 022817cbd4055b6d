"""The core functions behind ``plan``, ``apply``, ``drift`` and ``export``.

The CLI parses flags, calls these, renders and maps results to exit codes; everything that
talks to the portal runs here, inside one ``ApiSession`` per call. ``plan_spec``, ``apply``
and ``export`` handle ONE portal; ``plan_fleet`` and ``apply_fleet`` run them for many
portals at once (``reconciler.fleet``), sharing ONE ``ApiSession`` (one pool per API host).
"""

from __future__ import annotations

import glob
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import UsageError
from reconciler.logs import get_logger
from reconciler.model import Diagnostic, LiveState, Secret, Target, TargetSpec

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.apply import ApplyResult, WriteStep
    from reconciler.fleet import FleetResult, Progress
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
            # os.environ itself, not a copy: a fleet resolves once per portal, and copying
            # an environment holding one key per portal made resolving quadratic.
            env=os.environ if self.env is None else self.env,
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


# --- fleets: many portals in one run ----------------------------------------------------------

#: Suffix of the plan files ``plan SPEC... --out DIR`` writes (``<spec stem>.plan.json``).
PLAN_SUFFIX = ".plan.json"


def single_spec(args: Sequence[str]) -> Path | None:
    """The one spec named by ``args`` when it is a single plain path (not a directory or a
    pattern): the commands then keep their one-portal behaviour exactly. None otherwise."""
    if not args:
        return Path("portal.yaml")
    if len(args) != 1:
        return None
    path = Path(args[0])
    if path.is_dir() or (glob.has_magic(args[0]) and not path.exists()):
        return None
    return path


def expand_apply_sources(args: Sequence[str]) -> tuple[list[Path], bool]:
    """What ``apply`` was given: (files, True) for saved plans, (files, False) for specs.

    A directory holding ``*.plan.json`` files (as ``plan --out DIR`` writes) stands for
    those plans; any other argument is expanded like a spec (``fleet.expand_specs``). Plans
    and specs cannot be mixed in one run.
    """
    from reconciler.fleet import expand_specs

    files: list[Path] = []
    for arg in args:
        path = Path(arg)
        plans = sorted(path.glob(f"*{PLAN_SUFFIX}")) if path.is_dir() else []
        files.extend(p for p in plans if p.is_file())
        if not plans:
            files.extend(expand_specs([arg]))
    unique = list(dict.fromkeys(files))
    kinds = {looks_like_plan_file(p) for p in unique}
    if len(kinds) > 1:
        plans_given = [str(p) for p in unique if looks_like_plan_file(p)]
        raise UsageError(
            f"apply was given both plan files ({', '.join(plans_given[:3])}"
            f"{', ...' if len(plans_given) > 3 else ''}) and specs",
            hint="apply either saved plans (`portalctl apply plans/`) or specs, not both at once",
        )
    return unique, kinds == {True}


def plan_file_names(specs: Sequence[Path]) -> dict[Path, str]:
    """``<spec stem>.plan.json`` per spec; stems shared by several specs (``a/portal.yaml``,
    ``b/portal.yaml``, or ``x/A.yaml`` and ``y/a.yaml`` on a case-insensitive file system)
    are told apart by their folders (``a-portal.plan.json``).

    Every name is unique (compared case-insensitively, as some file systems do): when two
    specs would still share one (``a.yaml`` and ``a.yml``), UsageError (exit 3) names both,
    so no plan file silently overwrites another and no portal is left out of ``apply DIR``.
    """
    stems: dict[str, list[Path]] = {}
    for spec in specs:
        stems.setdefault(spec.stem.casefold(), []).append(spec)
    names: dict[Path, str] = {}
    for group in stems.values():
        if len(group) == 1:
            names[group[0]] = group[0].stem + PLAN_SUFFIX
            continue
        resolved = [p.resolve() for p in group]
        common = Path(os.path.commonpath([str(p.parent) for p in resolved]))
        for spec, full in zip(group, resolved, strict=True):
            rel = full.relative_to(common).with_suffix("")
            names[spec] = "-".join(rel.parts) + PLAN_SUFFIX
    owners: dict[str, Path] = {}
    for spec in specs:
        name = names[spec]
        first = owners.setdefault(name.casefold(), spec)
        if first != spec:
            raise UsageError(
                f"{first} and {spec} would both be saved as the plan file {name}, and one "
                "would overwrite the other",
                hint="rename one of the specs, or plan them with separate --out folders",
            )
    return names


async def plan_fleet(
    specs: Sequence[Path],
    conn: Connection,
    *,
    parallelism: int = 8,
    progress: Progress | None = None,
    targets: dict[Path, Target] | None = None,
) -> FleetResult[Planned]:
    """Load, resolve and plan every spec, at most ``parallelism`` at once, over ONE session.

    A portal's failure (invalid spec, missing key, API error) is its outcome's ``error``;
    the others go on. ``targets`` (if given) receives each spec's resolved target, so a
    failed portal can still be named with where it points.
    """
    from reconciler.api import ApiSession
    from reconciler.fleet import run_fleet

    seen = targets if targets is not None else {}
    async with ApiSession(parallelism=parallelism) as session:

        async def job(spec: Path) -> Planned:
            desired, diagnostics = load(spec)
            target = conn.resolve(desired.target)
            seen[spec] = target
            return await plan_spec(desired, target, diagnostics=diagnostics, session=session)

        return await run_fleet(specs, job, parallelism=parallelism, progress=progress)


@dataclass(frozen=True)
class ApplyItem:
    """One portal to apply in a fleet: ``live`` is the state its plan was just made from
    (apply SPEC), or None for a saved plan (re-read; every ETag must be unchanged)."""

    source: Path
    plan: Plan
    target: Target
    live: LiveState | None = None


def load_saved_plan(path: Path, conn: Connection) -> ApplyItem:
    """A saved plan file and the portal it must be applied to (UsageError when the
    current target is another portal than the one it was made for)."""
    the_plan = load_plan(path)
    target = conn.resolve(the_plan.desired.target)
    check_plan_target(the_plan, target)
    return ApplyItem(path, the_plan, target)


def check_distinct_portals(items: Sequence[ApplyItem]) -> None:
    """UsageError when two items would write to the same portal (same URL or sandbox file
    and same key): their writes would fight, and the second would undo the first."""
    owner: dict[tuple[str, Secret], Path] = {}
    for item in items:
        where = item.target.url or f"sandbox:{Path(item.target.sandbox_db or '').resolve()}"
        key = (where.rstrip("/"), item.target.api_key)
        other = owner.get(key)
        if other is not None and other != item.source:
            raise UsageError(
                f"{other} and {item.source} both target the same portal "
                f"({item.target.describe()}, same API key); applying both would make their "
                "writes fight",
                hint="give each spec its own target.api_key_env, or apply them one at a time",
            )
        owner[key] = item.source


async def apply_fleet(
    items: Sequence[ApplyItem],
    *,
    allow_disruptive: bool = False,
    parallelism: int = 8,
    progress: Progress | None = None,
    on_write: Callable[[Path, WriteStep], None] | None = None,
) -> FleetResult[ApplyResult]:
    """Apply every item's plan, at most ``parallelism`` at once, over ONE session.

    Each portal is applied exactly as ``apply`` does for one (ordered conditional writes,
    then a verification read); a failure stops that portal only. ``on_write(source, step)``
    is called after every successful write.
    """
    from reconciler.api import ApiSession
    from reconciler.fleet import run_fleet

    check_distinct_portals(items)
    by_source = {item.source: item for item in items}
    async with ApiSession(parallelism=parallelism) as session:

        async def job(source: Path) -> ApplyResult:
            item = by_source[source]

            def wrote(step: WriteStep) -> None:
                if on_write is not None:
                    on_write(source, step)

            return await apply(
                item.plan,
                item.target,
                allow_disruptive=allow_disruptive,
                live=item.live,
                on_write=wrote,
                session=session,
            )

        return await run_fleet(list(by_source), job, parallelism=parallelism, progress=progress)
