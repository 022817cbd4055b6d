"""Renderers for several portals at once: text, one JSON document, one Markdown comment.

Pure functions of a sequence of ``PortalRun`` (one per portal, in the order of the sources);
only the CLI writes anywhere. The one-line summary
(``portalctl: fleet: 50 portals: 44 in sync, 3 with changes, 3 failed``) and the failure lines
under it come from ``summary_lines``. ``reconciler.render.render_runs`` picks these or the
one-portal renderers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reconciler.render import plural, target_text
from reconciler.textsafe import md_text, safe_line

if TYPE_CHECKING:
    from reconciler.reconcile import PortalRun

#: Room a portal's Markdown section may always take while the comment has any left.
SECTION_MIN_CHARS = 4_000
#: Version of the JSON output (``{"format_version": 2, "summary": ..., "portals": [...]}``);
#: documented in ``schemas/plan-output.schema.json``. 1 was the fleet-only document of 0.1.0.
OUTPUT_FORMAT_VERSION = 2


def summary(entries: Sequence[PortalRun], *, apply: bool = False) -> str:
    """``50 portals: 44 in sync, 3 with changes, 3 failed``; after ``apply``:
    ``50 portals: 44 in sync, 3 applied, 3 failed``."""
    counts = {"in-sync": 0, "changes": 0, "applied": 0, "failed": 0}
    for entry in entries:
        counts[entry.state] += 1
    changed = f"{counts['applied']:,} applied" if apply else f"{counts['changes']:,} with changes"
    return (
        f"{plural(len(entries), 'portal')}: {counts['in-sync']:,} in sync, {changed}, "
        f"{counts['failed']:,} failed"
    )


def summary_lines(entries: Sequence[PortalRun], *, apply: bool = False) -> list[str]:
    """The combined summary, then one line per failed portal with its one-line message."""
    lines = [f"portalctl: fleet: {summary(entries, apply=apply)}"]
    for entry in entries:
        if entry.error is not None:
            message = _one_line(str(entry.error))
            # A spec diagnostic already starts with the file (``portals/b.yaml:4:20: ...``).
            named = message.startswith(f"{entry.source}:")
            lines.append(f"  {message}" if named else f"  {entry.source}: {message}")
    return lines


def _one_line(text: str) -> str:
    return safe_line(" ".join(text.split()))


def header(entry: PortalRun) -> str:
    """The line above each portal's plan in the text output."""
    target = target_text(entry)
    where = f" -> {target}" if target else ""
    return safe_line(f"=== {entry.source}{where} ===")


# --- text ------------------------------------------------------------------------------------


def render_text(entries: Sequence[PortalRun], *, color: bool = False) -> str:
    """Each portal's text plan (or its error) under a header line naming spec and target."""
    from reconciler.render import text

    blocks: list[str] = []
    for entry in entries:
        if entry.plan is not None:
            body = text.render(entry.plan, color=color)
        else:
            body = f"error: {_one_line(str(entry.error))}\n"
        blocks.append(f"{header(entry)}\n{body}")
    return "\n".join(blocks)


# --- json ------------------------------------------------------------------------------------


def to_dict(entries: Sequence[PortalRun]) -> dict[str, Any]:
    """``{"format_version": 2, "summary": {...}, "portals": [{"spec", "target", "state",
    "diagnostics", "plan", "error", "applied"}]}``: the same shape for one portal or many."""
    from reconciler.planfile import plan_to_dict

    portals: list[dict[str, Any]] = []
    counts = {"total": len(entries), "in_sync": 0, "with_changes": 0, "applied": 0, "failed": 0}
    for entry in entries:
        state = entry.state
        counts[{"in-sync": "in_sync", "changes": "with_changes"}.get(state, state)] += 1
        error = None
        if entry.error is not None:
            error = {
                "message": _one_line(str(entry.error)),
                "exit_code": entry.error.exit_code,
                "type": type(entry.error).__name__,
            }
        portals.append(
            {
                "spec": str(entry.source),
                "target": target_text(entry),
                "state": state,
                "diagnostics": [d.to_dict() for d in entry.diagnostics],
                "plan": plan_to_dict(entry.plan) if entry.plan is not None else None,
                "error": error,
                "applied": entry.applied.summary_line() if entry.applied is not None else None,
            }
        )
    return {"format_version": OUTPUT_FORMAT_VERSION, "summary": counts, "portals": portals}


