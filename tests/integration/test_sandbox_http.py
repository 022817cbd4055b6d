"""`portalctl sandbox serve` as a real HTTP server on loopback, driven by the client."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.api import ApiSession, RetryPolicy
from reconciler.errors import ApiAuthError, ApiRejected, ExitCode, PreconditionFailed
from reconciler.model import Secret, Target

SETTINGS = "/v1/portal/settings"


class RecordingSleep(list[float]):
    """Records each wait and really waits (capped), so Retry-After is honoured for real."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)
        await asyncio.sleep(delay)


def fast_policy(sleep: Callable[[float], Any] | None = None) -> RetryPolicy:
    async def no_wait(delay: float) -> None:
        return None

    return RetryPolicy(max_attempts=3, base_delay=0.01, sleep=no_wait if sleep is None else sleep)


def client_for(server: Any, api: ApiSession, key: str | None = None) -> Any:
    return api.client(
        Target(url=server.url, api_key=Secret(key or server.key), api_key_env="PORTAL_API_KEY")
    )


def seed_for(pattern: str, rate: float = 0.5) -> int:
    """A seed whose random draws fall below (d = drop) / above (k = keep) ``rate`` in order."""
    for seed in range(10_000):
        rng = random.Random(seed)
        if all((rng.random() < rate) == (c == "d") for c in pattern):
            return seed
    raise AssertionError(pattern)


def statuses(server: Any) -> list[tuple[str, int | None]]:
    return [(r["method"], r["status"]) for r in server.requests()]


def test_ready_line_names_url_and_db(sandbox_server: Any) -> None:
    assert sandbox_server.ready_line == (
        f"sandbox listening on {sandbox_server.url} "
        f"(db {sandbox_server.db_path}; any sk_test_/sk_live_ key)"
    )
    assert sandbox_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{sandbox_server.url}/_sandbox/health").json() == {"status": "ok"}


def test_ready_line_names_the_public_sandbox_key(start_sandbox: Callable[..., Any]) -> None:
    server = start_sandbox(any_key=False)
    assert server.ready_line == (
        f"sandbox listening on {server.url} (db {server.db_path}; key sk_test_sandbox)"
    )


def test_ready_line_never_prints_a_key_given_on_the_command_line(
    start_sandbox: Callable[..., Any],
) -> None:
    one = start_sandbox("--api-key", "sk_live_S3cretPart42", any_key=False)
    assert one.ready_line == (
        f"sandbox listening on {one.url} (db {one.db_path}; key: the one given with --api-key)"
    )
    two = start_sandbox(
        "--api-key", "sk_live_S3cretPart42", "--api-key", "sk_test_Other1234", any_key=False
    )
    assert two.ready_line.endswith("; keys: the 2 given with --api-key)")
    for server in (one, two):
        assert "S3cretPart42" not in server.ready_line + server.stderr()


def test_public_sandbox_admin_routes_need_an_accepted_key(
    start_sandbox: Callable[..., Any],
) -> None:
    server = start_sandbox("--public", "--api-key", "sk_test_admin_key1", any_key=False)
    for method, path in (
        ("GET", "/_sandbox/health"),
        ("GET", "/_sandbox/requests"),
        ("DELETE", "/_sandbox/requests"),
        ("GET", "/_sandbox/faults"),
        ("PUT", "/_sandbox/faults"),
    ):
        for headers in ({}, {"X-Api-Key": "sk_test_not_this_one"}):
            refused = httpx.request(method, server.url + path, headers=headers, json={})
            assert refused.status_code == 401, (method, path, headers)
            assert refused.json()["code"] == "unauthenticated"
    faults = httpx.put(
        f"{server.url}/_sandbox/faults",
        json={"error_rate": 1.0},
        headers={"X-Api-Key": "sk_live_guess_123456"},
    )
    assert faults.status_code == 401
    allowed = httpx.get(
        f"{server.url}/_sandbox/faults", headers={"X-Api-Key": "sk_test_admin_key1"}
    )
    assert allowed.status_code == 200
    assert allowed.json()["error_rate"] == 0.0
    basic = httpx.get(f"{server.url}/_sandbox/health", auth=("sk_test_admin_key1", ""))
    assert basic.json() == {"status": "ok"}


def test_public_sandbox_admin_routes_never_take_any_key_or_the_public_key(
    start_sandbox: Callable[..., Any],
) -> None:
    server = start_sandbox("--public")  # --any-key
    for key in ("sk_test_sandbox", server.new_key(), server.key):
        refused = httpx.get(f"{server.url}/_sandbox/requests", headers={"X-Api-Key": key})
        assert refused.status_code == 401
        assert refused.json()["detail"] == (
            "the admin routes of a public sandbox need one of the keys given with --api-key "
            "(X-Api-Key header, or the HTTP Basic user name)"
        )
    api = httpx.get(f"{server.url}/v1/portal/settings", headers={"X-Api-Key": server.key})
    assert api.status_code == 200


