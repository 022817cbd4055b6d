"""The pre-commit hook, installed and run by pre-commit itself (`pre-commit try-repo`).

`try-repo` installs the hook from the repository at HEAD: with uncommitted changes to tracked
files it snapshots them into a shadow repository, but untracked files are left out, and a
repository without a commit has no HEAD at all. So the test builds what a fresh clone is: a
new git repository holding this working tree (tracked and untracked files, minus ignored ones)
in one commit, and runs the hook there. pre-commit builds the hook's virtualenv with pip,
which downloads the dependencies from PyPI (network needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import copy_worktree

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("precommit")
    target = copy_worktree(root / "portalctl")
    git = ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]
    env = git_env(root)
    subprocess.run([*git, "init", "-q"], cwd=target, env=env, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, env=env, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=target, env=env, check=True)
    return target


def git_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "portalctl tests",
        "GIT_AUTHOR_EMAIL": "tests@portalctl.invalid",
        "GIT_COMMITTER_NAME": "portalctl tests",
        "GIT_COMMITTER_EMAIL": "tests@portalctl.invalid",
        "PRE_COMMIT_HOME": str(root / "pre-commit-home"),
        "PIP_CACHE_DIR": str(root / "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PRE_COMMIT_COLOR": "never",
    }


def try_repo(clone: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            ".",
            "portalctl-validate",
            "--verbose",
            "--files",
            *files,
        ],
        cwd=clone,
        env=git_env(clone.parent),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_try_repo_validates_the_example(clone: Path) -> None:
    proc = try_repo(clone, "examples/portal.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "portalctl validate" in out
    assert "Passed" in out
    assert "examples/portal.yaml: valid (0 warnings)" in out


def test_try_repo_blocks_an_invalid_spec_and_skips_other_files(clone: Path) -> None:
    broken = clone / "broken" / "portal.yaml"
    broken.parent.mkdir()
    broken.write_text("version: 2\nportal:\n  enabled: yes\n", encoding="utf-8")
    # A fleet folder's specs are specs too (the hook's pattern covers portals/*.yaml).
    fleet_spec = clone / "fleet" / "portals" / "eu.yaml"
    fleet_spec.parent.mkdir(parents=True)
    fleet_spec.write_text("version: 2\nportal:\n  enabled: yes\n", encoding="utf-8")
    proc = try_repo(clone, "broken/portal.yaml", "fleet/portals/eu.yaml", "README.md")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Failed" in out
    assert "- exit code: 3" in out
    assert "broken/portal.yaml:1:" in out
    assert "fleet/portals/eu.yaml:1:" in out
    hook_output = out.split("- exit code: 3", 1)[1]
    assert "README.md" not in hook_output  # not a spec: never passed to portalctl
