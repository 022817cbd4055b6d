"""``portalctl init [DIR] [--force]``: start a portal repository.

Writes a starter ``portal.yaml`` (valid as written), its email templates and the three GitHub
workflows, then prints what it wrote and what to do next. Never overwrites a file unless
``--force``: with any file already there it writes nothing and exits 3, naming them.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.scaffold import summary, write_starter


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
