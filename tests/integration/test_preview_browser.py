"""The preview in a real browser: pixels and DOM of what a reviewer sees.

These tests need a headless Chromium (``.ci/run`` installs the distribution's package) and
FAIL without one: a preview nobody ever rendered is not tested.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import run
from reconciler.preview.browser import Browser, find_browser
from reconciler.preview.style import (
    BUTTON_BOX,
    EMAIL_H,
    EMAIL_W,
    LOGO_BOX,
    PAGE_H,
    PAGE_W,
    PANEL_H,
    PANEL_W,
)
from tests.helpers.cli import REPO
from tests.unit.preview.pngread import Image, hex_rgb, read_png

pytestmark = pytest.mark.slow

SCRIPT = (
    "<script>document.title='pwned';document.body.style.background='#00ff00';"
    "parent.document.title='pwned'</script>"
)
MAGENTA, LIME = (255, 0, 255), (0, 255, 0)
PNGS = [
    "email-invoice_created-after.png",
    "email-invoice_created-before.png",
    "email-invoice_created.es-after.png",
    "email-invoice_created.es-before.png",
    "email-payment_failed-after.png",
    "email-payment_failed-before.png",
    "email-payment_failed.es-after.png",
    "email-payment_failed.es-before.png",
    "index.html",
    "portal-after.png",
    "portal-before.png",
    "preview.png",
]


@pytest.fixture(scope="module")
def browser() -> Browser:
    return find_browser()  # raises (the test fails) when there is none: never a skip


def preview_of(workdir: Path, edit: dict[str, str] | None = None) -> Path:
    """Copy examples/ to ``workdir``, apply ``edit`` (old -> new) to portal.yaml, make the
    invoice email hostile, run ``preview --png`` on a fresh embedded sandbox; the folder."""
    shutil.copytree(REPO / "examples", workdir / "examples")
    spec = workdir / "examples" / "portal.yaml"
    text = spec.read_text()
    for old, new in (edit or {}).items():
        assert old in text
        text = text.replace(old, new)
    spec.write_text(text)
    out = workdir / "out"
    assert run(["preview", str(spec), "--out", str(out), "--png"]) == 0
    return out


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``portalctl preview examples/portal.yaml --out DIR --png``, exactly as shipped."""
    work = tmp_path_factory.mktemp("example")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
            mp.delenv(name, raising=False)
        yield preview_of(work)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example with another colour, update_payment_methods off, and an invoice email
    carrying a script that would repaint the email and retitle the page."""
    work = tmp_path_factory.mktemp("changed")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
            mp.delenv(name, raising=False)
        body = REPO / "examples" / "templates" / "invoice_created.html"
        hostile = (
            body.read_text()
            .replace("background:#f4f6f8;", "background:#ff00ff;", 1)
            .replace("</body>", SCRIPT + "</body>")
        )
        shutil.copytree(REPO / "examples", work / "examples")
        (work / "examples" / "templates" / "invoice_created.html").write_text(hostile)
        spec = work / "examples" / "portal.yaml"
        text = spec.read_text()
        text = text.replace('primary_color: "#1662DD"', 'primary_color: "#AA3300"')
        text = text.replace("update_payment_methods: true", "update_payment_methods: false")
        spec.write_text(text)
        out = work / "out"
        assert run(["preview", str(spec), "--out", str(out), "--png"]) == 0
        yield out


def button_pixels(image: Image) -> set[tuple[int, int, int]]:
    """The primary button's own pixels: a strip inside its left edge (left of any text)."""
    x, y, _, h = BUTTON_BOX
    return set(image.region(x + 3, y + 4, 8, h - 8))


def test_png_writes_every_screenshot_at_its_size(example: Path) -> None:
    assert sorted(p.name for p in example.iterdir()) == PNGS
    images = {p.name: read_png(p) for p in example.glob("*.png")}
    sizes = {name: (image.width, image.height) for name, image in images.items()}
    assert sizes["preview.png"] == (PAGE_W, PAGE_H)
    assert sizes["portal-after.png"] == sizes["portal-before.png"] == (PANEL_W, PANEL_H)
    assert sizes["email-payment_failed-after.png"] == (EMAIL_W, EMAIL_H)
    assert sizes["email-payment_failed.es-after.png"] == (EMAIL_W, EMAIL_H)


def test_primary_button_is_the_spec_colour(example: Path) -> None:
    assert button_pixels(read_png(example / "portal-after.png")) == {hex_rgb("#1662DD")}


def test_primary_button_follows_the_spec_not_a_constant(changed: Path) -> None:
    assert button_pixels(read_png(changed / "portal-after.png")) == {hex_rgb("#AA3300")}


def test_logo_is_drawn(example: Path) -> None:
    x, y, w, h = LOGO_BOX
    after = read_png(example / "portal-after.png")
    drawn = [px for px in after.region(x + 4, y + 4, w - 8, h - 8) if px != (255, 255, 255)]
    assert len(drawn) > (w - 8) * (h - 8) // 10
    # the logo's blue mark, not just anti-aliased text: many pixels are strongly blue
    assert sum(1 for r, g, b in drawn if b > 150 and r < 100) > 100


def test_an_action_whose_permission_is_off_is_absent(browser: Browser, changed: Path) -> None:
    dom = browser.dump_dom(changed / "index.html")
    before, after = dom.split('data-side="after"', 1)
    after = after.split("<h2>Changes</h2>", 1)[0]
    assert 'data-action="update_payment_methods"' in before.rsplit('data-side="before"', 1)[1]
    assert 'data-action="update_payment_methods"' not in after
    assert "Update payment method" not in after
    primary = re.search(
        r'<div class="btn[^"]*" data-action="(\w+)" data-role="primary-button"', after
    )
    assert primary is not None and primary.group(1) == "view_payment_history"


def test_a_template_script_does_not_run(browser: Browser, changed: Path, tmp_path: Path) -> None:
    email = read_png(changed / "email-invoice_created-after.png")
    assert email.count(MAGENTA) > 10_000  # the template rendered...
    assert email.count(LIME) == 0  # ...and its script did not repaint it
    dom = browser.dump_dom(changed / "index.html")
    assert "<title>Portal preview: " in dom and "pwned" not in dom.split("<body", 1)[0]
    # The control: the same browser does run this script outside the preview.
    bare = tmp_path / "bare.html"
    bare.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head>"
        f'<body style="background:#ff00ff">{SCRIPT}</body></html>'
    )
    shot = read_png(browser.screenshot(bare, tmp_path / "bare.png", width=200, height=100))
    assert shot.count(LIME) > 10_000
