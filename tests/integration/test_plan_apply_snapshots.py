"""Snapshots of the text and markdown plan of examples/portal.yaml against an empty portal.

The files live in tests/snapshots/. After an intended change of the output, regenerate them
with ``PORTALCTL_UPDATE_SNAPSHOTS=1 pytest tests/integration/test_plan_apply_snapshots.py``
and review the diff. Nothing volatile appears in these outputs (no ETags, timestamps or tmp
paths: the target is the embedded sandbox, named by its relative path).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.cli import run
from tests.helpers.cli import copy_example

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "plan_example_empty.txt"), ("markdown", "plan_example_empty.md")]
)
def test_plan_snapshot(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], fmt: str, name: str
) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--format", fmt]) == 0
    out = capsys.readouterr().out
    path = SNAPSHOTS / name
    if os.environ.get("PORTALCTL_UPDATE_SNAPSHOTS"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_markdown_colour_change_with_contrast_and_warning_snapshot(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The PR comment for a brand colour change: a backticked hex (GitHub draws the swatch;
    no outside image service), the contrast ratio on white, and the spec's warning."""
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    path = embedded_env / spec
    path.write_text(path.read_text().replace('"#1662DD"', '"#7AA7F0"'), encoding="utf-8")
    capsys.readouterr()
    assert run(["plan", spec, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "http://" not in out and "https://" not in out and "![" not in out
    snapshot = SNAPSHOTS / "plan_colour_warning.md"
    if os.environ.get("PORTALCTL_UPDATE_SNAPSHOTS"):
        snapshot.write_text(out, encoding="utf-8")
    assert out == snapshot.read_text(encoding="utf-8")
