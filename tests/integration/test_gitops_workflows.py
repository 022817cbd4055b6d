"""The example workflows and the composite action, run step by step against the sandbox by
the runner in ``gitops_runner.py`` (see its docstring for what it runs and what it stands in
for)."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler import logs
from reconciler.cli import run
from reconciler.errors import ExitCode
from tests.integration.gitops_runner import (
    MARKER,
    SANDBOX_VARS,
    WORKFLOWS,
    Expr,
    GitHub,
    JobResult,
    Runner,
    github,
    one_step_workflow,
    outcomes,
    parse_command_file,
    portalctl,
    pull_request_runner,
    push_runner,
    workspace,
)

__all__ = ["github", "workspace"]  # fixtures


@pytest.fixture(autouse=True)
def _forget_logging_setup() -> Iterator[None]:
    # run() configures structlog and the root logger (level, stream); leave no trace.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logs.reset()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def runner_summary(tmp_path: Path, name: str) -> str:
    """The job summary of the ``push_runner(..., name=name)`` run."""
    return (tmp_path / f"scratch-{name}" / "step-summary.md").read_text(encoding="utf-8")


def expected_comment(plan_md: str) -> str:
    return (
        f"{MARKER}\n{plan_md.rstrip()}\n\n<sub>portalctl plan of 0123456. The plan file is the "
        "`portal-plan` artifact of [this run](https://github.com/acme/billing/actions/runs/4242)"
        ".</sub>\n"
    )


# --- the expression evaluator itself ------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("steps.plan.outputs.has_changes == 'true'", True),
        ("steps.plan.outputs.has_changes == 'TRUE'", True),
        ("steps.nope.outputs.has_changes == 'true'", False),
        ("always() && steps.plan.outputs.has_changes == 'true'", True),
        ("inputs.allow-disruptive && '--allow-disruptive' || ''", "--allow-disruptive"),
        ("inputs.missing && '--allow-disruptive' || ''", ""),
        ("github.event.pull_request.head.repo.full_name == github.repository", True),
        ("!(github.event_name == 'push')", True),
        ("success()", True),
        # GitHub coerces values of different types to numbers: a skipped step's missing
        # output (null) equals '' and 0.
        ("steps.nope.outputs.portal-url != ''", False),
        ("steps.nope.outputs.portal-url == 0", True),
        ("steps.plan.outputs.has_changes == 1", False),
    ],
)
def test_expression_evaluator(expression: str, expected: Any) -> None:
    context = {
        "steps": {"plan": {"outputs": {"has_changes": "true"}}},
        "inputs": {"allow-disruptive": True},
        "github": {
            "repository": "acme/billing",
            "event_name": "pull_request",
            "event": {"pull_request": {"head": {"repo": {"full_name": "acme/billing"}}}},
        },
    }
    assert Expr(expression, context).value() == expected


def test_command_files_parse_lines_and_heredocs(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("a=1\nb=x=y\nbody<<EOF\nline 1\nline 2\nEOF\nc=\n", encoding="utf-8")
    assert parse_command_file(path) == {"a": "1", "b": "x=y", "body": "line 1\nline 2", "c": ""}


# --- the plan workflow -----------------------------------------------------------------------


def test_plan_workflow_posts_one_sticky_comment_with_the_plan_and_its_preview(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Validate", "success"),
        ("Plan", "success"),
        ("Upload the plan", "success"),
        ("Preview", "success"),
        ("Upload the preview", "success"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    plan = result.step("Plan")
    assert plan.outputs == {
        "has_changes": "true",
        "plan-file": "plan.json",
        "output-file": "",
        "exit-code": "2",
        "portal-url": "",
    }
    assert "portalctl plan portal.yaml --detailed-exitcode --out plan.json\n" in plan.stdout
    assert "embedded sandbox" in plan.stderr
    assert json.loads((workspace / "plan.json").read_text(encoding="utf-8"))

    # The preview (what customers will see, before and after) is the second artifact.
    assert result.artifacts["portal-preview"] == [workspace / "preview"]
    stored = runner.artifact_store / "portal-preview"
    assert (stored / "index.html").is_file()
    assert list(stored.rglob("*.png"))
    url = "https://github.com/acme/billing/actions/runs/4242/artifacts/2"
    assert result.step("Upload the preview").outputs["artifact-url"] == url

    # The comment is `portalctl show` of the saved plan, linking the preview.
    plan_md = portalctl(
        workspace, "show", "plan.json", "--format", "markdown", "--preview-link", url
    )
    assert url in plan_md
    comment = expected_comment(plan_md)
    assert (runner.temp / "portal-plan-comment.md").read_text(encoding="utf-8") == comment
    assert github.state["comments"] == [
        {"id": 1000, "user": "github-actions[bot]", "body": comment}
    ]

    # The next push updates the same comment instead of adding one.
    again = pull_request_runner(tmp_path / "second", workspace)
    assert not again.run_job(WORKFLOWS / "portal-plan.yml", "plan").failed
    assert len(github.state["comments"]) == 1
    methods = [
        call[call.index("--method") + 1] if "--method" in call else "GET" for call in github.calls
    ]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert github.calls[-1][:4] == [
        "api",
        "--method",
        "PATCH",
        "repos/acme/billing/issues/comments/1000",
    ]


def test_plan_comment_is_not_posted_for_a_fork(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    runner.github["event"]["pull_request"]["head"]["repo"]["full_name"] = "mallory/billing"
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert result.step("Write the comment").outcome == "success"
    assert result.step("Post or update the comment").outcome == "skipped"
    assert github.calls == []


def test_a_lint_error_fails_validate_with_an_annotation_and_says_so_in_the_comment(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    template = workspace / "templates" / "payment_failed.html"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            'href="{{customer_portal_link}}"', 'href="{{customer_portl_link}}"'
        ),
        encoding="utf-8",
    )
    runner = pull_request_runner(tmp_path, workspace)
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Validate", "failure"),
        ("Plan", "skipped"),
        ("Upload the plan", "skipped"),
        ("Preview", "skipped"),
        ("Upload the preview", "skipped"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    validate = result.step("Validate")
    assert validate.code == ExitCode.INVALID
    assert validate.outputs == {
        "exit-code": "3",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
        "portal-url": "",
    }
    assert validate.stdout.splitlines()[-1] == (
        "::error title=portalctl: invalid spec or usage (exit 3)::fix the errors above (they "
        "are annotated on portal.yaml) and push again"
    )
    # The problem matcher the action registers turns the diagnostic into an annotation on
    # the template line that holds the misspelt variable.
    matcher_line = next(
        line for line in validate.stdout.splitlines() if line.startswith("::add-matcher::")
    )
    matcher = json.loads(Path(matcher_line.removeprefix("::add-matcher::")).read_text())
    pattern = matcher["problemMatcher"][0]["pattern"][0]
    hits = [m for m in map(re.compile(pattern["regexp"]).match, validate.stderr.splitlines()) if m]
    line_no = next(
        number
        for number, text in enumerate(template.read_text().splitlines(), 1)
        if "customer_portl_link" in text
    )
    spec_line = next(
        number
        for number, text in enumerate((workspace / "portal.yaml").read_text().splitlines(), 1)
        if "payment_failed:" in text
    )
    assert [
        (m.group(pattern["file"]), m.group(pattern["line"]), m.group(pattern["severity"]))
        for m in hits
    ] == [
        ("templates/payment_failed.html", str(line_no), "error"),
        # ... and the email no longer carries the portal link at all.
        ("portal.yaml", str(spec_line), "warning"),
    ]
    assert "customer_portl_link" in hits[0].group(pattern["message"])
    # The sticky comment no longer shows an older plan as if it were this commit's.
    assert github.state["comments"][0]["body"] == (
        f"{MARKER}\n### portalctl could not plan 0123456\n\n`portalctl validate` failed (exit 3): "
        "the spec is invalid: the errors are annotated on the files. Details in [this run]"
        "(https://github.com/acme/billing/actions/runs/4242); this comment shows the plan again "
        "once a push plans cleanly.\n"
    )


def test_an_unreachable_portal_fails_the_plan_and_says_so_in_the_comment(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    runner.vars["PORTAL_API_URL"] = "http://127.0.0.1:9"
    runner.secrets["PORTAL_API_KEY"] = "sk_test_unreachable0000"
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Validate", "success"),
        ("Plan", "failure"),
        ("Upload the plan", "skipped"),
        ("Preview", "skipped"),
        ("Upload the preview", "skipped"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    assert result.step("Plan").code == ExitCode.UNREACHABLE
    assert github.state["comments"][0]["body"].startswith(
        f"{MARKER}\n### portalctl could not plan 0123456\n\n`portalctl plan` failed (exit 6): "
        "the portal API is unreachable or rejected the key. Details in [this run]"
    )


# --- the apply workflow ----------------------------------------------------------------------


def test_apply_workflow_applies_once_then_has_nothing_to_do(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    result = push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),
        ("Apply", "success"),
        ("Keep the applied plan", "success"),
        ("Show the portal URL", "success"),
    ]
    apply = result.step("Apply")
    assert apply.outputs["exit-code"] == "0"
    assert "portalctl apply plan.json --auto-approve\n" in apply.stdout
    # The portal is enabled: apply names its link, the action hands it on as an output.
    [line] = [x for x in apply.stderr.splitlines() if x.startswith("portalctl: portal URL: ")]
    portal_url = line.removeprefix("portalctl: portal URL: ")
    assert re.fullmatch(r"https?://\S+", portal_url)
    assert apply.outputs["portal-url"] == portal_url
    assert result.outputs == {"portal-url": portal_url}
    assert f"The Customer Portal is live at <{portal_url}>" in runner_summary(tmp_path, "push")

    again = push_runner(tmp_path, workspace, name="again").run_job(
        WORKFLOWS / "portal-apply.yml", "apply"
    )
    assert outcomes(again) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),
        ("Apply", "skipped"),
        ("Keep the applied plan", "skipped"),
        ("Show the portal URL", "skipped"),
    ]
    assert again.step("Plan").outputs["has_changes"] == "false"

    # ... and the pull request comment now says so.
    pr = pull_request_runner(tmp_path / "pr", workspace)
    assert (
        pr.run_job(WORKFLOWS / "portal-plan.yml", "plan").step("Plan").outputs["has_changes"]
        == "false"
    )
    plan_md = portalctl(workspace, "show", "plan.json", "--format", "markdown")
    assert github.state["comments"][0]["body"] == expected_comment(plan_md)
    assert github.calls[-1][2] == "POST"


def test_disruptive_change_needs_the_manual_run_with_allow_disruptive(
    tmp_path: Path, workspace: Path
) -> None:
    assert (
        not push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply").failed
    )
    spec = workspace / "portal.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "download_invoices: true", "download_invoices: false"
        ),
        encoding="utf-8",
    )

    refused = push_runner(tmp_path, workspace, name="refused").run_job(
        WORKFLOWS / "portal-apply.yml", "apply"
    )
    assert outcomes(refused) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),
        ("Apply", "failure"),
        ("Keep the applied plan", "success"),
        ("Show the portal URL", "skipped"),
    ]
    apply = refused.step("Apply")
    assert apply.code == ExitCode.INVALID
    assert "download_invoices" in apply.stderr
    assert "::error title=portalctl: invalid spec or usage (exit 3)::" in apply.stdout

    manual = push_runner(
        tmp_path, workspace, name="manual", inputs={"allow-disruptive": True}
    ).run_job(WORKFLOWS / "portal-apply.yml", "apply")
    assert not manual.failed
    assert (
        "portalctl apply plan.json --auto-approve --allow-disruptive\n"
        in manual.step("Apply").stdout
    )


# --- the drift workflow ----------------------------------------------------------------------


def test_drift_workflow_opens_updates_and_closes_one_issue(
    tmp_path: Path, workspace: Path, github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    drift = WORKFLOWS / "portal-drift.yml"

    def check(name: str) -> JobResult:
        runner = Runner(
            workspace,
            tmp_path / f"scratch-{name}",
            event_name="schedule",
            event={"ref": "refs/heads/main"},
            vars=SANDBOX_VARS,
        )
        return runner.run_job(drift, "drift")

    assert (
        not push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply").failed
    )
    in_sync = check("in-sync")
    assert in_sync.step("Check for drift").outputs["has_changes"] == "false"
    assert in_sync.step("Open or update the drift issue").outcome == "skipped"
    assert in_sync.step("Close the drift issue").outcome == "success"
    assert github.state["issues"] == []

    # Someone changes the live portal by hand (here: applies another colour).
    other = workspace / "console-change.yaml"
    other.write_text(
        (workspace / "portal.yaml").read_text(encoding="utf-8").replace('"#1662DD"', '"#0A4FB8"'),
        encoding="utf-8",
    )
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("PORTAL_API_URL", "sandbox")
    assert run(["apply", other.name, "--auto-approve"]) == ExitCode.OK

    drifted = check("drifted")
    assert outcomes(drifted) == [
        ("actions/checkout", "success"),
        ("Check for drift", "success"),
        ("Open or update the drift issue", "success"),
        ("Close the drift issue", "skipped"),
    ]
    step = drifted.step("Check for drift")
    assert step.outputs["has_changes"] == "true"
    assert (
        "::warning title=portalctl: drift::the live portal differs from portal.yaml" in step.stdout
    )
    drift_md = (workspace / "drift.md").read_text(encoding="utf-8")
    assert "0a4fb8" in drift_md.lower()
    [issue] = github.state["issues"]
    assert issue["labels"] == ["portal-drift"]
    assert issue["title"] == "Customer Portal drift: live settings differ from portal.yaml"
    assert issue["body"] == (
        "The live Customer Portal no longer matches `portal.yaml` (checked by [this run]"
        "(https://github.com/acme/billing/actions/runs/4242)).\n"
        "Either apply the spec again, or change the spec to keep what was changed live.\n\n"
        + drift_md
    )

    check("still-drifted")
    assert len(github.state["issues"]) == 1
    assert github.calls[-1][:3] == ["issue", "edit", "1"]

    assert (
        not push_runner(tmp_path, workspace, name="restore")
        .run_job(WORKFLOWS / "portal-apply.yml", "apply")
        .failed
    )
    check("fixed")
    [issue] = github.state["issues"]
    assert issue["state"] == "closed"
    assert issue["comments"] == [
        "The live portal matches `portal.yaml` again "
        "([check](https://github.com/acme/billing/actions/runs/4242))."
    ]


# --- the action's own guards -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_", "error"),
    [
        (
            {"command": "destroy"},
            '::error title=portalctl::unknown command "destroy"; '
            "use validate, plan, apply, drift or show",
        ),
        (
            {"command": "show"},
            "::error title=portalctl::show needs plan-file: the saved plan, or the folder of "
            "saved plans",
        ),
        (
            {"command": "plan", "args": "--format 'markdown"},
            '::error title=portalctl::cannot split args "--format \'markdown" (unbalanced quotes?)',
        ),
    ],
)
def test_the_action_refuses_bad_inputs_with_exit_3(
    tmp_path: Path, workspace: Path, with_: Mapping[str, str], error: str
) -> None:
    runner = Runner(workspace, tmp_path / "scratch", event_name="push", event={})
    result = runner.run_job(one_step_workflow(tmp_path, with_), "run")
    step = result.step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.INVALID)
    assert step.stdout.splitlines()[-1] == error
    assert step.outputs == {
        "exit-code": "3",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
        "portal-url": "",
    }


def test_the_action_masks_the_key_and_never_prints_it(tmp_path: Path, workspace: Path) -> None:
    key = "sk_test_0123456789abcdefSECRET"
    runner = Runner(
        workspace,
        tmp_path / "scratch",
        event_name="push",
        event={},
        secrets={"PORTAL_API_KEY": key},
    )
    workflow = one_step_workflow(
        tmp_path,
        {
            "command": "plan",
            "plan-file": "plan.json",
            "output-file": "plan.md",
            "args": "--format markdown",
        },
    )
    step = runner.run_job(workflow, "run").step("portalctl")
    assert step.outputs["exit-code"] == "2"
    lines = step.stdout.splitlines()
    # The run step masks the key before portalctl can print anything.
    mask = lines.index(f"::add-mask::{key}")
    assert mask < lines.index(
        "portalctl plan portal.yaml --detailed-exitcode --out plan.json --format markdown"
    )
    rest = "\n".join(lines[:mask] + lines[mask + 1 :]) + step.stderr
    assert key not in rest
    for path in (workspace / "plan.json", workspace / "plan.md", runner.summary):
        assert key not in path.read_text(encoding="utf-8")


# --- against a portal over HTTP: the failures apply must make loud ---------------------------


def live_runner(tmp_path: Path, workspace: Path, server: Any, name: str) -> Runner:
    return Runner(
        workspace,
        tmp_path / f"scratch-{name}",
        event_name="push",
        event={"ref": "refs/heads/main"},
        vars={"PORTAL_API_URL": server.url},
        secrets={"PORTAL_API_KEY": server.key},
    )


def test_apply_workflow_stopped_part_way_fails_with_exit_5_then_converges(
    tmp_path: Path, workspace: Path, sandbox_server: Any
) -> None:
    apply_yml = WORKFLOWS / "portal-apply.yml"
    sandbox_server.set_faults(fail_write_numbers=[2])
    broken = live_runner(tmp_path, workspace, sandbox_server, "broken").run_job(apply_yml, "apply")
    assert outcomes(broken) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),
        ("Apply", "failure"),
        ("Keep the applied plan", "success"),
        ("Show the portal URL", "skipped"),
    ]
    apply = broken.step("Apply")
    assert apply.code == ExitCode.PARTIAL
    assert apply.outputs["exit-code"] == "5"
    assert apply.stdout.splitlines()[-1] == (
        "::error title=portalctl: partial apply (exit 5)::apply stopped part way; the log lists "
        "what was and was not applied. Fix the cause and re-run: the next plan shows exactly "
        "what is left"
    )
    assert (
        "portalctl: applied before the failure:\n  ✓ update templates/invoice_created"
        in apply.stderr
    )
    assert "portalctl: NOT applied:\n" in apply.stderr
    assert "apply stopped after 1 of 6 changes" in apply.stderr
    assert (
        sandbox_server.key
        not in apply.stdout.replace(f"::add-mask::{sandbox_server.key}", "") + apply.stderr
    )

    sandbox_server.set_faults()
    fixed = live_runner(tmp_path, workspace, sandbox_server, "fixed").run_job(apply_yml, "apply")
    assert not fixed.failed
    assert fixed.step("Plan").outputs["has_changes"] == "true"
    done = live_runner(tmp_path, workspace, sandbox_server, "done").run_job(apply_yml, "apply")
    assert done.step("Plan").outputs["has_changes"] == "false"
    assert done.step("Apply").outcome == "skipped"


def test_applying_a_stale_plan_fails_with_exit_4_and_writes_nothing(
    tmp_path: Path,
    workspace: Path,
    sandbox_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("PORTAL_API_URL", sandbox_server.url)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    assert run(["plan", "portal.yaml", "--out", "reviewed.json"]) == ExitCode.OK
    # Someone changes the portal after the plan was reviewed.
    other = workspace / "console-change.yaml"
    other.write_text(
        "version: 1\nportal:\n  branding:\n    company_name: Someone Else\n", encoding="utf-8"
    )
    assert run(["apply", other.name, "--auto-approve"]) == ExitCode.OK
    capsys.readouterr()
    sandbox_server.clear_requests()

    runner = live_runner(tmp_path, workspace, sandbox_server, "stale")
    step = runner.run_job(
        one_step_workflow(
            tmp_path,
            {
                "command": "apply",
                "plan-file": "reviewed.json",
                "args": "--auto-approve",
                "api-url": sandbox_server.url,
            },
        ),
        "run",
    ).step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.CONFLICT)
    assert step.stdout.splitlines()[-1].startswith("::error title=portalctl: conflict (exit 4)::")
    assert all(r["method"] == "GET" for r in sandbox_server.requests())


def test_an_unreachable_portal_fails_with_exit_6(tmp_path: Path, workspace: Path) -> None:
    runner = Runner(
        workspace,
        tmp_path / "scratch",
        event_name="push",
        event={},
        secrets={"PORTAL_API_KEY": "sk_test_unreachable0000"},
    )
    step = runner.run_job(
        one_step_workflow(tmp_path, {"command": "drift", "api-url": "http://127.0.0.1:9"}), "run"
    ).step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.UNREACHABLE)
    assert step.outputs == {
        "exit-code": "6",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
        "portal-url": "",
    }
    assert step.stdout.splitlines()[-1] == (
        "::error title=portalctl: API unreachable or key rejected (exit 6)::check api-url (or "
        "PORTAL_API_URL) and the PORTAL_API_KEY secret"
    )


def test_the_action_plans_a_fleet_from_a_folder(tmp_path: Path, workspace: Path) -> None:
    fleet = workspace / "portals"
    fleet.mkdir()
    shutil.copytree(workspace / "templates", fleet / "templates")
    for name in ("eu", "us"):
        (fleet / f"{name}.yaml").write_bytes((workspace / "portal.yaml").read_bytes())
    runner = Runner(workspace, tmp_path / "scratch", event_name="push", event={})
    step = runner.run_job(
        one_step_workflow(tmp_path, {"command": "plan", "spec": "portals", "plan-file": "plans"}),
        "run",
    ).step("portalctl")
    assert step.outcome == "success", step.stderr
    assert step.outputs == {
        "exit-code": "2",
        "has_changes": "true",
        "plan-file": "plans",
        "output-file": "",
        "portal-url": "",
    }
    assert sorted(p.name for p in (workspace / "plans").iterdir()) == [
        "eu.plan.json",
        "us.plan.json",
    ]


# --- the embedded sandbox in CI --------------------------------------------------------------


def test_a_merge_without_portal_api_url_fails_instead_of_applying_to_a_throwaway_portal(
    tmp_path: Path, workspace: Path
) -> None:
    result = push_runner(tmp_path, workspace, vars={}).run_job(
        WORKFLOWS / "portal-apply.yml", "apply"
    )
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),  # plan may still run on the embedded sandbox, with a warning
        ("Apply", "failure"),
        ("Keep the applied plan", "success"),
        ("Show the portal URL", "skipped"),
    ]
    apply = result.step("Apply")
    assert apply.code == ExitCode.INVALID
    assert (
        "PORTAL_API_URL is not set, and in CI portalctl does not fall back to the embedded "
        "sandbox (a throwaway local database, not your portal)" in apply.stderr
    )
    assert "PORTAL_API_URL=sandbox to use the sandbox on purpose" in apply.stderr
    assert apply.outputs["portal-url"] == ""


def test_the_drift_check_without_portal_api_url_files_no_false_issue(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = Runner(
        workspace, tmp_path / "scratch", event_name="schedule", event={"ref": "refs/heads/main"}
    )
    result = runner.run_job(WORKFLOWS / "portal-drift.yml", "drift")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Check for drift", "failure"),
        ("Open or update the drift issue", "skipped"),
        ("Close the drift issue", "skipped"),
    ]
    assert result.step("Check for drift").code == ExitCode.INVALID
    assert github.calls == []
