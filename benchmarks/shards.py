"""Fleet sharding: one fleet planned as 1, 2 and 4 shards run side by side (processes).

Each shard is `portalctl plan portals/ --shard K/N`, a process of its own as on a CI matrix
runner; the N processes start together and the row's wall time is the slowest shard's. The
speed-up is the 1-shard wall time over the N-shard one. Every shard plans against the same
`portalctl sandbox serve --latency-ms L` on loopback, which shares this machine's cores with
the shards: on real runners each shard has its own machine and only the API is shared, so
these figures are a floor. Needs a non-editable install (`pip install '.[bench]'`).

    python benchmarks/shards.py --portals 1000 --latency-ms 20 --shards 1 2 4 --write-readme
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import install_kind, machine, tool, update_readme
from _sandbox import sandbox
from fleet import make_fleet


def run_shards(binary: str, count: int, parallelism: int, cwd: Path, env: dict[str, str]) -> float:
    """Start ``count`` shard processes together; the wall time until the last one ends."""
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [binary, "plan", "portals", "--shard", f"{k}/{count}",
             "--parallelism", str(parallelism)],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for k in range(1, count + 1)
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 2):
            raise SystemExit(f"shard failed with exit {proc.returncode}: {err.decode()[-500:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    binary = tool("portalctl")
    kind = install_kind()
    n = args.portals
    rows: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with sandbox(binary, work, "--latency-ms", str(args.latency_ms)) as server:
            env = {**os.environ, **make_fleet(work, server.url, n), "NO_COLOR": "1"}
            for name in ("PORTAL_API_URL", "CI", "GITHUB_ACTIONS"):
                env.pop(name, None)
            for count in args.shards:
                seconds = run_shards(binary, count, args.parallelism, work, env)
                rows.append((count, seconds))
                print(f"{count} shard(s): {seconds:.2f} s, {n / seconds:.0f} portals/s",
                      file=sys.stderr)  # fmt: skip
    one = dict(rows).get(1, rows[0][1])
    command = (
        f"python benchmarks/shards.py --portals {n} --latency-ms {args.latency_ms} "
        f"--parallelism {args.parallelism} --shards {' '.join(map(str, args.shards))} "
        "--write-readme"
    )
    lines = [
        f"Measured with `{command}` on a {kind} ({machine()}): {n:,} specs planned as N shards "
        f"(`plan portals/ --shard K/N --parallelism {args.parallelism}`, N processes started "
        "together; wall time = the slowest shard) against one sandbox on loopback with "
        f"{args.latency_ms} ms latency, which shares the machine's cores with the shards.",
        "",
        "| shards | wall time | portals/s | speed-up vs 1 shard |",
        "|---|---|---|---|",
    ]
    for count, seconds in rows:
        lines.append(f"| {count} | {seconds:.2f} s | {n / seconds:,.0f} | {one / seconds:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        update_readme("shards", table)


if __name__ == "__main__":
    main()
