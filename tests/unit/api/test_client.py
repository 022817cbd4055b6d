"""PortalClient against the real sandbox app (in-process), with injected failures."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from structlog.testing import capture_logs

from reconciler.api import RetryPolicy
from reconciler.errors import (
    ApiAuthError,
    ApiError,
    ApiRejected,
    ApiUnreachable,
    ExitCode,
    PreconditionFailed,
    RateLimited,
    UsageError,
    WriteOutcomeUnknown,
)
from reconciler.model import EVENTS, SANDBOX_KEY, Secret, Target
from tests.helpers import embedded_session as ApiSession
from tests.helpers.api import Flaky, SandboxTransport, Sleeps, run
from tests.imagedata import jpeg, png

KEY = "sk_test_clientkey1"
URL = "http://127.0.0.1:9"  # never contacted: the transport is the wrapped sandbox


def target(key: str = KEY, env: str | None = "PORTAL_API_KEY") -> Target:
    return Target(url=URL, api_key=Secret(key), api_key_env=env)


def session(app: Any, policy: RetryPolicy) -> ApiSession:
    return ApiSession(retry=policy, transport=SandboxTransport(app=app))


# --- the embedded sandbox -------------------------------------------------------------------


def test_embedded_sandbox_read_and_write(tmp_path: Path) -> None:
    embedded = Target(
        url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=tmp_path / ".portal" / "s.db"
    )

    async def go() -> None:
        async with ApiSession() as api:
            client = api.client(embedded)
            state = await client.read_state()
            assert list(state.templates) == list(EVENTS)
            assert state.etags()["settings"] == state.settings_etag
            body, etag = await client.patch_settings(
                {"enabled": True}, if_match=state.settings_etag
            )
            assert body["portal_url"].startswith("https://billing.4geeks.io/p/")
            assert (await client.get_settings()) == (body, etag)

    run(go())
    assert (tmp_path / ".portal" / "s.db").exists()


def test_one_pool_per_base_url(tmp_path: Path) -> None:
    async def go() -> None:
        async with ApiSession() as api:
            a = api.client(Target(url="https://a.example", api_key=Secret("sk_test_aaaaaaa")))
            b = api.client(Target(url="https://a.example/", api_key=Secret("sk_test_bbbbbbb")))
            c = api.client(Target(url="https://c.example", api_key=Secret("sk_test_aaaaaaa")))
            assert a._wire is b._wire
            assert a._wire is not c._wire

    run(go())


def test_plain_http_to_remote_host_refused() -> None:
    async def go() -> None:
        async with ApiSession() as api:
            with pytest.raises(UsageError, match="plain http://"):
                api.client(Target(url="http://api.example", api_key=Secret(KEY)))
            api.client(Target(url="http://api.example", api_key=Secret(KEY), insecure=True))

    run(go())


def test_templates_round_trip(sandbox_app: Starlette, policy: RetryPolicy) -> None:
    async def go() -> None:
        async with session(sandbox_app, policy) as api:
            client = api.client(target())
            live = await client.get_template("payment_failed")
            put = await client.put_template(
                "payment_failed",
                subject="Declined",
                body="{{customer_portal_link}}",
                if_match=live.etag,
            )
            assert (put.subject, put.is_default) == ("Declined", False)
            assert (await client.list_templates())["payment_failed"] == put
            reset = await client.delete_template("payment_failed", if_match=put.etag)
            assert reset.is_default

    run(go())


# --- error mapping --------------------------------------------------------------------------


def test_412_is_precondition_failed_with_resource(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    async def go() -> None:
        async with session(sandbox_app, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            await client.patch_settings({"enabled": True}, if_match=etag)
            with pytest.raises(PreconditionFailed) as info:
                await client.patch_settings({"enabled": False}, if_match=etag)
            assert info.value.resource == "settings"
            assert info.value.exit_code == ExitCode.CONFLICT
            assert str(info.value).startswith(
                f"settings changed on {URL} since it was read (HTTP 412) (request req_"
            )
            tpl = await client.get_template("invoice_created")
            await client.put_template("invoice_created", subject="a", body="b", if_match=tpl.etag)
            with pytest.raises(PreconditionFailed) as tinfo:
                await client.delete_template("invoice_created", if_match=tpl.etag)
            assert tinfo.value.resource == "templates/invoice_created"

    run(go())


def test_422_is_api_rejected_with_param(sandbox_app: Starlette, policy: RetryPolicy) -> None:
    async def go() -> None:
        async with session(sandbox_app, policy) as api:
            client = api.client(target())
            with pytest.raises(ApiRejected) as info:
                await client.put_template(
                    "payment_failed", subject="x", body="{{customer_portl_link}}", if_match="*"
                )
            assert info.value.param == "body"
            assert info.value.exit_code == ExitCode.INVALID
            expected = "rejected body: unknown template variable {{customer_portl_link}} in body"
            assert f"{URL} {expected}" in str(info.value)

    run(go())


def test_401_names_the_variable_never_the_key(tmp_path: Path, policy: RetryPolicy) -> None:
    from reconciler.sandbox import create_app

    app = create_app(tmp_path / "s.db", api_keys=["sk_live_accepted1"])
    wrong = "sk_live_rejected99"

    async def go() -> None:
        async with session(app, policy) as api:
            with pytest.raises(ApiAuthError) as info:
                await api.client(target(wrong, env="ACME_PORTAL_KEY")).get_settings()
            message = str(info.value)
            assert message.startswith(
                f"the API key was rejected by {URL} (HTTP 401: the API key is not valid for this "
                "portal API) (request req_"
            )
            assert message.endswith("; check ACME_PORTAL_KEY")
            assert wrong not in message
            assert info.value.exit_code == ExitCode.UNREACHABLE

    run(go())
    app.state.sandbox.store.close()


def test_500_on_a_read_is_retried_and_then_exits_6(
    sandbox_app: Starlette, policy: RetryPolicy, sleeps: Sleeps
) -> None:
    from reconciler.sandbox import Faults

    sandbox_app.state.sandbox.faults.replace(Faults(error_rate=1.0))

    async def go() -> None:
        async with session(sandbox_app, policy) as api:
            with pytest.raises(ApiUnreachable) as info:
                await api.client(target()).get_settings()
            assert re.fullmatch(
                f"{URL} failed with HTTP 500 on GET /v1/portal/settings after 3 attempts: "
                r"injected failure \(request req_[0-9a-f]+\); try again later; if it persists, "
                "report it with the request id",
                str(info.value),
            ), str(info.value)
            assert info.value.exit_code == ExitCode.UNREACHABLE

    run(go())
    assert sleeps == [0.1, 0.2]


def test_500_on_a_write_is_not_retried_and_exits_6(
    sandbox_app: Starlette, policy: RetryPolicy, sleeps: Sleeps
) -> None:
    flaky = Flaky(sandbox_app, ["500"], methods={"PATCH"})

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            with pytest.raises(ApiUnreachable) as info:
                await client.patch_settings({"enabled": True}, if_match=etag)
            assert str(info.value) == (
                f"{URL} failed with HTTP 500 on PATCH /v1/portal/settings: injected "
                "(request req_injected); try again later; if it persists, report it with the "
                "request id"
            )

    run(go())
    assert sleeps == []
    assert [(m, a) for m, _, a in flaky.seen] == [("GET", "ok"), ("PATCH", "500")]


def test_503_retried_with_retry_after_capped(
    sandbox_app: Starlette, policy: RetryPolicy, sleeps: Sleeps
) -> None:
    flaky = Flaky(sandbox_app, ["503", "502"])

    async def go() -> None:
        async with session(flaky, policy) as api:
            body, _ = await api.client(target()).get_settings()
            assert body["enabled"] is False

    run(go())
    assert sleeps == [1.5, 1.5]  # Retry-After: 2, capped at 1.5


def test_retries_exhausted(sandbox_app: Starlette, policy: RetryPolicy, sleeps: Sleeps) -> None:
    async def go(actions: list[str]) -> BaseException:
        async with session(Flaky(sandbox_app, actions), policy) as api:
            with pytest.raises(ApiError) as info:
                await api.client(target()).get_settings()
            return info.value

    limited = run(go(["429"] * 3))
    assert isinstance(limited, RateLimited)
    assert str(limited).startswith(f"{URL} kept answering 429 Too Many Requests after 3 attempts")
    assert limited.exit_code == ExitCode.UNREACHABLE
    unavailable = run(go(["503"] * 3))
    assert "failed with HTTP 503 on GET /v1/portal/settings after 3 attempts" in str(unavailable)
    assert unavailable.exit_code == ExitCode.UNREACHABLE
    assert sleeps == [1.5] * 4


def test_connection_refused_is_unreachable(policy: RetryPolicy, sleeps: Sleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        url = f"http://127.0.0.1:{port}"

        async def go() -> None:
            async with ApiSession(retry=policy) as api:
                client = api.client(Target(url=url, api_key=Secret(KEY)))
                with pytest.raises(ApiUnreachable) as info:
                    await client.patch_settings({"enabled": True}, if_match="*")
                assert str(info.value).startswith(f"cannot reach {url}: connection failed (")
                assert str(info.value).endswith("; check PORTAL_API_URL and your network")
                assert info.value.exit_code == ExitCode.UNREACHABLE

        run(go())
    assert sleeps == [0.1, 0.2]  # a connect error is retried even for PATCH


# --- lost answers to writes -----------------------------------------------------------------


def test_get_reset_is_retried(sandbox_app: Starlette, policy: RetryPolicy) -> None:
    flaky = Flaky(sandbox_app, ["reset"])

    async def go() -> None:
        async with session(flaky, policy) as api:
            await api.client(target()).get_settings()

    run(go())
    assert [s[2] for s in flaky.seen] == ["reset", "ok"]


def test_patch_lost_after_apply_is_verified_not_resent(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, ["lose"], methods={"PATCH"})

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            body, new_etag = await client.patch_settings(
                {"branding": {"company_name": "Acme"}}, if_match=etag
            )
            assert body["branding"]["company_name"] == "Acme"
            assert new_etag != etag

    run(go())
    assert [(m, a) for m, _, a in flaky.seen] == [("GET", "ok"), ("PATCH", "lose"), ("GET", "ok")]


def test_patch_reset_before_apply_is_resent_after_a_reread(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, ["reset"], methods={"PATCH"})

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            body, _ = await client.patch_settings({"enabled": True}, if_match=etag)
            assert body["enabled"] is True

    run(go())
    assert [(m, a) for m, _, a in flaky.seen] == [
        ("GET", "ok"),
        ("PATCH", "reset"),
        ("GET", "ok"),
        ("PATCH", "ok"),
    ]


def test_patch_lost_and_changed_meanwhile_may_or_may_not_be_applied(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, ["lose"], methods={"PATCH"})
    store = sandbox_app.state.sandbox.store
    tenant = hashlib.sha256(KEY.encode()).hexdigest()

    def other_writer() -> None:
        settings = store.settings(tenant, "test")
        settings["branding"]["company_name"] = "Someone Else"
        store.save_settings(tenant, settings)

    flaky.meanwhile = other_writer

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            with pytest.raises(WriteOutcomeUnknown) as info:
                await client.patch_settings({"branding": {"company_name": "Acme"}}, if_match=etag)
            assert info.value.request == "PATCH /v1/portal/settings"
            assert info.value.exit_code == ExitCode.UNREACHABLE
            assert str(info.value) == (
                f"lost the answer from {URL} (the connection was dropped before a complete "
                "response) and settings has since changed in another way; the write may or may "
                "not have been applied (PATCH settings); run `portalctl plan` to see the "
                "portal's current state, then apply again"
            )

    run(go())
    assert [m for m, _, _ in flaky.seen] == ["GET", "PATCH", "GET"]


def test_put_template_applied_then_504_then_412_is_success(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, ["applied-504"], methods={"PUT"})

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            live = await client.get_template("invoice_created")
            result = await client.put_template(
                "invoice_created", subject="New", body="b", if_match=live.etag
            )
            assert (result.subject, result.is_default) == ("New", False)

    run(go())
    assert [(m, a) for m, _, a in flaky.seen] == [
        ("GET", "ok"),
        ("PUT", "applied-504"),
        ("PUT", "ok"),
        ("GET", "ok"),
    ]


def test_logo_lost_after_apply_is_verified(sandbox_app: Starlette, policy: RetryPolicy) -> None:
    flaky = Flaky(sandbox_app, ["lose", "lose"], methods={"PUT", "DELETE"})
    data = png(20, 5)

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            body, etag = await client.put_logo(
                data, content_type="image/png", filename="l.png", if_match=etag
            )
            assert body["branding"]["logo"]["sha256"] == hashlib.sha256(data).hexdigest()
            body, _ = await client.delete_logo(if_match=etag)
            assert body["branding"]["logo"] is None

    run(go())


def test_requests_are_logged_at_debug_without_the_key(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    async def go() -> None:
        async with session(Flaky(sandbox_app, ["503"]), policy) as api:
            await api.client(target()).get_settings()

    with capture_logs() as logs:
        run(go())
    requests = [e for e in logs if e["event"] == "api.request"]
    assert [(e["method"], e["path"], e["status"], e["attempt"]) for e in requests] == [
        ("GET", "/v1/portal/settings", 503, 1),
        ("GET", "/v1/portal/settings", 200, 2),
    ]
    assert all(e["log_level"] == "debug" for e in requests)
    assert KEY not in repr(logs)


def test_download_logo_checks_the_hash(sandbox_app: Starlette, policy: RetryPolicy) -> None:
    data = png(40, 10)

    async def go() -> None:
        async with session(sandbox_app, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            body, _ = await client.put_logo(
                data, content_type="image/png", filename="l.png", if_match=etag
            )
            logo = body["branding"]["logo"]
            assert await client.get_logo_file(logo) == data
            with pytest.raises(ApiError, match="does not match its sha256"):
                await client.get_logo_file({**logo, "sha256": "0" * 64})

    run(go())


def test_logo_on_another_host_is_fetched_without_the_key(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, [])

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            with pytest.raises(ApiAuthError):
                await client.get_logo_file({"url": "https://cdn.example/logo.png", "sha256": "0"})

    run(go())
    assert flaky.seen == [("GET", "/logo.png", "ok")]


def test_embedded_sandbox_logo_download(tmp_path: Path) -> None:
    embedded = Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=tmp_path / "s.db")
    data = jpeg(80, 20)

    async def go() -> None:
        async with ApiSession() as api:
            client = api.client(embedded)
            _, etag = await client.get_settings()
            body, _ = await client.put_logo(
                data, content_type="image/jpeg", filename="l.jpg", if_match=etag
            )
            assert await client.get_logo_file(body["branding"]["logo"]) == data

    run(go())


def test_412_after_a_503_retry_by_another_writer_is_a_conflict(
    sandbox_app: Starlette, policy: RetryPolicy
) -> None:
    flaky = Flaky(sandbox_app, ["503"], methods={"PATCH"})
    store = sandbox_app.state.sandbox.store
    tenant = hashlib.sha256(KEY.encode()).hexdigest()

    async def go() -> None:
        async with session(flaky, policy) as api:
            client = api.client(target())
            _, etag = await client.get_settings()
            settings = store.settings(tenant, "test")
            settings["branding"]["company_name"] = "Someone Else"
            store.save_settings(tenant, settings)
            with pytest.raises(PreconditionFailed):
                await client.patch_settings({"enabled": True}, if_match=etag)

    run(go())
    assert [(m, a) for m, _, a in flaky.seen][1:] == [
        ("PATCH", "503"),
        ("PATCH", "ok"),
        ("GET", "ok"),
    ]


def test_unwritable_embedded_sandbox_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    embedded = Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=blocker / "s.db")

    async def go() -> None:
        async with ApiSession() as api:
            with pytest.raises(UsageError) as info:
                api.client(embedded)
            assert str(info.value).startswith(
                f"cannot open the embedded sandbox database {blocker / 's.db'}: "
            )

    run(go())
