"""``plan | drift | apply`` with several specs or plan files: the fleet side of
``reconciler.cli.reconcile`` (which keeps the one-portal behaviour and calls in here).

Output: each portal's plan on stdout under a header line naming its spec and target (or one
JSON / Markdown document); diagnostics, apply failures and the combined summary
(``portalctl: fleet: 50 portals: 44 in sync, 3 with changes, 3 failed`` and one line per
failure) on stderr. One exit code: the worst failure's, else 2 for changes when asked, else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.errors import (
    ExitCode,
    PartialApplyError,
    ReconcilerError,
    SpecError,
    UsageError,
)
from reconciler.render import plural

if TYPE_CHECKING:
    from reconciler.apply import ApplyResult, WriteStep
    from reconciler.fleet import FleetResult
    from reconciler.model import Diagnostic, Target
    from reconciler.reconcile import ApplyItem, Connection, Planned
    from reconciler.render.fleet import FleetEntry


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)


def _diagnostics(outcomes: FleetResult[Planned]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for outcome in outcomes.outcomes:
        if outcome.value is not None:
            out.extend(outcome.value.diagnostics)
        elif isinstance(outcome.error, SpecError):
            out.extend(outcome.error.diagnostics)
    return out


def _prepare_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out}: is a file, but several specs need a folder for their plan files",
            hint="name a folder (it is created if missing), e.g. --out plans/",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder: {exc.strerror}") from exc


def _remove_stale_plans(out: Path, written: set[Path]) -> None:
    """Delete every plan file in ``out`` this run did not write: the plan of a portal that
    failed, or of a spec since removed. `apply DIR` applies every plan file it finds, so
    an old one left there would be applied as if it were current."""
    from reconciler.reconcile import PLAN_SUFFIX

    for path in sorted(out.glob(f"*{PLAN_SUFFIX}")):
        if path in written or not path.is_file():
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(
                f"{path}: cannot remove this stale plan file: {exc.strerror}",
                hint="delete it by hand before running `portalctl apply` on the folder",
            ) from exc
        click.echo(f"portalctl: removed stale plan file {path}", err=True)


def _plan_entries(result: FleetResult[Planned], targets: dict[Path, Target]) -> list[FleetEntry]:
    from reconciler.render.fleet import FleetEntry

    entries: list[FleetEntry] = []
    for outcome in result.outcomes:
        target = targets.get(outcome.spec)
        entries.append(
            FleetEntry(
                spec=str(outcome.spec),
                target=target.describe() if target is not None else None,
                plan=outcome.value.plan if outcome.value is not None else None,
                error=outcome.error,
            )
        )
    return entries


def _plan_all(
    paths: list[Path], conn: Connection, parallelism: int
) -> tuple[FleetResult[Planned], list[FleetEntry]]:
    from reconciler.api import run_sync
    from reconciler.fleet import Progress
    from reconciler.reconcile import plan_fleet

    click.echo(
        f"portalctl: fleet: planning {plural(len(paths), 'portal')} (parallelism {parallelism})",
        err=True,
    )
    targets: dict[Path, Target] = {}
    progress = Progress(len(paths), label="planning")
    result = run_sync(
        plan_fleet(paths, conn, parallelism=parallelism, progress=progress, targets=targets)
    )
    for diag in _diagnostics(result):
        click.echo(str(diag), err=True)
    return result, _plan_entries(result, targets)


def plan_fleet_command(
    specs: tuple[str, ...],
    conn: Connection,
    *,
    fmt: str,
    out: Path | None,
    parallelism: int,
    changes_code: bool,
    color: bool,
    step_summary: Callable[[str], None],
) -> int:
    """``plan`` / ``drift`` of several portals; returns the exit code."""
    from reconciler.fleet import expand_specs
    from reconciler.reconcile import plan_file_names, save_plan
    from reconciler.render import fleet as render

    paths = expand_specs(specs)
    names: dict[Path, str] = {}
    if out is not None:
        names = plan_file_names(paths)  # refuses clashing names before anything is written
        _prepare_out_dir(out)
    result, entries = _plan_all(paths, conn, parallelism)
    if out is not None:
        written: set[Path] = set()
        for outcome in result.outcomes:
            if outcome.value is not None:
                path = out / names[outcome.spec]
                save_plan(outcome.value.plan, path)
                written.add(path)
        _remove_stale_plans(out, written)
        files = "plan file" if len(written) == 1 else "plan files"
        click.echo(f"portalctl: {len(written):,} {files} saved to {out}", err=True)
    if fmt == "json":
        click.echo(render.render_json(entries), nl=False)
    elif fmt == "markdown":
        click.echo(render.render_markdown(entries), nl=False)
    else:
        click.echo(render.render_text(entries, color=color), nl=False)
    step_summary(render.render_markdown(entries))
    _echo_lines(render.summary_lines(entries))
    return result.exit_code(changed=(lambda p: p.plan.has_changes) if changes_code else None)


def apply_fleet_command(
    sources: tuple[str, ...],
    conn: Connection,
    *,
    auto_approve: bool,
    allow_disruptive: bool,
    parallelism: int,
    confirm: Callable[[], None],
    color: bool = False,
    step_summary: Callable[[str], None] | None = None,
) -> int:
    """``apply`` of several specs or saved plans; returns the exit code.

    Specs: plan all, show all, refuse disruptive ones (unless allowed), ask one 'yes'
    (unless ``auto_approve``), then apply. Saved plans: no prompt (they were reviewed).
    """
    from reconciler.api import run_sync
    from reconciler.apply import refuse_disruptive
    from reconciler.reconcile import (
        ApplyItem,
        apply_fleet,
        check_distinct_portals,
        expand_apply_sources,
        load_saved_plan,
    )
    from reconciler.render import fleet as render
    from reconciler.render.fleet import FleetEntry

    files, saved_plans = expand_apply_sources(sources)
    entries: dict[Path, FleetEntry] = {}
    items: list[ApplyItem] = []
    if saved_plans:
        click.echo(f"portalctl: fleet: applying {len(files):,} saved plans", err=True)
        for path in files:
            try:
                item = load_saved_plan(path, conn)
            except ReconcilerError as err:
                entries[path] = FleetEntry(str(path), None, error=err)
                continue
            entries[path] = FleetEntry(str(path), item.target.describe(), plan=item.plan)
            items.append(item)
    else:
        result, planned_entries = _plan_all(files, conn, parallelism)
        for outcome, entry in zip(result.outcomes, planned_entries, strict=True):
            entries[outcome.spec] = entry
            planned = outcome.value
            if planned is None or not planned.plan.has_changes:
                continue
            if not allow_disruptive:
                try:
                    refuse_disruptive(planned.plan)
                except UsageError as err:
                    entries[outcome.spec] = FleetEntry(
                        entry.spec, entry.target, plan=planned.plan, error=err
                    )
                    continue
            items.append(ApplyItem(outcome.spec, planned.plan, planned.target, planned.live))
    click.echo(render.render_text(list(entries.values()), color=color), nl=False)
    check_distinct_portals(items)
    if items and not saved_plans and not auto_approve:
        click.echo(
            f"portalctl: fleet: {len(items):,} of {plural(len(files), 'portal')} "
            "have changes to apply"
        )
        confirm()

    def wrote(source: Path, step: WriteStep) -> None:
        names = ", ".join(c.field for c in step.changes if c.field)
        what = f" ({names})" if names else ""
        click.echo(f"{source}: {step.resource}: {step.action.value} done{what}")

    applied: FleetResult[ApplyResult] | None = None
    if items:
        applied = run_sync(
            apply_fleet(
                items, allow_disruptive=allow_disruptive, parallelism=parallelism, on_write=wrote
            )
        )
        for done in applied.outcomes:
            entry = entries[done.spec]
            if done.value is not None:
                line = done.value.summary_line()
                click.echo(f"{done.spec}: {line}")
                changed = entry.plan is not None and entry.plan.has_changes
                entries[done.spec] = FleetEntry(
                    entry.spec, entry.target, entry.plan, applied=line if changed else None
                )
            else:
                assert done.error is not None
                if isinstance(done.error, PartialApplyError):
                    _report_partial(done.spec, done.error)
                entries[done.spec] = FleetEntry(
                    entry.spec, entry.target, entry.plan, error=done.error
                )
    final = list(entries.values())
    if step_summary is not None:
        step_summary(render.render_markdown(final, apply=True))
    from reconciler.render import after_apply_notes

    # Notes first, so the fleet summary stays the last line of the run.
    _echo_lines(after_apply_notes(e.plan for e in final if e.applied and e.plan is not None))
    _echo_lines(render.summary_lines(final, apply=True))
    codes = [e.error.exit_code for e in final if e.error is not None]
    return max(codes) if codes else ExitCode.OK


def _report_partial(source: Path, err: PartialApplyError) -> None:
    click.echo(f"portalctl: {source}: applied before the failure:", err=True)
    for title in err.applied:
        click.echo(f"  ✓ {title}", err=True)
    click.echo(f"portalctl: {source}: NOT applied:", err=True)
    for title in err.not_applied:
        click.echo(f"  ✗ {title}", err=True)
