"""Markdown plan for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Summary first, then one table row per change (colour swatches for colours), then each
template's body diff in a collapsible ``<details>`` block. The result is ALWAYS shorter than
GitHub's comment limit (65,536 characters): diffs are truncated, with a note pointing at the
full plan artifact, when they would not fit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.render.values import HEX_COLOUR, diff_stat, fmt_value, logo_text

if TYPE_CHECKING:
    from reconciler.plan import Change, Plan

#: GitHub refuses comments of 65,536 characters or more; keep a margin for wrappers.
MAX_CHARS = 65_000
_CELL_MAX = 120


def render(plan: Plan, *, max_chars: int = MAX_CHARS) -> str:
    """The plan as GitHub-flavoured Markdown, never longer than ``max_chars``."""
    spec = _code(plan.spec)
    if not plan.changes:
        lines = [
            "### portalctl plan: no changes",
            "",
            f"The portal matches {spec}.",
            "",
            f"**Target:** {_code(plan.target)}",
        ]
        return "\n".join(lines) + "\n"
    parts = [
        f"### portalctl plan: {_summary(plan)}",
        "",
        f"**Target:** {_code(plan.target)} · **Spec:** {spec}",
        "",
    ]
    risky = plan.disruptive
    if risky:
        parts += [
            "> [!WARNING]",
            f"> {len(risky)} disruptive change{'s' if len(risky) != 1 else ''}; "
            "`portalctl apply` needs `--allow-disruptive`:",
        ]
        parts += [f"> - **{_esc(c.title)}**: {_esc(c.reason or '')}" for c in risky]
        parts.append("")
    parts += [
        "| | Resource | Field | Before | After | Source |",
        "|---|---|---|---|---|---|",
    ]
    parts += [_row(c) for c in plan.changes]
    parts.append("")
    head = "\n".join(parts) + "\n"
    footer = f"{plan.summary_line()}\n"
    budget = max_chars - len(head) - len(footer)
    blocks = [c for c in plan.changes if c.body_diff]
    details: list[str] = []
    for index, change in enumerate(blocks):
        left = len(blocks) - index
        # Share what is left evenly among the remaining diffs, so one huge diff cannot
        # crowd out the others.
        share = max(budget // left, 0)
        block = _details(change, share)
        budget -= len(block)
        details.append(block)
    return head + "".join(details) + footer


def _summary(plan: Plan) -> str:
    c = plan.counts()
    return f"{c['update']} to change, {c['upload']} to upload, {c['reset']} to reset"


def _row(change: Change) -> str:
    mark = f"{'⚠️ ' if change.disruptive else ''}{change.action.symbol} {change.action.value}"
    source = _code(str(change.origin)) if change.origin else ""
    if change.resource == "settings":
        fld = _code(change.field or "")
        before, after = _cell(change.field, change.before), _cell(change.field, change.after)
    elif change.resource == "settings/logo":
        fld = ""
        before, after = _esc(logo_text(change.before)), _esc(logo_text(change.after))
    else:
        b = change.before or {}
        a = change.after or {}
        if a.get("is_default"):
            fld = "subject, body"
            before = "customised" if not b.get("is_default") else "default"
            after = "portal default"
        else:
            fields = []
            if b.get("subject") != a.get("subject"):
                fields.append("subject")
            if change.body_diff:
                added, removed = diff_stat(change.body_diff)
                fields.append(f"body (+{added} -{removed})")
            fld = ", ".join(fields)
            before = _code(_clip(str(b.get("subject"))))
            after = _code(_clip(str(a.get("subject"))))
    return f"| {mark} | {_code(change.resource)} | {fld} | {before} | {after} | {source} |"


def _cell(field: str | None, value: Any) -> str:
    text = fmt_value(value)
    if isinstance(value, str) and HEX_COLOUR.match(value):
        hexa = value.lower().lstrip("#")
        swatch = f"![{value.lower()}](https://placehold.co/12x12/{hexa}/{hexa}.png)"
        return f"{swatch} {_code(text)}"
    return _code(_clip(text))


def _details(change: Change, budget: int) -> str:
    diff = change.body_diff or ""
    added, removed = diff_stat(diff)
    summary = f"<code>{_html(change.resource)}</code> body diff (+{added} -{removed})"
    fence = _fence(diff)
    opening = f"<details><summary>{summary}</summary>\n\n{fence}diff\n"
    closing = f"{fence}\n\n</details>\n\n"  # a blank line after </details> ends the HTML block
    note_room = 200
    room = budget - len(opening) - len(closing) - note_room
    if len(diff) <= room + note_room:
        return opening + diff + ("" if diff.endswith("\n") else "\n") + closing
    kept: list[str] = []
    used = 0
    lines = diff.splitlines(keepends=True)
    for line in lines:
        if used + len(line) > room:
            break
        kept.append(line)
        used += len(line)
    dropped = len(lines) - len(kept)
    note = (
        f"\n_Diff truncated: {dropped} more line{'s' if dropped != 1 else ''} not shown. "
        "The full plan is in the plan artifact (`portalctl plan --out plan.json`)._\n\n"
    )
    if room <= 0:
        return note.lstrip("\n")
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    return opening + body + f"{fence}\n" + note + "</details>\n\n"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"^ *(`{3,})", text, flags=re.M)), default=0)
    return "`" * max(3, longest + 1)


def _clip(text: str) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"


def _code(text: str) -> str:
    """An inline code span that survives backticks and table pipes inside ``text``."""
    text = text.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _esc(text: str) -> str:
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", text)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
