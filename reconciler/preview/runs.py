"""Previews of planned portal runs: the page data for each run that has a plan and a live
state, with the live logo read through the portal API when the portal serves it itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.errors import ReconcilerError
from reconciler.logs import get_logger
from reconciler.preview.page import Preview, make_preview

if TYPE_CHECKING:
    from reconciler.api import ApiSession
    from reconciler.reconcile import PortalRun

log = get_logger(__name__)


async def previews_of(runs: Sequence[PortalRun], api: ApiSession) -> list[Preview]:
    """One preview per run that planned (failed runs are reported by the caller)."""
    out: list[Preview] = []
    for run in runs:
        if run.plan is None or run.live is None or run.error is not None:
            continue
        out.append(
            make_preview(
                run.plan.desired,
                run.live,
                run.plan,
                logo_before=await _live_logo(api, run),
                name=str(run.source),
                diagnostics=run.diagnostics,
            )
        )
    return out


async def _live_logo(api: ApiSession, run: PortalRun) -> bytes | None:
    """The live logo's bytes, read through the portal API (checked against its sha256),
    only when the portal serves it from its own origin; None (the page then draws a
    placeholder) when it is elsewhere or cannot be read: the preview never fetches a
    third-party URL."""
    meta = run.live.logo if run.live is not None else None
    if meta is None or run.target is None:
        return None
    from reconciler.api.routes import same_origin
    from reconciler.api.session import SANDBOX_BASE_URL

    if not same_origin(str(meta.get("url") or ""), run.target.url or SANDBOX_BASE_URL):
        return None
    try:
        return await api.client(run.target).get_logo_file(meta)
    except ReconcilerError as err:
        log.warning("preview.logo_unavailable", spec=str(run.source), reason=str(err))
        return None
