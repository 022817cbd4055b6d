"""The lines a command says around its plans: where each portal is, what the spec's lint
found, what apply wrote or could not write, and the notes owed after it. Pure functions of
portal runs, like every renderer; the CLI writes them (stdout for results, stderr for the
rest) and every value a server or spec supplied is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.errors import PartialApplyError
from reconciler.render import after_apply_notes, partial_lines, render_runs
from reconciler.textsafe import safe_line

if TYPE_CHECKING:
    from reconciler.reconcile import PortalRun

#: GitHub's annotation for a plan made against the sandbox nobody chose.
IMPLICIT_SANDBOX_WARNING = (
    "::warning title=portalctl::PORTAL_API_URL is not set: this plan is against the embedded "
    "sandbox, not your portal"
)


def planned_lines(runs: Sequence[PortalRun], *, annotate: bool = False) -> list[str]:
    """stderr after planning: the target (one portal), a warning annotation for an implicit
    sandbox on GitHub Actions (``annotate``), and every diagnostic."""
    many = len(runs) != 1
    lines: list[str] = []
    for run in runs:
        if not many and run.target is not None:
            lines.append(safe_line(f"portalctl: target: {run.target.describe()}"))
        if annotate and run.target is not None and run.target.implicit:
            lines.append(IMPLICIT_SANDBOX_WARNING)
        failed = getattr(run.error, "diagnostics", ()) if many else ()
        lines += [safe_line(str(diag)) for diag in (*run.diagnostics, *failed)]
    return lines


def applied_lines(runs: Sequence[PortalRun]) -> tuple[list[str], list[str]]:
    """(stdout, stderr) after apply: each portal's result line, what a portal stopped part
    way did and did not write, its URL (seed, Step 4: to put behind a "Manage billing"
    button), and the notes owed (the browser cache after a branding change)."""
    many = len(runs) != 1
    out: list[str] = []
    err: list[str] = []
    for run in runs:
        where = f"{run.source}: " if many else ""
        if run.applied is not None and (run.has_changes or not many):
            out.append(f"{where}{run.applied.summary_line()}")
        if isinstance(run.error, PartialApplyError):
            err += partial_lines(run.error, where)
    applied = [r for r in runs if r.applied is not None]
    for run in applied:
        if run.applied is not None and run.applied.portal_url:
            where = f"{run.source}: " if many else ""
            err.append(safe_line(f"portalctl: {where}portal URL: {run.applied.portal_url}"))
    err += after_apply_notes(r.plan for r in applied if r.plan is not None)
    return out, err


def apply_summary(runs: Sequence[PortalRun], refused: Exception | None = None) -> str:
    """The markdown an apply leaves in ``$GITHUB_STEP_SUMMARY``: the plans, then how it
    ended (applied, stopped part way, or refused with nothing written)."""
    if len(runs) != 1:
        return render_runs(runs, "markdown", apply=True)
    run = runs[0]
    text = render_runs(runs, "markdown")
    if refused is not None:
        code = getattr(refused, "exit_code", 1)
        return text + f"\n**Apply refused (exit {code}), nothing was written:** {refused}\n"
    if isinstance(run.error, PartialApplyError):
        return text + f"\n**Apply stopped part way:** {run.error}\n"
    if run.applied is not None:
        return text + f"\n**{run.applied.summary_line()}**\n"
    return text
