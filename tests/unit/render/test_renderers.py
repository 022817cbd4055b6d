"""Renderers are pure Plan -> str functions: exact text, colour on request, markdown bounds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.model import DesiredState, DesiredTemplate, LiveState, LiveTemplate
from reconciler.plan import compute_plan
from reconciler.planfile import plan_to_dict
from reconciler.render import render_plan
from reconciler.render.markdown import MAX_CHARS

# The plan builders live in tests/unit/test_plan.py (tests/ is not a package).
from tests.helpers.plans import desired, full_plan, live_state

ANSI = re.compile(r"\033\[[0-9;]*m")


def test_text_plan_exact(tmp_path: Path) -> None:
    text = render_plan(full_plan(tmp_path), "text")
    spec = tmp_path / "portal.yaml"
    assert text == (
        f"portalctl will make these changes to https://api.4geeks.io (spec {spec}):\n"
        "\n"
        "  + upload settings/logo\n"
        "      file: assets/logo.png (image/png, 9 bytes, sha256 ea80334363ee)\n"
        "      live: no logo (portal default)\n"
        "  ~ update templates/payment_failed\n"
        '      subject: "default payment_failed" -> "S"\n'
        "      --- live templates/payment_failed\n"
        "      +++ templates/pf.html\n"
        "      @@ -1,2 +1 @@\n"
        "      -Hello\n"
        "      -payment_failed\n"
        "      +Body {{customer_portal_link}}\n"
        "  ~ update settings\n"
        "      branding.primary_color: #1662dd -> #0a4fb8  # portal.yaml:5:20\n"
        "    ! enabled: true -> false  # portal.yaml:3:12\n"
        "        disruptive: disables the portal: every portal link already sent in emails "
        "stops working, and the portal URL may change when it is enabled again\n"
        "\n"
        "Plan: 3 to change, 1 to upload, 0 to reset.\n"
        "! 1 disruptive change: apply needs --allow-disruptive.\n"
    )


def test_colour_only_when_asked(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)
    plain = render_plan(plan, "text")
    coloured = render_plan(plan, "text", color=True)
    assert "\033[" not in plain
    assert "\033[32m+ upload settings/logo\033[0m" in coloured
    assert "\033[31m-Hello\033[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_no_changes_everywhere(tmp_path: Path) -> None:
    plan = compute_plan(desired(tmp_path), live_state(), target="embedded sandbox (.portal/s.db)")
    assert render_plan(plan, "text") == "No changes. The portal matches portal.yaml.\n"
    md = render_plan(plan, "markdown")
    assert md.startswith("### portalctl plan: no changes\n")
    assert json.loads(render_plan(plan, "json"))["has_changes"] is False


def test_json_is_to_dict(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)
    assert json.loads(render_plan(plan, "json")) == plan_to_dict(plan)


def test_markdown_summary_first_table_swatches_details(tmp_path: Path) -> None:
    md = render_plan(full_plan(tmp_path), "markdown")
    assert md.splitlines()[0] == "### portalctl plan: 3 to change, 1 to upload, 0 to reset"
    assert "> [!WARNING]" in md
    # A backticked hex colour (GitHub draws its swatch) and its contrast with white text;
    # no outside image service.
    assert (
        "| ~ update | `settings` | `branding.primary_color` | "
        "`#1662DD` (contrast 5.48:1 on white) | "
        "`#0A4FB8` (contrast 7.43:1 on white) | `portal.yaml:5:20` |"
    ) in md
    assert "https://" not in md.replace("https://api.4geeks.io", "")
    assert "| ⚠️ ~ update | `settings` | `enabled` | `true` | `false` | `portal.yaml:3:12` |" in md
    assert (
        "<details><summary><code>templates/payment_failed</code> body diff (+1 -2)</summary>\n\n"
        "```diff\n--- live templates/payment_failed\n"
    ) in md
    assert md.endswith("</details>\n\nPlan: 3 to change, 1 to upload, 0 to reset.\n")


def huge_plan(tmp_path: Path) -> tuple[DesiredState, LiveState]:
    base = live_state()
    events = ["invoice_created", "payment_failed", "payment_succeeded", "subscription_canceled"]
    live_templates = {
        e: LiveTemplate(
            e,
            "old",
            "```\n" + "".join(f"old line {i} {e} | `x`\n" for i in range(3000)),
            False,
            f'"{e}"',
        )
        for e in events
    }
    want = {
        e: DesiredTemplate(
            e, "new | `subject`", "```\n" + "".join(f"new line {i}\n" for i in range(3000))
        )
        for e in events
    }
    return (
        desired(tmp_path, templates=want),
        LiveState(base.settings, base.settings_etag, live_templates),
    )


def test_markdown_huge_change_stays_under_the_comment_limit(tmp_path: Path) -> None:
    d, live = huge_plan(tmp_path)
    plan = compute_plan(d, live, target="t")
    assert sum(len(c.body_diff or "") for c in plan.changes) > 4 * 65_535
    md = render_plan(plan, "markdown")
    assert len(md) <= MAX_CHARS < 65_535
    # every diff got a share, was truncated with a pointer to the artifact, and fences close
    assert md.count("<details>") == 4 == md.count("</details>")
    assert md.count("_Diff truncated:") == 4
    assert "The full plan is in the plan artifact (`portalctl plan --out plan.json`)" in md
    # a context line " ```" would close a ``` fence: the renderer uses a longer one
    assert " ```\n" in md
    assert md.count("````diff\n") == 4
    assert md.count("\n````\n") == 4
    assert "`` new \\| `subject` ``" in md  # code span survives pipes and backticks
    assert md.endswith("Plan: 4 to change, 0 to upload, 0 to reset.\n")


def test_markdown_small_budget_keeps_summary_and_table(tmp_path: Path) -> None:
    from reconciler.render.markdown import render

    d, live = huge_plan(tmp_path)
    md = render(compute_plan(d, live, target="t"), max_chars=3000)
    assert len(md) <= 3000
    assert md.startswith("### portalctl plan: 4 to change")
    assert md.count("| ~ update | `templates/") == 4


def test_plural_counts_read_naturally() -> None:
    from reconciler.render import plural

    assert [plural(n, "portal") for n in (0, 1, 2, 1000)] == [
        "0 portals",
        "1 portal",
        "2 portals",
        "1,000 portals",
    ]
