"""The exception tree's messages and exit codes, Secret, and log redaction."""

from __future__ import annotations

import io
import json

import pytest

from reconciler import logs
from reconciler.errors import (
    ApiAuthError,
    ApiError,
    ConflictError,
    ExitCode,
    PartialApplyError,
    PreconditionFailed,
    SpecError,
    UsageError,
)
from reconciler.model import Secret, Target


def test_exit_codes_follow_the_documented_table() -> None:
    assert UsageError("x").exit_code == ExitCode.INVALID == 3
    assert ConflictError("x", resource="settings").exit_code == 4
    assert PreconditionFailed("x", resource="settings").exit_code == 4
    assert isinstance(PreconditionFailed("x", resource="s"), ConflictError)
    assert ApiAuthError("x").exit_code == 6
    assert ApiError("x").exit_code == 1


def test_partial_apply_message_counts_changes() -> None:
    err = PartialApplyError(ApiError("boom", status=500), applied=["a"], not_applied=["b", "c"])
    assert err.exit_code == ExitCode.PARTIAL
    assert str(err).startswith("apply stopped after 1 of 3 changes: boom;")


def test_api_error_names_request_id() -> None:
    assert str(ApiError("server error", request_id="req_123")) == "server error (request req_123)"


def test_spec_error_needs_diagnostics() -> None:
    with pytest.raises(ValueError):
        SpecError([])


def test_secret_never_shows_itself() -> None:
    key = Secret("sk_test_abcdefghijkl")
    target = Target(url="https://api.example.test", api_key=key)
    for text in (str(key), repr(key), repr(target), f"{key}", str(target)):
        assert "sk_test_abcdefghijkl" not in text
    assert key.reveal() == "sk_test_abcdefghijkl"


@pytest.mark.parametrize("fmt", ["json", "human"])
def test_registered_secrets_are_redacted_from_logs(fmt: str) -> None:
    stream = io.StringIO()
    logs.configure(level="debug", log_format=fmt, stream=stream)
    logs.register_secret("sk_live_zzzzzzzzzzzz")
    logs.get_logger().debug(
        "api.request",
        header="X-Api-Key: sk_live_zzzzzzzzzzzz",
        nested={"k": ["sk_live_zzzzzzzzzzzz"]},
    )
    out = stream.getvalue()
    assert "sk_live_zzzzzzzzzzzz" not in out
    assert logs.REDACTED in out
    if fmt == "json":
        record = json.loads(out.splitlines()[-1])
        assert record["event"] == "api.request"
        assert record["level"] == "debug"


def test_ci_true_selects_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert logs.want_json("auto") is True
    monkeypatch.setenv("CI", "")
    assert logs.want_json("auto") is False
    assert logs.want_json("json") is True


