"""The two runtimes the core runs on: asyncio, and inline (no event loop) for runs whose
every portal is the embedded sandbox."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from reconciler import reconcile
from reconciler.api.runtime import ASYNCIO, INLINE, runtime_for
from reconciler.errors import ExitCode
from reconciler.model import SANDBOX_KEY, Secret, Target
from reconciler.reconcile import PortalRun
from tests.helpers import embedded_session


async def _double(value: int) -> int:
    await INLINE.sleep(0)
    return value * 2


async def _fails() -> int:
    raise ValueError("boom")


def test_inline_run_returns_the_value_and_raises_what_the_coroutine_raises() -> None:
    assert INLINE.run(_double(21)) == 42
    with pytest.raises(ValueError, match="boom"):
        INLINE.run(_fails())


def test_inline_run_refuses_a_coroutine_that_waits_on_an_event_loop() -> None:
    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="in-process run waited on an event loop"):
        INLINE.run(waits())


def test_inline_gather_keeps_order_and_returns_exceptions_like_asyncio() -> None:
    async def both(runtime: object) -> list[object]:
        assert runtime is INLINE or runtime is ASYNCIO
        return await runtime.gather(_double(1), _fails(), _double(3))  # type: ignore[attr-defined]

    inline = INLINE.run(both(INLINE))
    on_loop = ASYNCIO.run(both(ASYNCIO))
    for results in (inline, on_loop):
        assert results[0] == 2 and results[2] == 6
        assert isinstance(results[1], ValueError) and str(results[1]) == "boom"


def test_inline_sleep_really_waits() -> None:
    started = time.monotonic()
    INLINE.run(INLINE.sleep(0.05))
    assert time.monotonic() - started >= 0.05


def test_inline_each_runs_one_after_the_other_in_order() -> None:
    seen: list[str] = []

    async def one(index: int) -> None:
        seen.append(f"start {index}")
        await INLINE.sleep(0)
        seen.append(f"end {index}")

    INLINE.run(INLINE.each(3, one, parallelism=8))
    assert seen == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]


def test_runtime_for_is_inline_only_when_every_portal_is_the_embedded_sandbox() -> None:
    assert runtime_for([None]) is INLINE
    assert runtime_for([None, None]) is INLINE
    assert runtime_for([]) is INLINE
    assert runtime_for([None, "https://api.example.com"]) is ASYNCIO
    assert runtime_for(["http://127.0.0.1:8080"]) is ASYNCIO


def test_an_inline_session_refuses_a_portal_reached_over_http() -> None:
    session = embedded_session(runtime=INLINE)
    target = Target(url="https://api.example.com", api_key=Secret("sk_test_abcdefgh"))
    with pytest.raises(RuntimeError, match="reached over HTTP: use the asyncio runtime"):
        session.client(target)


def test_for_each_inline_isolates_failures_like_asyncio(tmp_path: Path) -> None:
    runs = [PortalRun(source=tmp_path / f"p{i}.yaml") for i in range(3)]

    async def job(run: PortalRun) -> PortalRun:
        if run.source.name == "p1.yaml":
            raise KeyError("a bug on one portal")
        return run

    done: list[str] = []
    results = INLINE.run(
        reconcile.for_each(
            runs, job, parallelism=4, on_done=lambda r: done.append(r.source.name), runtime=INLINE
        )
    )
    assert done == ["p0.yaml", "p1.yaml", "p2.yaml"]
    assert [r.error is None for r in results] == [True, False, True]
    assert results[1].error is not None and results[1].error.exit_code == ExitCode.ERROR


def test_the_embedded_sandbox_reads_the_same_inline_and_on_asyncio(tmp_path: Path) -> None:
    target = Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=tmp_path / "s.db")

    async def read(runtime: object) -> object:
        async with embedded_session(runtime=runtime) as api:
            return await api.client(target).read_state()

    assert INLINE.run(read(INLINE)) == ASYNCIO.run(read(ASYNCIO))


def test_unprepared_runs_are_planned_on_asyncio_and_prepared_ones_by_their_targets(
    tmp_path: Path,
) -> None:
    from reconciler.reconcile import Connection, prepare_runs, runtime_of
    from reconciler.sources import expand_sources

    spec = tmp_path / "portal.yaml"
    spec.write_text("version: 1\nportal:\n  enabled: true\n", encoding="utf-8")
    env = {"PORTAL_SANDBOX_DB": str(tmp_path / "s.db")}
    assert runtime_of(None) is ASYNCIO
    prepared = prepare_runs(expand_sources([str(spec)]), Connection(env=env))
    assert prepared[0].error is None and prepared[0].target is not None
    assert runtime_of(prepared) is INLINE
    network = {
        **env,
        "PORTAL_API_URL": "https://api.example.com",
        "PORTAL_API_KEY": "sk_test_abcdefgh",
    }
    assert runtime_of(prepare_runs(expand_sources([str(spec)]), Connection(env=network))) is ASYNCIO
