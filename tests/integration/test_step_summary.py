"""apply explains itself on the GitHub run page even when it refuses: the plan and the
reason go to $GITHUB_STEP_SUMMARY (issue 5), and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]
SPEC = "examples/portal.yaml"


@pytest.fixture
def summary(embedded_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples", embedded_env / "examples")
    path = embedded_env / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def test_disruptive_refusal_is_summarised(
    summary: Path, embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = embedded_env / SPEC
    spec.write_text(spec.read_text().replace("download_invoices: true", "download_invoices: false"))
    assert run(["apply", SPEC, "--auto-approve"]) == 3
    text = summary.read_text()
    assert "permissions.download_invoices" in text
    assert "**Apply refused (exit 3), nothing was written:** " in text
    assert run(["plan", SPEC, "--detailed-exitcode"]) == 2  # still every change to make


def test_stale_plan_refusal_is_summarised(
    summary: Path, embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["plan", SPEC, "--out", "plan.json"]) == 0
    assert run(["apply", SPEC, "--auto-approve"]) == 0  # moves the portal under the plan
    summary.write_text("")
    assert run(["apply", "plan.json"]) == 4
    text = summary.read_text()
    assert text.startswith("### ")
    assert "**Apply refused (exit 4), nothing was written:** the plan is stale: " in text
