"""The GitOps files are valid for the tools that read them, and keep their promises.

check-jsonschema's vendored schemas (GitHub workflows and actions) and pre-commit's own
manifest validator run as subprocesses, as a user's CI would run them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "github" / ".github" / "workflows"
EXAMPLES = sorted(WORKFLOWS.glob("*.yml"))
REPO_WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_the_example_workflows() -> None:
    assert [p.name for p in EXAMPLES] == [
        "environments-apply.yml",
        "environments-plan.yml",
        "fleet-plan.yml",
        "portal-apply.yml",  # these three are what `portalctl init` writes
        "portal-drift.yml",
        "portal-plan.yml",
    ]


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_workflows_pass_check_jsonschema(schema: str) -> None:
    proc = check_jsonschema(schema, *EXAMPLES, *REPO_WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


def test_action_passes_check_jsonschema() -> None:
    proc = check_jsonschema("vendor.github-actions", REPO / "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_jsonschema_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "portal-plan.yml").read_text(encoding="utf-8")
    broken.write_text(
        text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"), encoding="utf-8"
    )
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


def test_pre_commit_manifest_is_valid() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-manifest",
            str(REPO / ".pre-commit-hooks.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_runs_portalctl_validate() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "portalctl-validate",
        "portalctl validate",
        "python",
    )


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("portal.yaml", True),
        ("portal.yml", True),
        ("examples/portal.yaml", True),
        ("deploy/portal.staging.yaml", True),
        ("portal.eu-west.yml", True),
        ("portals/acme.yaml", True),
        ("examples/fleet/portals/acme.yml", True),
        ("portals/templates/invoice_created.html", False),
        ("portals/eu/acme.yaml", False),
        ("examples/fleet/base.yaml", False),
        (".github/workflows/portal-plan.yml", False),
        ("schemas/portal-api.openapi.yaml", False),
        ("schemas/portal.schema.json", False),
        ("myportal.yaml", False),
        ("portal.yaml.bak", False),
        ("templates/invoice_created.html", False),
    ],
)
def test_hook_files_pattern(path: str, matches: bool) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    # pre-commit applies `files` with re.search on the repository-relative path.
    assert bool(re.search(hook["files"], path)) is matches


def test_action_inputs_and_outputs() -> None:
    action = load(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        "command",
        "spec",
        "args",
        "version",
        "python-version",
        "plan-file",
        "api-url",
        "output-file",
    }
    assert action["inputs"]["spec"]["default"] == "portal.yaml"
    assert action["inputs"]["python-version"]["default"] == "3.11"
    assert set(action["outputs"]) == {
        "has_changes",
        "plan-file",
        "output-file",
        "exit-code",
        "portal-url",
    }
    assert action["runs"]["steps"][0]["uses"] == (
        "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
    )
    # No step may put the key on a command line or in an input.
    text = (REPO / "action.yml").read_text(encoding="utf-8")
    assert "inputs.api-key" not in text and "secrets." not in text.split("runs:")[1]


def test_every_action_step_in_the_workflows_uses_declared_inputs() -> None:
    declared = set(load(REPO / "action.yml")["inputs"])
    for path in EXAMPLES:
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("portalctl/portalctl@"):
                    assert set(step["with"]) <= declared, (path.name, step["with"])
                    # The key only ever travels as an environment variable from a secret.
                    key = step.get("env", {}).get("PORTAL_API_KEY")
                    assert key in (None, "${{ secrets.PORTAL_API_KEY }}"), path.name


def test_plan_workflow_runs_on_pull_requests_with_minimal_permissions() -> None:
    plan = load(WORKFLOWS / "portal-plan.yml")
    on = plan[True]  # PyYAML reads the key `on` as a YAML 1.1 boolean
    assert set(on) == {"pull_request"}
    assert {"portal.yaml", "templates/**", "assets/**"} <= set(on["pull_request"]["paths"])
    assert plan["permissions"] == {}
    assert plan["jobs"]["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "<!-- portalctl-plan -->" in (WORKFLOWS / "portal-plan.yml").read_text(encoding="utf-8")


def test_apply_workflow_serialises_applies_behind_an_environment() -> None:
    apply = load(WORKFLOWS / "portal-apply.yml")
    assert apply[True]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in apply[True]
    assert apply["concurrency"] == {"group": "portal-apply", "cancel-in-progress": False}
    assert apply["permissions"] == {}
    assert apply["jobs"]["apply"]["permissions"] == {"contents": "read"}
    assert apply["jobs"]["apply"]["environment"] == "production"
    assert apply["jobs"]["apply"]["outputs"] == {
        "portal-url": "${{ steps.apply.outputs.portal-url }}"
    }


def test_drift_workflow_is_scheduled_and_may_only_touch_issues() -> None:
    drift = load(WORKFLOWS / "portal-drift.yml")
    assert set(drift[True]) == {"schedule", "workflow_dispatch"}
    assert drift["permissions"] == {}
    assert drift["jobs"]["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert "--label portal-drift" in (WORKFLOWS / "portal-drift.yml").read_text(encoding="utf-8")
    # Self-heal writes to the portal: only from main, in the environment apply uses, one
    # apply at a time with portal-apply.yml.
    heal = drift["jobs"]["heal"]
    assert heal["environment"] == "production"
    assert heal["concurrency"] == {"group": "portal-apply", "cancel-in-progress": False}
    assert "github.ref == 'refs/heads/main'" in heal["if"]
    assert all(
        "--allow-disruptive" not in str(step.get("with", {}).get("args", ""))
        for step in heal["steps"]
    )


# --- what zizmor checks, stated for each file (zizmor itself runs in test_gitops_zizmor.py) --

USES = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?P<comment>.*)$")


@pytest.mark.parametrize(
    "path", [REPO / "action.yml", *EXAMPLES, *REPO_WORKFLOWS], ids=lambda p: p.name
)
def test_third_party_actions_are_pinned_by_sha_with_the_version_in_a_comment(path: Path) -> None:
    pins = [m for m in map(USES.match, path.read_text(encoding="utf-8").splitlines()) if m]
    assert pins or path.name == "ci.yml" or path == REPO / "action.yml"
    for pin in pins:
        if pin["action"] == "portalctl/portalctl":
            continue  # this project's own action, at its release tag (see zizmor.yml)
        assert re.fullmatch(r"[0-9a-f]{40}", pin["ref"]), pin.group(0)
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", pin["comment"]), pin.group(0)


@pytest.mark.parametrize("path", [*EXAMPLES, *REPO_WORKFLOWS], ids=lambda p: p.name)
def test_every_job_has_its_own_permissions_and_checkouts_keep_no_token(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"}), path.name
    for name, job in workflow["jobs"].items():
        if workflow["permissions"] == {}:
            assert "permissions" in job, (path.name, name)
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (path.name, name)


def test_nothing_is_written_to_github_env() -> None:
    for path in [REPO / "action.yml", *EXAMPLES, *REPO_WORKFLOWS]:
        text = path.read_text(encoding="utf-8")
        assert '>> "$GITHUB_ENV"' not in text and ">> $GITHUB_ENV" not in text, path.name