def test_loopback_sandbox_admin_routes_stay_open(start_sandbox: Callable[..., Any]) -> None:
    server = start_sandbox("--api-key", "sk_test_admin_key1", any_key=False)
    assert httpx.get(f"{server.url}/_sandbox/health").json() == {"status": "ok"}


def test_etag_round_trip(sandbox_server: Any) -> None:
    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            client = client_for(sandbox_server, api)
            _, etag = await client.get_settings()
            body, new_etag = await client.patch_settings(
                {"branding": {"company_name": "Acme"}}, if_match=etag
            )
            assert new_etag != etag
            assert await client.get_settings() == (body, new_etag)
            state = await client.read_state()
            assert state.settings_etag == new_etag

    asyncio.run(go())


def test_428_412_401_422_over_http(sandbox_server: Any) -> None:
    url = sandbox_server.url + SETTINGS
    headers = {"X-Api-Key": sandbox_server.key, "Content-Type": "application/merge-patch+json"}
    no_if_match = httpx.patch(url, content=b'{"enabled": true}', headers=headers)
    assert no_if_match.status_code == 428
    assert no_if_match.headers["content-type"] == "application/problem+json"
    assert no_if_match.json()["code"] == "precondition_required"
    assert no_if_match.headers["Request-Id"] == no_if_match.json()["request_id"]

    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            client = client_for(sandbox_server, api)
            _, etag = await client.get_settings()
            await client.patch_settings({"enabled": True}, if_match=etag)
            with pytest.raises(PreconditionFailed) as stale:
                await client.patch_settings({"enabled": False}, if_match=etag)
            assert stale.value.exit_code == ExitCode.CONFLICT
            with pytest.raises(ApiRejected) as rejected:
                await client.patch_settings({"branding": {"primary_color": "blue"}}, if_match="*")
            assert rejected.value.param == "branding.primary_color"
            assert "must be a hex colour #RRGGBB" in str(rejected.value)

    asyncio.run(go())


def test_401_for_a_key_the_server_does_not_accept(start_sandbox: Callable[..., Any]) -> None:
    server = start_sandbox("--api-key", "sk_live_onlythisone", any_key=False)
    wrong = "sk_live_notaccepted"

    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            with pytest.raises(ApiAuthError) as info:
                await client_for(server, api, wrong).get_settings()
            assert wrong not in str(info.value)
            assert str(info.value).endswith("; check PORTAL_API_KEY")
            body, _ = await client_for(server, api, "sk_live_onlythisone").get_settings()
            assert body["enabled"] is False

    asyncio.run(go())
    assert statuses(server) == [("GET", 401), ("GET", 200)]


def test_429_then_success_after_retry_after(start_sandbox: Callable[..., Any]) -> None:
    server = start_sandbox("--rate-limit", "1")
    sleep = RecordingSleep()

    async def go() -> None:
        async with ApiSession(retry=fast_policy(sleep)) as api:
            client = client_for(server, api)
            await client.get_settings()
            body, _ = await client.get_settings()
            assert body["enabled"] is False

    asyncio.run(go())
    assert sleep == [1.0]
    assert statuses(server) == [("GET", 200), ("GET", 429), ("GET", 200)]


def test_dropped_get_is_retried(sandbox_server: Any) -> None:
    sandbox_server.set_faults(drop_rate=0.5, seed=seed_for("dk"))

    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            body, _ = await client_for(sandbox_server, api).get_settings()
            assert body["enabled"] is False

    asyncio.run(go())
    assert statuses(sandbox_server) == [("GET", None), ("GET", 200)]


def test_dropped_patch_is_not_resent_blindly(sandbox_server: Any) -> None:
    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            client = client_for(sandbox_server, api)
            _, etag = await client.get_settings()
            sandbox_server.clear_requests()
            sandbox_server.set_faults(drop_rate=0.5, seed=seed_for("dkk"))
            body, _ = await client.patch_settings({"enabled": True}, if_match=etag)
            assert body["enabled"] is True

    asyncio.run(go())
    # The lost PATCH is followed by a re-read; only an unchanged ETag allows the resend.
    assert statuses(sandbox_server) == [("PATCH", None), ("GET", 200), ("PATCH", 200)]


def test_dropped_translation_create_is_settled_then_resent(sandbox_server: Any) -> None:
    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            client = client_for(sandbox_server, api)
            sandbox_server.set_faults(drop_rate=0.5, seed=seed_for("dkk"))
            created = await client.put_translation(
                "invoice_created",
                "pt-br",
                subject="Fatura {{invoice_number}}",
                body="Pague em {{customer_portal_link}}",
                if_match=None,
            )
            assert (created.locale, created.subject) == ("pt-BR", "Fatura {{invoice_number}}")
            sandbox_server.set_faults()
            listed = await client.list_templates()
            assert listed["invoice_created"].locales["pt-BR"].etag == created.etag

    asyncio.run(go())
    # Lost PUT -> the template list shows no pt-BR yet -> resending the create is safe.
    assert statuses(sandbox_server) == [("PUT", None), ("GET", 200), ("PUT", 201), ("GET", 200)]


