"""Shared helpers for the benchmark scripts: a repeated-runs timer and README updating.

The timer is a small equivalent of hyperfine (warm-up runs, then N timed runs of a whole
command, mean / stdev / min), written in Python so the benchmarks need nothing beyond the
project's own dependencies (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Run:
    """One finished command: wall seconds, CPU seconds (user + system) and peak RSS."""

    seconds: float
    cpu: float
    peak_rss_mib: float
    code: int


@dataclass(frozen=True)
class Stats:
    """Wall-clock seconds over ``runs`` runs of one command, and its largest peak RSS."""

    mean: float
    stdev: float
    median: float
    runs: int
    peak_rss_mib: float
    #: mean CPU seconds (user + system): steadier than wall time on a shared machine
    cpu: float

    def ms(self) -> str:
        return f"{self.mean * 1000:.0f} ms ± {self.stdev * 1000:.0f}"


def tool(name: str) -> str:
    """Path of a console script installed beside this interpreter (same virtualenv)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"benchmarks: {name} is not installed; run: pip install '.[bench]'")
    return found


def run_once(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Run:
    """Run ``argv`` to completion; its own rusage comes from ``os.wait4`` (Linux: KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    proc.stderr.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok_codes:
        raise SystemExit(
            f"benchmarks: {' '.join(argv)} exited {proc.returncode}:\n"
            f"{stderr.decode(errors='replace')}"
        )
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def stats(runs: Sequence[Run]) -> Stats:
    samples = [r.seconds for r in runs]
    return Stats(
        mean=statistics.fmean(samples),
        stdev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
        median=statistics.median(samples),
        runs=len(samples),
        peak_rss_mib=max(r.peak_rss_mib for r in runs),
        cpu=statistics.fmean(r.cpu for r in runs),
    )


@dataclass(frozen=True)
class Command:
    """A command to time, with where and how it runs."""

    argv: Sequence[str]
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    ok_codes: Sequence[int] = (0,)


def time_pair(a: Command, b: Command, *, runs: int = 20, warmup: int = 3) -> tuple[Stats, Stats]:
    """Time two commands side by side, alternating a, b, a, b...: on a shared machine a
    burst of load then hits both sides alike, and the ratio stays honest."""
    out: tuple[list[Run], list[Run]] = ([], [])
    for i in range(warmup + runs):
        for side, cmd in enumerate((a, b)):
            run = run_once(cmd.argv, cwd=cmd.cwd, env=cmd.env, ok_codes=cmd.ok_codes)
            if i >= warmup:
                out[side].append(run)
    return stats(out[0]), stats(out[1])


def update_readme(section: str, markdown: str) -> None:
    """Replace the text between ``<!-- bench:SECTION -->`` and ``<!-- /bench:SECTION -->``."""
    text = README.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"benchmarks: README.md has no {start} ... {end} markers")
    text = pattern.sub(lambda _m: f"{start}\n{markdown.rstrip()}\n{end}", text)
    README.write_text(text, encoding="utf-8")


def machine() -> str:
    """One line describing where the figures were taken."""
    cores = os.cpu_count()
    return f"Python {sys.version.split()[0]}, {cores} cores, {sys.platform}"


def install_kind() -> str:
    """How the measured portalctl is installed: figures from an editable install include
    recompiling the package on every run when PYTHONDONTWRITEBYTECODE is set."""
    from importlib.metadata import distribution

    direct = distribution("portal-reconciler").read_text("direct_url.json") or ""
    editable = '"editable": true' in direct.replace("'", '"')
    return "EDITABLE install: figures include recompiling" if editable else "non-editable install"
