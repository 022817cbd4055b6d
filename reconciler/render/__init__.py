"""Renderers: pure functions of portal runs (or one plan) to text, JSON or Markdown.

``render_runs`` is what the commands print: one portal (whatever the user typed) prints its
plan exactly as the one-portal renderers (``text``, ``markdown``) make it; several print each
under a header plus one summary (``fleet``). JSON is always one versioned document holding a
list of portals. Renderers never write anywhere: only the CLI writes to stdout or files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.textsafe import plural

__all__ = ["FORMATS", "plural", "render_plan", "render_runs"]

if TYPE_CHECKING:
    from reconciler.errors import PartialApplyError
    from reconciler.plan import Plan
    from reconciler.reconcile import PortalRun

FORMATS: tuple[str, ...] = ("text", "json", "markdown")


def render_plan(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """Render ``plan`` as ``text`` (optionally ANSI-coloured), ``json`` or ``markdown``."""
    if fmt == "text":
        from reconciler.render import text

        return text.render(plan, color=color)
    if fmt == "json":
        from reconciler.render import json

        return json.render(plan)
    if fmt == "markdown":
        from reconciler.render import markdown

        return markdown.render(plan)
    raise ValueError(f"unknown plan format {fmt!r}")


def render_runs(
    runs: Sequence[PortalRun],
    fmt: str,
    *,
    color: bool = False,
    apply: bool = False,
    drift: bool = False,
    preview_link: str | None = None,
) -> str:
    """What ``plan``, ``drift``, ``show`` and ``apply`` print on stdout for ``runs``."""
    from reconciler.render import fleet

    if fmt == "json":
        import json

        from reconciler.textsafe import json_text

        return json_text(json.dumps(fleet.to_dict(runs), indent=2, ensure_ascii=False)) + "\n"
    if len(runs) == 1 and runs[0].plan is not None:
        if fmt == "markdown":
            from reconciler.render import markdown

            return markdown.render(runs[0].plan, drift=drift, preview_link=preview_link)
        return render_plan(runs[0].plan, fmt, color=color)
    if len(runs) == 1:
        return ""  # the one portal's error is reported on stderr, as for any command
    if fmt == "markdown":
        return fleet.render_markdown(runs, apply=apply, drift=drift, preview_link=preview_link)
    return fleet.render_text(runs, color=color)


def target_text(run: PortalRun) -> str | None:
    """Where a run's portal is, as announced (from the plan when no target was resolved)."""
    if run.target is not None:
        return run.target.describe()
    return run.plan.target if run.plan is not None else None


def partial_lines(err: PartialApplyError, where: str = "") -> list[str]:
    """What an apply stopped part way did and did not write (stderr lines)."""
    lines = [f"portalctl: {where}applied before the failure:"]
    lines += [f"  ✓ {title}" for title in err.applied]
    lines.append(f"portalctl: {where}NOT applied:")
    lines += [f"  ✗ {title}" for title in err.not_applied]
    return lines


#: Shown after an apply that changed what customers see of the brand (help article,
#: troubleshooting Problem 3: "brand colours do not update" is the browser cache).
BRANDING_CACHE_NOTE = (
    "portalctl: note: the portal's branding changed; a browser that has the portal open may "
    "keep the old colours or logo until it is force-refreshed (Ctrl+F5, Cmd+Shift+R)"
)


def after_apply_notes(plans: Iterable[Plan]) -> list[str]:
    """Notes owed to the reader once ``plans`` were applied (one line each, for stderr)."""
    if any(
        change.resource == "settings/logo" or (change.field or "").startswith("branding.")
        for plan in plans
        for change in plan.changes
    ):
        return [BRANDING_CACHE_NOTE]
    return []
