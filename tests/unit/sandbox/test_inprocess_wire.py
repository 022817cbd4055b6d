"""The embedded sandbox's in-process wire: the client's usual failures, on the inline runtime.

What the client sees through ``reconciler.sandbox.wire.InProcessWire`` when the sandbox is
told to fail must be what it sees over HTTP: a dropped connection is retried and then
"cannot reach", a slow answer overruns the deadline, an answer too large is refused, a
precondition failure is a 412. All of it without an event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import ApiSession, RetryPolicy
from reconciler.api.runtime import INLINE, Runtime
from reconciler.api.wire import DROPPED, AnswerTooLarge, Outgoing, TransportFailure
from reconciler.errors import ApiUnreachable, ExitCode, PreconditionFailed
from reconciler.model import SANDBOX_KEY, Secret, Target
from reconciler.sandbox import Faults
from reconciler.sandbox.portal import SandboxPortal, open_portal
from reconciler.sandbox.wire import InProcessWire
from tests.helpers.api import Sleeps


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[SandboxPortal]:
    with open_portal(tmp_path / "s.db", any_key=True, sleep=INLINE.sleep) as opened:
        yield opened


def session_on(portal: SandboxPortal, sleeps: Sleeps) -> ApiSession:
    def embedded(db: Path, runtime: Runtime) -> tuple[InProcessWire, Any]:
        return InProcessWire(portal), lambda: None

    policy = RetryPolicy(max_attempts=3, base_delay=0.1, sleep=sleeps, random=lambda: 1.0)
    return ApiSession(embedded=embedded, retry=policy, runtime=INLINE)


TARGET = Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=Path("unused.db"))


def test_a_dropped_connection_is_retried_then_cannot_reach(portal: SandboxPortal) -> None:
    portal.state.faults.replace(Faults(drop_rate=1.0))
    sleeps = Sleeps()

    async def read() -> None:
        async with session_on(portal, sleeps) as api:
            await api.client(TARGET).get_settings()

    with pytest.raises(ApiUnreachable) as info:
        INLINE.run(read())
    assert str(info.value) == (
        f"cannot reach embedded sandbox (unused.db): {DROPPED}; check PORTAL_API_URL and your "
        "network"
    )
    assert info.value.exit_code == ExitCode.UNREACHABLE
    assert sleeps == [0.1, 0.2]  # three attempts, backoff between them
    assert len(portal.state.requests) == 3


def test_an_answer_slower_than_the_deadline_is_a_timeout(
    portal: SandboxPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_API_DEADLINE", "0.05")
    portal.state.faults.replace(Faults(latency_ms=120))

    async def read() -> None:
        async with session_on(portal, Sleeps()) as api:
            await api.client(TARGET).get_settings()

    with pytest.raises(ApiUnreachable) as info:
        INLINE.run(read())
    assert str(info.value).startswith(
        "cannot reach embedded sandbox (unused.db): no complete answer to "
        "GET /v1/portal/settings within 0.05 s"
    )


def test_a_write_that_finds_its_resource_moved_is_a_412(portal: SandboxPortal) -> None:
    async def write() -> None:
        async with session_on(portal, Sleeps()) as api:
            client = api.client(TARGET)
            _, etag = await client.get_settings()
            portal.state.faults.replace(Faults(race_412=True))
            await client.patch_settings({"enabled": False}, if_match=etag)

    with pytest.raises(PreconditionFailed) as info:
        INLINE.run(write())
    assert info.value.exit_code == ExitCode.CONFLICT
    assert str(info.value).startswith("settings changed on embedded sandbox (unused.db)")


def test_the_wire_refuses_an_answer_over_the_size_cap(portal: SandboxPortal) -> None:
    wire = InProcessWire(portal)
    send = wire.send(
        Outgoing(
            "GET",
            "/v1/notifications/templates",
            {"X-Api-Key": SANDBOX_KEY},
            max_bytes=64,
            deadline=10.0,
        )
    )
    with pytest.raises(AnswerTooLarge) as info:
        INLINE.run(send)
    assert info.value.declared is not None and info.value.declared > 64


def test_the_wire_reaches_only_its_own_origin(portal: SandboxPortal) -> None:
    wire = InProcessWire(portal)

    def get(url: str) -> Any:
        out = Outgoing("GET", url, {"x-api-key": SANDBOX_KEY}, max_bytes=1 << 20, deadline=10.0)
        return INLINE.run(wire.send(out))

    assert get("http://sandbox.localhost/v1/portal/settings").status == 200
    with pytest.raises(TransportFailure) as info:
        get("https://cdn.example.com/logo.png")
    assert info.value.reason == "https://cdn.example.com is not the embedded sandbox"
    assert info.value.sent is False


def test_a_logo_uploads_and_downloads_in_process(portal: SandboxPortal) -> None:
    from tests.imagedata import png

    data = png(64, 32)

    async def upload_then_download() -> bytes:
        async with session_on(portal, Sleeps()) as api:
            client = api.client(TARGET)
            _, etag = await client.get_settings()
            body, _ = await client.put_logo(
                data, content_type="image/png", filename="logo.png", if_match=etag
            )
            return await client.get_logo_file(body["branding"]["logo"])

    assert INLINE.run(upload_then_download()) == data
    assert hashlib.sha256(data).hexdigest() in str(portal.state.requests[-1]["path"])
