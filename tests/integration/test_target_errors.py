"""Targets that cannot work fail before any request, with one line that names the variable
or URL to fix and never shows a key (review findings: a pasted line break in a key, a key
pasted into the URL, an unparsable URL, one bad key in a fleet)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk_live_SECRETabc123"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


@pytest.mark.parametrize(
    "key", [f"{SECRET}\nsk_live_SECRETdef", "sk_test_fleet\u00e9", f" {SECRET}x y"]
)
def test_a_key_that_cannot_be_a_header_is_refused_without_echo(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox_server: Any,
    key: str,
) -> None:
    monkeypatch.setenv("PORTAL_API_URL", sandbox_server.url)
    monkeypatch.setenv("PORTAL_API_KEY", key)
    sandbox_server.clear_requests()
    assert run(["--log-level", "debug", "plan", "examples/portal.yaml"]) == 3
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == (
        "portalctl: error: PORTAL_API_KEY does not hold a usable API key: it contains spaces, "
        "line breaks or non-ASCII characters; set PORTAL_API_KEY to the key alone "
        "(sk_live_... or sk_test_...), with nothing around it"
    )
    assert "SECRET" not in out + err and "fleet" not in out + err
    assert [r for r in sandbox_server.requests() if r["path"].startswith("/v1/")] == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            SECRET,
            "portalctl: error: invalid API URL 'sk_live_**********'; use an absolute https:// "
            "URL, e.g. https://api.4geeks.io",
        ),
        (
            f"https://api.example.com/v1?api_key={SECRET}",
            "portalctl: error: the API URL 'https://api.example.com/v1?api_key=sk_live_**********'"
            " must not have a query or fragment",
        ),
        (
            "https://[::1",
            "portalctl: error: invalid API URL 'https://[::1': Invalid IPv6 URL; use an absolute "
            "https:// URL, e.g. https://api.4geeks.io",
        ),
    ],
)
def test_bad_urls_are_usage_errors_that_mask_keys(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    message: str,
) -> None:
    monkeypatch.setenv("PORTAL_API_KEY", "sk_test_abcdef")
    assert run(["plan", "examples/portal.yaml", "--api-url", url]) == 3
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == message
    assert "SECRETabc123" not in out + err


def test_one_unusable_key_fails_only_its_portal(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox_server: Any,
) -> None:
    example = (workdir / "examples" / "portal.yaml").read_text()
    portals = workdir / "examples"
    for name in ("a", "b", "c"):
        spec = example.replace(
            "# target:  (uncomment", "target:\n  api_key_env: KEY_" + name.upper() + "\n# ("
        )
        (portals / f"{name}.yaml").write_text(spec)
    (portals / "portal.yaml").unlink()
    monkeypatch.setenv("PORTAL_API_URL", sandbox_server.url)
    monkeypatch.setenv("KEY_A", sandbox_server.new_key())
    monkeypatch.setenv("KEY_B", "sk_test_fleet\u00e9")
    monkeypatch.setenv("KEY_C", sandbox_server.new_key())
    assert run(["plan", "examples", "--detailed-exitcode"]) == 3
    out, err = capsys.readouterr()
    assert "=== examples/a.yaml -> " in out and "=== examples/c.yaml -> " in out
    assert err.splitlines()[-2:] == [
        "portalctl: fleet: 3 portals: 0 in sync, 2 with changes, 1 failed",
        "  examples/b.yaml: KEY_B does not hold a usable API key: it contains spaces, line "
        "breaks or non-ASCII characters; set KEY_B to the key alone (sk_live_... or "
        "sk_test_...), with nothing around it",
    ]
    assert "fleet\u00e9" not in out + err
