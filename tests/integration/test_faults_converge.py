"""Exit codes stay honest under faults: repeated applies against ``sandbox serve --error-rate
0.3 --drop-rate 0.2`` (fixed seed) converge to the spec, and only 0, 4, 5 and 6 are seen."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]


def test_repeated_applies_under_faults_converge_with_honest_exit_codes(
    start_sandbox: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox("--error-rate", "0.3", "--drop-rate", "0.2", "--seed", "4")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    for name in ("CI", "GITHUB_ACTIONS", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_API_URL", server.url)
    monkeypatch.setenv("PORTAL_API_KEY", server.key)
    codes: list[int] = []
    lines: list[str] = []
    for _ in range(30):
        code = run(["apply", "examples/portal.yaml", "--auto-approve"])
        codes.append(code)
        err = capsys.readouterr().err
        if code:
            lines.append(err.splitlines()[-1])
        if code == 0:
            break
    assert set(codes) <= {0, 4, 5, 6}, list(zip(codes, lines, strict=False))
    assert codes[-1] == 0, codes
    server.set_faults()
    assert run(["plan", "examples/portal.yaml", "--detailed-exitcode"]) == 0
