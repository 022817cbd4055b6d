"""load_spec: the DesiredState it builds (ownership rule, API shape) and its errors."""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ExitCode, SpecError, UsageError
from reconciler.model import (
    RESET,
    DesiredLogo,
    DesiredTemplate,
    DesiredTranslation,
    Origin,
    Severity,
    TargetSpec,
)
from reconciler.spec import lint_rules, load_spec
from reconciler.spec.rules import RULES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "portal.yaml"


def write(tmp: Path, text: str, name: str = "portal.yaml") -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_target_block_names_url_and_key_variable(tmp_path: Path) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text(
        "version: 1\n"
        "target:\n"
        "  api_url: https://api.4geeks.io\n"
        "  api_key_env: ACME_PORTAL_KEY\n"
        "portal:\n"
        "  enabled: true\n",
        encoding="utf-8",
    )
    state, _ = load_spec(spec)
    assert state.target == TargetSpec("https://api.4geeks.io", "ACME_PORTAL_KEY")
    assert state.origins["target.api_key_env"] == Origin(str(spec), 4, 3)


def errors_of(path: Path, *, strict: bool = False) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path, strict=strict)
    return [str(d) for d in caught.value.diagnostics]


def test_example_state() -> None:
    state, diagnostics = load_spec(EXAMPLE, strict=True)
    assert diagnostics == []
    assert state.spec_path == EXAMPLE
    assert state.settings == {
        "enabled": True,
        "branding": {"company_name": "Acme Cloud", "primary_color": "#1662dd"},
        "permissions": {
            "update_payment_methods": True,
            "view_payment_history": True,
            "download_invoices": True,
            "cancel_subscription": False,
        },
    }
    assert state.target is None  # the example's target block is commented out
    logo = state.logo
    assert isinstance(logo, DesiredLogo)
    logo_bytes = (ROOT / "examples" / "assets" / "logo.png").read_bytes()
    assert (logo.content_type, logo.width, logo.height) == ("image/png", 200, 50)
    assert logo.file.path == "assets/logo.png"
    assert logo.file.sha256 == hashlib.sha256(logo_bytes).hexdigest()
    assert logo.file.size == len(logo_bytes)
    assert sorted(state.templates) == ["invoice_created", "payment_failed"]
    invoice = state.templates["invoice_created"]
    assert isinstance(invoice, DesiredTemplate)
    assert invoice.subject == "Invoice {{invoice_number}} from {{company_name}}"
    assert invoice.body == (ROOT / "examples/templates/invoice_created.html").read_text()
    assert invoice.body_file is not None
    assert invoice.body_file.path == "templates/invoice_created.html"
    assert set(state.files) == {
        "assets/logo.png",
        "templates/invoice_created.html",
        "templates/payment_failed.html",
        "templates/invoice_created.es.html",
        "templates/payment_failed.es.html",
    }
    spanish = state.translations["invoice_created"]["es"]
    assert isinstance(spanish, DesiredTranslation)
    assert spanish.subject == "Factura {{invoice_number}} de {{company_name}}"
    assert spanish.body == (ROOT / "examples/templates/invoice_created.es.html").read_text()
    assert sorted(state.translations) == ["invoice_created", "payment_failed"]
    origin = state.origins["portal.branding.primary_color"]
    assert (origin.file, origin.line, origin.col) == (str(EXAMPLE), 18, 5)
    assert "portal.notifications.payment_failed.body_file" in state.origins


def test_only_named_keys_are_managed(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          branding:
            primary_color: "#0B5CAD"
        """,
    )
    state, diagnostics = load_spec(spec)
    assert diagnostics == []
    assert state.settings == {"branding": {"primary_color": "#0b5cad"}}
    assert state.logo is None
    assert state.templates == {}
    assert state.target is None
    assert state.files == {}


def test_resets(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          branding:
            logo: null
          notifications:
            payment_failed: default
            payment_succeeded: "default"
        """,
    )
    state, _ = load_spec(spec)
    assert state.logo is RESET
    assert state.templates == {"payment_failed": RESET, "payment_succeeded": RESET}
    assert state.settings == {}


def test_body_file_crlf_is_normalised_and_hashed_as_is(tmp_path: Path) -> None:
    raw = b"<p>Hi {{customer_name}}</p>\r\n<p>{{customer_portal_link}}</p>\r\n"
    (tmp_path / "t.html").write_bytes(raw)
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: Your invoice
              body_file: t.html
        """,
    )
    state, _ = load_spec(spec)
    template = state.templates["invoice_created"]
    assert isinstance(template, DesiredTemplate)
    assert template.body == "<p>Hi {{customer_name}}</p>\n<p>{{customer_portal_link}}</p>\n"
    assert template.body_file is not None
    assert template.body_file.sha256 == hashlib.sha256(raw).hexdigest()
    assert state.files == {"t.html": hashlib.sha256(raw).hexdigest()}


def test_inline_body(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            payment_failed:
              subject: Card declined
              body: |
                Hi {{customer_name}},
                update your card: {{customer_portal_link}}
        """,
    )
    state, _ = load_spec(spec)
    assert state.templates["payment_failed"] == DesiredTemplate(
        event="payment_failed",
        subject="Card declined",
        body="Hi {{customer_name}},\nupdate your card: {{customer_portal_link}}\n",
    )


