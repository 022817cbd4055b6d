"""Benchmark 4 (regression): the HTTP connection pool under a fleet's load, in one process.

Starts ``portalctl sandbox serve --any-key --latency-ms 20`` and, in THIS process, reads
1,000 portals (``PortalClient.read_state``: settings and the template list, concurrently,
each portal with its own key) at most P at once over one ``ApiSession``, twice per P: with
portalctl's pool (``reconciler/api/pool.py``) and with httpx's default transport (what
0.1.0 used). Counts, per 1,000 portals, the connections the pool opened and the requests
httpcore re-queued after ``ConnectionNotAvailable`` (each re-queue is a full pass over the
pool that polls every idle socket), plus wall time and this process's CPU time. Run::

    python benchmarks/pool.py [--portals 1000] [--latency-ms 20] [--parallelism 8 32 64]
                              [--write-readme]

A fixed pool re-queues nothing and opens about 2 x P connections (two GETs per portal in
flight; a few more when the server closes a connection idle past its keep-alive timeout,
5 s for uvicorn, as happens on a loaded machine). The script exits 1 on any re-queue, any
failed read or more than 4 x P connections, so it guards against a regression (e.g. an
httpcore upgrade that changes the pool's internals).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore
import httpx
from _common import install_kind, machine, tool, update_readme
from _sandbox import sandbox

from reconciler import logs
from reconciler.api import ApiSession
from reconciler.model import Secret, Target


@dataclass
class Counters:
    opened: int = 0
    requeued: int = 0


COUNTERS = Counters()


def instrument() -> None:
    """Count connection creations and ``ConnectionNotAvailable`` in httpcore itself, so the
    same counters see both pools."""
    create: Callable[..., Any] = httpcore.AsyncConnectionPool.create_connection
    send: Callable[..., Any] = httpcore.AsyncHTTPConnection.handle_async_request

    def counted_create(self: Any, origin: Any) -> Any:
        COUNTERS.opened += 1
        return create(self, origin)

    async def counted_send(self: Any, request: Any) -> Any:
        try:
            return await send(self, request)
        except httpcore.ConnectionNotAvailable:
            COUNTERS.requeued += 1
            raise

    httpcore.AsyncConnectionPool.create_connection = counted_create  # type: ignore[method-assign]
    httpcore.AsyncHTTPConnection.handle_async_request = counted_send  # type: ignore[method-assign]


@dataclass(frozen=True)
class Row:
    pool: str
    parallelism: int
    seconds: float
    cpu_ms_per_portal: float
    opened: int
    requeued: int
    failed: int


async def read_fleet(url: str, portals: int, parallelism: int, stock: bool) -> int:
    """Read every portal; returns how many failed."""
    transport = httpx.AsyncHTTPTransport() if stock else None
    gate = asyncio.Semaphore(parallelism)
    failed = 0
    async with ApiSession(parallelism=parallelism, transport=transport) as session:

        async def one(i: int) -> None:
            nonlocal failed
            target = Target(url=url, api_key=Secret(f"sk_test_{i:04d}{secrets.token_hex(8)}"))
            async with gate:
                try:
                    await session.client(target).read_state()
                except Exception:
                    failed += 1

        await asyncio.gather(*(one(i) for i in range(portals)))
    return failed


def measure(url: str, portals: int, parallelism: int, stock: bool) -> Row:
    COUNTERS.opened = COUNTERS.requeued = 0
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    failed = asyncio.run(read_fleet(url, portals, parallelism, stock))
    seconds = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return Row(
        "httpx default (0.1.0)" if stock else "portalctl",
        parallelism,
        seconds,
        cpu * 1000 / portals,
        COUNTERS.opened,
        COUNTERS.requeued,
        failed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    logs.configure(level="warning", log_format="human")
    instrument()
    rows: list[Row] = []
    latency = str(args.latency_ms)
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox(tool("portalctl"), Path(tmp), "--latency-ms", latency) as srv,
    ):
        measure(srv.url, 20, 4, stock=False)  # warm-up: imports, first connections
        for p in args.parallelism:
            for stock in (True, False):
                rows.append(measure(srv.url, args.portals, p, stock))
                r = rows[-1]
                print(
                    f"{r.pool:22} p{p:<3} {r.seconds:6.2f} s {args.portals / r.seconds:6.0f} "
                    f"portals/s  CPU {r.cpu_ms_per_portal:5.2f} ms/portal  opened "
                    f"{r.opened:5}  re-queued {r.requeued:6}  failed {r.failed}",
                    file=sys.stderr,
                )
    lines = [
        f"Measured with `python benchmarks/pool.py --portals {args.portals} --latency-ms "
        f"{args.latency_ms} --parallelism {' '.join(map(str, args.parallelism))} "
        f"--write-readme` ({install_kind()}, {machine()}): {args.portals:,} portals read "
        "(settings + template list, concurrently) in one process against `portalctl sandbox "
        f"serve --latency-ms {args.latency_ms}` over loopback; opened = connections created; "
        "re-queued = requests httpcore sent back to the pool after `ConnectionNotAvailable`; "
        "CPU = this process's user + system time.",
        "",
        "| pool | parallelism | wall time | portals/s | CPU per portal | connections opened "
        "| re-queued requests |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.pool} | {r.parallelism} | {r.seconds:.2f} s | {args.portals / r.seconds:,.0f} "
            f"| {r.cpu_ms_per_portal:.2f} ms | {r.opened:,} | {r.requeued:,} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        update_readme("pool", table)
    bad = [
        r
        for r in rows
        if r.pool == "portalctl" and (r.requeued or r.failed or r.opened > 4 * r.parallelism)
    ]
    if bad:
        print(f"benchmarks: pool regression: {bad}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
