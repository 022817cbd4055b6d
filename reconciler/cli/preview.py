"""``portalctl preview``: the portal and its emails as customers will see them, before and
after apply, written as a self-contained HTML page (and PNG screenshots with ``--png``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.errors import ExitCode, ReconcilerError
from reconciler.logs import get_logger

if TYPE_CHECKING:
    from reconciler.model import LiveState, Target
    from reconciler.preview.page import Preview

log = get_logger(__name__)


@click.command()
@click.argument("specs", metavar="[SPEC]...", nargs=-1)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write index.html (and the PNGs) into; created if missing.",
)
@click.option(
    "--png",
    is_flag=True,
    help="Also write PNG screenshots (portal and each email, before and after), taken with "
    "a headless Chromium/Chrome from PATH or $PORTALCTL_CHROMIUM.",
)
@click.option("--api-url", metavar="URL", help="Portal API base URL (overrides the spec's target).")
@click.option("--insecure", is_flag=True, help="Allow plain http:// to a non-loopback host.")
def preview(
    specs: tuple[str, ...], out_dir: Path, png: bool, api_url: str | None, insecure: bool
) -> int:
    """Render the portal and its emails, live and after apply, side by side (reads only).

    SPEC defaults to ./portal.yaml. Writes OUT/index.html: one page with no script and no
    request to any other host (images inlined); each email in a sandboxed frame with sample
    values (see docs) and its portal link pointing at the portal's URL.
    """
    from reconciler.api import run_sync
    from reconciler.cli.reconcile import _connection, _print_diagnostics, announce
    from reconciler.preview.browser import find_browser
    from reconciler.preview.output import write_preview
    from reconciler.preview.page import make_preview
    from reconciler.reconcile import load, plan_spec

    browser = find_browser() if png else None  # no browser: fail before reading anything
    conn = _connection(api_url, insecure)
    previews: list[Preview] = []
    for spec in _expand(specs):
        desired, diagnostics = load(spec)
        target = conn.resolve(desired.target)
        announce(target)
        _print_diagnostics(diagnostics)
        planned = run_sync(plan_spec(desired, target, diagnostics=diagnostics))
        logo = _live_logo(target, planned.live)
        previews.append(
            make_preview(
                desired,
                planned.live,
                planned.plan,
                logo_before=logo,
                name=str(spec),
                diagnostics=diagnostics,
            )
        )
    for path in write_preview(previews, out_dir, browser=browser):
        click.echo(f"wrote {path}")
    return ExitCode.OK


def _expand(specs: tuple[str, ...]) -> list[Path]:
    from reconciler.fleet import expand_specs
    from reconciler.reconcile import single_spec

    one = single_spec(specs)
    return [one] if one is not None else list(expand_specs(list(specs)))


def _live_logo(target: Target, live: LiveState) -> bytes | None:
    """The live logo's bytes, read through the portal API (checked against its sha256),
    only when the portal serves it from its own origin; None (the page then draws a
    placeholder) when it is elsewhere or cannot be read: the preview never fetches a
    third-party URL."""
    meta = live.logo
    if meta is None:
        return None
    from reconciler.api import ApiSession, run_sync

    async def read() -> bytes | None:
        from reconciler.api.routes import same_origin
        from reconciler.api.session import SANDBOX_BASE_URL

        if not same_origin(str(meta.get("url") or ""), target.url or SANDBOX_BASE_URL):
            return None
        async with ApiSession() as session:
            return await session.client(target).get_logo_file(meta)

    try:
        return run_sync(read())
    except ReconcilerError as err:
        log.warning("preview.logo_unavailable", reason=str(err))
        return None