# --- markdown --------------------------------------------------------------------------------


def render_markdown(
    entries: Sequence[PortalRun],
    *,
    apply: bool = False,
    drift: bool = False,
    preview_link: str | None = None,
    max_chars: int | None = None,
) -> str:
    """One Markdown document: the fleet summary table, then each changed portal's plan.

    Never longer than ``max_chars`` (GitHub's comment limit by default): the table lists
    failed and changed portals first and drops in-sync rows (then others) with a note when
    it would not fit; each portal's section gets an even share of what is left and is cut
    (diffs first, then the whole section) with a note when it would not fit.
    """
    from reconciler.render import markdown

    limit = markdown.MAX_CHARS if max_chars is None else max_chars
    kind = "drift" if drift else "fleet"
    head = [f"### portalctl {kind}: {summary(entries, apply=apply)}", ""]
    if preview_link:
        head += [markdown.preview_line(preview_link), ""]
    table_head = ["| Spec | Target | Result |", "|---|---|---|"]
    order = {"failed": 0, "changes": 1, "applied": 1, "in-sync": 2}
    ranked = sorted(entries, key=lambda e: order[e.state])  # stable: spec order within a rank
    rows = [_row(e) for e in ranked]
    sections = [e for e in entries if e.plan is not None and e.plan.has_changes]
    # The table may use at most half the room when there are sections to show.
    table_room = (limit if not sections else limit // 2) - len("\n".join(head)) - 200
    shown: list[str] = []
    used = sum(len(line) + 1 for line in table_head)
    for row in rows:
        if used + len(row) + 1 > table_room:
            break
        shown.append(row)
        used += len(row) + 1
    lines = head + table_head + shown
    left_out = len(rows) - len(shown)
    if left_out:
        lines += [
            "",
            f"_{plural(left_out, 'more portal')} not listed (the table would not fit "
            "in one comment); `portalctl plan --format json` lists them all._",
        ]
    text = "\n".join(lines) + "\n\n"
    note_room = 400
    budget = limit - len(text) - note_room
    omitted: list[str] = []
    for index, entry in enumerate(sections):
        # An even share of what is left, but at least room for a useful section (its table
        # and a cut diff): with many portals, the first ones are shown whole, not all cut.
        share = max(budget // (len(sections) - index), min(budget, SECTION_MIN_CHARS), 0)
        block = _section(entry, share)
        if not block:
            omitted.append(str(entry.source))
        budget -= len(block)
        text += block
    if omitted:
        names = ", ".join(markdown._code(name) for name in omitted[:5])
        more = f" and {len(omitted) - 5:,} more" if len(omitted) > 5 else ""
        text += (
            f"_The plans of {plural(len(omitted), 'portal')} are not shown (they would not fit "
            f"in one comment): {names}{more}. See the plan artifact "
            "(`portalctl plan --out DIR`)._\n"
        )
    return text


def _section(entry: PortalRun, budget: int) -> str:
    """The portal's plan under a heading naming its spec; "" when it cannot fit ``budget``."""
    from reconciler.render import markdown

    assert entry.plan is not None
    title = f"#### {markdown._code(str(entry.source))}\n\n"
    body = markdown.render(entry.plan, max_chars=max(budget - len(title), 0))
    # Each portal's heading sits below the fleet's and its spec's.
    body = body.replace("### portalctl", "##### portalctl", 1)
    block = title + body + "\n"
    return block if len(block) <= budget else ""


def _row(entry: PortalRun) -> str:
    from reconciler.render import markdown

    where = target_text(entry)
    target = markdown._code(where) if where else ""
    if entry.error is not None:
        result = f"❌ failed: {md_text(_clip(_one_line(str(entry.error))))}"
    elif entry.plan is not None and entry.plan.has_changes:
        verb = "applied" if entry.applied is not None else "to apply"
        result = entry.plan.counts_text()
        result = f"✏️ {result}" if verb == "to apply" else f"✅ applied: {result}"
        if entry.plan.disruptive:
            result += f" (⚠️ {len(entry.plan.disruptive)} disruptive)"
    else:
        result = "in sync"
    return f"| {markdown._code(str(entry.source))} | {target} | {result} |"


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
