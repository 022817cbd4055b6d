"""``portalctl init``: the starter files, refusing to overwrite, --force, and the next steps."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from reconciler import SCHEMA_URL, __version__, logs
from reconciler.cli import run
from reconciler.errors import ExitCode
from reconciler.scaffold import STARTER_FILES, starter_file, starter_files

REPO = Path(__file__).resolve().parents[2]

FILES = [
    "portal.yaml",
    "templates/invoice_created.html",
    "templates/payment_failed.html",
    "templates/invoice_created.es.html",
    "templates/payment_failed.es.html",
    ".github/workflows/portal-plan.yml",
    ".github/workflows/portal-apply.yml",
    ".github/workflows/portal-drift.yml",
]

NEXT_STEPS = """\
Next steps:
  1. Edit portal.yaml: company name, colour, permissions. To manage the logo, add a 200x50
     px transparent PNG as assets/logo.png and uncomment the `logo:` line.
  2. portalctl validate portal.yaml
  3. portalctl plan portal.yaml   (against the embedded sandbox until PORTAL_API_URL is set)
  4. On GitHub, Settings > Secrets and variables > Actions: add the variable PORTAL_API_URL
     and the secret PORTAL_API_KEY; add an environment named production with required
     reviewers (portal-apply.yml waits for their approval).
  5. Commit and open a pull request: portal-plan.yml posts the plan as a comment.
"""


@pytest.fixture(autouse=True)
def _forget_logging_setup() -> Iterator[None]:
    # run() configures structlog and the root logger (level, stream); leave no trace.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logs.reset()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_init_writes_the_starter_files_and_prints_next_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out == (
        "Wrote 8 files in the current folder:\n"
        + "".join(f"  {rel}\n" for rel in FILES)
        + "\n"
        + NEXT_STEPS
        + "  6. Add .portal/ (the embedded sandbox's data) to .gitignore.\n"
    )
    assert tree(tmp_path) == {rel: starter_files()[rel] for rel in sorted(FILES)}


def test_init_into_a_new_folder_says_cd_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init", "billing portal"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("Wrote 8 files in billing portal/:\n  portal.yaml\n")
    assert "Next steps:\n  1. cd 'billing portal'\n  2. Edit portal.yaml:" in out
    assert sorted(tree(tmp_path / "billing portal")) == sorted(FILES)


def test_no_gitignore_step_when_the_sandbox_is_already_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".gitignore").write_text("__pycache__/\n/.portal/\n", encoding="utf-8")
    assert run(["init", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.endswith(
        "  6. Commit and open a pull request: portal-plan.yml posts the plan as a comment.\n"
    )
    assert ".gitignore" not in out


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "portal.yaml").write_text("version: 1\nportal: {}\n", encoding="utf-8")
    assert run(["init", str(tmp_path)]) == ExitCode.INVALID
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"portalctl: error: {tmp_path}/portal.yaml already exists; nothing was written; "
        f"run `portalctl init {tmp_path} --force` to overwrite it\n"
    )
    assert tree(tmp_path) == {"portal.yaml": b"version: 1\nportal: {}\n"}


def test_init_names_every_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "portal-plan.yml").write_text("name: mine\n", encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "payment_failed.html").write_text("<p>mine</p>\n", encoding="utf-8")
    assert run(["init"]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        "portalctl: error: templates/payment_failed.html, .github/workflows/portal-plan.yml "
        "already exist; nothing was written; run `portalctl init --force` to overwrite them\n"
    )
    assert sorted(tree(tmp_path)) == [
        ".github/workflows/portal-plan.yml",
        "templates/payment_failed.html",
    ]


def test_force_overwrites_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "portal.yaml").write_text("old\n", encoding="utf-8")
    assert run(["init", str(tmp_path), "--force"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith(
        f"Wrote 8 files in {tmp_path}/:\n  portal.yaml  (overwritten)\n"
        "  templates/invoice_created.html\n"
    )
    assert (tmp_path / "portal.yaml").read_bytes() == starter_file("portal.yaml")


def test_force_replaces_a_symlink_not_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("precious\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "portal.yaml").symlink_to(outside)
    assert run(["init", str(repo)]) == ExitCode.INVALID
    assert "repo/portal.yaml already exists" in capsys.readouterr().err
    assert run(["init", str(repo), "--force"]) == ExitCode.OK
    assert not (repo / "portal.yaml").is_symlink()
    assert outside.read_text(encoding="utf-8") == "precious\n"


def test_init_refuses_a_file_as_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "portal.yaml"
    target.write_text("x\n", encoding="utf-8")
    assert run(["init", str(target)]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        f"portalctl: error: {target}: not a directory; "
        "give `portalctl init` a folder (default: the current one)\n"
    )


def test_init_refuses_when_a_needed_folder_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "templates").write_text("not a folder\n", encoding="utf-8")
    assert run(["init", str(tmp_path), "--force"]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        f"portalctl: error: {tmp_path}/templates: is a file, but portalctl init needs a folder "
        "there for templates/invoice_created.html; move the file away, then run "
        "`portalctl init` again\n"
    )
    assert tree(tmp_path) == {"templates": b"not a folder\n"}


def test_starter_spec_validates_without_errors_or_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init"]) == ExitCode.OK
    capsys.readouterr()
    assert run(["validate", "--strict", "portal.yaml"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == "portal.yaml: valid (0 warnings)\n"


def test_starter_spec_modeline_points_at_the_schema_file_of_this_release() -> None:
    """The modeline must name a file that exists: the schema in the project's home at this
    release's tag (the ``$id`` is a name, nothing serves it), and the path must be the
    schema's real path in the repository."""
    first_line = starter_file("portal.yaml").decode("utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={SCHEMA_URL}"
    assert SCHEMA_URL.endswith(f"/v{__version__}/reconciler/schemas/portal.schema.json")
    assert (REPO / "reconciler" / "schemas" / "portal.schema.json").is_file()


@pytest.mark.parametrize("name", ["portal-plan.yml", "portal-apply.yml", "portal-drift.yml"])
def test_examples_github_is_the_packaged_workflow_byte_for_byte(name: str) -> None:
    example = REPO / "examples" / "github" / ".github" / "workflows" / name
    assert example.read_bytes() == starter_file(f"workflows/{name}")


def test_examples_github_holds_every_packaged_workflow() -> None:
    packaged = sorted(
        os.path.basename(rel) for rel, res in STARTER_FILES if res.startswith("workflows/")
    )
    examples = REPO / "examples" / "github" / ".github" / "workflows"
    assert set(packaged) <= {p.name for p in examples.iterdir()}
    assert len(packaged) == 3


def test_workflows_pin_the_action_to_this_version() -> None:
    from reconciler import __version__

    for rel, content in starter_files().items():
        if rel.startswith(".github/"):
            uses = [
                line.strip()
                for line in content.decode().splitlines()
                if "portalctl/portalctl@" in line
            ]
            assert uses, rel
            assert {u for u in uses} == {f"uses: portalctl/portalctl@v{__version__}"}, rel
