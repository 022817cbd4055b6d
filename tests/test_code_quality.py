"""House style is enforced, not hoped for: ruff (lint and format) on the whole tree, and mypy
strict on the package (STYLE.md "Rules of thumb")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    ran = run("ruff", "check", ".")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_ruff_format_is_clean() -> None:
    ran = run("ruff", "format", "--check", ".")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_mypy_strict_is_clean_on_the_package() -> None:
    ran = run("mypy")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("Success: no issues found"), ran.stdout
