"""Renderers for a fleet run (several portals): text, one JSON document, one Markdown comment.

Pure functions of a list of ``FleetEntry`` (one per portal, in the order of the specs), like
the one-portal renderers; only the CLI writes anywhere. The one-line summary
(``portalctl: fleet: 50 portals: 44 in sync, 3 with changes, 3 failed``) and the failure lines
under it come from ``summary_lines``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.render import plural

if TYPE_CHECKING:
    from reconciler.errors import ReconcilerError
    from reconciler.plan import Plan

#: Room a portal's Markdown section may always take while the comment has any left.
SECTION_MIN_CHARS = 4_000
#: Version of the fleet JSON document (``{"version": 1, "portals": [...]}``).
FLEET_FORMAT_VERSION = 1


@dataclass(frozen=True)
class FleetEntry:
    """One portal of a fleet run: a plan (and, after apply, its summary line) or an error.

    ``target`` is the resolved target's description, None when the spec failed before its
    target was known (e.g. an invalid spec).
    """

    spec: str
    target: str | None
    plan: Plan | None = None
    error: ReconcilerError | None = None
    applied: str | None = None

    @property
    def state(self) -> str:
        """``failed``, ``applied`` (apply wrote changes), ``changes`` or ``in-sync``."""
        if self.error is not None:
            return "failed"
        if self.plan is not None and self.plan.has_changes:
            return "applied" if self.applied is not None else "changes"
        return "in-sync"


def summary(entries: list[FleetEntry], *, apply: bool = False) -> str:
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


def summary_lines(entries: list[FleetEntry], *, apply: bool = False) -> list[str]:
    """The combined summary, then one line per failed portal with its one-line message."""
    lines = [f"portalctl: fleet: {summary(entries, apply=apply)}"]
    for entry in entries:
        if entry.error is not None:
            message = _one_line(str(entry.error))
            # A spec diagnostic already starts with the file (``portals/b.yaml:4:20: ...``).
            named = message.startswith(f"{entry.spec}:")
            lines.append(f"  {message}" if named else f"  {entry.spec}: {message}")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def header(entry: FleetEntry) -> str:
    """The line above each portal's plan in the text output."""
    where = f" -> {entry.target}" if entry.target else ""
    return f"=== {entry.spec}{where} ==="


# --- text ------------------------------------------------------------------------------------


def render_text(entries: list[FleetEntry], *, color: bool = False) -> str:
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


def to_dict(entries: list[FleetEntry]) -> dict[str, Any]:
    """``{"version": 1, "summary": {...}, "portals": [{"spec", "target", "plan" | "error"}]}``."""
    portals: list[dict[str, Any]] = []
    counts = {"total": len(entries), "in_sync": 0, "with_changes": 0, "applied": 0, "failed": 0}
    for entry in entries:
        item: dict[str, Any] = {"spec": entry.spec, "target": entry.target}
        state = entry.state
        counts[{"in-sync": "in_sync", "changes": "with_changes"}.get(state, state)] += 1
        if entry.plan is not None:
            item["plan"] = entry.plan.to_dict()
            if entry.applied is not None:
                item["applied"] = entry.applied
        if entry.error is not None:
            item["error"] = {
                "message": _one_line(str(entry.error)),
                "exit_code": entry.error.exit_code,
                "type": type(entry.error).__name__,
            }
        portals.append(item)
    return {"version": FLEET_FORMAT_VERSION, "summary": counts, "portals": portals}


def render_json(entries: list[FleetEntry]) -> str:
    return json.dumps(to_dict(entries), indent=2, ensure_ascii=False) + "\n"


# --- markdown --------------------------------------------------------------------------------


def render_markdown(
    entries: list[FleetEntry], *, apply: bool = False, max_chars: int | None = None
) -> str:
    """One Markdown document: the fleet summary table, then each changed portal's plan.

    Never longer than ``max_chars`` (GitHub's comment limit by default): the table lists
    failed and changed portals first and drops in-sync rows (then others) with a note when
    it would not fit; each portal's section gets an even share of what is left and is cut
    (diffs first, then the whole section) with a note when it would not fit.
    """
    from reconciler.render import markdown

    limit = markdown.MAX_CHARS if max_chars is None else max_chars
    head = [f"### portalctl fleet: {summary(entries, apply=apply)}", ""]
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
            omitted.append(entry.spec)
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


def _section(entry: FleetEntry, budget: int) -> str:
    """The portal's plan under a heading naming its spec; "" when it cannot fit ``budget``."""
    from reconciler.render import markdown

    assert entry.plan is not None
    title = f"#### {markdown._code(entry.spec)}\n\n"
    body = markdown.render(entry.plan, max_chars=max(budget - len(title), 0))
    # Each portal's heading sits below the fleet's and its spec's.
    body = body.replace("### portalctl plan:", "##### portalctl plan:", 1)
    block = title + body + "\n"
    return block if len(block) <= budget else ""


def _row(entry: FleetEntry) -> str:
    from reconciler.render import markdown

    target = markdown._code(entry.target) if entry.target else ""
    if entry.error is not None:
        result = f"❌ failed: {markdown._esc(_clip(_one_line(str(entry.error))))}"
    elif entry.plan is not None and entry.plan.has_changes:
        c = entry.plan.counts()
        verb = "applied" if entry.applied is not None else "to apply"
        result = f"{c['update']} to change, {c['upload']} to upload, {c['reset']} to reset"
        result = f"✏️ {result}" if verb == "to apply" else f"✅ applied: {result}"
        if entry.plan.disruptive:
            result += f" (⚠️ {len(entry.plan.disruptive)} disruptive)"
    else:
        result = "in sync"
    return f"| {markdown._code(entry.spec)} | {target} | {result} |"


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
