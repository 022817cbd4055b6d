"""portalctl export: live -> portal.yaml (+ templates, logo); export then plan = no changes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import run
from tests.helpers.cli import REPO, copy_example

EMPTY_PORTAL_EXPORT = """\
# yaml-language-server: $schema=https://raw.githubusercontent.com/portalctl/portalctl/v0.1.0/reconciler/schemas/portal.schema.json
# Exported by portalctl 0.1.0 from embedded sandbox (.portal/sandbox.db).
# portal_url (read-only): none yet; the portal makes one when it is enabled
version: 1
portal:
  enabled: false
  branding:
    # company_name: not set on the portal
    primary_color: "#1662dd"
    logo: null
  permissions:
    update_payment_methods: true
    view_payment_history: true
    download_invoices: true
    cancel_subscription: false
  notifications:
    invoice_created: default
    payment_failed: default
    payment_succeeded: default
    subscription_canceled: default
"""


def test_export_empty_portal_then_plan_has_no_changes(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["export"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == "portalctl: target: embedded sandbox (.portal/sandbox.db)"
    assert out == "wrote portal.yaml\n"
    assert (embedded_env / "portal.yaml").read_text() == EMPTY_PORTAL_EXPORT
    assert run(["validate", "portal.yaml"]) == 0
    assert run(["plan", "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.endswith("No changes. The portal matches portal.yaml.\n")


def test_export_after_apply_round_trips_logo_and_templates(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    capsys.readouterr()
    assert run(["export", "--out", "exported"]) == 0
    assert capsys.readouterr().out == (
        "wrote exported/portal.yaml\n"
        "wrote exported/templates/invoice_created.html\n"
        "wrote exported/templates/invoice_created.es.html\n"
        "wrote exported/templates/payment_failed.html\n"
        "wrote exported/templates/payment_failed.es.html\n"
        "wrote exported/assets/logo.png\n"
    )
    out_dir = embedded_env / "exported"
    text = (out_dir / "portal.yaml").read_text()
    assert re.search(
        r"^# portal_url \(read-only, set by the portal when enabled\): https://\S+$", text, re.M
    )
    assert (
        '    company_name: "Acme Cloud"\n    primary_color: "#1662dd"\n'
        '    logo: "assets/logo.png"\n' in text
    )
    assert "    payment_succeeded: default\n" in text
    assert (out_dir / "assets/logo.png").read_bytes() == (
        REPO / "examples/assets/logo.png"
    ).read_bytes()
    for event in ("invoice_created", "payment_failed"):
        assert (out_dir / f"templates/{event}.html").read_text() == (
            REPO / f"examples/templates/{event}.html"
        ).read_text()
    assert run(["plan", "exported/portal.yaml", "--detailed-exitcode"]) == 0
    assert run(["validate", "exported/portal.yaml"]) == 0


def test_export_refuses_to_overwrite_unless_forced(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (embedded_env / "portal.yaml").write_text("# mine\n")
    assert run(["export"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: refusing to overwrite portal.yaml; export to an empty folder with "
        "--out DIR, or pass --force to overwrite"
    )
    assert (embedded_env / "portal.yaml").read_text() == "# mine\n"
    assert run(["export", "--force"]) == 0
    assert (embedded_env / "portal.yaml").read_text() == EMPTY_PORTAL_EXPORT


def test_export_over_http_then_plan(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_server: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    copy_example(tmp_path)
    assert (
        run(["apply", "examples/portal.yaml", "--auto-approve", "--api-url", sandbox_server.url])
        == 0
    )
    monkeypatch.setenv("PORTAL_API_URL", sandbox_server.url)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    capsys.readouterr()
    assert run(["export", "--out", "live"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == f"portalctl: target: {sandbox_server.url}"
    assert "wrote live/assets/logo.png\n" in out
    assert sandbox_server.key not in out + err + (tmp_path / "live/portal.yaml").read_text()
    assert run(["plan", "live/portal.yaml", "--detailed-exitcode"]) == 0


def test_export_of_a_disabled_portal_whose_emails_link_to_it_still_round_trips(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ownership rule lets a portal be disabled while its emails still link to it (the
    spec that disabled it did not manage notifications). A spec that manages both would be
    refused by portal-disabled-with-links, so export leaves those emails out, and says why."""
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    disable = embedded_env / "disable.yaml"
    disable.write_text("version: 1\nportal:\n  enabled: false\n")
    assert run(["apply", str(disable), "--auto-approve", "--allow-disruptive"]) == 0
    capsys.readouterr()
    assert run(["export", "--out", "exported"]) == 0
    assert capsys.readouterr().out == (
        "wrote exported/portal.yaml\nwrote exported/assets/logo.png\n"
    )
    text = (embedded_env / "exported" / "portal.yaml").read_text()
    assert "  enabled: false\n" in text
    assert (
        "  notifications:\n"
        "    # invoice_created: left out (unmanaged): the portal is disabled but this email\n"
        "    #   links to it with {{customer_portal_link}}; enable the portal or\n"
        "    #   remove the link, then export again\n"
    ) in text
    assert "    payment_succeeded: default\n" in text
    assert run(["validate", "--strict", "exported/portal.yaml"]) == 0
    assert run(["plan", "exported/portal.yaml", "--detailed-exitcode"]) == 0
