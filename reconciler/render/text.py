"""Terraform-like text plan for terminals and CI logs.

::

      + upload settings/logo  # examples/portal.yaml:9:11
          file: assets/logo.png (image/png, 2,345 bytes, sha256 3f2a9c1e04b7)
      ~ update settings
          branding.primary_color: #1662dd -> #0a4fb8  # examples/portal.yaml:8:20
        ! enabled: true -> false
            disruptive: disables the portal: ...

    Plan: 3 to change, 1 to upload, 0 to reset.

ANSI colour only when ``color=True`` (the CLI decides: a tty and no NO_COLOR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.render.values import fmt_value, logo_text
from reconciler.textsafe import plural, safe, safe_line

if TYPE_CHECKING:
    from reconciler.plan import Change, Plan

_RESET = "\033[0m"
_COLOURS = {
    "update": "\033[33m",  # yellow
    "upload": "\033[32m",  # green
    "reset": "\033[31m",  # red
    "add": "\033[32m",
    "del": "\033[31m",
    "hunk": "\033[36m",  # cyan
    "bold": "\033[1m",
    "danger": "\033[1;31m",
}


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled or not text:
            return text
        return f"{_COLOURS[style]}{text}{_RESET}"


def render(plan: Plan, *, color: bool = False) -> str:
    """The plan as text; ends with the summary line (and a newline)."""
    paint = _Painter(color)
    if not plan.changes:
        return paint(plan.summary_line(), "bold") + "\n"
    lines = [
        safe_line(f"portalctl will make these changes to {plan.target} (spec {plan.spec}):"),
        "",
    ]
    current: str | None = None
    for change in plan.changes:
        if change.resource == "settings":
            if current != "settings":
                lines.append("  " + paint("~ update settings", "update"))
            current = "settings"
            lines.extend(_settings_line(change, paint))
            continue
        current = change.resource
        head = paint(
            f"{change.action.symbol} {change.action.value} {change.resource}", change.action.value
        )
        lines.append(f"  {head}{_where(change)}")
        if change.resource == "settings/logo":
            lines.extend(_logo_lines(change))
        else:
            lines.extend(_template_lines(change, paint))
    lines.append("")
    lines.append(paint(plan.summary_line(), "bold"))
    risky = plan.disruptive
    if risky:
        lines.append(
            paint(
                f"! {plural(len(risky), 'disruptive change')}: apply needs --allow-disruptive.",
                "danger",
            )
        )
    return "\n".join(lines) + "\n"


def _where(change: Change) -> str:
    return safe_line(f"  # {change.origin}") if change.origin else ""


def _settings_line(change: Change, paint: _Painter) -> list[str]:
    text = f"{change.field}: {fmt_value(change.before)} -> {fmt_value(change.after)}"
    if change.disruptive:
        return [
            "    " + paint(f"! {text}", "danger") + _where(change),
            f"        disruptive: {safe_line(change.reason or '')}",
        ]
    return [f"      {text}{_where(change)}"]


def _logo_lines(change: Change) -> list[str]:
    if change.after is None:
        return [f"      live: {logo_text(change.before)}", "      after: no logo (portal default)"]
    lines = [f"      file: {logo_text(change.after)}"]
    lines.append(f"      live: {logo_text(change.before)}")
    return lines


def _template_lines(change: Change, paint: _Painter) -> list[str]:
    before = change.before or {}
    after = change.after or {}
    lines: list[str] = []
    if after.get("is_default"):
        lines.append(
            f"      live: customised (subject {fmt_value(before.get('subject'))}); "
            "resets to the portal's default content"
        )
        return lines
    old_subject = before.get("subject")
    new_subject = after.get("subject")
    if change.before is None:  # a translation the portal does not have yet
        lines.append(f"      subject: (none yet) -> {fmt_value(new_subject)}")
    elif old_subject != new_subject:
        lines.append(f"      subject: {fmt_value(old_subject)} -> {fmt_value(new_subject)}")
    if change.body_diff:
        for raw in safe(change.body_diff).splitlines():
            if raw.startswith(("+++", "---")):
                styled = paint(raw, "bold")
            elif raw.startswith("@@"):
                styled = paint(raw, "hunk")
            elif raw.startswith("+"):
                styled = paint(raw, "add")
            elif raw.startswith("-"):
                styled = paint(raw, "del")
            else:
                styled = raw
            # Blank context lines carry no information; every other byte is shown as is.
            lines.append(f"      {styled}" if raw.strip() else "")
    return lines