def test_lines_below_the_level_never_import_structlog() -> None:
    """Start-up speed: at the default level a run that logs only info/debug lines does not
    pay for importing structlog."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from reconciler import logs\n"
        "logs.configure(level='warning', log_format='human')\n"
        "logs.get_logger('x').info('plan.computed', changes=2)\n"
        "logs.get_logger('x').debug('api.request')\n"
        "print('structlog' in sys.modules)\n"
        "logs.get_logger('x').warning('apply.slow', seconds=9)\n"
        "print('structlog' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert "apply.slow" in out.stderr
    assert "plan.computed" not in out.stderr


def test_any_key_name_can_be_logged() -> None:
    """The proxy's own parameters are positional-only, so fields like ``method`` or
    ``level`` pass through as data."""
    from structlog.testing import capture_logs

    with capture_logs() as captured:
        logs.get_logger("x").info("api.request", method="GET", level_no=3, event_id="e1")
    assert captured == [
        {
            "event": "api.request",
            "method": "GET",
            "level_no": 3,
            "event_id": "e1",
            "log_level": "info",
        }
    ]


def test_key_shaped_values_are_masked_even_when_never_registered() -> None:
    assert logs.mask_keys("url 'https://h/v1?api_key=sk_live_AbC123xyz' failed") == (
        "url 'https://h/v1?api_key=sk_live_**********' failed"
    )
    # Placeholders in hints are not keys and stay readable.
    assert logs.mask_keys("export PORTAL_API_KEY=sk_live_... (or sk_test_...)") == (
        "export PORTAL_API_KEY=sk_live_... (or sk_test_...)"
    )
    assert logs.redact_text("b'sk_test_Zz9\\nsk_test_Yy8'") == "b'sk_test_**********'"


SECRET = "Q7h2Kx9pLm4Rt8Vw"  # the secret part of a registered key


@pytest.mark.parametrize(
    ("echoed", "shown"),
    [
        (f"sk_live_{SECRET}", "sk_live_**********"),
        (SECRET, "**********"),
        (f"sk%5Flive%5F{SECRET}", "sk%5Flive%5F**********"),
        (f"sk%5flive%5f{SECRET}", "sk%5flive%5f**********"),
        (f"sk-live-{SECRET}", "sk-live-**********"),
        (f"SK_LIVE_{SECRET}", "SK_LIVE_**********"),
        # Any character of the secret percent-encoded, hex digits in either case.
        (SECRET.replace("K", "%4B").replace("p", "%70"), "**********"),
        (SECRET.replace("K", "%4b"), "**********"),
    ],
)
def test_a_registered_key_is_masked_in_every_spelling_a_server_may_echo(
    echoed: str, shown: str
) -> None:
    logs.register_secret(f"sk_live_{SECRET}")
    assert logs.redact_text(f"detail: unknown key {echoed}.") == f"detail: unknown key {shown}."


def test_a_secret_with_dashes_and_underscores_is_masked_with_them_swapped() -> None:
    logs.register_secret("sk_test_ab_cd-ef_gh-ij_kl")
    for echoed in ("ab-cd_ef-gh_ij-kl", "ab%5Fcd%2def%5fgh%2Dij_kl", "ab_cd-ef_gh-ij_kl"):
        assert logs.redact_text(f"[{echoed}]") == "[**********]", echoed


def test_a_short_public_key_does_not_mask_ordinary_words() -> None:
    logs.register_secret("sk_test_sandbox")
    assert logs.redact_text("embedded sandbox (.portal/sandbox.db)") == (
        "embedded sandbox (.portal/sandbox.db)"
    )
    assert logs.redact_text("key sk_test_sandbox") == "key sk_test_**********"


def test_a_registered_value_that_is_not_key_shaped_is_masked_whole() -> None:
    logs.register_secret("not-a-valid-key")
    assert logs.redact_text("got not_a_valid_key and not%2Da%2Dvalid%2Dkey") == (
        "got ********** and **********"
    )


def test_json_log_lines_mask_the_echoed_secret_part(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    logs.configure(level="debug", log_format="json", stream=stream)
    logs.register_secret(f"sk_live_{SECRET}")
    logs.get_logger().warning("api.echo", detail=f"key {SECRET} and sk%5Flive%5F{SECRET}")
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["detail"] == "key ********** and sk%5Flive%5F**********"
    assert SECRET not in stream.getvalue()


@pytest.mark.parametrize("fmt", ["json", "human"])
def test_log_values_from_a_server_are_escaped(fmt: str) -> None:
    stream = io.StringIO()
    logs.configure(level="debug", log_format=fmt, stream=stream)
    logs.get_logger().warning("api.echo", detail="\x1b]0;title\x07red\r\u202eevil")
    out = stream.getvalue()
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "\\x1b]0;title\\x07red\\r\\u202eevil" in out.replace("\\\\", "\\")


def test_stdlib_logging_is_routed_before_http_is_used_and_redacted() -> None:
    """httpx logs through stdlib logging; the HTTP wire routes it (logs.route_stdlib) before
    its first request, so a library's line goes to our stream, redacted, never unfiltered."""
    import logging

    from reconciler.api.httpwire import HttpxWire

    stream = io.StringIO()
    logs.configure(level="debug", log_format="json", stream=stream)
    logs.register_secret(f"sk_live_{SECRET}")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        HttpxWire("http://127.0.0.1:9", None, timeout=1.0)
        logging.getLogger("uvicorn.error").warning("key sk_live_%s in a library line", SECRET)
        logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1:9 (dropped: INFO)")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        logging.getLogger("httpcore").setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["key sk_live_********** in a library line"]
    assert SECRET not in stream.getvalue()
