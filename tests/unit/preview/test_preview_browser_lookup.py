"""Finding the browser: $PORTALCTL_CHROMIUM, then PATH; none is one clear error (exit 3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import ExitCode, UsageError
from reconciler.preview.browser import Browser, BrowserError, find_browser


def fake(tmp_path: Path, name: str, script: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_none_found_names_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        find_browser({"PATH": str(tmp_path)})
    assert info.value.exit_code == ExitCode.INVALID
    assert str(info.value) == (
        "--png needs a headless Chromium or Chrome, and none was found on PATH (looked for "
        "chromium, chromium-browser, google-chrome, google-chrome-stable); install one "
        "(Debian/Ubuntu: `apt-get install chromium`) or set PORTALCTL_CHROMIUM to the path "
        "of a Chromium or Chrome binary"
    )


def test_env_var_wins_and_a_bad_one_is_named(tmp_path: Path) -> None:
    on_path = fake(tmp_path, "chromium", "exit 0")
    mine = fake(tmp_path, "my-chrome", "exit 0")
    env = {"PATH": str(tmp_path), "PORTALCTL_CHROMIUM": str(mine)}
    assert find_browser(env).path == mine
    assert find_browser({"PATH": str(tmp_path)}).path == on_path
    with pytest.raises(UsageError) as info:
        find_browser({"PATH": str(tmp_path), "PORTALCTL_CHROMIUM": "/nowhere/chrome"})
    assert str(info.value).startswith(
        "PORTALCTL_CHROMIUM=/nowhere/chrome is not an executable browser; set "
    )


def test_a_failing_browser_is_one_line_with_its_last_words(tmp_path: Path) -> None:
    broken = fake(
        tmp_path, "chromium", "echo 'dbus noise' >&2; echo 'cannot open display' >&2; exit 7"
    )
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    with pytest.raises(BrowserError) as info:
        Browser(broken).screenshot(page, tmp_path / "p.png", width=10, height=10)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        f"{broken} failed a screenshot of p.html (exit 7): cannot open display; "
    )


def test_a_browser_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    silent = fake(tmp_path, "chromium", "exit 0")
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    with pytest.raises(BrowserError, match="exited without writing the screenshot"):
        Browser(silent).screenshot(page, tmp_path / "p.png", width=10, height=10)
    assert not os.path.exists(tmp_path / "p.png")


def test_the_browser_never_receives_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_API_KEY", "sk_test_hidden")
    monkeypatch.setenv("ACME_PORTAL_KEY", "sk_live_hidden")
    dump = tmp_path / "env.txt"
    spy = fake(tmp_path, "chromium", f"env > {dump}")
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    Browser(spy).dump_dom(page)
    seen = dump.read_text()
    assert "hidden" not in seen and "PATH=" in seen


def test_no_usable_sandbox_is_retried_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on Ubuntu 24.04 runners: the sandbox cannot start; --no-sandbox then works.
    monkeypatch.setattr("reconciler.preview.browser._needs_no_sandbox", lambda: False)
    script = (
        'case "$*" in *--no-sandbox*) echo "<html>ok</html>";; '
        "*) echo 'FATAL: No usable sandbox! Update your kernel' >&2; exit 133;; esac"
    )
    browser = fake(tmp_path, "chromium", script)
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    assert Browser(browser).dump_dom(page) == "<html>ok</html>\n"
