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
