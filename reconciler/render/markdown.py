"""Markdown plan for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Summary first, then the spec's warnings and notices, then one table row per change (a
colour as a backticked hex code, which GitHub draws as a swatch, with its WCAG contrast
ratio against white button text: no outside image service sees the brand colours), then each
template's body diff in a collapsible ``<details>`` block. The result is ALWAYS shorter than
GitHub's comment limit (65,536 characters): diffs are truncated, with a note pointing at the
full plan artifact, when they would not fit. Every value a spec or server supplied is
escaped (``reconciler.textsafe``): it cannot break out of its cell or inject HTML.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.model import HEX_COLOUR
from reconciler.render.values import diff_stat, fmt_value, logo_text
from reconciler.textsafe import md_text, plural, safe, safe_line

if TYPE_CHECKING:
    from reconciler.plan import Change, Plan

#: GitHub refuses comments of 65,536 characters or more; keep a margin for wrappers.
MAX_CHARS = 65_000
_CELL_MAX = 120


def render(
    plan: Plan,
    *,
    max_chars: int = MAX_CHARS,
    drift: bool = False,
    preview_link: str | None = None,
) -> str:
    """The plan as GitHub-flavoured Markdown, never longer than ``max_chars``."""
    spec = _code(plan.spec)
    kind = "drift" if drift else "plan"
    extra = _diagnostics(plan) + ([preview_line(preview_link), ""] if preview_link else [])
    if not plan.changes:
        lines = [
            f"### portalctl {kind}: no changes",
            "",
            f"The portal matches {spec}.",
            "",
            f"**Target:** {_code(plan.target)}",
        ]
        return "\n".join(lines) + "\n" + ("\n" + "\n".join(extra) if extra else "")
    heading = "the portal differs from the spec: " if drift else ""
    parts = [
        f"### portalctl {kind}: {heading}{plan.counts_text()}",
        "",
        f"**Target:** {_code(plan.target)} · **Spec:** {spec}",
        "",
        *extra,
    ]
    risky = plan.disruptive
    if risky:
        parts += [
            "> [!WARNING]",
            f"> {plural(len(risky), 'disruptive change')}; "
            "`portalctl apply` needs `--allow-disruptive`:",
        ]
        parts += [f"> - **{md_text(c.title)}**: {md_text(c.reason or '')}" for c in risky]
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


def preview_line(url: str) -> str:
    """The link to the run's preview artifact (rendered portal and emails)."""
    return f"**Preview:** [the portal and emails as customers will see them]({_url(url)})"


def _url(url: str) -> str:
    return safe_line(url).replace("(", "%28").replace(")", "%29").replace(" ", "%20")


_MARKS = {"error": "❌", "warning": "⚠️", "notice": "ℹ️"}  # noqa: RUF001


def _diagnostics(plan: Plan) -> list[str]:
    """The spec's warnings and notices (the text plan prints them on stderr)."""
    if not plan.diagnostics:
        return []
    lines = ["**Spec findings:**", ""]
    for diag in plan.diagnostics:
        mark = _MARKS.get(diag.severity.value, "")
        hint = f"; {md_text(diag.hint)}" if diag.hint else ""
        lines.append(
            f"- {mark} {diag.severity.value} {_code(str(diag.origin))} "
            f"{_code(diag.path)}: {md_text(diag.message)}{hint} ({_code(diag.rule)})"
        )
    return [*lines, ""]


def _row(change: Change) -> str:
    mark = f"{'⚠️ ' if change.disruptive else ''}{change.action.symbol} {change.action.value}"
    source = _code(str(change.origin)) if change.origin else ""
    if change.resource == "settings":
        fld = _code(change.field or "")
        before, after = _cell(change.field, change.before), _cell(change.field, change.after)
    elif change.resource == "settings/logo":
        fld = ""
        before, after = md_text(logo_text(change.before)), md_text(logo_text(change.after))
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
            before = "none yet" if change.before is None else _code(_clip(str(b.get("subject"))))
            after = _code(_clip(str(a.get("subject"))))
    return f"| {mark} | {_code(change.resource)} | {fld} | {before} | {after} | {source} |"


def _cell(field: str | None, value: Any) -> str:
    text = fmt_value(value)
    if isinstance(value, str) and HEX_COLOUR.match(value):
        from reconciler.spec.lint import WCAG_AA, contrast_ratio, floor2

        # Floored like the lint rule's message, so a ratio just under 4.5 never reads 4.50.
        ratio = floor2(contrast_ratio(value, "#ffffff"))
        verdict = "" if ratio >= WCAG_AA else f" ⚠️ below {WCAG_AA:g}:1"
        # GitHub draws a swatch beside a backticked hex colour; no image service needed.
        return f"{_code(value.upper())} (contrast {ratio:.2f}:1 on white{verdict})"
    return _code(_clip(text))


def _details(change: Change, budget: int) -> str:
    diff = safe(change.body_diff or "")
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
        f"\n_Diff truncated: {plural(dropped, 'more line')} not shown. "
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
    text = safe_line(text.replace("\n", "⏎"))
    return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"


def _code(text: str) -> str:
    """An inline code span that survives backticks, table pipes and controls in ``text``."""
    text = safe_line(text).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _html(text: str) -> str:
    return safe_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
