"""reconciler.diff: ownership projection, normalisation, type changes, text diffs."""

from __future__ import annotations

import subprocess
import sys

from reconciler.diff import MISSING, FieldDiff, diff_tree, normalise_text, project, text_diff

LIVE = {
    "enabled": True,
    "branding": {
        "company_name": "Acme",
        "primary_color": "#1662DD",
        "logo": {"url": "https://x/logo", "sha256": "ab", "width": 200},
    },
    "permissions": {"update_payment_methods": True, "cancel_subscription": False},
    "portal_url": "https://billing.example/p/1",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_only_named_keys_are_compared() -> None:
    desired = {"branding": {"primary_color": "#1662dd"}}
    assert diff_tree(LIVE, desired) == []
    assert project(LIVE, desired) == {"branding": {"primary_color": "#1662DD"}}


def test_colour_case_is_normalised_but_value_changes_are_reported() -> None:
    desired = {"branding": {"primary_color": "#0A4FB8", "company_name": "Acme"}}
    assert diff_tree(LIVE, desired) == [
        FieldDiff(("branding", "primary_color"), "#1662dd", "#0a4fb8")
    ]


def test_type_change_is_a_difference() -> None:
    live = {"enabled": 1}
    assert diff_tree(live, {"enabled": True}) == [FieldDiff(("enabled",), 1, True)]


def test_trailing_whitespace_is_significant() -> None:
    desired = {"branding": {"company_name": "Acme "}}
    assert diff_tree(LIVE, desired) == [FieldDiff(("branding", "company_name"), "Acme", "Acme ")]


def test_missing_live_key_and_missing_subtree() -> None:
    desired = {"permissions": {"download_invoices": False}, "extra": {"a": 1, "b": 2}}
    got = diff_tree(LIVE, desired)
    assert got == [
        FieldDiff(("extra", "a"), MISSING, 1),
        FieldDiff(("extra", "b"), MISSING, 2),
        FieldDiff(("permissions", "download_invoices"), MISSING, False),
    ]
    assert got[0].dotted == "extra.a"


def test_subtree_replaced_by_non_mapping_live_value() -> None:
    live = {"branding": None}
    got = diff_tree(live, {"branding": {"company_name": "A"}})
    assert got == [FieldDiff(("branding", "company_name"), MISSING, "A")]


def test_lists_compare_whole() -> None:
    got = diff_tree({"tags": [1, 2, 3]}, {"tags": [1, 3, 2]})
    assert got == [FieldDiff(("tags",), [1, 2, 3], [1, 3, 2])]


def test_normalise_text_line_endings_only() -> None:
    assert normalise_text("a\r\nb\rc \n") == "a\nb\nc \n"


def test_text_diff_unified_with_no_newline_marker() -> None:
    assert text_diff("a\nb\n", "a\r\nb\r\n", fromfile="x", tofile="y") == ""
    got = text_diff("a\nb\n", "a\nc", fromfile="live", tofile="new.html")
    assert got == (
        "--- live\n+++ new.html\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n"
    )


def test_heavy_modules_are_imported_lazily() -> None:
    code = (
        "import sys, reconciler.diff, reconciler.plan, reconciler.apply, reconciler.render, "
        "reconciler.render.text, reconciler.render.markdown, reconciler.export, "
        "reconciler.reconcile, reconciler.cli.reconcile;"
        "print(sorted(m for m in ('deepdiff', 'httpx', 'jsonschema', 'starlette', 'uvicorn') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nested_type_change_is_a_difference_too() -> None:
    live = {"permissions": {"download_invoices": 0}, "branding": {"company_name": "Acme"}}
    desired = {"permissions": {"download_invoices": False}, "branding": {"company_name": "Acme"}}
    assert diff_tree(live, desired) == [FieldDiff(("permissions", "download_invoices"), 0, False)]


def test_no_difference_answers_without_importing_deepdiff() -> None:
    """drift and unchanged plans (the common case in CI) skip deepdiff's import."""
    code = (
        "import sys\n"
        "from reconciler.diff import diff_tree\n"
        "live = {'enabled': True, 'branding': {'primary_color': '#1662DD', 'logo': None}}\n"
        "print(diff_tree(live, {'branding': {'primary_color': '#1662dd'}}), "
        "'deepdiff' in sys.modules)\n"
        "print(len(diff_tree(live, {'enabled': False})), 'deepdiff' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[] False", "1 True"]
