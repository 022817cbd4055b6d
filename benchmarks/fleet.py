"""Benchmark 3: ``portalctl plan`` of a fleet of portals over loopback with injected latency.

Generates N spec files (default 1,000) in a temp dir, each naming its own key variable
(``target.api_key_env: P0001_KEY``...), starts ``portalctl sandbox serve --any-key
--latency-ms 20`` and times ``portalctl plan DIR --parallelism P`` (a fresh process, all
portals, start-up included) for each P. Prints wall time, portals/s, the ideal, the
efficiency (ideal / measured) and the peak RSS of the portalctl process (VmHWM from /proc,
polled). Run::

    python benchmarks/fleet.py [--portals 1000] [--latency-ms 20] [--parallelism 1 8 32 64]
                               [--write-readme]

Ideal: ``portals x round_trips x latency / parallelism``. A plan makes ONE round trip per
portal (GET settings and GET the template list go out concurrently), so with 20 ms latency
and parallelism 8 the ideal for 1,000 portals is 1,000 x 1 x 20 ms / 8 = 2.5 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import machine, tool, update_readme
from _sandbox import sandbox

#: Round trips of one portal's plan, done sequentially (both GETs share one round trip).
ROUND_TRIPS = 1

#: What profiling found and what was changed (figures from earlier runs of this script).
NOTES = """\
Where the time goes (cProfile of `portalctl plan` at parallelism 64): from parallelism 8 up,
the portalctl process is CPU-bound, about 4 ms of CPU per portal on one core: the HTTP client
(httpx/httpcore; its pool bookkeeping scans every connection for every request) about half,
loading the spec (YAML with line numbers, schema, lint) about a quarter, the diff (deepdiff)
under a tenth; the sandbox server takes the second core. So throughput stops growing at
about 200-250 portals/s whatever the parallelism, and efficiency against the pure-latency
ideal falls as parallelism rises. At parallelism 1 the gap to the ideal is that CPU time plus
start-up (about 0.4 s).

Optimisations, measured before/after with this script:
- the sandbox server did not set `TCP_NODELAY` (its socket was created with proto 0, which
  asyncio does not recognise as TCP), so every keep-alive response waited ~40 ms for a delayed
  ACK: one GET took 64 ms instead of 21 ms at 20 ms latency. Fixed in
  `reconciler/sandbox/server.py`: 200 portals at parallelism 1 went from 14.2 s to 6.0 s, at
  parallelism 8 from 2.3 s to 1.3 s.
- target resolution copied the whole environment for every portal (quadratic when the
  environment holds one key per portal); it now reads `os.environ` directly: 1,000 portals at
  parallelism 64 went from 4.8 s to 4.3 s, at 32 from 6.6 s to 5.6 s.
- tried and dropped: other httpx pool sizes (8 to 256 kept-alive connections) were all slower
  at parallelism 64 than httpx's default (e.g. 256: 11.7 s against 3.8 s, in-process).
"""


@dataclass(frozen=True)
class Result:
    """One timed fleet plan."""

    parallelism: int
    seconds: float
    peak_rss_mib: float
    exit_code: int

    def ideal(self, portals: int, latency_ms: int) -> float:
        return portals * ROUND_TRIPS * latency_ms / 1000 / self.parallelism


def make_fleet(folder: Path, url: str, portals: int) -> dict[str, str]:
    """Write the specs; return the environment holding their keys."""
    env: dict[str, str] = {}
    specs = folder / "portals"
    specs.mkdir()
    for i in range(1, portals + 1):
        name = f"P{i:04d}_KEY"
        env[name] = f"sk_test_{secrets.token_hex(8)}"
        (specs / f"p{i:04d}.yaml").write_text(
            "version: 1\n"
            f"target:\n  api_url: {url}\n  api_key_env: {name}\n"
            "portal:\n  enabled: true\n"
            f'  branding:\n    company_name: Portal {i:04d}\n    primary_color: "#0a4fb8"\n'
            "  permissions:\n    cancel_subscription: false\n",
            encoding="utf-8",
        )
    return env


def peak_rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_plan(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0.0
    while proc.poll() is None:
        value = peak_rss_mib(proc.pid)
        if value is not None:
            peak = max(peak, value)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 2):
        raise SystemExit(f"benchmarks: {' '.join(argv)} exited {proc.returncode}:\n{stderr}")
    return seconds, peak, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    binary = tool("portalctl")
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with sandbox(binary, work, "--latency-ms", str(args.latency_ms)) as server:
            env = {**os.environ, **make_fleet(work, server.url, args.portals), "NO_COLOR": "1"}
            env.pop("PORTAL_API_URL", None)
            for p in args.parallelism:
                seconds, peak, code = run_plan(
                    [binary, "plan", "portals", "--parallelism", str(p)], work, env
                )
                results.append(Result(p, seconds, peak, code))
                r = results[-1]
                ideal = r.ideal(args.portals, args.latency_ms)
                print(
                    f"parallelism {p:3}: {seconds:7.2f} s  {args.portals / seconds:7.1f} "
                    f"portals/s  ideal {ideal:6.2f} s  efficiency {ideal / seconds:5.0%}  "
                    f"peak RSS {peak:6.1f} MiB",
                    file=sys.stderr,
                )
    command = (
        f"python benchmarks/fleet.py --portals {args.portals} --latency-ms "
        f"{args.latency_ms} --parallelism {' '.join(map(str, args.parallelism))} "
        "--write-readme"
    )
    lines = [
        f"Measured with `{command}` ({machine()}): `portalctl plan portals/ --parallelism P` "
        f"of {args.portals:,} generated specs (each with its own `target.api_key_env`) "
        f"against `portalctl sandbox serve --any-key --latency-ms {args.latency_ms}` on "
        "loopback, one fresh process per row (start-up included). Ideal = portals x round "
        f"trips per portal x latency / parallelism, with {ROUND_TRIPS} round trip per portal "
        "(a plan sends its two GETs, settings and the template list, concurrently). "
        "Efficiency = ideal / measured. Peak memory: the portalctl process's VmHWM "
        "(/proc), polled.",
        "",
        "| parallelism | wall time | portals/s | ideal | efficiency | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ideal = r.ideal(args.portals, args.latency_ms)
        lines.append(
            f"| {r.parallelism} | {r.seconds:.2f} s | {args.portals / r.seconds:,.0f} "
            f"| {ideal:.2f} s | {ideal / r.seconds:.0%} | {r.peak_rss_mib:.0f} MiB |"
        )
    lines += ["", NOTES]
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        update_readme("fleet", table)


if __name__ == "__main__":
    main()
