"""Write a preview folder: ``index.html`` and, with ``--png``, the screenshots.

Layout of ``DIR`` (``<p>-`` prefixes a portal's files when several are previewed)::

    index.html                    the page (all portals)
    preview.png                   the top of the page: portals before and after (--png)
    <p>portal-before.png          the live portal, as a customer sees it (--png)
    <p>portal-after.png           the portal once applied (--png)
    <p>email-<event>-before.png   each managed email, live and after apply (--png);
    <p>email-<event>-after.png    a translation's <event> is <event>.<tag> (invoice_created.es)
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.preview.browser import Browser
from reconciler.preview.page import Preview, email_page, portal_page, render_page
from reconciler.preview.portal import AFTER, BEFORE
from reconciler.preview.style import EMAIL_H, EMAIL_W, PAGE_H, PAGE_W, PANEL_H, PANEL_W

INDEX = "index.html"
OVERVIEW_PNG = "preview.png"
#: Screenshots a previous run may have left (removed first, so none is stale).
_OWN_PNG = re.compile(
    r"^(?:.*-)?(?:portal-(?:before|after)|email-[a-z0-9_]+(?:\.[A-Za-z0-9-]+)?-(?:before|after))"
    r"\.png$"
)


@dataclass(frozen=True)
class Shot:
    """One screenshot to take: the standalone page, the PNG name and the window size."""

    name: str
    html: str
    width: int
    height: int


def prefixes(previews: Sequence[Preview]) -> list[str]:
    """File-name prefix per portal: none for one portal, ``<spec stem>-`` for several."""
    if len(previews) == 1:
        return [""]
    out: list[str] = []
    for index, p in enumerate(previews):
        stem = re.sub(r"[^A-Za-z0-9_.]+", "-", Path(p.name).stem).strip("-") or "portal"
        candidate = f"{stem}-"
        if candidate in out:
            candidate = f"{stem}-{index + 1}-"
        out.append(candidate)
    return out


def shots(previews: Sequence[Preview]) -> list[Shot]:
    """Every screenshot ``--png`` takes, besides the overview of the page."""
    out: list[Shot] = []
    for prefix, p in zip(prefixes(previews), previews, strict=True):
        for side, view, other in ((BEFORE, p.before, p.after), (AFTER, p.after, p.before)):
            out.append(
                Shot(
                    f"{prefix}portal-{side}.png",
                    portal_page(view, side=side, marks=p.marks, other=other),
                    PANEL_W,
                    PANEL_H,
                )
            )
        for event in p.events:
            for side, view in ((BEFORE, p.before), (AFTER, p.after)):
                out.append(
                    Shot(
                        f"{prefix}email-{event}-{side}.png",
                        email_page(view.emails.get(event), view),
                        EMAIL_W,
                        EMAIL_H,
                    )
                )
    return out


def write_preview(
    previews: Sequence[Preview],
    out_dir: Path,
    *,
    browser: Browser | None = None,
    parallelism: int = 4,
) -> list[Path]:
    """Write ``index.html`` (and the screenshots when ``browser`` is given); return the
    files written, index first."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: is a file, not a folder", hint="name a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        index = out_dir / INDEX
        index.write_text(render_page(previews), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot write the preview: {exc.strerror}") from exc
    written = [index]
    # Screenshots of an earlier run would no longer match this page (with or without --png).
    for stale in out_dir.iterdir():
        if stale.is_file() and (stale.name == OVERVIEW_PNG or _OWN_PNG.match(stale.name)):
            stale.unlink()
    if browser is None:
        return written
    todo = shots(previews)
    with tempfile.TemporaryDirectory(prefix="portalctl-preview-") as tmp:
        pages: list[tuple[Path, Shot]] = []
        for shot in todo:
            page = Path(tmp) / (shot.name.removesuffix(".png") + ".html")
            page.write_text(shot.html, encoding="utf-8")
            pages.append((page, shot))

        def take(item: tuple[Path, Shot]) -> Path:
            page, shot = item
            return browser.screenshot(
                page, out_dir / shot.name, width=shot.width, height=shot.height
            )

        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            overview = pool.submit(
                browser.screenshot, index, out_dir / OVERVIEW_PNG, width=PAGE_W, height=PAGE_H
            )
            results = list(pool.map(take, pages))
            written.append(overview.result())
    written.extend(results)
    return written
