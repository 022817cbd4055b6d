"""Opt-in self-heal of the drift workflow (issue 12): on drift found from main, the `heal` job
applies the spec from main, checks again and closes the issue; it never applies a disruptive
change, and says so on the issue instead."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.integration.gitops_runner import (
    SANDBOX_VARS,
    WORKFLOWS,
    GitHub,
    JobResult,
    Runner,
    github,
    outcomes,
    push_runner,
    workspace,
)

__all__ = ["github", "workspace"]  # fixtures

DRIFT = WORKFLOWS / "portal-drift.yml"
RUN = "https://github.com/acme/billing/actions/runs/4242"


def scheduled(
    tmp_path: Path,
    workspace: Path,
    name: str,
    *,
    vars: Mapping[str, str],
    ref: str = "refs/heads/main",
    event_name: str = "schedule",
    inputs: Mapping[str, object] | None = None,
) -> tuple[JobResult, JobResult]:
    """Both jobs of one run of the drift workflow: ``drift``, then ``heal``."""

    def runner(job: str) -> Runner:
        return Runner(
            workspace,
            tmp_path / f"scratch-{name}-{job}",
            event_name=event_name,
            event={"ref": ref},
            vars=vars,
            inputs=inputs,
        )

    drift = runner("drift").run_job(DRIFT, "drift")
    heal = runner("heal").run_job(DRIFT, "heal", needs={"drift": drift})
    return drift, heal


def console_change(workspace: Path, old: str, new: str) -> None:
    """Someone changes the live portal by hand (here: applies an edited copy of the spec)."""
    other = workspace / "console-change.yaml"
    other.write_text(
        (workspace / "portal.yaml").read_text(encoding="utf-8").replace(old, new),
        encoding="utf-8",
    )
    result = push_runner(workspace.parent, workspace, name=f"console-{new}").run_job(
        one_apply_workflow(workspace.parent), "apply"
    )
    assert not result.failed, result.steps


def one_apply_workflow(tmp_path: Path) -> Path:
    path = tmp_path / "console.yml"
    path.write_text(
        "on: push\njobs:\n  apply:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: portalctl apply console-change.yaml --auto-approve --allow-disruptive\n"
        "        env:\n          PORTAL_API_URL: ${{ vars.PORTAL_API_URL }}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def applied(tmp_path: Path, workspace: Path) -> Path:
    result = push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply")
    assert not result.failed
    return workspace


def test_self_heal_applies_main_and_closes_the_issue(
    tmp_path: Path, applied: Path, github: GitHub
) -> None:
    console_change(applied, '"#1662DD"', '"#0A4FB8"')
    drift, heal = scheduled(
        tmp_path, applied, "heal", vars={**SANDBOX_VARS, "PORTAL_SELF_HEAL": "true"}
    )
    assert drift.outputs == {"drift": "true"}
    assert drift.step("Open or update the drift issue").outcome == "success"
    assert outcomes(heal) == [
        ("actions/checkout", "success"),
        ("Apply the spec from main", "success"),
        ("Check again", "success"),
        ("Close the drift issue", "success"),
        ("Say why the portal was not healed", "skipped"),
    ]
    assert (
        "portalctl apply portal.yaml --auto-approve\n"
        in heal.step("Apply the spec from main").stdout
    )
    assert heal.step("Check again").outputs["has_changes"] == "false"
    [issue] = github.state["issues"]
    assert issue["state"] == "closed"
    assert issue["comments"] == [
        f"Self-heal applied `portal.yaml` from main and the live portal matches it again "
        f"([run]({RUN}))."
    ]
    # The next morning finds nothing to do.
    drift, heal = scheduled(
        tmp_path, applied, "next", vars={**SANDBOX_VARS, "PORTAL_SELF_HEAL": "true"}
    )
    assert drift.outputs == {"drift": "false"}
    assert heal.result == "skipped"


def test_self_heal_never_applies_a_disruptive_change(
    tmp_path: Path, applied: Path, github: GitHub
) -> None:
    # main turns invoice downloads off (applied by hand with --allow-disruptive) ...
    spec = applied / "portal.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "download_invoices: true", "download_invoices: false"
        ),
        encoding="utf-8",
    )
    console_change(applied, "", "")  # (the console-change file is main's spec as it is)
    # ... and someone turns them back on in the console: undoing that is disruptive.
    console_change(applied, "download_invoices: false", "download_invoices: true")
    drift, heal = scheduled(
        tmp_path, applied, "refused", vars={**SANDBOX_VARS, "PORTAL_SELF_HEAL": "true"}
    )
    assert drift.outputs == {"drift": "true"}
    assert outcomes(heal) == [
        ("actions/checkout", "success"),
        ("Apply the spec from main", "failure"),
        ("Check again", "skipped"),
        ("Close the drift issue", "skipped"),
        ("Say why the portal was not healed", "success"),
    ]
    assert heal.result == "failure"
    apply = heal.step("Apply the spec from main")
    assert apply.outputs["exit-code"] == "3"
    assert "download_invoices" in apply.stderr
    [issue] = github.state["issues"]
    assert issue["state"] == "open"
    assert issue["comments"] == [
        "Self-heal did not fix this drift: the drift can only be undone by a disruptive change, "
        "which self-heal never applies: apply it by hand (portal apply, Run workflow, "
        f"allow-disruptive) or change the spec ([run]({RUN}))."
    ]


@pytest.mark.parametrize(
    ("vars", "ref", "event_name", "inputs"),
    [
        (SANDBOX_VARS, "refs/heads/main", "schedule", None),  # not opted in
        ({**SANDBOX_VARS, "PORTAL_SELF_HEAL": "false"}, "refs/heads/main", "schedule", None),
        # a run by hand from another branch never applies that branch's spec
        (SANDBOX_VARS, "refs/heads/topic", "workflow_dispatch", {"self-heal": True}),
    ],
)
def test_without_opt_in_or_off_main_drift_only_opens_the_issue(
    tmp_path: Path,
    applied: Path,
    github: GitHub,
    vars: Mapping[str, str],
    ref: str,
    event_name: str,
    inputs: Mapping[str, object] | None,
) -> None:
    console_change(applied, '"#1662DD"', '"#0A4FB8"')
    drift, heal = scheduled(
        tmp_path, applied, "no-heal", vars=vars, ref=ref, event_name=event_name, inputs=inputs
    )
    assert drift.outputs == {"drift": "true"}
    assert heal.result == "skipped"
    assert [i["state"] for i in github.state["issues"]] == ["open"]


def test_a_run_by_hand_on_main_can_opt_in(tmp_path: Path, applied: Path, github: GitHub) -> None:
    console_change(applied, '"#1662DD"', '"#0A4FB8"')
    _, heal = scheduled(
        tmp_path,
        applied,
        "by-hand",
        vars=SANDBOX_VARS,
        event_name="workflow_dispatch",
        inputs={"self-heal": True},
    )
    assert heal.result == "success"
    assert github.state["issues"][0]["state"] == "closed"
