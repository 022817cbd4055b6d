"""portalctl preview on the embedded sandbox: the page is written, self-contained, and a
missing browser for --png is one clear line (exit 3). The pixels: test_preview_browser.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconciler.cli import run
from tests.helpers.cli import REPO, copy_example

TARGET_LINE = "portalctl: target: embedded sandbox (.portal/sandbox.db)"


class Links(HTMLParser):
    """Every URL-valued attribute of a document (srcdoc frames included: parsed too)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "action", "srcset", "poster", "background"}:
                self.urls.append(value or "")
            if name == "srcdoc" and value:
                inner = Links()
                inner.feed(value)
                self.urls.extend(inner.urls)


def test_preview_of_the_example_writes_a_self_contained_page(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["preview", spec, "--out", "out"]) == 0
    out, err = capsys.readouterr()
    assert out == "wrote out/index.html\n"
    assert err.splitlines() == [TARGET_LINE]
    text = (embedded_env / "out" / "index.html").read_text()
    links = Links()
    links.feed(text)
    outside = [u for u in links.urls if re.match(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)]
    # the only absolute URL is the portal link (not yet assigned: the example enables the
    # portal, so it points at a reserved .invalid name, never at a real host)
    assert set(outside) == {"https://portal-url-assigned-when-enabled.invalid/"}
    assert all(
        u.startswith(("#", "data:image/png;base64,")) for u in links.urls if u not in outside
    )
    assert "<title>Portal preview: examples/portal.yaml</title>" in text
    # reading only: the plan still has every change
    assert run(["plan", spec, "--detailed-exitcode"]) == 2


def test_after_apply_the_portal_link_is_the_portals_url(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["apply", spec, "--auto-approve"]) == 0
    capsys.readouterr()
    assert run(["preview", spec, "--out", "out"]) == 0
    capsys.readouterr()
    text = (embedded_env / "out" / "index.html").read_text()
    urls = set(re.findall(r"href=&quot;(https?://[^&]+)&quot;", text))
    assert len(urls) == 1 and "invalid" not in next(iter(urls))
    assert "No changes: the portal already matches the spec." in text
    # the live logo was read through the portal API: drawn on both sides, no placeholder
    assert text.count('src="data:image/png;base64,') == 2
    assert "not downloaded for the preview" not in text


def test_png_without_a_browser_is_one_line_and_exit_3(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_example(embedded_env)
    monkeypatch.setenv("PATH", str(embedded_env / "no-browsers-here"))
    monkeypatch.delenv("PORTALCTL_CHROMIUM", raising=False)
    assert run(["preview", spec, "--out", "out", "--png"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "portalctl: error: --png needs a headless Chromium or Chrome, and none was found on "
        "PATH (looked for chromium, chromium-browser, google-chrome, google-chrome-stable); "
        "install one (Debian/Ubuntu: `apt-get install chromium`) or set PORTALCTL_CHROMIUM "
        "to the path of a Chromium or Chrome binary\n"
    )
    assert not (embedded_env / "out").exists()


def test_out_is_required_and_a_file_is_refused(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["preview", spec]) == 3
    assert capsys.readouterr().err == (
        "portalctl: error: Missing option '--out'; see `portalctl preview --help`\n"
    )
    (embedded_env / "taken").write_text("x")
    assert run(["preview", spec, "--out", "taken"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: --out taken: is a file, not a folder; name a folder"
    )


def test_the_readme_screenshot_is_committed_at_the_page_size() -> None:
    # Made by: portalctl preview examples/portal.yaml --out preview --png (fresh sandbox),
    # then cp preview/preview.png docs/preview.png (docs/preview.md says so).
    from reconciler.preview.style import PAGE_H, PAGE_W
    from tests.unit.preview.pngread import read_png

    shot = read_png(REPO / "docs" / "preview.png")
    assert (shot.width, shot.height) == (PAGE_W, PAGE_H)


def test_several_specs_share_one_page(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    other = embedded_env / "examples" / "portal.beta.yaml"
    other.write_text((embedded_env / spec).read_text().replace("Acme Cloud", "Beta Billing"))
    (embedded_env / "out").mkdir()
    (embedded_env / "out" / "portal-after.png").write_bytes(b"an earlier run's")
    assert run(["preview", spec, str(other.relative_to(embedded_env)), "--out", "out"]) == 0
    assert capsys.readouterr().out == "wrote out/index.html\n"
    # screenshots of an earlier run are removed: they would not match this page
    assert sorted(p.name for p in (embedded_env / "out").iterdir()) == ["index.html"]
    text = (embedded_env / "out" / "index.html").read_text()
    assert "<title>Portal preview: 2 portals</title>" in text
    assert text.count('<section class="portal-preview"') == 2
    assert "<h1>examples/portal.yaml</h1>" in text
    assert "<h1>examples/portal.beta.yaml</h1>" in text
    assert "Beta Billing" in text


def test_a_failing_portal_does_not_stop_the_others(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    broken = embedded_env / "examples" / "portal.broken.yaml"
    broken.write_text("version: 1\nportal:\n  enabled: maybe\n")
    assert run(["preview", spec, "examples/portal.broken.yaml", "--out", "out"]) == 3
    out, _ = capsys.readouterr()
    assert out == "wrote out/index.html\n"
    text = (embedded_env / "out" / "index.html").read_text()
    assert "<title>Portal preview: examples/portal.yaml</title>" in text
