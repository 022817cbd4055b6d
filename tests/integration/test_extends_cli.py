"""``extends:`` end to end (issue 12): from a clean clone, a staging overlay that only
renames the company plans the whole example plus its own name, applies, then plans no
changes; the base alone still differs by the name; plan sources name the right file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]

STAGING = """\
version: 1
extends: portal.yaml
portal:
  branding:
    company_name: Acme Staging
"""


@pytest.fixture
def clone(embedded_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    (embedded_env / ".git").mkdir()
    shutil.copy(REPO / "examples" / "portal.yaml", embedded_env / "portal.yaml")
    for sub in ("assets", "templates"):
        shutil.copytree(REPO / "examples" / sub, embedded_env / sub)
    (embedded_env / "staging.yaml").write_text(STAGING, encoding="utf-8")
    return embedded_env


def test_staging_overlay_plans_applies_and_converges(
    clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["validate", "staging.yaml"]) == 0
    assert capsys.readouterr().out == "staging.yaml: valid (0 warnings)\n"

    assert run(["plan", "staging.yaml", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert out.endswith("\nPlan: 6 to change, 1 to upload, 0 to reset.\n")
    assert '      branding.company_name: null -> "Acme Staging"  # staging.yaml:5:5\n' in out
    assert "  ~ update templates/invoice_created/locales/es  # portal.yaml:32:9\n" in out
    assert "  + upload settings/logo  # portal.yaml:19:5\n" in out

    assert run(["apply", "staging.yaml", "--auto-approve"]) == 0
    capsys.readouterr()
    assert run(["plan", "staging.yaml", "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.startswith("No changes.")

    # The base alone is the same portal but for the name.
    assert run(["plan", "portal.yaml", "--detailed-exitcode", "--format", "json"]) == 2
    plan = json.loads(capsys.readouterr().out)
    text = json.dumps(plan)
    assert "Acme Staging" in text and "Acme Cloud" in text
    assert run(["plan", "portal.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\nPlan: 1 to change, 0 to upload, 0 to reset.\n")
    assert (
        '      branding.company_name: "Acme Staging" -> "Acme Cloud"  # portal.yaml:17:5\n' in out
    )


def test_a_saved_plan_of_an_overlay_in_a_subfolder_applies(
    clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (clone / "envs").mkdir()
    (clone / "envs" / "test.yaml").write_text(
        "version: 1\nextends: ../portal.yaml\nportal:\n  branding:\n    company_name: Acme Test\n",
        encoding="utf-8",
    )
    assert run(["plan", "envs/test.yaml", "--out", "test.plan.json"]) == 0
    capsys.readouterr()
    saved = json.loads((clone / "test.plan.json").read_text())
    assert "../assets/logo.png" in json.dumps(saved)
    assert run(["apply", "test.plan.json"]) == 0
    capsys.readouterr()
    assert run(["plan", "envs/test.yaml", "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.startswith("No changes.")


def test_extends_errors_are_one_line_at_the_extends_line(
    clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (clone / "staging.yaml").write_text(STAGING.replace("portal.yaml", "portl.yaml"))
    assert run(["plan", "staging.yaml"]) == 3
    err = capsys.readouterr().err
    assert (
        'staging.yaml:2:10: error: extends: "portl.yaml" does not exist; the path is relative '
        "to the folder of the spec that names it; check its spelling [extends-missing]"
    ) in err.splitlines()
    assert "Traceback" not in err
