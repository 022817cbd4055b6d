"""The action and every workflow pass zizmor, GitHub Actions' static analyser (issue 10).

The command is the one the README gives, offline and with the default persona. zizmor only
collects ``.github/workflows/`` below a folder it is given, which is why the example workflows
live in ``examples/github/.github/workflows/``: the test checks that every one of them was
audited, so that a workflow put elsewhere cannot pass by being skipped. The repository's
``zizmor.yml`` holds the one exception to SHA pinning (portalctl's own action, see there).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ZIZMOR = str(Path(sys.executable).parent / "zizmor")
COMMAND = ["--offline", "action.yml", "examples/github/", ".github/workflows/"]


def zizmor(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZIZMOR, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def test_action_and_workflows_have_no_finding() -> None:
    proc = zizmor(*COMMAND)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report." in proc.stdout, proc.stdout + proc.stderr
    audited = {
        line.rsplit("completed ", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if "completed " in line
    }
    workflows = {
        str(path.relative_to(REPO))
        for folder in ("examples/github/.github/workflows", ".github/workflows")
        for path in (REPO / folder).glob("*.y*ml")
    }
    assert len(workflows) >= 7
    assert audited == {"action.yml", *workflows}
    # Every workflow of the repository is in one of the folders the command names (or is a
    # byte-for-byte copy of one, packaged for `portalctl init`).
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.yml", "*.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = set()
    for rel in tracked:
        try:
            doc = yaml.safe_load((REPO / rel).read_text(encoding="utf-8"))
        except (yaml.YAMLError, ValueError, FileNotFoundError):
            continue  # broken on purpose (a test spec), or deleted in the work tree
        if isinstance(doc, dict) and "jobs" in doc and (True in doc or "on" in doc):
            found.add(rel)
    packaged = {f"reconciler/scaffold/files/workflows/{Path(w).name}" for w in workflows}
    assert found - packaged == workflows


def test_zizmor_would_catch_an_unpinned_action_and_a_persisted_token(tmp_path: Path) -> None:
    """A test that cannot fail is a defect: the same run flags what the files avoid."""
    folder = tmp_path / "repo" / ".github" / "workflows"
    folder.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()  # stops zizmor's search for a configuration
    plan = (REPO / "examples/github/.github/workflows/portal-plan.yml").read_text()
    plan = plan.replace(
        "actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5 # v4.3.1", "actions/checkout@v4"
    ).replace("          persist-credentials: false\n", "          fetch-depth: 1\n")
    (folder / "portal-plan.yml").write_text(plan, encoding="utf-8")
    proc = zizmor("--offline", "--format", "json", ".", cwd=tmp_path / "repo")
    assert proc.returncode != 0
    findings = {finding["ident"] for finding in json.loads(proc.stdout)}
    assert {"unpinned-uses", "artipacked"} <= findings


def test_the_scaffold_copies_pass_zizmor_too() -> None:
    """`portalctl init` writes these into a user's repository, byte for byte the examples."""
    for path in (REPO / "reconciler/scaffold/files/workflows").glob("*.yml"):
        example = REPO / "examples/github/.github/workflows" / path.name
        assert path.read_bytes() == example.read_bytes(), path.name
    assert shutil.which(ZIZMOR)
