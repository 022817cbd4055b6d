"""A fleet planned over a matrix of shards (issue 12): examples/fleet/ and fleet-plan.yml.
Each shard plans its part and uploads it; the last job downloads every part and renders ONE
comment with ONE exit code. Against the sandbox over HTTP, one portal per key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.gitops_runner import (
    MARKER,
    REPO,
    WORKFLOWS,
    GitHub,
    JobResult,
    Runner,
    github,
    outcomes,
    portalctl,
)

__all__ = ["github"]  # fixtures

FLEET = WORKFLOWS / "fleet-plan.yml"
MERCHANTS = ("acme", "globex", "initech", "umbrella")
EVENT = {
    "pull_request": {
        "number": 7,
        "head": {"sha": "0123456789abcdef", "repo": {"full_name": "acme/billing"}},
    }
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "fleet", root)
    return root


@pytest.fixture
def secrets(sandbox_server: Any) -> dict[str, str]:
    return {f"{m.upper()}_PORTAL_KEY": sandbox_server.new_key() for m in MERCHANTS}


def run_fleet(
    tmp_path: Path, repo: Path, server: Any, secrets: dict[str, str], name: str = "run"
) -> tuple[list[JobResult], JobResult]:
    artifacts = tmp_path / f"{name}-artifacts"

    def runner(job: str) -> Runner:
        return Runner(
            repo,
            tmp_path / f"scratch-{name}-{job}",
            event_name="pull_request",
            event=EVENT,
            vars={"PORTAL_API_URL": server.url},
            secrets=secrets,
            artifacts=artifacts,
        )

    shards = [runner(f"shard-{k}").run_job(FLEET, "plan", matrix={"shard": k}) for k in (1, 2, 3)]
    # GitHub reports a matrix to `needs` as one result: failure if any leg failed.
    worst = next((s for s in shards if s.failed), shards[-1])
    combine = runner("combine").run_job(FLEET, "combine", needs={"plan": worst})
    return shards, combine


def planned(artifacts: Path, shard: int) -> list[str]:
    folder = artifacts / f"portal-plans-{shard}" / "plans"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_three_shards_plan_each_portal_once_and_one_comment_shows_all(
    tmp_path: Path, repo: Path, sandbox_server: Any, secrets: dict[str, str], github: GitHub
) -> None:
    shards, combine = run_fleet(tmp_path, repo, sandbox_server, secrets)
    for k, shard in enumerate(shards, start=1):
        assert not shard.failed, shard.steps
        assert f"--shard {k}/3" in shard.step("Plan").stdout
    artifacts = tmp_path / "run-artifacts"
    parts = [planned(artifacts, k) for k in (1, 2, 3)]
    every = sorted(name for part in parts for name in part)
    assert every == [f"{m}.plan.json" for m in MERCHANTS]  # each exactly once
    for k in (1, 2, 3):
        assert (artifacts / f"portal-plans-{k}" / "status" / f"shard-{k}.exit").read_text() in (
            "0\n",
            "2\n",
        )

    assert outcomes(combine) == [
        ("actions/checkout", "success"),
        ("Download the plans of every shard", "success"),
        ("Show the plans", "success"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
        ("Fail like plan would", "skipped"),
    ]
    assert not combine.failed
    show = combine.step("Show the plans")
    assert show.outputs["has_changes"] == "true"
    assert show.outputs["exit-code"] == "2"
    rendered = portalctl(repo, "show", "plans", "--format", "markdown")
    for name in ("Acme Cloud", "Globex", "Initech", "Umbrella Corp"):
        assert name in rendered
    [comment] = github.state["comments"]
    assert comment["body"] == (
        f"{MARKER}\n{rendered}\n<sub>portalctl plan of 0123456 in 3 shards. The plan files are "
        "the `portal-plans-*` artifacts of [this run]"
        "(https://github.com/acme/billing/actions/runs/4242).</sub>\n"
    )


def test_a_failed_shard_fails_the_combined_result_with_its_exit_code(
    tmp_path: Path, repo: Path, sandbox_server: Any, secrets: dict[str, str], github: GitHub
) -> None:
    del secrets["GLOBEX_PORTAL_KEY"]  # its shard cannot plan Globex's portal
    shards, combine = run_fleet(tmp_path, repo, sandbox_server, secrets)
    failed = [k for k, shard in enumerate(shards, start=1) if shard.failed]
    assert len(failed) == 1
    [k] = failed
    code = shards[k - 1].step("Plan").outputs["exit-code"]
    assert code not in ("0", "2")
    assert combine.result == "failure"
    last = combine.steps[-1]
    assert (last.name, last.outcome, last.code) == ("Fail like plan would", "failure", int(code))
    [comment] = github.state["comments"]
    assert comment["body"].startswith(
        f"{MARKER}\n### portalctl could not plan every portal of 0123456\n\n"
        f"Failed: shard {k}/3 (exit {code}). Details in [this run]"
    )
    assert "Acme Cloud" in comment["body"]  # the other shards' plans are still shown


def test_the_combined_job_plans_nothing_itself(repo: Path) -> None:
    """The last job reads saved plans only: no key reaches it."""
    combine = yaml.safe_load(FLEET.read_text(encoding="utf-8"))["jobs"]["combine"]
    assert "secrets." not in json.dumps(combine)