def test_translation_writes_are_conditional_over_http(sandbox_server: Any) -> None:
    async def go() -> None:
        async with ApiSession(retry=fast_policy()) as api:
            client = client_for(sandbox_server, api)
            first = await client.put_translation(
                "payment_failed", "es", subject="Pago fallido", body="x", if_match=None
            )
            with pytest.raises(PreconditionFailed) as again:
                await client.put_translation(
                    "payment_failed", "es", subject="Otro", body="y", if_match=None
                )
            assert again.value.exit_code == ExitCode.CONFLICT
            second = await client.put_translation(
                "payment_failed", "es", subject="Pago fallido", body="z", if_match=first.etag
            )
            with pytest.raises(PreconditionFailed):
                await client.delete_translation("payment_failed", "es", if_match=first.etag)
            gone = await client.delete_translation("payment_failed", "es", if_match=second.etag)
            assert gone == "templates/payment_failed/locales/es"
            assert (await client.list_templates())["payment_failed"].locales == {}
            with pytest.raises(ApiRejected) as bad:
                await client.put_translation(
                    "payment_failed", "es_ES", subject="x", body="y", if_match=None
                )
            assert bad.value.exit_code == ExitCode.INVALID

    asyncio.run(go())


def test_fail_write_numbers_over_http(sandbox_server: Any) -> None:
    sandbox_server.set_faults(fail_write_numbers=[1])
    headers = {
        "X-Api-Key": sandbox_server.key,
        "If-Match": "*",
        "Content-Type": "application/merge-patch+json",
    }
    first = httpx.patch(sandbox_server.url + SETTINGS, content=b"{}", headers=headers)
    second = httpx.patch(sandbox_server.url + SETTINGS, content=b"{}", headers=headers)
    assert (first.status_code, second.status_code) == (500, 200)


def test_refuses_a_public_host_without_flag() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler.cli",
            "sandbox",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == ExitCode.INVALID
    assert result.stdout == ""
    assert result.stderr == (
        "portalctl: error: refusing to serve the sandbox on non-loopback address 0.0.0.0; "
        "use --host 127.0.0.1, or pass --public to expose it on purpose\n"
    )


@pytest.mark.slow
def test_sigkill_during_writes_keeps_every_acknowledged_write(
    start_sandbox: Callable[..., Any],
) -> None:
    server = start_sandbox()
    acknowledged: dict[str, str] = {}
    keys = [server.new_key() for _ in range(400)]

    async def writer(worker: int, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
            for i in range(worker, len(keys), 4):
                if stop.is_set():
                    return
                key = keys[i]
                name = f"Company {i}"
                try:
                    response = await http.patch(
                        SETTINGS,
                        content=json.dumps({"branding": {"company_name": name}}),
                        headers={
                            "X-Api-Key": key,
                            "If-Match": "*",
                            "Content-Type": "application/merge-patch+json",
                        },
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    acknowledged[key] = name
                    if len(acknowledged) >= 60 and not stop.is_set():
                        stop.set()
                        server.kill()  # SIGKILL while the other writers have requests in flight

    async def go() -> None:
        stop = asyncio.Event()
        await asyncio.gather(*(writer(w, stop) for w in range(4)))

    asyncio.run(go())
    assert server.process.returncode == -9
    assert len(acknowledged) >= 60
    db = sqlite3.connect(server.db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for key, name in acknowledged.items():
            row = db.execute(
                "SELECT settings FROM portals WHERE tenant = ?",
                (hashlib.sha256(key.encode()).hexdigest(),),
            ).fetchone()
            assert row is not None, "an acknowledged write is missing"
            assert json.loads(row[0])["branding"]["company_name"] == name
    finally:
        db.close()
    # The file is still a working sandbox.
    again = start_sandbox(db_path=server.db_path)
    some_key, some_name = next(iter(acknowledged.items()))
    response = httpx.get(again.url + SETTINGS, headers={"X-Api-Key": some_key})
    assert response.json()["branding"]["company_name"] == some_name


def test_serve_flags_set_the_faults(start_sandbox: Callable[..., Any]) -> None:
    server = start_sandbox(
        "--error-rate",
        "1",
        "--latency-ms",
        "1",
        "--drop-rate",
        "0",
        "--seed",
        "7",
        "--rate-limit",
        "50",
    )
    faults = httpx.get(f"{server.url}/_sandbox/faults").json()
    assert faults == {
        "latency_ms": 1,
        "error_rate": 1.0,
        "drop_rate": 0.0,
        "rate_limit": 50.0,
        "race_412": False,
        "fail_write_numbers": [],
        "seed": 7,
    }
    response = httpx.get(server.url + SETTINGS, headers={"X-Api-Key": server.key})
    assert response.status_code == 500
    assert response.headers["X-RateLimit-Limit"] == "50"
    assert response.json()["code"] == "internal_error"
