"""Logs as CI sees them: with CI=true (or --log-format json) every log line on stderr is one
JSON object; the only other stderr lines are portalctl's own messages to the reader."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_plan(tmp_path: Path, *global_flags: str, ci: bool) -> subprocess.CompletedProcess[str]:
    shutil.copytree(REPO / "examples", tmp_path / "examples", dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL")}
    env["CI"] = "true" if ci else ""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler.cli",
            *global_flags,
            "--log-level",
            "debug",
            "plan",
            "examples/portal.yaml",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("flags", "ci"), [((), True), (("--log-format", "json"), False)])
def test_every_log_line_is_one_json_object(
    tmp_path: Path, flags: tuple[str, ...], ci: bool
) -> None:
    ran = run_plan(tmp_path, *flags, ci=ci)
    assert ran.returncode == 0, ran.stderr
    messages = [line for line in ran.stderr.splitlines() if line.startswith("portalctl: ")]
    records = [
        json.loads(line) for line in ran.stderr.splitlines() if not line.startswith("portalctl: ")
    ]
    assert messages == ["portalctl: target: embedded sandbox (.portal/sandbox.db)"]
    assert all({"event", "level", "timestamp"} <= record.keys() for record in records)
    events = [record["event"] for record in records]
    assert events.count("api.request") == 2
    assert "plan.computed" in events
    # httpx's own per-request INFO lines would repeat api.request in free text.
    assert not any(str(event).startswith("HTTP Request:") for event in events)


def test_human_logs_outside_ci(tmp_path: Path) -> None:
    ran = run_plan(tmp_path, ci=False)
    assert ran.returncode == 0, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if "api.request" in line]
    assert len(lines) == 2
    assert not lines[0].lstrip().startswith("{")
