"""Rules of meaning: contrast maths, portal links, permissions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.spec import load_spec
from reconciler.spec.lint import contrast_ratio, darken_to_contrast, relative_luminance, variables


@pytest.mark.parametrize(
    ("color", "ratio"),
    [
        ("#000000", 21.0),
        ("#FFFFFF", 1.0),
        ("#767676", 4.54),
        ("#777777", 4.48),
        ("#1662DD", 5.49),
        ("#7FB3FF", 2.14),
    ],
)
def test_wcag_contrast_with_white(color: str, ratio: float) -> None:
    assert round(contrast_ratio(color, "#ffffff"), 2) == ratio


def test_relative_luminance_endpoints() -> None:
    assert relative_luminance("#000000") == 0.0
    assert relative_luminance("#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("color", ["#7FB3FF", "#FFEE00", "#777777", "#FF0000"])
def test_suggested_shade_passes_and_is_the_lightest_that_does(color: str) -> None:
    suggestion = darken_to_contrast(color)
    assert contrast_ratio(suggestion, "#ffffff") >= 4.5
    assert suggestion != "#000000"


def test_variables_allow_spaces_inside_braces() -> None:
    assert variables("{{a}} {{ b }} {c} {{d") == ["a", "b"]


def lint_lines(tmp_path: Path, body: str, *, strict: bool = False) -> list[str]:
    spec = tmp_path / "portal.yaml"
    spec.write_text(textwrap.dedent(body), encoding="utf-8")
    try:
        _state, diagnostics = load_spec(spec, strict=strict)
    except SpecError as err:
        diagnostics = list(err.diagnostics)
    return [str(d).removeprefix(f"{spec}:") for d in diagnostics]


def test_disabled_portal_names_every_linking_email(tmp_path: Path) -> None:
    assert lint_lines(
        tmp_path,
        """\
        version: 1
        portal:
          enabled: false
          notifications:
            invoice_created: {subject: "Invoice", body: "{{customer_portal_link}}"}
            payment_failed: {subject: "Failed", body: "{{customer_portal_link}}"}
            payment_succeeded: {subject: "Thanks", body: "Paid {{payment_amount}}"}
        """,
    ) == [
        "3:12: error: portal.enabled: the portal is disabled but the invoice_created and "
        "payment_failed emails link to it with {{customer_portal_link}}: customers would get "
        "a dead link; set enabled: true, or remove {{customer_portal_link}} from those "
        "templates [portal-disabled-with-links]"
    ]


def test_disabled_portal_without_links_is_fine(tmp_path: Path) -> None:
    assert (
        lint_lines(
            tmp_path,
            """\
        version: 1
        portal:
          enabled: false
          notifications:
            payment_succeeded: {subject: "Thanks", body: "Paid {{payment_amount}}"}
        """,
        )
        == []
    )


def test_payment_failed_reset_to_default_does_not_trigger_card_warning(tmp_path: Path) -> None:
    assert (
        lint_lines(
            tmp_path,
            """\
        version: 1
        portal:
          permissions: {update_payment_methods: false}
          notifications:
            payment_failed: default
        """,
        )
        == []
    )


def test_card_warning_cites_the_seed(tmp_path: Path) -> None:
    assert lint_lines(
        tmp_path,
        """\
        version: 1
        portal:
          permissions: {update_payment_methods: false}
          notifications:
            payment_failed: {subject: "Failed", body: "Fix it: {{customer_portal_link}}"}
        """,
        strict=True,
    ) == [
        "3:41: warning: portal.permissions.update_payment_methods: payment_failed emails send "
        "customers to the portal, but update_payment_methods is false: they cannot fix their "
        "card there; set update_payment_methods: true (help article, troubleshooting Problem 2: "
        'the "Update payment method" option is missing) [payment-failed-cannot-update-card]'
    ]


def test_contrast_warning_says_the_ratio(tmp_path: Path) -> None:
    assert lint_lines(
        tmp_path,
        """\
        version: 1
        portal:
          branding: {primary_color: "#777777"}
        """,
    ) == [
        '3:29: warning: portal.branding.primary_color: "#777777" has a contrast of 4.47:1 with '
        'white button text; WCAG AA needs 4.5:1; use a darker shade, e.g. "#767676" '
        "[primary-color-contrast]"
    ]


def test_link_in_subject_counts(tmp_path: Path) -> None:
    assert (
        lint_lines(
            tmp_path,
            """\
        version: 1
        portal:
          notifications:
            invoice_created: {subject: "Pay: {{customer_portal_link}}", body: "Invoice ready"}
        """,
        )
        == []
    )
