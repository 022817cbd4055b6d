"""Paths and set-up shared by the CLI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = "examples/portal.yaml"


def copy_example(dest: Path) -> str:
    """Copy examples/ into ``dest`` (a fresh cwd, so .portal/ lands in the tmp dir)."""
    out = dest / "examples"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / SPEC, out / "portal.yaml")
    for sub in ("assets", "templates"):
        shutil.copytree(REPO / "examples" / sub, out / sub, dirs_exist_ok=True)
    return SPEC


def copy_worktree(dest: Path) -> Path:
    """Copy the files git tracks, plus new ones it does not ignore, into ``dest`` (symlinks
    kept as links). Building or committing there never touches the real checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    for rel in filter(None, listed.split("\0")):
        src, out = REPO / rel, dest / rel
        if src.is_symlink():
            out.parent.mkdir(parents=True, exist_ok=True)
            out.symlink_to(os.readlink(src))
        elif src.is_file():  # a tracked file deleted in the work tree is skipped
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
    return dest
