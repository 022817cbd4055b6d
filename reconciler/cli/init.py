"""``portalctl init [DIR] [--force]``: start a portal repository.

Writes a starter ``portal.yaml`` (valid as written), its email templates and the three GitHub
workflows, then prints what it wrote and what to do next. Never overwrites a file unless
``--force``: with any file already there it writes nothing and exits 3, naming them.
"""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path

import click

from reconciler.scaffold import InitResult, write_starter
from reconciler.textsafe import plural


@click.command("init")
@click.argument(
    "directory",
    required=False,
    default=".",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
)
@click.option("--force", is_flag=True, help="Overwrite starter files that already exist.")
def init(directory: Path, force: bool) -> None:
    """Write a starter portal.yaml, its templates and GitHub workflows into DIRECTORY.

    \b
    Files (relative to DIRECTORY, default: the current folder):
      portal.yaml                         the spec (passes `portalctl validate`)
      templates/invoice_created.html      email templates the spec points at
      templates/payment_failed.html
      .github/workflows/portal-plan.yml   plan comment on every pull request
      .github/workflows/portal-apply.yml  apply on merge to main (environment: production)
      .github/workflows/portal-drift.yml  daily drift check, opens an issue on drift

    Refuses (exit 3, writing nothing) when any of these exists, unless --force.
    """
    result = write_starter(directory, force=force)
    click.echo(summary(result))


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
