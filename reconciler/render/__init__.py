"""Plan renderers: pure functions ``Plan -> str``, interchangeable (octoDNS-style).

Each module exposes ``render(plan, **options) -> str``; ``render_plan`` picks one by name.
Renderers never write anywhere: only the CLI writes to stdout or files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import Plan

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
