"""The API key never appears in anything the client or the server prints or logs."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import random
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog

from reconciler import logs
from reconciler.api import ApiSession, RetryPolicy
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.model import Secret, Target
from tests.imagedata import png


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """Client-side logs at debug level, as JSON lines, into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.configure(level="debug", log_format="json", stream=stream)
    yield stream
    structlog.reset_defaults()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def drop_then_keep_seed() -> int:
    return next(
        s for s in range(10_000) if (lambda r: r.random() < 0.5 <= r.random())(random.Random(s))
    )


async def _no_wait(delay: float) -> None:
    return None


def test_key_never_printed_or_logged(
    start_sandbox: Callable[..., Any], debug_logs: io.StringIO
) -> None:
    # Fresh random keys, NOT registered for redaction: the test must see leaks, not masks.
    key = f"sk_live_{secrets.token_hex(12)}"
    wrong = f"sk_live_{secrets.token_hex(12)}"
    server = start_sandbox("--api-key", key, any_key=False, log_level="debug")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    messages: list[str] = []

    async def expect_error(coro: Any) -> None:
        try:
            await coro
        except ReconcilerError as exc:
            messages.append(str(exc))
            messages.append(repr(exc))
        else:  # pragma: no cover - the point of the call is the error
            raise AssertionError("expected an error")

    async def go() -> None:
        policy = RetryPolicy(max_attempts=2, base_delay=0.01, sleep=_no_wait)
        async with ApiSession(retry=policy) as api:
            target = Target(url=server.url, api_key=Secret(key), api_key_env="ACME_KEY")
            messages.append(repr(target))
            messages.append(target.describe())
            client = api.client(target)
            state = await client.read_state()
            _, etag = await client.patch_settings({"enabled": True}, if_match=state.settings_etag)
            await expect_error(
                client.patch_settings({"enabled": False}, if_match=state.settings_etag)
            )
            await expect_error(
                client.put_template("invoice_created", subject="x", body="{{nope}}", if_match="*")
            )
            await client.put_logo(
                png(),
                content_type="image/png",
                filename="logo.png",
                if_match=etag,
            )
            server.set_faults(drop_rate=0.5, seed=drop_then_keep_seed())
            await client.get_settings()
            server.set_faults()
            await expect_error(
                api.client(Target(url=server.url, api_key=Secret(wrong))).get_settings()
            )
            await expect_error(api.client(Target(url=dead_url, api_key=Secret(key))).get_settings())
        # Basic auth too (the key as user name).
        async with httpx.AsyncClient(base_url=server.url, auth=(key, "")) as http:
            assert (await http.get("/v1/notifications/templates")).status_code == 200

    asyncio.run(go())
    request_log = httpx.get(f"{server.url}/_sandbox/requests").text
    server.stop()
    client_output = debug_logs.getvalue()
    server_output = server.ready_line + "\n" + server.stderr()
    db_bytes = b"".join(
        p.read_bytes() for p in server.db_path.parent.glob(server.db_path.name + "*")
    )

    # The things searched really hold the run's output (else the test could not fail).
    assert client_output.count('"event": "api.request"') >= 8
    assert '"status": null' in client_output  # the dropped request was logged
    assert "sandbox listening on" in server_output and "Started server process" in server_output
    assert len(messages) == 10
    assert request_log.count('"status":401') == 1

    for secret in (key, wrong):
        assert secret not in client_output
        assert secret not in server_output
        assert secret not in request_log
        assert all(secret not in m for m in messages)
        assert secret.encode() not in db_bytes


def test_cli_output_never_holds_the_key(start_sandbox: Callable[..., Any], tmp_path: Any) -> None:
    key = f"sk_test_{secrets.token_hex(12)}"
    wrong = f"sk_test_{secrets.token_hex(12)}"
    server = start_sandbox("--api-key", key, any_key=False, log_level="debug")

    def portalctl(api_key: str, out: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PORTAL_API_URL": server.url,
            "PORTAL_API_KEY": api_key,
            "PORTALCTL_LOG_LEVEL": "debug",
        }
        env.pop("CI", None)
        return subprocess.run(
            [sys.executable, "-m", "reconciler.cli", "export", "--out", out],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )

    good = portalctl(key, "good")
    bad = portalctl(wrong, "bad")
    server.stop()
    assert good.returncode == 0, good.stderr
    assert "api.request" in good.stderr  # debug logs were really written
    assert bad.returncode == ExitCode.UNREACHABLE
    assert "portalctl: error: the API key was rejected by" in bad.stderr
    assert bad.stderr.rstrip().endswith("; check PORTAL_API_KEY")
    everything = good.stdout + good.stderr + bad.stdout + bad.stderr + server.stderr()
    everything += "".join(p.read_text() for p in (tmp_path / "good").rglob("*.yaml"))
    assert key not in everything
    assert wrong not in everything
