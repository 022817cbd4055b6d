"""``portalctl preview``: the portal and its emails as customers will see them, before and
after apply, written as a self-contained HTML page (and PNG screenshots with ``--png``).

Planning is ``plan``'s own path (``cli.reconcile._plan``):
the same target announcement, diagnostics, fleet summary and exit codes.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.reconcile import _connection, _fleet, _sources


@click.command()
@_sources
@click.option("--out", "out_dir", required=True, metavar="DIR",
              type=click.Path(path_type=Path),
              help="Folder for index.html (and the PNGs); created if missing.")  # fmt: skip
@click.option("--png", is_flag=True,
              help="Also write PNG screenshots (portal and each email, before and after), taken "
              "with a headless Chromium/Chrome from $PORTALCTL_CHROMIUM or PATH.")  # fmt: skip
@_fleet
@_connection
def preview(sources: tuple[str, ...], out_dir: Path, png: bool, parallelism: int,
            shard: str | None, api_url: str | None, insecure: bool) -> int:  # fmt: skip
    """Render the portal and its emails before and after apply, for reviewers.

    SPEC defaults to ./portal.yaml; several SPECs (a folder, a glob) share one page. Reads
    the portal like `plan` (never writes) and writes OUT/index.html: no script, no request
    to any other host, images inlined; each email in a sandboxed frame with sample values.
    """
    from reconciler.cli.reconcile import _connection_of, _expand, _finish, _plan
    from reconciler.cli.wiring import with_session
    from reconciler.preview.browser import find_browser
    from reconciler.preview.output import write_preview
    from reconciler.preview.runs import previews_of
    from reconciler.reconcile import exit_code, runtime_of

    browser = find_browser() if png else None  # no browser: fail before reading anything
    runs = _plan(_expand(sources, shard), _connection_of(api_url, insecure), parallelism)

    previews = with_session(runtime_of(runs), lambda api: previews_of(runs, api))
    if previews:
        for path in write_preview(previews, out_dir, browser=browser):
            click.echo(f"wrote {path}")
    _finish(runs)
    return exit_code(runs)
