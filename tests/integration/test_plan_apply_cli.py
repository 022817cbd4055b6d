"""plan / apply / drift end to end through the CLI, against the embedded sandbox and the
sandbox served over loopback HTTP (issue 4 acceptance)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli import run
from reconciler.model import Secret, Target
from reconciler.render import BRANDING_CACHE_NOTE
from tests.helpers import embedded_session as ApiSession
from tests.helpers.cli import REPO, copy_example

SPEC = "examples/portal.yaml"
KEY_ENV = "ACME_PORTAL_KEY"  # the variable examples/portal.yaml's target names
TARGET_LINE = "portalctl: target: embedded sandbox (.portal/sandbox.db)"
EXAMPLE_TITLES = [
    "upload settings/logo",
    "update templates/invoice_created",
    "update templates/invoice_created/locales/es",
    "update templates/payment_failed",
    "update templates/payment_failed/locales/es",
    "update settings branding.company_name",
    "update settings enabled",
]


def api_requests(server: Any) -> list[dict[str, Any]]:
    return [r for r in server.requests() if r["path"].startswith("/v1/")]


def writes(server: Any) -> list[tuple[str, str, int]]:
    return [
        (r["method"], r["path"], r["status"]) for r in api_requests(server) if r["method"] != "GET"
    ]


def titles_after(header: str, stderr: str) -> list[str]:
    block = stderr.split(header, 1)[1].splitlines()[1:]
    out = []
    for line in block:
        m = re.match(r"^  [✓✗] (.*)$", line)
        if not m:
            break
        out.append(m.group(1))
    return out


# --- embedded sandbox ---------------------------------------------------------------------


def test_embedded_plan_apply_then_no_changes(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--detailed-exitcode"]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == TARGET_LINE
    assert out.startswith(
        "portalctl will make these changes to embedded sandbox (.portal/sandbox.db) "
        "(spec examples/portal.yaml):\n"
    )
    assert out.endswith("\nPlan: 6 to change, 1 to upload, 0 to reset.\n")

    assert run(["apply", spec, "--auto-approve"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == TARGET_LINE
    assert out.endswith(
        "Plan: 6 to change, 1 to upload, 0 to reset.\n"
        "settings/logo: upload done\n"
        "templates/invoice_created: update done\n"
        "templates/invoice_created/locales/es: update done\n"
        "templates/payment_failed: update done\n"
        "templates/payment_failed/locales/es: update done\n"
        "settings: update done (branding.company_name, enabled)\n"
        "Apply complete: 6 changed, 1 uploaded, 0 reset (6 writes).\n"
    )

    assert run(["plan", spec, "--detailed-exitcode"]) == 0
    out, err = capsys.readouterr()
    assert out == "No changes. The portal matches portal.yaml.\n"
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert capsys.readouterr().out == "No changes. The portal matches portal.yaml.\n"
    assert run(["drift", spec]) == 0


def test_apply_without_terminal_or_answer(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert run(["apply", spec]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "portalctl: error: stdin is not a terminal, so apply cannot ask for confirmation; pass "
        "--auto-approve to apply without asking (e.g. in CI), or apply a reviewed plan file: "
        "`portalctl apply plan.json`"
    )
    monkeypatch.setattr("reconciler.cli.reconcile._stdin_is_tty", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert run(["apply", spec]) == 1
    out, err = capsys.readouterr()
    assert out.endswith("Do you want to apply these changes? Only 'yes' will be accepted: ")
    assert err.splitlines()[-1] == (
        "portalctl: error: apply cancelled: the answer was not 'yes'; nothing was written"
    )
    assert run(["plan", spec, "--detailed-exitcode"]) == 2
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert run(["apply", spec]) == 0
    assert capsys.readouterr().out.endswith(
        "Only 'yes' will be accepted: settings/logo: upload done\n"
        "templates/invoice_created: update done\n"
        "templates/invoice_created/locales/es: update done\n"
        "templates/payment_failed: update done\n"
        "templates/payment_failed/locales/es: update done\n"
        "settings: update done (branding.company_name, enabled)\n"
        "Apply complete: 6 changed, 1 uploaded, 0 reset (6 writes).\n"
    )


def test_disruptive_changes_need_the_flag(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    path = embedded_env / spec
    text = path.read_text().replace("  enabled: true", "  enabled: false")
    text = text.replace("update_payment_methods: true", "update_payment_methods: false")
    text = text.replace("      body_file: templates/invoice_created.html", "      body: Hello\n")
    text = text.replace("      body_file: templates/payment_failed.html", "      body: Sorry\n")
    text = text.replace("body_file: templates/invoice_created.es.html", "body: Hola")
    text = text.replace("body_file: templates/payment_failed.es.html", "body: Lo sentimos")
    path.write_text(text)
    capsys.readouterr()
    assert run(["plan", spec]) == 0
    out = capsys.readouterr().out
    assert "    ! enabled: true -> false  # examples/portal.yaml:14:3\n" in out
    assert out.endswith(
        "Plan: 6 to change, 0 to upload, 0 to reset.\n"
        "! 2 disruptive changes: apply needs --allow-disruptive.\n"
    )
    assert run(["apply", spec, "--auto-approve"]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        "portalctl: error: refusing to apply 2 disruptive changes: update settings "
        "permissions.update_payment_methods (customers can no longer update their payment "
        "method, so a failed payment cannot be fixed from the portal); update settings enabled "
        "(disables the portal"
    )
    assert run(["plan", spec, "--detailed-exitcode"]) == 2  # nothing was written
    assert run(["apply", spec, "--auto-approve", "--force"]) == 0
    assert run(["plan", spec, "--detailed-exitcode"]) == 0


def test_drift_and_step_summary(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    summary = embedded_env / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run(["drift", spec]) == 2
    assert summary.read_text().startswith(
        "### portalctl drift: the portal differs from the spec: 6 to change, 1 to upload, "
        "0 to reset\n"
    )
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert summary.read_text().endswith(
        "**Apply complete: 6 changed, 1 uploaded, 0 reset (6 writes).**\n\n"
    )
    capsys.readouterr()
    assert run(["drift", spec, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["portals"][0]["plan"]["has_changes"] is False
    assert summary.read_text().endswith(
        "### portalctl drift: no changes\n\nThe portal matches `examples/portal.yaml`.\n\n"
        "**Target:** `embedded sandbox (.portal/sandbox.db)`\n\n"
    )


def test_plan_formats_and_plan_file(embedded_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--format", "json", "--out", "plan.json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["portals"][0]["plan"]
    saved = json.loads((embedded_env / "plan.json").read_text())
    assert data["changes"] == saved["changes"] and data["etags"] == saved["etags"]
    assert [c["title"] for c in data["changes"]] == EXAMPLE_TITLES
    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(saved)
    assert err.splitlines() == [TARGET_LINE, "portalctl: plan saved to plan.json"]
    assert run(["plan", spec, "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("### portalctl plan: 6 to change")
    assert run(["plan", spec, "--format", "yaml"]) == 3  # usage error, never 2


def test_saved_plan_applies_without_prompt_and_refuses_other_targets(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--out", "plan.json"]) == 0
    monkeypatch.setenv("PORTAL_SANDBOX_DB", "other.db")
    assert run(["apply", "plan.json"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: the plan was made for embedded sandbox (.portal/sandbox.db) but the "
        "target is embedded sandbox (other.db); apply it with the same PORTAL_API_URL / "
        "--api-url it was planned with, or make a new plan for this target"
    )
    monkeypatch.delenv("PORTAL_SANDBOX_DB")
    assert run(["apply", "plan.json"]) == 0
    assert capsys.readouterr().out.endswith(
        "Apply complete: 6 changed, 1 uploaded, 0 reset (6 writes).\n"
    )
    # Applying it twice: the portal moved (by this very plan), so it is stale now.
    assert run(["apply", "plan.json"]) == 4
    assert (
        "portalctl: error: the plan is stale: settings changed on the portal"
        in capsys.readouterr().err
    )


def test_saved_plan_stale_after_a_file_edit(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--out", "plan.json"]) == 0
    body = embedded_env / "examples/templates/payment_failed.html"
    body.write_text(body.read_text() + "<!-- edited after review -->\n")
    capsys.readouterr()
    assert run(["apply", "plan.json"]) == 4
    err = capsys.readouterr().err
    assert re.search(
        r"portalctl: error: the plan is stale: templates/payment_failed.html changed since the "
        r"plan was made \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\); run `portalctl plan` again",
        err,
    )
    assert run(["plan", spec, "--detailed-exitcode"]) == 2  # nothing was written


# --- over loopback HTTP -------------------------------------------------------------------


@pytest.fixture
def http_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_server: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    copy_example(tmp_path)
    return sandbox_server


def test_http_plan_apply_plan_and_plan_only_reads(
    http_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = http_env
    url = ["--api-url", server.url]
    server.clear_requests()
    assert run(["plan", SPEC, "--detailed-exitcode", *url]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == f"portalctl: target: {server.url}"
    reads = api_requests(server)
    # GETs only, and no more requests than resources read: settings + the template list.
    assert sorted((r["method"], r["path"]) for r in reads) == [
        ("GET", "/v1/notifications/templates"),
        ("GET", "/v1/portal/settings"),
    ]

    server.clear_requests()
    assert run(["apply", SPEC, "--auto-approve", *url]) == 0
    assert writes(server) == [
        ("PUT", "/v1/portal/settings/branding/logo", 200),
        ("PUT", "/v1/notifications/templates/invoice_created", 200),
        ("PUT", "/v1/notifications/templates/invoice_created/locales/es", 201),
        ("PUT", "/v1/notifications/templates/payment_failed", 200),
        ("PUT", "/v1/notifications/templates/payment_failed/locales/es", 201),
        ("PATCH", "/v1/portal/settings", 200),
    ]
    assert run(["plan", SPEC, "--detailed-exitcode", *url]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("No changes. The portal matches portal.yaml.\n")
    assert server.key not in out + err

    server.clear_requests()
    assert run(["apply", SPEC, "--auto-approve", *url]) == 0
    assert writes(server) == []  # no changes: no writes


def test_http_stale_plan_when_a_template_changes_behind_it(
    http_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = http_env
    assert run(["plan", SPEC, "--out", "plan.json", "--api-url", server.url]) == 0
    assert server.key not in (Path("plan.json")).read_text()

    async def edit_behind() -> None:
        target = Target(url=server.url, api_key=Secret(server.key))
        async with ApiSession() as session:
            client = session.client(target)
            tpl = await client.get_template("invoice_created")
            await client.put_template(
                "invoice_created", subject="Changed by hand", body=tpl.body, if_match=tpl.etag
            )

    asyncio.run(edit_behind())
    server.clear_requests()
    capsys.readouterr()
    assert run(["apply", "plan.json", "--api-url", server.url]) == 4
    err = capsys.readouterr().err
    assert re.search(
        r"portalctl: error: the plan is stale: templates/invoice_created changed on the portal "
        r"since the plan was made \(ETag .+ -> .+\); run `portalctl plan` again",
        err,
    )
    assert writes(server) == []


def test_http_saved_plan_applied_from_another_folder_is_exit_3_not_stale(
    http_env: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cd t1 && plan portal.yaml --out ../p1.json; cd .. && apply p1.json`: the plan's
    paths are relative to t1, so the logo is not found. Nothing changed, so this is not a
    stale plan (exit 4) but apply run from the wrong folder (exit 3), and it says so."""
    server = http_env
    url = ["--api-url", server.url]
    monkeypatch.chdir(tmp_path / "examples")
    assert run(["plan", "portal.yaml", "--out", str(tmp_path / "p1.json"), *url]) == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert run(["apply", "p1.json", *url]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: assets/logo.png (used by portal.yaml) is not in this folder; run "
        "`portalctl apply` from the folder where the plan was made (paths in a plan file are "
        "relative to it)"
    )
    assert writes(server) == []
    # From the folder where it was made (here, or a fresh checkout in another CI job) it applies.
    monkeypatch.chdir(tmp_path / "examples")
    assert run(["apply", str(tmp_path / "p1.json"), *url]) == 0
    assert run(["plan", "portal.yaml", "--detailed-exitcode", *url]) == 0


