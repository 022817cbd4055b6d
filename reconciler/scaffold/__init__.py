"""Starter files that ``portalctl init`` writes into a repository.

The files are package data under ``reconciler/scaffold/files/``: a starter ``portal.yaml``
that validates cleanly, its two email templates, and the three GitHub workflows (plan on pull
requests, apply on main, scheduled drift check). The workflows are the single source of
``examples/github/.github/workflows/portal-*.yml`` in the repository (a test keeps them byte
for byte identical).

Nothing here talks to the portal; writing is all or nothing with respect to existing files:
if any target file exists and ``force`` is false, nothing is written.
"""

from __future__ import annotations

import shlex
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.textsafe import plural

#: (path written in the target directory, resource under reconciler/scaffold/files/)
STARTER_FILES: tuple[tuple[str, str], ...] = (
    ("portal.yaml", "portal.yaml"),
    ("templates/invoice_created.html", "templates/invoice_created.html"),
    ("templates/payment_failed.html", "templates/payment_failed.html"),
    ("templates/invoice_created.es.html", "templates/invoice_created.es.html"),
    ("templates/payment_failed.es.html", "templates/payment_failed.es.html"),
    (".github/workflows/portal-plan.yml", "workflows/portal-plan.yml"),
    (".github/workflows/portal-apply.yml", "workflows/portal-apply.yml"),
    (".github/workflows/portal-drift.yml", "workflows/portal-drift.yml"),
)


@dataclass(frozen=True)
class InitResult:
    """What ``write_starter`` did: every file written (paths relative to ``directory``, in
    writing order) and which of them replaced an existing file (``--force``)."""

    directory: Path
    written: tuple[str, ...]
    overwritten: tuple[str, ...]


def starter_file(resource: str) -> bytes:
    """The bytes of one packaged starter file, e.g. ``starter_file("portal.yaml")``."""
    node = resources.files(__package__).joinpath("files", *resource.split("/"))
    return node.read_bytes()


def starter_files() -> dict[str, bytes]:
    """Every starter file: relative target path -> content, in the order they are written."""
    return {target: starter_file(resource) for target, resource in STARTER_FILES}


def write_starter(directory: Path, *, force: bool = False) -> InitResult:
    """Write the starter files into ``directory`` (created if missing).

    Refuses with ``UsageError`` (exit 3), before writing anything, when ``directory`` is not
    a directory, when a folder the files need is a file, or, unless ``force``, when any
    target file already exists (all of them are named).
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(
            f"{directory}: not a directory",
            hint="give `portalctl init` a folder (default: the current one)",
        )
    files = starter_files()
    existing: list[str] = []
    for rel in files:
        target = directory / rel
        for parent in _parents_within(directory, target):
            if parent.exists() and not parent.is_dir():
                raise UsageError(
                    f"{parent}: is a file, but portalctl init needs a folder there for {rel}",
                    hint="move the file away, then run `portalctl init` again",
                )
        if target.is_dir():
            raise UsageError(
                f"{target}: is a folder, but portalctl init writes a file there",
                hint="move the folder away, then run `portalctl init` again",
            )
        if target.exists() or target.is_symlink():
            existing.append(rel)
    if existing and not force:
        names = ", ".join(str(directory / rel) for rel in existing)
        verb = "exists" if len(existing) == 1 else "exist"
        raise UsageError(
            f"{names} already {verb}; nothing was written",
            hint=f"run `{_init_command(directory)} --force` to overwrite "
            + ("it" if len(existing) == 1 else "them"),
        )
    for rel, content in files.items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # --force replaces the link itself, never what it points at
            target.unlink()
        target.write_bytes(content)
    return InitResult(directory=directory, written=tuple(files), overwritten=tuple(existing))


def _init_command(directory: Path) -> str:
    if directory == Path("."):
        return "portalctl init"
    return f"portalctl init {shlex.quote(str(directory))}"


def _parents_within(root: Path, target: Path) -> list[Path]:
    """The folders between ``root`` (included) and ``target`` (excluded)."""
    out: list[Path] = []
    parent = target.parent
    while parent != root and root in parent.parents:
        out.append(parent)
        parent = parent.parent
    out.append(root)
    return out


def summary(result: InitResult) -> str:
    """The text ``init`` prints: the files written, then the next steps."""
    where = "the current folder" if result.directory == Path(".") else f"{result.directory}/"
    count = len(result.written)
    lines = [f"Wrote {plural(count, 'file')} in {where}:"]
    for rel in result.written:
        note = "  (overwritten)" if rel in result.overwritten else ""
        lines.append(f"  {rel}{note}")
    steps: list[str] = []
    if result.directory != Path("."):
        steps.append(f"cd {shlex.quote(str(result.directory))}")
    steps += [
        "Edit portal.yaml: company name, colour, permissions. To manage the logo, add a "
        "200x50 px transparent PNG as assets/logo.png and uncomment the `logo:` line.",
        "portalctl validate portal.yaml",
        "portalctl plan portal.yaml   (against the embedded sandbox until PORTAL_API_URL is set)",
        "On GitHub, Settings > Secrets and variables > Actions: add the variable PORTAL_API_URL "
        "and the secret PORTAL_API_KEY; add an environment named production with required "
        "reviewers (portal-apply.yml waits for their approval).",
        "Commit and open a pull request: portal-plan.yml posts the plan as a comment.",
    ]
    if not _ignores_sandbox(result.directory / ".gitignore"):
        steps.append("Add .portal/ (the embedded sandbox's data) to .gitignore.")
    lines += ["", "Next steps:"]
    for number, step in enumerate(steps, start=1):
        lines.append(
            textwrap.fill(
                step,
                width=92,
                initial_indent=f"  {number}. ",
                subsequent_indent="     ",
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _ignores_sandbox(gitignore: Path) -> bool:
    try:
        text = gitignore.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(
        line.strip() in {".portal", ".portal/", "/.portal", "/.portal/"}
        for line in text.splitlines()
    )
