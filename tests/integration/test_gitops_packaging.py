"""The starter files `portalctl init` writes ship in the wheel, not only in the checkout.

The wheel is built as pip builds it for users (isolated build, setuptools from PyPI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reconciler.scaffold import STARTER_FILES, starter_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: setuptools writes build/ and *.egg-info/ next to the sources.
    root = tmp_path_factory.mktemp("wheel")
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode("utf-8")
        .split("\0")
    )
    source = root / "src"
    for rel in filter(None, listed):
        src = REPO / rel
        dest = source / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dest.symlink_to(os.readlink(src))
        elif src.exists():
            shutil.copy2(src, dest)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(root / "dist"),
            str(source),
        ],
        env={**os.environ, "PIP_CACHE_DIR": str(root / "pip-cache")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [built] = (root / "dist").glob("portal_reconciler-*.whl")
    return built


def test_wheel_carries_every_starter_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for _, resource in STARTER_FILES:
            name = f"reconciler/scaffold/files/{resource}"
            assert archive.read(name) == starter_file(resource), name
        assert "reconciler/cli/init.py" in archive.namelist()