def test_http_412_during_apply_names_the_resource(
    http_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = http_env
    server.set_faults(race_412=True)
    assert run(["apply", SPEC, "--auto-approve", "--api-url", server.url]) == 4
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert last.startswith("portalctl: error: settings changed on ")
    assert "(HTTP 412)" in last
    assert [w for w in writes(server) if w[2] < 300] == []


def test_http_two_racing_applies_one_wins_per_resource(http_env: Any, tmp_path: Path) -> None:
    server = http_env
    url = ["--api-url", server.url]
    assert run(["plan", SPEC, "--out", "a.json", *url]) == 0
    assert run(["plan", SPEC, "--out", "b.json", *url]) == 0
    server.set_faults(latency_ms=40)  # widen the window so both are in flight together
    server.clear_requests()
    env = {**os.environ, KEY_ENV: server.key, "PORTAL_API_KEY": server.key}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "apply", name, *url],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a.json", "b.json")
    ]
    results = [(p.wait(60), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 4], results
    loser = next(err for code, _, err in results if code == 4)
    assert "portalctl: error:" in loser and "settings" in loser
    ok = [w for w in writes(server) if w[2] < 300]
    # exactly one successful write per resource: the winner's
    assert sorted(ok) == sorted(
        [
            ("PATCH", "/v1/portal/settings", 200),
            ("PUT", "/v1/notifications/templates/invoice_created", 200),
            ("PUT", "/v1/notifications/templates/invoice_created/locales/es", 201),
            ("PUT", "/v1/notifications/templates/payment_failed", 200),
            ("PUT", "/v1/notifications/templates/payment_failed/locales/es", 201),
            ("PUT", "/v1/portal/settings/branding/logo", 200),
        ]
    )
    server.set_faults()
    assert run(["plan", SPEC, "--detailed-exitcode", *url]) == 0


def test_http_fault_at_the_first_write_is_the_cause_not_a_partial_apply(
    http_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing written yet: the 500 itself (exit 6), not "stopped after 0 of 7" (exit 5)."""
    server = http_env
    url = ["--api-url", server.url]
    server.set_faults(fail_write_numbers=[1])
    assert run(["apply", SPEC, "--auto-approve", *url]) == 6
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"portalctl: error: {re.escape(server.url)} failed with HTTP 500 on PUT "
        r"/v1/portal/settings/branding/logo: "
        r"injected failure of write #1; nothing was applied \(request req_\w+\); nothing was "
        r"written; try again later; if it persists, report it with the request id",
        err.splitlines()[-1],
    )
    assert "applied before the failure" not in err
    assert "NOT applied" not in err
    assert "apply stopped after" not in err
    assert [w for w in writes(server) if w[2] < 300] == []
    server.set_faults()
    assert run(["apply", SPEC, "--auto-approve", *url]) == 0
    assert run(["plan", SPEC, "--detailed-exitcode", *url]) == 0


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_http_fault_at_each_later_write_step_then_converges(
    http_env: Any, capsys: pytest.CaptureFixture[str], k: int
) -> None:
    server = http_env
    url = ["--api-url", server.url]
    server.set_faults(fail_write_numbers=[k])
    assert run(["apply", SPEC, "--auto-approve", *url]) == 5
    err = capsys.readouterr().err
    steps = [
        ["upload settings/logo"],
        ["update templates/invoice_created"],
        ["update templates/invoice_created/locales/es"],
        ["update templates/payment_failed"],
        ["update templates/payment_failed/locales/es"],
        ["update settings branding.company_name", "update settings enabled"],
    ]
    applied = [t for s in steps[: k - 1] for t in s]
    not_applied = [t for s in steps[k - 1 :] for t in s]
    assert titles_after("portalctl: applied before the failure:", err) == applied
    assert titles_after("portalctl: NOT applied:", err) == not_applied
    assert f"portalctl: error: apply stopped after {len(applied)} of 7 changes: " in err
    # The next plan shows exactly the rest.
    assert run(["plan", SPEC, "--format", "json", *url]) == 0
    plan = json.loads(capsys.readouterr().out)["portals"][0]["plan"]
    assert [c["title"] for c in plan["changes"]] == not_applied
    # Re-running converges and nothing is lost.
    server.set_faults()
    assert run(["apply", SPEC, "--auto-approve", *url]) == 0
    assert run(["plan", SPEC, "--detailed-exitcode", *url]) == 0


def test_http_apply_of_a_broken_spec_touches_nothing(
    http_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input: one line per problem naming file:line:col, exit 3, and not one request
    reaches the portal (the spec is checked before any contact)."""
    server = http_env
    spec = tmp_path / "examples" / "portal.yaml"
    spec.write_text(spec.read_text().replace('"#1662DD"', '"#1662D"'))
    server.clear_requests()
    assert run(["apply", SPEC, "--auto-approve", "--api-url", server.url]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        'examples/portal.yaml:18:20: error: portal.branding.primary_color: "#1662D" is not a '
        'hex colour; write #RRGGBB, e.g. "#1662DD" [schema]',
        "portalctl: error: examples/portal.yaml: invalid spec (1 error)",
    ]
    assert api_requests(server) == []


def test_branding_change_reminds_of_the_browser_cache(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Help article, troubleshooting Problem 3: colours that "do not update" are the browser
    cache. After an apply that changed branding, say so; after one that did not, stay quiet."""
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == BRANDING_CACHE_NOTE

    path = embedded_env / spec
    path.write_text(
        path.read_text().replace("cancel_subscription: false", "cancel_subscription: true")
    )
    assert run(["apply", spec, "--auto-approve"]) == 0
    out, err = capsys.readouterr()
    assert "permissions.cancel_subscription" in out
    assert BRANDING_CACHE_NOTE not in err

    path.write_text(path.read_text().replace('"#1662DD"', '"#0A4FB8"'))
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == BRANDING_CACHE_NOTE


def test_apply_that_enables_the_portal_names_its_url(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seed, Step 1 and 4: enabling generates the portal's unique URL, to put behind a
    "Manage billing" button; apply says it (the action exposes it as `portal-url`)."""
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    err = capsys.readouterr().err.splitlines()
    [line] = [e for e in err if e.startswith("portalctl: portal URL: ")]
    assert re.fullmatch(r"portalctl: portal URL: https://billing\.4geeks\.io/p/[a-z0-9]+", line)
    # Nothing applied, nothing to say.
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert "portal URL" not in capsys.readouterr().err
