"""How the async core runs: on asyncio, or inline when every portal is in-process.

The core is written once, as coroutines. What they await for concurrency and waiting goes
through a ``Runtime``:

* ``ASYNCIO``: an event loop; a portal's two GETs go out together and ``for_each`` runs
  ``parallelism`` portals at once. Needed as soon as one portal is reached over HTTP.
* ``INLINE``: no event loop at all, for runs whose every portal is the embedded sandbox
  (in-process, SQLite: nothing to overlap). Coroutines run one after the other and
  ``run`` drives them with ``send(None)``; waits are ``time.sleep``. This is what keeps
  ``portalctl plan`` on the default target from importing asyncio (issue 14).

A coroutine run inline must never wait on asyncio (a future or a real socket): ``run``
stops it and raises ``RuntimeError`` if it does, so a wiring mistake fails loudly.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from reconciler import logs

T = TypeVar("T")


class Runtime:
    """Asyncio's flavour of the primitives the core awaits (``ASYNCIO``)."""

    inline = False

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        import asyncio

        logs.route_stdlib()  # asyncio reports what it cannot raise through stdlib logging
        return asyncio.run(coro)

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)

    async def gather(self, *aws: Awaitable[Any]) -> list[Any]:
        """Every awaitable's result, or the exception it raised, in order."""
        import asyncio

        return list(await asyncio.gather(*aws, return_exceptions=True))

    async def each(
        self, count: int, one: Callable[[int], Awaitable[None]], *, parallelism: int
    ) -> None:
        """``one(i)`` for i in range(count), at most ``parallelism`` at once."""
        import asyncio

        gate = asyncio.Semaphore(parallelism)

        async def gated(index: int) -> None:
            async with gate:
                await one(index)

        async with asyncio.TaskGroup() as group:
            for index in range(count):
                group.create_task(gated(index))


class InlineRuntime(Runtime):
    """No event loop: one coroutine at a time (``INLINE``)."""

    inline = True

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        coro.close()
        raise RuntimeError(
            "an in-process run waited on an event loop; reach a network portal with the "
            "asyncio runtime (reconciler.api.runtime.ASYNCIO)"
        )

    async def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def gather(self, *aws: Awaitable[Any]) -> list[Any]:
        results: list[Any] = []
        for aw in aws:
            try:
                results.append(await aw)
            except Exception as exc:
                results.append(exc)
        return results

    async def each(
        self, count: int, one: Callable[[int], Awaitable[None]], *, parallelism: int
    ) -> None:
        for index in range(count):
            await one(index)


ASYNCIO = Runtime()
INLINE = InlineRuntime()


def runtime_for(urls: Sequence[str | None]) -> Runtime:
    """``INLINE`` when every portal is the embedded sandbox (``None``), else ``ASYNCIO``."""
    return INLINE if all(url is None for url in urls) else ASYNCIO