def test_jpeg_logo_warns_about_transparency(tmp_path: Path) -> None:
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 50, 200, 1) + b"\x01\x11\x00"
    (tmp_path / "logo.jpg").write_bytes(b"\xff\xd8" + sof0 + b"\xff\xd9")
    spec = write(tmp_path, "version: 1\nportal:\n  branding:\n    logo: logo.jpg\n")
    state, diagnostics = load_spec(spec)
    assert isinstance(state.logo, DesiredLogo) and state.logo.content_type == "image/jpeg"
    assert [str(d) for d in diagnostics] == [
        f'{spec}:4:11: warning: portal.branding.logo: "logo.jpg" is a JPEG, which has no '
        "transparency; export a PNG with a transparent background (RGBA) [logo-no-alpha]"
    ]
    assert errors_of(spec, strict=True) == [str(d) for d in diagnostics]


def test_all_problems_at_once_most_useful_first(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          enabled: false
          branding:
            primary_color: "#FFEE00"
            colour: red
          permissions:
            cancel_subscription: true
          notifications:
            invoice_created:
              subject: "Invoice {{invoice_numbr}}"
              body: "{{customer_portal_link}}"
        """,
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    err = caught.value
    assert err.exit_code == ExitCode.INVALID
    assert [(d.severity, d.rule, d.origin.line, d.origin.col) for d in err.diagnostics] == [
        (Severity.ERROR, "schema", 6, 5),
        (Severity.ERROR, "portal-disabled-with-links", 3, 12),
        (Severity.ERROR, "template-unknown-variable", 11, 25),
        (Severity.WARNING, "primary-color-contrast", 5, 20),
        (Severity.NOTICE, "cancel-subscription-enabled", 8, 26),
    ]
    assert str(err.diagnostics[0]) == (
        f'{spec}:6:5: error: portal.branding.colour: unknown key "colour"; '
        "allowed here: company_name, logo, primary_color [schema]"
    )
    assert str(err).endswith("(and 4 more)")


def test_variable_positions_inside_files_and_subjects(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "b.html").write_bytes(
        b"<p>{{customer_portal_link}}</p>\r\n<p>{{ amount }} and again {{ amount }}</p>\r\n"
    )
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: 'Re: {{invoce_number}}'
              body_file: templates/b.html
        """,
    )
    assert errors_of(spec) == [
        f"{spec}:5:21: error: portal.notifications.invoice_created.subject: unknown template "
        "variable {{invoce_number}}; did you mean {{invoice_number}}? [template-unknown-variable]",
        f"{tmp_path / 'templates' / 'b.html'}:2:4: error: "
        "portal.notifications.invoice_created.body_file: unknown template variable "
        "{{ amount }}; did you mean {{payment_amount}}? [template-unknown-variable]",
        f"{tmp_path / 'templates' / 'b.html'}:2:27: error: "
        "portal.notifications.invoice_created.body_file: unknown template variable "
        "{{ amount }}; did you mean {{payment_amount}}? [template-unknown-variable]",
    ]


def test_file_paths_are_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "version: 2\nportal: {}\n", name="conf/portal.yaml")
    assert errors_of(Path("conf/portal.yaml")) == [
        "conf/portal.yaml:1:10: error: version: unsupported version 2; this portalctl reads "
        "version: 1 [schema]"
    ]
    with pytest.raises(SpecError) as caught:
        load_spec("./conf/portal.yaml")
    assert caught.value.diagnostics[0].origin == Origin("./conf/portal.yaml", 1, 10)


def test_missing_spec_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_spec(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: no such file"
    assert caught.value.exit_code == ExitCode.INVALID


def test_lint_rules_table() -> None:
    rules = lint_rules()
    assert len(rules) == len(RULES) == len({r[0] for r in rules})
    assert {sev for _, sev, _ in rules} == {"error", "warning", "notice"}
    assert all(desc and "\n" not in desc for _, _, desc in rules)
    assert (
        "primary-color-contrast",
        "warning",
        "the primary colour has less than 4.5:1 contrast with white text (WCAG AA)",
    ) in rules


_EXAMPLE_LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()


@settings(max_examples=120, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(_EXAMPLE_LINES) - 1),
    replacement=st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
def test_a_mangled_example_never_crashes(index: int, replacement: str) -> None:
    lines = list(_EXAMPLE_LINES)
    lines[index] = replacement
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(EXAMPLE.parent / "assets", folder / "assets")
        shutil.copytree(EXAMPLE.parent / "templates", folder / "templates")
        spec = folder / "portal.yaml"
        spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            load_spec(spec)
        except SpecError as err:
            assert err.diagnostics
            assert all(d.origin.line >= 1 and d.origin.col >= 1 for d in err.diagnostics)


def test_key_looking_names_are_never_echoed(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          sk_live_abcdef123456: 1
          sk_live_abcdef123456: 2
        """,
    )
    found = errors_of(spec)
    assert found == [
        f"{spec}:3:3: error: portal: this looks like an API key (sk_test_/sk_live_…); keys must "
        "never be in the spec; remove it, revoke the key if it was committed, and name the "
        "environment variable that holds it in target.api_key_env [secret-in-spec]",
        f'{spec}:4:3: error: portal.sk_live_…: duplicate key "sk_live_…" (first defined on '
        "line 3); keep one of lines 3 and 4 [yaml-duplicate-key]",
    ]
    assert "abcdef" not in "".join(found)


def test_key_looking_anchor_is_not_echoed(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: 1\nportal: &sk_live_abcdef123456 {}\n")
    # The file does not load, but the key written in it is still reported (not echoed).
    assert errors_of(spec) == [
        f"{spec}:2:9: error: anchors and aliases are not allowed (&sk_live_…); write the "
        "value out in full; anchors hide what a review should see [yaml-anchor]",
        f"{spec}:2:10: error: what looks like an API key (sk_test_/sk_live_…) is written here; "
        "keys must never be in the spec, not even in a comment; remove it, and revoke the key "
        "if it was committed [secret-in-spec]",
    ]
