"""Environments (issue 12): examples/environments/ planned on a pull request (both portals in
one comment) and applied on merge, test first, then live, each with its own key, against the
sandbox over HTTP where each key is its own portal."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.gitops_runner import (
    MARKER,
    REPO,
    WORKFLOWS,
    GitHub,
    Runner,
    github,
    outcomes,
    portalctl,
    pull_request_runner,
)

__all__ = ["github"]  # fixtures

EXAMPLE = REPO / "examples" / "environments"
RUN = "https://github.com/acme/billing/actions/runs/4242"


@pytest.fixture
def repo(tmp_path: Path, sandbox_server: Any) -> Path:
    """A repository laid out like examples/environments/, its overlays pointed at the sandbox."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    for overlay in (root / "environments").glob("*.yaml"):
        text = overlay.read_text(encoding="utf-8")
        assert "api_url: https://api.4geeks.io" in text
        overlay.write_text(
            text.replace("api_url: https://api.4geeks.io", f"api_url: {sandbox_server.url}"),
            encoding="utf-8",
        )
    return root


@pytest.fixture
def keys(sandbox_server: Any) -> dict[str, str]:
    return {name: sandbox_server.new_key() for name in ("PORTAL_TEST_KEY", "PORTAL_LIVE_KEY")}


def push(tmp_path: Path, repo: Path, name: str, keys: dict[str, str]) -> Runner:
    return Runner(
        repo,
        tmp_path / f"scratch-{name}",
        event_name="push",
        event={"ref": "refs/heads/main"},
        secrets=keys,
    )


def test_the_plan_comment_shows_both_portals(
    tmp_path: Path, repo: Path, keys: dict[str, str], github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, repo, secrets=keys)
    result = runner.run_job(WORKFLOWS / "environments-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout", "success"),
        ("Plan", "success"),
        ("Upload the plans", "success"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    assert result.step("Plan").outputs["has_changes"] == "true"
    assert sorted(p.name for p in (runner.artifact_store / "portal-plans").iterdir()) == [
        "live.plan.json",
        "test.plan.json",
    ]
    shown = portalctl(repo, "show", "plans", "--format", "markdown")
    assert "Acme Cloud (test)" in shown and "environments/live.yaml" in shown
    [comment] = github.state["comments"]
    assert comment["body"] == (
        f"{MARKER}\n{shown}\n<sub>portalctl plan of 0123456 for test and live. The plan files "
        f"are the `portal-plans` artifact of [this run]({RUN}).</sub>\n"
    )


def test_merge_applies_test_then_live_each_with_its_own_key(
    tmp_path: Path, repo: Path, keys: dict[str, str], github: GitHub
) -> None:
    apply_yml = WORKFLOWS / "environments-apply.yml"
    test = push(tmp_path, repo, "test", keys).run_job(apply_yml, "test")
    assert outcomes(test) == [("actions/checkout", "success"), ("Apply", "success")]
    assert "portalctl apply environments/test.yaml --auto-approve\n" in test.step("Apply").stdout
    assert test.outputs["portal-url"].startswith("http")

    # live waits for test (and, on GitHub, for the approval of environment portal-live).
    live = push(tmp_path, repo, "live", keys).run_job(apply_yml, "live", needs={"test": test})
    assert outcomes(live) == [("actions/checkout", "success"), ("Apply", "success")]
    assert live.outputs["portal-url"].startswith("http")
    assert live.outputs["portal-url"] != test.outputs["portal-url"]  # two portals

    # Both portals now match their spec.
    again = pull_request_runner(tmp_path / "again", repo, secrets=keys)
    result = again.run_job(WORKFLOWS / "environments-plan.yml", "plan")
    assert result.step("Plan").outputs["has_changes"] == "false"


def test_a_failed_test_apply_never_reaches_live(
    tmp_path: Path, repo: Path, keys: dict[str, str]
) -> None:
    apply_yml = WORKFLOWS / "environments-apply.yml"
    # The environment portal-test lacks its secret: the test apply fails before any request.
    broken = {"PORTAL_LIVE_KEY": keys["PORTAL_LIVE_KEY"]}
    test = push(tmp_path, repo, "test", broken).run_job(apply_yml, "test")
    assert test.failed
    apply = test.step("Apply")
    assert apply.outputs["exit-code"] == "3"
    assert "PORTAL_TEST_KEY is not set" in apply.stderr
    live = push(tmp_path, repo, "live", keys).run_job(apply_yml, "live", needs={"test": test})
    assert live.result == "skipped"
