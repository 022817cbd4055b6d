"""Target resolution: flags > spec > environment > embedded sandbox; keys by variable NAME."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ExitCode, UsageError
from reconciler.logs import redact_text
from reconciler.model import TargetSpec
from reconciler.sandbox import SANDBOX_KEY
from reconciler.targets import check_url, resolve_target

KEY = "sk_live_targetkey123"


def test_embedded_sandbox_by_default() -> None:
    target = resolve_target(env={})
    assert target.url is None
    assert target.sandbox_db == Path(".portal/sandbox.db")
    assert target.api_key.reveal() == SANDBOX_KEY
    assert target.describe() == "embedded sandbox (.portal/sandbox.db)"


def test_sandbox_db_override_order() -> None:
    assert resolve_target(env={"PORTAL_SANDBOX_DB": "x.db"}).sandbox_db == Path("x.db")
    chosen = resolve_target(env={"PORTAL_SANDBOX_DB": "x.db"}, sandbox_db=Path("y.db"))
    assert chosen.sandbox_db == Path("y.db")


def test_url_priority_flag_spec_env() -> None:
    env = {"PORTAL_API_URL": "https://env.example", "PORTAL_API_KEY": KEY}
    spec = TargetSpec(api_url="https://spec.example")
    assert resolve_target(env=env).url == "https://env.example"
    assert resolve_target(env=env, spec_target=spec).url == "https://spec.example"
    flagged = resolve_target(env=env, spec_target=spec, api_url="https://flag.example/")
    assert flagged.url == "https://flag.example"
    assert flagged.api_key.reveal() == KEY
    assert flagged.api_key_env == "PORTAL_API_KEY"


def test_key_from_the_variable_the_spec_names() -> None:
    spec = TargetSpec(api_url="https://api.4geeks.io", api_key_env="ACME_PORTAL_KEY")
    target = resolve_target(
        spec_target=spec, env={"ACME_PORTAL_KEY": KEY, "PORTAL_API_KEY": "sk_live_other111"}
    )
    assert target.api_key.reveal() == KEY
    assert target.api_key_env == "ACME_PORTAL_KEY"
    assert KEY not in repr(target)


def test_url_without_key_names_the_variable() -> None:
    spec = TargetSpec(api_key_env="ACME_PORTAL_KEY")
    with pytest.raises(UsageError) as info:
        resolve_target(
            spec_target=spec, env={"PORTAL_API_URL": "https://api.4geeks.io", "PORTAL_API_KEY": KEY}
        )
    assert str(info.value) == (
        "no API key for https://api.4geeks.io: ACME_PORTAL_KEY is not set; "
        "export ACME_PORTAL_KEY=sk_live_... (or sk_test_...) and run the command again"
    )
    assert info.value.exit_code == ExitCode.INVALID
    assert KEY not in str(info.value)


def test_resolved_key_is_redacted_from_logs() -> None:
    resolve_target(env={"PORTAL_API_URL": "https://api.4geeks.io", "PORTAL_API_KEY": KEY})
    assert redact_text(f"key={KEY}") == "key=sk_live_**********"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://127.8.9.10",
        "http://[::1]:80",
        "http://localhost:1",
        "https://x.example",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert check_url(url) == url


def test_plain_http_to_a_remote_host_is_refused_unless_insecure() -> None:
    with pytest.raises(UsageError) as info:
        resolve_target(api_url="http://api.4geeks.io", env={"PORTAL_API_KEY": KEY})
    assert str(info.value) == (
        "refusing to send the API key over plain http:// to api.4geeks.io; "
        "use https://, or pass --insecure if you really mean it"
    )
    assert resolve_target(
        api_url="http://api.4geeks.io", insecure=True, env={"PORTAL_API_KEY": KEY}
    ).insecure


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "invalid API URL 'ftp://x'"),
        ("api.4geeks.io", "invalid API URL"),
        ("https://sk_live_abc:@api.4geeks.io", "must not contain credentials"),
        ("https://api.4geeks.io/?key=1", "must not have a query"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        check_url(url)
    assert "sk_live_abc" not in str(info.value)
