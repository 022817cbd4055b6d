"""plan / drift / apply with several specs: output formats, prompts, plan folders, and the
rules that keep a fleet run safe (issue 6)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import run
from reconciler.render import BRANDING_CACHE_NOTE

COLOUR_ONLY = 'version: 1\nportal:\n  branding:\n    primary_color: "{colour}"\n'


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path.relative_to(Path.cwd()))


def http_spec(url: str, n: int, body: str = "") -> str:
    return (
        f"version: 1\ntarget:\n  api_url: {url}\n  api_key_env: P{n}_KEY\n"
        f"portal:\n  branding:\n    company_name: Portal {n}\n{body}"
    )


TEMPLATE = (
    "  notifications:\n    invoice_created:\n      subject: Invoice {{invoice_number}}\n"
    '      body: "See {{customer_portal_link}}"\n'
)


# --- embedded sandbox: output ------------------------------------------------------------


def test_text_output_headers_invalid_spec_and_summary(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(embedded_env / "portals/a.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "portals/b.yaml", COLOUR_ONLY.format(colour="#12345"))
    assert run(["plan", "portals", "--detailed-exitcode"]) == 3  # invalid spec wins over 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == (
        "=== portals/a.yaml -> embedded sandbox (.portal/sandbox.db) ===\n"
        "portalctl will make these changes to embedded sandbox (.portal/sandbox.db) "
        "(spec portals/a.yaml):\n"
        "\n"
        "  ~ update settings\n"
        "      branding.primary_color: #1662dd -> #0b5394  # portals/a.yaml:4:5\n"
        "\n"
        "Plan: 1 to change, 0 to upload, 0 to reset.\n"
        "\n"
        "=== portals/b.yaml ===\n"
        f"error: {lines[1]}\n"
    )
    assert lines[0] == "portalctl: fleet: planning 2 portals (parallelism 8)"
    assert lines[1].startswith("portals/b.yaml:4:20: error: portal.branding.primary_color: ")
    assert lines[-2:] == [
        "portalctl: fleet: 2 portals: 0 in sync, 1 with changes, 1 failed",
        f"  {lines[1]}",
    ]


def test_json_document_names_spec_target_plan_or_error(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(embedded_env / "portals/a.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "portals/b.yaml", "version: 1\nportal: {}\nextra: 1\n")
    assert run(["drift", "portals/*.yaml", "--format", "json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["format_version"] == 2
    assert doc["summary"] == {
        "total": 2,
        "in_sync": 0,
        "with_changes": 1,
        "applied": 0,
        "failed": 1,
    }
    a, b = doc["portals"]
    assert (a["spec"], a["target"]) == ("portals/a.yaml", "embedded sandbox (.portal/sandbox.db)")
    assert [c["title"] for c in a["plan"]["changes"]] == ["update settings branding.primary_color"]
    assert a["error"] is None and b["plan"] is None
    assert (b["spec"], b["target"]) == ("portals/b.yaml", None)
    assert b["error"]["exit_code"] == 3 and b["error"]["type"] == "SpecError"
    assert b["error"]["message"].startswith("portals/b.yaml:3:1: error: ")


def test_markdown_stays_under_the_comment_limit(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = "".join(
        f"        Line {i} of a long email about {{{{customer_portal_link}}}}.\n"
        for i in range(900)
    )
    for n in range(12):
        write(
            embedded_env / f"portals/p{n:02d}.yaml",
            "version: 1\nportal:\n  notifications:\n    invoice_created:\n"
            f"      subject: Invoice {n}\n      body: |\n{big}",
        )
    assert run(["plan", "portals", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert len(out) < 65_535
    assert out.startswith(
        "### portalctl fleet: 12 portals: 0 in sync, 12 with changes, 0 failed\n\n"
        "| Spec | Target | Result |\n|---|---|---|\n"
        "| `portals/p00.yaml` | `embedded sandbox (.portal/sandbox.db)` | "
        "✏️ 1 to change, 0 to upload, 0 to reset |\n"
    )
    assert out.count("#### `portals/p") == 12  # every portal has its section...
    assert out.count("_Diff truncated: ") == 12  # ...each diff cut to its share, with a note


def test_out_folder_names_and_single_spec_keeps_its_behaviour(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(embedded_env / "a/portal.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "b/portal.yaml", COLOUR_ONLY.format(colour="#0a4fb8"))
    write(embedded_env / "c/other.yaml", COLOUR_ONLY.format(colour="#0a4fb8"))
    assert run(["plan", "a/portal.yaml", "b/portal.yaml", "c", "--out", "plans"]) == 0
    assert sorted(p.name for p in (embedded_env / "plans").iterdir()) == [
        "a-portal.plan.json",
        "b-portal.plan.json",
        "other.plan.json",
    ]
    assert "portalctl: 3 plan files saved to plans\n" in capsys.readouterr().err
    # One spec: today's output, no fleet lines, however it is named: one portal is a fleet
    # of one, so a folder holding one spec prints exactly what the file does.
    assert run(["plan", "c/other.yaml"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("portalctl will make these changes to embedded sandbox")
    assert err == "portalctl: target: embedded sandbox (.portal/sandbox.db)\n"
    assert run(["plan", "c"]) == 0
    assert capsys.readouterr().out == out
    # --out naming a file while several specs need a folder.
    write(embedded_env / "taken.json", "{}")
    assert run(["plan", "a/portal.yaml", "b/portal.yaml", "--out", "taken.json"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: --out taken.json: is a file, but several specs need a folder for "
        "their plan files; name a folder (it is created if missing), e.g. --out plans/"
    )
    assert run(["plan", "a", "b", "--parallelism", "0"]) == 3


def test_out_folder_refuses_two_specs_with_one_plan_file_name(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """portals/a.yaml and portals/a.yml would share plans/a.plan.json: one plan would
    overwrite the other and `apply plans` would skip a portal. Refused before anything is
    planned or written."""
    write(embedded_env / "portals/a.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "portals/a.yml", COLOUR_ONLY.format(colour="#0a4fb8"))
    assert run(["plan", "portals", "--out", "plans"]) == 3
    assert capsys.readouterr().err.splitlines() == [
        "portalctl: error: portals/a.yaml and portals/a.yml would both be saved as the plan "
        "file a.plan.json, and one would overwrite the other; rename one of the specs, or plan "
        "them with separate --out folders"
    ]
    assert not (embedded_env / "plans").exists()
    # Without --out, nothing is saved, so the two specs are fine.
    assert run(["plan", "portals"]) == 0


def test_out_folder_removes_plan_files_this_run_did_not_write(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec removed since the last `plan --out plans` must not leave its old plan where
    `apply plans` would apply it."""
    write(embedded_env / "portals/a.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "portals/b.yaml", COLOUR_ONLY.format(colour="#0a4fb8"))
    write(embedded_env / "plans/README.txt", "not a plan\n")
    assert run(["plan", "portals", "--out", "plans"]) == 0
    capsys.readouterr()
    (embedded_env / "portals/b.yaml").unlink()
    assert run(["plan", "portals", "--out", "plans"]) == 0
    err = capsys.readouterr().err
    assert (
        "portalctl: removed stale plan file plans/b.plan.json\n"
        "portalctl: 1 plan file saved to plans\n"
    ) in err
    assert sorted(p.name for p in (embedded_env / "plans").iterdir()) == [
        "README.txt",
        "a.plan.json",
    ]
    assert run(["apply", "plans"]) == 0
    out, err = capsys.readouterr()
    assert "portals/b.yaml" not in out + err
    # One plan left: one portal, so one portal's output (no fleet summary line).
    assert out.splitlines()[-1] == "Apply complete: 1 changed, 0 uploaded, 0 reset (1 write)."


def test_apply_refuses_two_specs_for_one_portal_and_mixed_sources(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(embedded_env / "a/portal.yaml", COLOUR_ONLY.format(colour="#0b5394"))
    write(embedded_env / "b/portal.yaml", COLOUR_ONLY.format(colour="#0a4fb8"))
    assert run(["apply", "a/portal.yaml", "b/portal.yaml", "--auto-approve"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: a/portal.yaml and b/portal.yaml both target the same portal "
        "(embedded sandbox (.portal/sandbox.db), same API key); applying both would make their "
        "writes fight; give each spec its own target.api_key_env, or apply them one at a time"
    )
    assert run(["plan", "a/portal.yaml", "--out", "a.json"]) == 0
    capsys.readouterr()
    assert run(["apply", "a.json", "b/portal.yaml"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: apply was given both plan files (a.json) and specs; apply either "
        "saved plans (`portalctl apply plans/`) or specs, not both at once"
    )
    assert run(["drift", "a", "b"]) == 2  # nothing was written


# --- over loopback HTTP: apply ----------------------------------------------------------


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_server: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    for n in (1, 2, 3):
        monkeypatch.setenv(f"P{n}_KEY", sandbox_server.new_key())
        write(tmp_path / f"portals/p{n}.yaml", http_spec(sandbox_server.url, n))
    return sandbox_server


def test_apply_several_specs_asks_one_yes(
    three: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert run(["apply", "portals"]) == 3  # no terminal: cannot ask
    assert "stdin is not a terminal" in capsys.readouterr().err
    monkeypatch.setattr("reconciler.cli.reconcile._stdin_is_tty", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    assert run(["apply", "portals"]) == 1
    out, err = capsys.readouterr()
    assert out.count("Do you want to apply these changes?") == 1
    assert err.splitlines()[-1] == (
        "portalctl: error: apply cancelled: the answer was not 'yes'; nothing was written"
    )
    assert [r for r in three.requests() if r["method"] != "GET"] == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert run(["apply", "portals"]) == 0
    out, err = capsys.readouterr()
    assert out.count("=== portals/p") == 3
    assert "portalctl: fleet: 3 of 3 portals have changes to apply\n" in out
    done = sorted(line.rsplit(": ", 3)[-3:][0] for line in out.splitlines() if "done" in line)
    assert done == [f"portals/p{n}.yaml" for n in (1, 2, 3)]
    for n in (1, 2, 3):
        assert f"portals/p{n}.yaml: settings: update done (branding.company_name)\n" in out
    assert err.splitlines()[-2:] == [
        BRANDING_CACHE_NOTE,
        "portalctl: fleet: 3 portals: 0 in sync, 3 applied, 0 failed",
    ]
    assert run(["apply", "portals"]) == 0  # in sync: nothing to ask
    out = capsys.readouterr().out
    assert "Do you want to apply" not in out


def test_apply_fleet_isolates_disruptive_and_partial_failures(
    three: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = three
    write(tmp_path / "portals/p2.yaml", http_spec(server.url, 2, TEMPLATE))
    write(
        tmp_path / "portals/p3.yaml",
        http_spec(server.url, 3, "  permissions:\n    download_invoices: false\n"),
    )
    server.set_faults(fail_write_numbers=[2])  # each portal's 2nd write fails
    assert run(["apply", "portals", "--auto-approve"]) == 5
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[-3] == "portalctl: fleet: 3 portals: 0 in sync, 1 applied, 2 failed"
    assert lines[-2].startswith("  portals/p2.yaml: apply stopped after 1 of 2 changes: ")
    assert lines[-1].startswith("  portals/p3.yaml: refusing to apply 1 disruptive change: ")
    assert (
        "portalctl: portals/p2.yaml: applied before the failure:\n"
        "  ✓ update templates/invoice_created\n"
        "portalctl: portals/p2.yaml: NOT applied:\n"
        "  ✗ update settings branding.company_name\n"
    ) in err
    assert "portals/p1.yaml: Apply complete: 1 changed, 0 uploaded, 0 reset (1 write).\n" in out
    server.set_faults()
    assert run(["apply", "portals", "--auto-approve", "--allow-disruptive"]) == 0
    assert run(["drift", "portals"]) == 0


def test_apply_fleet_failure_at_a_first_write_keeps_its_own_exit_code(
    three: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A portal whose very first write fails wrote nothing: it reports the cause with its
    own exit code (a 500 is 6), not "apply stopped after 0 of 1 changes" (exit 5)."""
    server = three
    server.set_faults(fail_write_numbers=[1])
    assert run(["apply", "portals", "--auto-approve"]) == 6
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[-4] == "portalctl: fleet: 3 portals: 0 in sync, 0 applied, 3 failed"
    for n, line in zip((1, 2, 3), lines[-3:], strict=True):
        assert line.startswith(
            f"  portals/p{n}.yaml: {server.url} failed with HTTP 500 on PATCH /v1/portal/settings: "
            "injected failure of write #1; nothing was applied (request req_"
        )
        assert line.endswith(
            "); nothing was written; try again later; if it persists, report it with the request id"
        )
    assert "applied before the failure" not in err
    assert "apply stopped after" not in err
    server.set_faults()
    assert run(["drift", "portals"]) == 2  # nothing was written


def test_markdown_of_a_thousand_portals_lists_failures_first_and_notes_the_rest() -> None:
    from reconciler.errors import ApiAuthError
    from reconciler.model import DesiredState
    from reconciler.plan import Action, Change, Plan, Stage
    from reconciler.render.fleet import render_markdown
    from tests.helpers import FleetEntry

    entries = []
    for i in range(1000):
        spec = f"portals/p{i:04d}.yaml"
        changes = (
            (Change("settings", Action.UPDATE, Stage.SETTINGS, "enabled", False, True),)
            if i % 3
            else ()
        )
        plan = Plan("http://x", "http://x", spec, changes, {}, DesiredState(Path(spec), {}))
        if i % 50 == 0:
            entries.append(FleetEntry(spec, "http://x", error=ApiAuthError("key rejected")))
        else:
            entries.append(FleetEntry(spec, "http://x", plan))
    out = render_markdown(entries)
    assert len(out) < 65_535
    lines = out.splitlines()
    assert lines[0] == (
        "### portalctl fleet: 1,000 portals: 327 in sync, 653 with changes, 20 failed"
    )
    assert lines[4] == "| `portals/p0000.yaml` | `http://x` | ❌ failed: key rejected |"
    assert lines[24] == (
        "| `portals/p0001.yaml` | `http://x` | ✏️ 1 to change, 0 to upload, 0 to reset |"
    )
    assert "portals not listed (the table would not fit in one comment)" in out
    assert "#### `portals/p0001.yaml`\n\n##### portalctl plan: 1 to change" in out
    assert (
        out.endswith("more. See the plan artifact (`portalctl plan --out DIR`)._\n")
        and "_The plans of " in out
    )
