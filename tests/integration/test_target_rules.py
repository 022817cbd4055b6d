"""Where a command goes when nobody said: the CI sandbox rule, the project's one sandbox
database, one sandbox portal per key variable, and base URLs copied with their version."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reconciler.cli import run
from tests.helpers.cli import copy_example

CI_REFUSAL = (
    "portalctl: error: PORTAL_API_URL is not set, and in CI portalctl does not fall back to the "
    "embedded sandbox (a throwaway local database, not your portal); set PORTAL_API_URL and "
    "PORTAL_API_KEY from the workflow's secrets, or PORTAL_API_URL=sandbox to use the sandbox "
    "on purpose"
)


@pytest.mark.parametrize("ci_var", ["CI", "GITHUB_ACTIONS"])
@pytest.mark.parametrize(
    "command",
    [["apply", "--auto-approve"], ["drift"], ["export", "--out", "live"]],
    ids=["apply", "drift", "export"],
)
def test_ci_refuses_the_implicit_sandbox_for_apply_drift_export(
    embedded_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ci_var: str,
    command: list[str],
) -> None:
    spec = copy_example(embedded_env)
    monkeypatch.setenv(ci_var, "true")
    args = [*command, spec] if command[0] != "export" else command
    assert run(args) == 3
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == CI_REFUSAL
    assert out == ""
    assert not (embedded_env / "live").exists()
    assert not (embedded_env / ".portal").exists()  # nothing was opened, let alone written


def test_ci_uses_the_sandbox_when_chosen_and_plan_warns(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    # plan still runs against the implicit sandbox, with a warning annotation.
    assert run(["plan", spec]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "portalctl: target: embedded sandbox (.portal/sandbox.db)",
        "::warning title=portalctl::PORTAL_API_URL is not set: this plan is against the "
        "embedded sandbox, not your portal",
    ]
    # Chosen on purpose, by the variable or the flag: no refusal, no warning.
    monkeypatch.setenv("PORTAL_API_URL", "sandbox")
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert "::warning" not in capsys.readouterr().err
    monkeypatch.delenv("PORTAL_API_URL")
    assert run(["drift", spec, "--api-url", "sandbox"]) == 0
    # CI=false is not CI.
    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.setenv("CI", "false")
    assert run(["drift", spec]) == 0


def test_the_sandbox_is_one_per_project_found_like_git(
    embedded_env: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """export --out live, cd live, plan: the same portal, not a new empty database."""
    (embedded_env / ".git").mkdir()
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    assert run(["export", "--out", "live"]) == 0
    capsys.readouterr()
    os.chdir(embedded_env / "live")
    assert run(["plan", "portal.yaml", "--detailed-exitcode"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"portalctl: target: embedded sandbox ({embedded_env / '.portal' / 'sandbox.db'})"
    )
    assert not (embedded_env / "live" / ".portal").exists()
    # Without .portal/ anywhere up the tree, the repository root (.git) holds it.
    fresh = tmp_path_factory.mktemp("fresh") / "repo"
    (fresh / ".git").mkdir(parents=True)
    (fresh / "deep" / "er").mkdir(parents=True)
    os.chdir(fresh / "deep" / "er")
    from reconciler.targets import find_sandbox_db

    assert find_sandbox_db() == fresh / ".portal" / "sandbox.db"


def test_specs_with_different_key_variables_are_different_sandbox_portals(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    colour = (
        "version: 1\ntarget:\n  api_key_env: {env}\n"
        "portal:\n  branding:\n    primary_color: '{c}'\n"
    )
    portals = embedded_env / "portals"
    portals.mkdir()
    (portals / "a.yaml").write_text(colour.format(env="ACME_KEY", c="#0b5394"))
    (portals / "b.yaml").write_text(colour.format(env="GLOBEX_KEY", c="#0a4fb8"))
    assert run(["apply", "portals", "--auto-approve"]) == 0
    capsys.readouterr()
    assert run(["plan", "portals", "--format", "json", "--detailed-exitcode"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["in_sync"] == 2
    # Each applied its own colour: one portal per key variable, as on the real API.
    (portals / "b.yaml").write_text(colour.format(env="GLOBEX_KEY", c="#0b5394"))
    assert run(["plan", "portals/b.yaml", "--detailed-exitcode"]) == 2


def test_a_base_url_with_its_version_is_refused_before_any_request(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    monkeypatch.setenv("PORTAL_API_KEY", "sk_test_abcdefghijklmnop")
    for url in ("https://api.4geeks.io/v1", "https://api.4geeks.io/V1/"):
        assert run(["plan", spec, "--api-url", url]) == 3
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"portalctl: error: the API URL {url!r} ends with /v1, but portalctl adds /v1/... "
            "itself; use the base URL without the version: https://api.4geeks.io"
        )


def test_validate_and_plan_without_a_spec_point_at_init(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    for command in ("validate", "plan"):
        done = subprocess.run(
            ["portalctl", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert (done.returncode, done.stdout) == (3, "")
        assert done.stderr == (
            "portalctl: error: portal.yaml: no such file; name your spec (`portalctl plan "
            "path/to/portal.yaml`), or create one with `portalctl init`\n"
        )
