"""Plan renderers: pure functions ``Plan -> str``, interchangeable (octoDNS-style).

Each module exposes ``render(plan, **options) -> str``; ``render_plan`` picks one by name.
Renderers never write anywhere: only the CLI writes to stdout or files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import Plan

FORMATS: tuple[str, ...] = ("text", "json", "markdown")


def plural(count: int, word: str) -> str:
    """``1 portal``, ``2 portals``, ``1,000 portals``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


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
